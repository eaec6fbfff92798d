-- The daily cap of text messages counts a sender's SMS of the last 24 hours.
-- By (caused_by, template, created_at) alone that read every message the
-- sender ever caused, so each send got slower as the account grew; this
-- index counts just the recent SMS.
CREATE INDEX outbox_sender_channel ON outbox (caused_by, channel, created_at);

-- The staff overview lists an account's messages newest first (sent, or for
-- a draft made), a page at a time: in the order of these indexes a page is
-- the next rows, instead of a sort of all the account's messages.
CREATE INDEX transfers_owner_newest ON transfers (owner_id, coalesce(sent_at, created_at) DESC, id);
CREATE INDEX transfers_recipient_newest ON transfers (recipient_email, coalesce(sent_at, created_at) DESC, id);
