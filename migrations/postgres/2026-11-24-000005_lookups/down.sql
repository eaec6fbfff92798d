DROP INDEX transfers_owner_name;
DROP INDEX documents_by_name;
