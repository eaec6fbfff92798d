-- What a file in a draft is (policy::name::NameKind): a document, a
-- temporary file a client writes before renaming it, or litter a file
-- manager makes for itself. Only documents are ever sent; the other two are
-- kept for their owner and counted so that a draft holds a bounded number.
ALTER TABLE documents ADD COLUMN kind TEXT NOT NULL DEFAULT 'document';
