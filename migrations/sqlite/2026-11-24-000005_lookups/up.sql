-- A door opens one document of a message by its exact name, and one message
-- of a folder by its name: both are index lookups, whatever the size.
CREATE INDEX documents_by_name ON documents (transfer_id, name);
CREATE INDEX transfers_owner_name ON transfers (owner_id, name);
