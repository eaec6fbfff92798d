-- koerier core schema. Times are UTC milliseconds since the Unix epoch (BIGINT),
-- identifiers are server-generated random text. Kept in step with ../../sqlite.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT,
    verified      BOOLEAN NOT NULL,
    disabled      BOOLEAN NOT NULL,
    language      TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE domains (
    domain     TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE ssh_keys (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    algorithm   TEXT NOT NULL,
    key_blob    TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    comment     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE account_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE upload_requests (
    id              TEXT PRIMARY KEY NOT NULL,
    requester_id    TEXT NOT NULL REFERENCES accounts (id),
    recipient_name  TEXT NOT NULL,
    recipient_email TEXT NOT NULL,
    language        TEXT NOT NULL,
    text_sealed     BYTEA,
    secret_hash     BYTEA NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    answered_at     BIGINT
);

CREATE TABLE transfers (
    id                TEXT PRIMARY KEY NOT NULL,
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL,
    owner_id          TEXT REFERENCES accounts (id),
    upload_request_id TEXT REFERENCES upload_requests (id),
    name              TEXT NOT NULL,
    sender_name       TEXT NOT NULL,
    sender_email      TEXT NOT NULL,
    recipient_name    TEXT,
    recipient_email   TEXT,
    recipient_phone   TEXT,
    recipient_id      TEXT REFERENCES accounts (id),
    subject           TEXT NOT NULL,
    reference         TEXT NOT NULL,
    language          TEXT NOT NULL,
    body_sealed       BYTEA,
    send_problem      TEXT,
    created_at        BIGINT NOT NULL,
    window_started_at BIGINT,
    sent_at           BIGINT,
    expires_at        BIGINT,
    aborted_at        BIGINT,
    abort_reason      TEXT,
    purged_at         BIGINT
);
CREATE INDEX transfers_owner ON transfers (owner_id, state);
CREATE INDEX transfers_recipient ON transfers (recipient_email, state);
CREATE INDEX transfers_window ON transfers (state, window_started_at);
CREATE INDEX transfers_expiry ON transfers (state, expires_at);

CREATE TABLE documents (
    id            TEXT PRIMARY KEY NOT NULL,
    transfer_id   TEXT NOT NULL REFERENCES transfers (id),
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    state         TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        BYTEA,
    key_scheme    TEXT NOT NULL,
    key_sealed    BYTEA,
    content_check TEXT,
    created_at    BIGINT NOT NULL,
    completed_at  BIGINT,
    deleted_at    BIGINT,
    UNIQUE (transfer_id, name_key)
);

CREATE TABLE links (
    id             TEXT PRIMARY KEY NOT NULL,
    transfer_id    TEXT NOT NULL REFERENCES transfers (id),
    purpose        TEXT NOT NULL,
    secret_hash    BYTEA NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    code_hmac      BYTEA,
    code_issued_at BIGINT,
    code_failures  INTEGER NOT NULL,
    failures_total INTEGER NOT NULL,
    codes_issued   INTEGER NOT NULL,
    codes_window_started_at BIGINT,
    locked_at      BIGINT,
    redeemed_at    BIGINT
);
CREATE INDEX links_transfer ON links (transfer_id);

CREATE TABLE downloads (
    id          TEXT PRIMARY KEY NOT NULL,
    transfer_id TEXT NOT NULL REFERENCES transfers (id),
    document_id TEXT REFERENCES documents (id),
    at          BIGINT NOT NULL,
    who         TEXT NOT NULL,
    proof       TEXT NOT NULL,
    door        TEXT NOT NULL,
    ip          TEXT
);
CREATE INDEX downloads_transfer ON downloads (transfer_id);

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY NOT NULL,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    door        TEXT NOT NULL,
    actor       TEXT,
    transfer_id TEXT,
    document_id TEXT,
    ip          TEXT,
    detail      TEXT
);
CREATE INDEX audit_events_transfer ON audit_events (transfer_id);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    created_at      BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    template        TEXT NOT NULL,
    language        TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    payload_sealed  BYTEA,
    transfer_id     TEXT,
    caused_by       TEXT,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE contacts (
    id         TEXT PRIMARY KEY NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    phone      TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (owner_id, email)
);

CREATE TABLE templates (
    id         TEXT PRIMARY KEY NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    reference  TEXT NOT NULL,
    body       TEXT NOT NULL,
    language   TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);

CREATE TABLE auth_failures (
    id          TEXT PRIMARY KEY NOT NULL,
    at          BIGINT NOT NULL,
    account_key TEXT NOT NULL,
    ip_key      TEXT NOT NULL,
    door        TEXT NOT NULL
);
CREATE INDEX auth_failures_account ON auth_failures (account_key, at);
CREATE INDEX auth_failures_ip ON auth_failures (ip_key, at);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
INSERT INTO leases (name, holder, expires_at) VALUES ('lifecycle', '', 0);
INSERT INTO leases (name, holder, expires_at) VALUES ('outbox', '', 0);
