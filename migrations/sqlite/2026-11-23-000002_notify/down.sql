DROP INDEX outbox_address;
DROP INDEX outbox_sender;
