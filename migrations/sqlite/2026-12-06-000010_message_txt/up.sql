-- message.txt exactly as its writer wrote it, sealed like the accompanying
-- text: it reads back byte for byte, and the envelope is parsed from it.
-- NULL until a client writes one (the envelope's rendering is shown then).
ALTER TABLE transfers ADD COLUMN message_txt_sealed BLOB;
