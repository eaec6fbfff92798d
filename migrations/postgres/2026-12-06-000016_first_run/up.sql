-- The first run: while no admin exists, each start makes a one-time setup
-- link (only its SHA-256 here) that asks for the organisation, its domains
-- and the first admin. The organisation's name is kept for the pages.
CREATE TABLE first_run (
    id           INTEGER PRIMARY KEY NOT NULL,
    secret_hash  BYTEA,
    organisation TEXT NOT NULL DEFAULT '',
    completed_at BIGINT
);
