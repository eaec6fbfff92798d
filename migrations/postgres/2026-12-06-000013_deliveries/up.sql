-- Public deliveries (flow C): anyone may start one to an address of the
-- organisation; the link mailed to them proves their address and opens the
-- draft of the delivery. A start holds no document until it is proven.
CREATE TABLE deliveries (
    id            TEXT PRIMARY KEY NOT NULL,
    secret_hash   BYTEA NOT NULL UNIQUE,
    sender_name   TEXT NOT NULL,
    sender_email  TEXT NOT NULL,
    contact_name  TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    language      TEXT NOT NULL,
    -- Where it was started from (IPv6 per /64), for the daily cap.
    ip            TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX deliveries_by_ip ON deliveries (ip, created_at);

ALTER TABLE transfers ADD COLUMN delivery_id TEXT REFERENCES deliveries (id);
CREATE INDEX transfers_by_delivery ON transfers (delivery_id);
