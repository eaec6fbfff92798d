-- App passwords: random secrets for WebDAV clients, stored as SHA-256 (each
-- carries 256 bits of entropy). Kept in step with the other backend.
CREATE TABLE app_passwords (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    label        TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX app_passwords_account ON app_passwords (account_id);

-- WebDAV locks, shared by every node: one row per lock on a path of its
-- owner's tree, until it expires or is released.
CREATE TABLE dav_locks (
    token      TEXT PRIMARY KEY NOT NULL,
    owner_key  TEXT NOT NULL,
    path       TEXT NOT NULL,
    lock_owner TEXT,
    shared     BOOLEAN NOT NULL,
    deep       BOOLEAN NOT NULL,
    timeout_s  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dav_locks_owner ON dav_locks (owner_key, expires_at);
