-- A browser's resumable upload (tus) declares its length when it begins;
-- the length is kept beside the unfinished document so that any node, and
-- any door, can tell how much is still to come.
ALTER TABLE documents ADD COLUMN upload_length BIGINT;
-- Where an unfinished upload was last suspended (the chunks staged and the
-- SHA-256 state of their plaintext): a resume reads back only what came
-- after it, not everything staged.
ALTER TABLE documents ADD COLUMN staged_checkpoint BLOB;
