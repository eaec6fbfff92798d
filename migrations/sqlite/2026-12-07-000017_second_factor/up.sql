-- A second sign-in step on the web (TOTP, RFC 6238): the shared secret
-- sealed with the master key, the last time step used (a code is taken
-- once), and the recovery codes as keyed tags (HMAC), never in the clear.
CREATE TABLE totp_secrets (
    account_id    TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id),
    secret_sealed BLOB NOT NULL,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    code_tag   BLOB NOT NULL,
    PRIMARY KEY (account_id, code_tag)
);
-- A sign-in whose password was right and whose code is still to come.
ALTER TABLE staff_sessions ADD COLUMN awaiting_code BOOLEAN NOT NULL DEFAULT FALSE;
-- The admin may require the second step of every staff member.
ALTER TABLE first_run ADD COLUMN require_second_factor BOOLEAN NOT NULL DEFAULT FALSE;
