-- The outbox's daily caps count recent rows per sender and per address.
-- Kept in step with the other backend.
CREATE INDEX outbox_sender ON outbox (caused_by, template, created_at);
CREATE INDEX outbox_address ON outbox (recipient, template, created_at);
