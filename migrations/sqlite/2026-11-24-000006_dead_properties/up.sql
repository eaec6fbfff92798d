-- WebDAV dead properties (PROPPATCH), shared by every node: one row per
-- property of a node of a message. `node` names what it describes: '' the
-- message's folder, 'message.txt' its envelope, or a document's id (then
-- also in `document_id`). They hang on ids, so a renamed or sent draft keeps
-- them, and they go with the document (CASCADE) or, when a message is
-- destroyed, with its documents (the core deletes them). `owner_key` is the
-- tree they were written in, for the cap per caller. Kept in step with the
-- other backend.
CREATE TABLE dead_properties (
    transfer_id TEXT NOT NULL REFERENCES transfers (id) ON DELETE CASCADE,
    node        TEXT NOT NULL,
    document_id TEXT REFERENCES documents (id) ON DELETE CASCADE,
    owner_key   TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       BLOB NOT NULL,
    PRIMARY KEY (transfer_id, node, namespace, name)
);
CREATE INDEX dead_properties_document ON dead_properties (document_id);
CREATE INDEX dead_properties_owner ON dead_properties (owner_key);
