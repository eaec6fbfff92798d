DROP INDEX transfers_recipient_newest;
DROP INDEX transfers_owner_newest;
DROP INDEX outbox_sender_channel;
