-- A request its maker withdrew: its link works no more (its expiry is set
-- to the moment of withdrawal); this says why, for the list of requests.
ALTER TABLE upload_requests ADD COLUMN withdrawn_at BIGINT;
CREATE INDEX upload_requests_by_requester ON upload_requests (requester_id, created_at);
