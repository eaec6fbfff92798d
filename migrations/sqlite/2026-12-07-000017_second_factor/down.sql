ALTER TABLE first_run DROP COLUMN require_second_factor;
ALTER TABLE staff_sessions DROP COLUMN awaiting_code;
DROP TABLE recovery_codes;
DROP TABLE totp_secrets;
