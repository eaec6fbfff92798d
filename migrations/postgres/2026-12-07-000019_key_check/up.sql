-- What proves that a node holds the master key this database was made with:
-- a value derived from the key one way (HKDF), never the key. A node with
-- another key refuses to start instead of writing what no node can read.
CREATE TABLE key_checks (
    name  TEXT PRIMARY KEY NOT NULL,
    value BYTEA NOT NULL
);
