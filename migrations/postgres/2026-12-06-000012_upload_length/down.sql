ALTER TABLE documents DROP COLUMN upload_length;
