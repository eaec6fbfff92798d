ALTER TABLE documents DROP COLUMN inline_blob;
