-- A small document's sealed blob (header and one final chunk, never
-- plaintext), kept in its row instead of a file: one sync of the database
-- makes it durable with the row.
ALTER TABLE documents ADD COLUMN inline_blob BLOB;
