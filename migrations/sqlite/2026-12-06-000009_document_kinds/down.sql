ALTER TABLE documents DROP COLUMN kind;
