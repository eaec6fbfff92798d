DROP INDEX upload_requests_by_requester;
ALTER TABLE upload_requests DROP COLUMN withdrawn_at;
