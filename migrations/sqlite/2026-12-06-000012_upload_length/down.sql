ALTER TABLE documents DROP COLUMN staged_checkpoint;
ALTER TABLE documents DROP COLUMN upload_length;
