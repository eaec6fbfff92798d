ALTER TABLE transfers DROP COLUMN message_txt_sealed;
