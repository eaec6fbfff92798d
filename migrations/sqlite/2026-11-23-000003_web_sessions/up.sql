-- A recipient's session on the web front after redeeming a link: only the
-- SHA-256 of the session token is kept, bound to the link it was opened for.
-- Kept in step with the other backend.
CREATE TABLE web_sessions (
    token_hash   BLOB PRIMARY KEY NOT NULL,
    link_id      TEXT NOT NULL REFERENCES links (id),
    who          TEXT NOT NULL,
    proof        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_link ON web_sessions (link_id);
