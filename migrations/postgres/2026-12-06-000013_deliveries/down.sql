DROP INDEX transfers_by_delivery;
ALTER TABLE transfers DROP COLUMN delivery_id;
DROP TABLE deliveries;
