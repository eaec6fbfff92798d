-- A staff member's session on the web front: the browser holds a random
-- 256-bit token, the database only its SHA-256, so any node can serve it.
-- It ends on signing out, after idle time, after a day at most, and when
-- the account's password changes or the account is disabled.
CREATE TABLE staff_sessions (
    token_hash   BYTEA PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX staff_sessions_account ON staff_sessions (account_id);
