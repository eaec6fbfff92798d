-- A message's count and size, read by every listing and every upload's size
-- check, come from this index alone, not from each document's row.
CREATE INDEX documents_totals ON documents (transfer_id, state, size);
