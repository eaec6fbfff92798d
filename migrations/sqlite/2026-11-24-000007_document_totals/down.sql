DROP INDEX documents_totals;
