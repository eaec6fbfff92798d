-- Folders in a draft: a folder is a row of kind 'folder' (no bytes, no
-- key), a file inside one a row of kind 'member' named by its path
-- ('Bijlagen/2026/scan.pdf'). A top-level folder reaches its recipient as
-- one zip made as it is read; the CRC-32 of each file, noted when its
-- upload ends, lets that zip be read from any offset (a resumed download).
ALTER TABLE documents ADD COLUMN crc32 BIGINT;
