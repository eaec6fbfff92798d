-- A browser's resumable upload (tus) declares its length when it begins;
-- the length is kept beside the unfinished document so that any node, and
-- any door, can tell how much is still to come.
ALTER TABLE documents ADD COLUMN upload_length BIGINT;
