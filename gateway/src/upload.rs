//! Adding a document to a draft: streaming, resumable at an offset, encrypted
//! on the way in, and checked against every rule in one order.

use diesel::prelude::*;

use crate::Gateway;
use crate::clock::Timestamp;
use crate::crypto::KeyScheme;
use crate::db::schema::{documents, transfers};
use crate::error::{Error, Result};
use crate::policy::content::{self, ContentCheck};
use crate::policy::name::{FileName, NameKind, NameRefusal, ZIP_SUFFIX};
use crate::random::RandomExt;
use crate::session::Session;
use crate::store::{BlobId, DocumentKey, StagedWriter};
use crate::transfer::{Folder, TransferId, TransferState, TransferSummary, load_own_draft, own_draft_named};

/// What to do when the draft already holds a document of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMode {
    /// A new document: refused if a complete one has the name; an unfinished
    /// one of that name is started over.
    New,
    /// Continue an unfinished upload at its offset (SFTP `reput`, a resumed
    /// web upload); a new document when there is none.
    Resume,
    /// Continue an unfinished upload, and nothing else: a complete document
    /// or none of that name is refused (a browser's resumable upload, which
    /// names what it continues).
    Continue,
    /// Replace a complete document of that name (a client overwriting a
    /// file). The old document stays, and is what every listing, download and
    /// send sees, until the new one finishes; an upload that is dropped or
    /// refused leaves it untouched.
    Replace,
}

/// How many files of a draft may be other than documents (temporary files
/// and litter, [`NameKind`]): enough for any client's saving dance, few
/// enough that a draft cannot be filled with them.
pub const MAX_ASIDE_PER_DRAFT: i64 = 100;

/// The largest litter file (`.DS_Store`, `._name`, `Thumbs.db`...): Finder's
/// AppleDouble files hold a resource fork, which a document needs none of.
pub const MAX_LITTER_BYTES: u64 = 1024 * 1024;

/// Where a document is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentState {
    /// Bytes are arriving; what is safely stored can be resumed.
    Uploading,
    /// Complete: stored, checked and readable.
    Complete,
    /// Destroyed at expiry or abort; the row stays for the report.
    Deleted,
}

impl DocumentState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentState::Uploading => "uploading",
            DocumentState::Complete => "complete",
            DocumentState::Deleted => "deleted",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<DocumentState> {
        Ok(match s {
            "uploading" => DocumentState::Uploading,
            "complete" => DocumentState::Complete,
            "deleted" => DocumentState::Deleted,
            other => return Err(Error::Internal(format!("unknown document state {other}"))),
        })
    }
}

/// A document of a transfer, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    /// The document's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What the name makes of it: a document, a temporary file, litter.
    pub kind: NameKind,
    /// Where it is in its life.
    pub state: DocumentState,
    /// Bytes: the final size, or for an unfinished upload what is safely stored.
    pub size: u64,
    /// SHA-256 of the plaintext, hex, once complete.
    pub sha256: Option<String>,
    /// The content check's verdict (`matches`, `unverifiable`).
    pub content_check: Option<String>,
    /// When it was completed.
    pub completed_at: Option<Timestamp>,
    /// When it was destroyed (expiry or abort).
    pub deleted_at: Option<Timestamp>,
}

/// An upload in progress. Write the bytes in order, then [`Upload::finish`].
/// Dropped without finishing, what was stored stays resumable until the
/// upload window closes.
pub struct Upload {
    gateway: Gateway,
    session: Session,
    transfer_id: String,
    doc_id: String,
    name: FileName,
    writer: StagedWriter,
    /// Bytes of the document received so far (the store keeps whole chunks
    /// durable; the tail of a suspended upload is resent by the client).
    position: u64,
    closes_at: Timestamp,
    /// What the message may still grow by, beyond this document's start.
    limit: u64,
    window_started: bool,
    /// The complete document this upload replaces when it finishes.
    replaces: Option<String>,
    /// The first bytes of the document as they went into the store, for the
    /// content check; `None` after a resume, when they came in an earlier
    /// connection and are read back from the store instead.
    head: Option<Vec<u8>>,
    /// The CRC-32 of the bytes so far, for the zip a file in a folder is
    /// sent in; `None` after a resume, when it is summed from the store.
    crc: Option<crc32fast::Hasher>,
    /// Set once a write found no room: every later write gives the same
    /// answer (a client that pipelines its writes hears why, not of a gap).
    out_of_space: bool,
    /// The length the client declared when it began (a browser's resumable
    /// upload): no byte past it is taken.
    declared: Option<u64>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload").field("doc_id", &self.doc_id).field("offset", &self.offset()).finish()
    }
}

struct Existing {
    id: String,
    name: String,
    kind: String,
    state: String,
    key_sealed: Option<Vec<u8>>,
    size: i64,
    /// Where its upload was last suspended, for a resume.
    checkpoint: Option<Vec<u8>>,
}

/// What `begin_upload` found under the name: a document, or nothing, in
/// which case the new one was inserted (its id and key).
enum Found {
    Existing(Existing),
    Inserted((String, DocumentKey)),
}

/// A new document's row and key, before it is inserted. Its row must be in
/// the database before its staging file exists: the sweep takes a file
/// without a row.
struct FreshDocument {
    id: String,
    key: DocumentKey,
    name: String,
    name_key: String,
    kind: NameKind,
    key_sealed: Vec<u8>,
    created_at: i64,
}

/// Refuse one more file aside (temporary or litter) in a full draft.
pub(crate) fn check_room_aside(conn: &mut crate::db::AnyConnection, transfer_id: &str) -> Result<()> {
    let aside: i64 = documents::table
        .filter(documents::transfer_id.eq(transfer_id))
        .filter(documents::kind.eq_any([NameKind::Temporary.as_str(), NameKind::Litter.as_str()]))
        .count()
        .get_result(conn)?;
    if aside >= MAX_ASIDE_PER_DRAFT {
        return Err(NameRefusal::TooManyAside { max: usize::try_from(MAX_ASIDE_PER_DRAFT).unwrap_or(0) }.into());
    }
    Ok(())
}

impl FreshDocument {
    /// Insert the row (an upload under way, empty); a name taken meanwhile
    /// is refused as a duplicate.
    fn insert(self, conn: &mut crate::db::AnyConnection, transfer_id: &str) -> Result<(String, DocumentKey)> {
        if self.kind.is_aside() {
            check_room_aside(conn, transfer_id)?;
        }
        let values = (
            documents::id.eq(&self.id),
            documents::transfer_id.eq(transfer_id),
            documents::name.eq(&self.name),
            documents::name_key.eq(&self.name_key),
            documents::kind.eq(self.kind.as_str()),
            documents::state.eq("uploading"),
            documents::size.eq(0i64),
            documents::key_scheme.eq(KeyScheme::Server.as_str()),
            documents::key_sealed.eq(Some(&self.key_sealed)),
            documents::created_at.eq(self.created_at),
        );
        match diesel::insert_into(documents::table).values(values).execute(conn) {
            Ok(_) => Ok((self.id, self.key)),
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                Err(crate::policy::name::NameRefusal::Duplicate { name: self.name }.into())
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Gateway {
    /// Begin (or resume) adding a document to a draft.
    pub async fn begin_upload(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        name: &str,
        mode: UploadMode,
    ) -> Result<Upload> {
        self.begin_upload_into(session, Draft::Id(transfer_id.as_str().to_owned()), name, mode).await
    }

    /// [`Gateway::begin_upload`] into the draft the caller's outbox holds
    /// under `draft`, as a path names it: found in the same transaction.
    pub async fn begin_upload_in_draft(
        &self,
        session: &Session,
        draft: &str,
        name: &str,
        mode: UploadMode,
    ) -> Result<Upload> {
        self.begin_upload_into(session, Draft::Named(draft.to_owned()), name, mode).await
    }

    async fn begin_upload_into(&self, session: &Session, draft: Draft, name: &str, mode: UploadMode) -> Result<Upload> {
        let name = FileName::parse_path(name, &self.names)?;
        let window = self.settings.rules.upload_window;
        let now = self.now();
        // The common case, no document of that name yet, is one transaction:
        // the row it would need is made ready first and inserted only then.
        let fresh = self.fresh_document(&name, Slot::Named)?;
        let (s, key) = (session.clone(), name.collation_key());
        let name_parent = name.parent().map(str::to_owned);
        let name_text = name.as_str().to_owned();
        let (row, found, used) = self
            .db
            .write_unflushed(move |conn| {
                let row = match &draft {
                    Draft::Id(id) => load_own_draft(conn, &s, id)?,
                    Draft::Named(draft) => own_draft_named(conn, &s, draft)?,
                };
                let id = row.id.clone();
                row.check_window(window, now)?;
                if let Some(parent) = name_parent.as_deref() {
                    crate::tree::check_folder(conn, &id, parent)?;
                }
                // Unique (transfer, name key): get_result, so no LIMIT that
                // SQLite would re-prepare the statement for on every run.
                let existing = documents::table
                    .filter(documents::transfer_id.eq(&id))
                    .filter(documents::name_key.eq(&key))
                    .select((
                        documents::id,
                        documents::name,
                        documents::kind,
                        documents::state,
                        documents::key_sealed,
                        documents::size,
                        documents::staged_checkpoint,
                    ))
                    .get_result::<(String, String, String, String, Option<Vec<u8>>, i64, Option<Vec<u8>>)>(conn)
                    .optional()?
                    .map(|(id, name, kind, state, key_sealed, size, checkpoint)| Existing {
                        id,
                        name,
                        kind,
                        state,
                        key_sealed,
                        size,
                        checkpoint,
                    });
                if existing.as_ref().is_some_and(|e| e.kind == NameKind::Folder.as_str()) {
                    return Err(Error::Conflict(format!("{} is a folder; a folder is not written to", name_text)));
                }
                // What the rest of the message holds: all of it (read from
                // an index alone), less the document this upload takes over.
                let all: i64 = documents::table
                    .filter(documents::transfer_id.eq(&id))
                    .select(crate::transfer::TotalSize)
                    .get_result(conn)?;
                let used = all - existing.as_ref().map_or(0, |e| e.size);
                let found = match existing {
                    Some(e) => Found::Existing(e),
                    None if mode == UploadMode::Continue => return Err(Error::NotFound),
                    None => Found::Inserted(fresh.insert(conn, &id)?),
                };
                Ok((row, found, u64::try_from(used).unwrap_or(0)))
            })
            .await?;
        let transfer_id = row.id.as_str();
        let closes_at = row.window_closes_at(window);
        // Only a resumed upload can have a staging file already.
        let mut resumed = None;
        let ((doc_id, key), replaces) = match (found, mode) {
            (Found::Inserted(fresh), _) => (fresh, None),
            (Found::Existing(e), UploadMode::Resume | UploadMode::Continue) if e.state == "uploading" => {
                let sealed = e.key_sealed.ok_or_else(|| Error::Internal("unfinished document without key".into()))?;
                let key = self.keys.unwrap_document_key(&sealed, &e.id, None)?;
                resumed = Some(e.checkpoint.as_deref().and_then(crate::store::Checkpoint::from_bytes));
                ((e.id, key), None)
            }
            // Another spelling of a name taken (`A.PDF` beside `a.pdf`) is a
            // duplicate: only the name itself is overwritten.
            (Found::Existing(e), UploadMode::New | UploadMode::Replace)
                if e.state != "uploading" && (mode == UploadMode::New || e.name != name.as_str()) =>
            {
                return Err(crate::policy::name::NameRefusal::Duplicate { name: name.as_str().to_owned() }.into());
            }
            (Found::Existing(_), UploadMode::Continue) => {
                return Err(Error::Conflict(format!("{} is complete already", name.as_str())));
            }
            (Found::Existing(e), UploadMode::Replace) if e.state == "complete" => {
                self.drop_replacements(session, transfer_id, &name).await?;
                (self.new_document(transfer_id, &name, Slot::Replacement).await?, Some(e.id))
            }
            (Found::Existing(e), _) => {
                self.delete_document_row(session, transfer_id, &e.id).await?;
                (self.new_document(transfer_id, &name, Slot::Named).await?, None)
            }
        };
        let blob = BlobId::parse(&doc_id)?;
        let writer = match resumed {
            Some(checkpoint) => self.store.resume(&blob, &key, checkpoint).await?,
            None => self.store.stage_new(&blob, &key)?,
        };
        let position = writer.offset();
        let limit = self.settings.rules.max_message_bytes.saturating_sub(used);
        Ok(Upload {
            gateway: self.clone(),
            session: session.clone(),
            transfer_id: transfer_id.to_owned(),
            doc_id,
            name,
            writer,
            position,
            closes_at: closes_at.unwrap_or_else(|| Timestamp::from_millis(i64::MAX)),
            limit,
            window_started: row.window_started_at.is_some(),
            replaces,
            head: (position == 0).then(Vec::new),
            crc: (position == 0).then(crc32fast::Hasher::new),
            out_of_space: false,
            declared: None,
        })
    }

    /// Unfinished replacements of a document that were never finished (a
    /// dropped connection): a new replacement takes their place.
    async fn drop_replacements(&self, session: &Session, transfer_id: &str, name: &FileName) -> Result<()> {
        let (t, n, key) = (transfer_id.to_owned(), name.as_str().to_owned(), name.collation_key());
        let stale: Vec<String> = self
            .db
            .read(move |conn| {
                Ok(documents::table
                    .filter(documents::transfer_id.eq(&t))
                    .filter(documents::name.eq(&n))
                    .filter(documents::name_key.ne(&key))
                    .filter(documents::state.eq("uploading"))
                    .select(documents::id)
                    .load(conn)?)
            })
            .await?;
        for id in stale {
            self.delete_document_row(session, transfer_id, &id).await?;
        }
        Ok(())
    }

    async fn new_document(&self, transfer_id: &str, name: &FileName, slot: Slot) -> Result<(String, DocumentKey)> {
        let fresh = self.fresh_document(name, slot)?;
        let transfer_id = transfer_id.to_owned();
        // Visible at once (the sweep must see it before the staging file
        // exists), flushed with the commit that finishes the document: a row
        // a crash takes leaves a staging file the sweep removes.
        self.db.write_unflushed(move |conn| fresh.insert(conn, &transfer_id)).await
    }

    /// The row and key of a new document, not yet in the database.
    fn fresh_document(&self, name: &FileName, slot: Slot) -> Result<FreshDocument> {
        let id = self.random.id()?;
        // A replacement holds a key of its own until it finishes, so the
        // document it replaces keeps its name meanwhile.
        let name_key = match slot {
            Slot::Named => name.collation_key(),
            Slot::Replacement => format!("replacing:{id}"),
        };
        let key = DocumentKey::generate()?;
        let key_sealed = self.keys.wrap_document_key(&key, &id, self.random.as_ref())?;
        Ok(FreshDocument {
            id,
            key,
            name: name.as_str().to_owned(),
            name_key,
            kind: name.kind(),
            key_sealed,
            created_at: self.now().as_millis(),
        })
    }

    /// Remove a document from a draft (complete or not), with a replacement
    /// of it that is still being uploaded.
    pub async fn remove_document(&self, session: &Session, transfer_id: &TransferId, name: &str) -> Result<()> {
        let docs = self.documents_named(session, transfer_id, name).await?;
        if docs.is_empty() {
            return Err(Error::NotFound);
        }
        if docs.iter().any(|d| d.kind == NameKind::Folder) {
            return Err(Error::Invalid("this is a folder; remove it as a folder".into()));
        }
        for doc in docs {
            self.delete_document_row(session, transfer_id.as_str(), &doc.id).await?;
        }
        Ok(())
    }

    /// Delete an unfinished document and what was stored of it.
    pub(crate) async fn remove_unfinished(&self, session: &Session, transfer_id: &TransferId, id: &str) -> Result<()> {
        self.delete_document_row(session, transfer_id.as_str(), id).await
    }

    async fn delete_document_row(&self, session: &Session, transfer_id: &str, doc_id: &str) -> Result<()> {
        let (s, t, d) = (session.clone(), transfer_id.to_owned(), doc_id.to_owned());
        let event = self.event(&session.origin, "document-removed").actor(&session.audit_actor()).transfer(&t);
        self.db
            .write(move |conn| {
                load_own_draft(conn, &s, &t)?;
                diesel::delete(documents::table.find(&d).filter(documents::transfer_id.eq(&t))).execute(conn)?;
                event.document(&d).record(conn)
            })
            .await?;
        self.destroy_blobs([doc_id.to_owned()]).await
    }

    /// Delete the bytes of documents whose rows are gone: their staging
    /// files and their blobs.
    pub(crate) async fn destroy_blobs(&self, ids: impl IntoIterator<Item = String>) -> Result<()> {
        for id in ids {
            let blob = BlobId::parse(&id)?;
            self.store.discard_staged(&blob).await?;
            self.store.delete(&blob).await?;
        }
        Ok(())
    }

    /// The documents of a transfer the caller may see.
    pub async fn documents(&self, session: &Session, transfer_id: &TransferId) -> Result<Vec<DocumentInfo>> {
        let (s, t) = (session.clone(), transfer_id.as_str().to_owned());
        self.db
            .read(move |conn| {
                crate::transfer::load_visible(conn, &s, &t)?;
                documents_of(conn, &t)
            })
            .await
    }

    /// A message found by its folder and name, with what it holds under
    /// `name` (as [`Gateway::documents_named`]): a door's look-up of one file
    /// in one round to the database.
    pub async fn find_documents_named(
        &self,
        session: &Session,
        folder: Folder,
        message: &str,
        name: &str,
    ) -> Result<(TransferSummary, Vec<DocumentInfo>)> {
        let (s, m, n) = (session.clone(), message.to_owned(), name.to_owned());
        let window = self.settings.rules.upload_window;
        self.db
            .read(move |conn| {
                let t = crate::transfer::find_in(conn, &s, folder, &m, window)?;
                let docs = select_documents(conn, t.id.as_str(), Pick::Named(&n))?;
                Ok((t, docs))
            })
            .await
    }

    /// The documents of a transfer the caller may see that carry exactly this
    /// name: one indexed lookup, for doors that open one document of many.
    /// (More than one while a replacement of that name is being uploaded.)
    pub async fn documents_named(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        name: &str,
    ) -> Result<Vec<DocumentInfo>> {
        let (s, t, n) = (session.clone(), transfer_id.as_str().to_owned(), name.to_owned());
        self.db
            .read(move |conn| {
                crate::transfer::load_visible(conn, &s, &t)?;
                select_documents(conn, &t, Pick::Named(&n))
            })
            .await
    }
}

/// A document's row as a [`DocumentInfo`] is made of it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = documents)]
struct DocRow {
    id: String,
    name: String,
    kind: String,
    state: String,
    size: i64,
    sha256: Option<Vec<u8>>,
    content_check: Option<String>,
    completed_at: Option<i64>,
    deleted_at: Option<i64>,
}

impl TryFrom<DocRow> for DocumentInfo {
    type Error = Error;
    fn try_from(row: DocRow) -> Result<DocumentInfo> {
        Ok(DocumentInfo {
            id: row.id,
            name: row.name,
            kind: kind_of(&row.kind)?,
            state: DocumentState::parse(&row.state)?,
            size: u64::try_from(row.size).unwrap_or(0),
            sha256: row.sha256.map(|s| data_encoding::HEXLOWER.encode(&s)),
            content_check: row.content_check,
            completed_at: row.completed_at.map(Timestamp::from_millis),
            deleted_at: row.deleted_at.map(Timestamp::from_millis),
        })
    }
}

/// A stored kind of name.
pub(crate) fn kind_of(stored: &str) -> Result<NameKind> {
    NameKind::parse(stored).ok_or_else(|| Error::Internal(format!("unknown kind of file {stored}")))
}

/// Whether a file of this name and size has a content to check against
/// its extension: only a document with bytes. An empty one is the
/// placeholder a client makes before writing (and cannot be sent);
/// temporary files and litter are never sent.
pub(crate) fn has_content_to_check(name: &FileName, size: u64) -> bool {
    name.kind() == NameKind::Document && size > 0
}

/// Refuse litter that grows past [`MAX_LITTER_BYTES`].
pub(crate) fn check_litter_size(name: &FileName, size: u64) -> Result<()> {
    if name.kind() == NameKind::Litter && size > MAX_LITTER_BYTES {
        let name = name.as_str().to_owned();
        return Err(NameRefusal::LitterTooLarge { name, max_bytes: MAX_LITTER_BYTES }.into());
    }
    Ok(())
}

pub(crate) fn documents_of(conn: &mut crate::db::AnyConnection, transfer_id: &str) -> Result<Vec<DocumentInfo>> {
    select_documents(conn, transfer_id, Pick::All)
}

/// What a message delivers, as its recipient sees it, from all its files
/// in name order: each document, and each top-level folder as
/// `<folder>.zip` with the zip's size; with [`Inside::Listed`], each file in
/// a folder follows its zip, under its path (the report).
pub fn delivered(all: &[DocumentInfo], inside: Inside) -> Vec<DocumentInfo> {
    let mut out = Vec::new();
    for d in all.iter().filter(|d| !d.name.contains('/')) {
        match d.kind {
            NameKind::Document => out.push(d.clone()),
            NameKind::Folder => {
                let prefix = format!("{}/", d.name);
                let members = all.iter().filter(|m| m.name.starts_with(&prefix));
                out.push(DocumentInfo {
                    name: format!("{}{ZIP_SUFFIX}", d.name),
                    size: crate::download::zip_len(&d.name, members.clone()),
                    sha256: None,
                    content_check: None,
                    ..d.clone()
                });
                if inside == Inside::Listed {
                    out.extend(members.filter(|m| m.kind == NameKind::Member).cloned());
                }
            }
            NameKind::Temporary | NameKind::Litter | NameKind::Member => {}
        }
    }
    out
}

/// Whether [`delivered`] lists the files inside folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inside {
    /// Only in their zip.
    Zipped,
    /// Also one by one, after their zip.
    Listed,
}

pub(crate) fn delivered_of(conn: &mut crate::db::AnyConnection, transfer_id: &str) -> Result<Vec<DocumentInfo>> {
    Ok(delivered(&documents_of(conn, transfer_id)?, Inside::Zipped))
}

/// Which documents of a transfer to read.
enum Pick<'a> {
    All,
    Named(&'a str),
}

/// Documents of a transfer, in name order.
fn select_documents(conn: &mut crate::db::AnyConnection, transfer_id: &str, pick: Pick) -> Result<Vec<DocumentInfo>> {
    let of_transfer = documents::table.filter(documents::transfer_id.eq(transfer_id)).select(DocRow::as_select());
    let rows: Vec<DocRow> = match pick {
        Pick::All => of_transfer.order(documents::name).load(conn)?,
        Pick::Named(name) if !crate::policy::name::may_exist(name) => Vec::new(),
        Pick::Named(name) => of_transfer.filter(documents::name.eq(name)).order(documents::id).load(conn)?,
    };
    rows.into_iter().map(DocumentInfo::try_from).collect()
}

impl Upload {
    /// Where the next byte goes: after a resume, what was safely stored.
    pub fn offset(&self) -> u64 {
        self.position
    }

    /// The document's name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The document's id.
    pub fn document_id(&self) -> &str {
        &self.doc_id
    }

    /// How many bytes this document may hold in all, within the message's
    /// size cap.
    pub fn room(&self) -> u64 {
        self.limit
    }

    /// Take no byte past `length`.
    pub(crate) fn declare_length(&mut self, length: u64) {
        self.declared = Some(length);
    }

    /// Whether every declared byte has arrived: the upload can be finished.
    pub fn has_all_declared(&self) -> bool {
        self.declared == Some(self.position)
    }

    /// Write bytes at `offset`. Bytes before the current offset (a client
    /// resending what was already stored) are skipped; a gap is refused.
    pub async fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        if self.out_of_space {
            return Err(Error::NoSpace);
        }
        let current = self.offset();
        if offset > current {
            return Err(Error::Invalid(format!(
                "write at {offset} leaves a gap after {current}: documents are written from start to end"
            )));
        }
        let skip = usize::try_from(current - offset).unwrap_or(usize::MAX);
        match data.get(skip..) {
            Some(rest) if !rest.is_empty() => self.write(rest).await,
            _ => Ok(()),
        }
    }

    /// Append bytes. The upload window starts with the first byte of a message,
    /// and every write is checked against it and against the size cap.
    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let now = self.gateway.now();
        if !self.window_started {
            self.start_window(now).await?;
        }
        if now >= self.closes_at {
            return Err(Error::WindowClosed { closed_at: self.closes_at });
        }
        let limit = self.limit;
        let end = self.offset().saturating_add(data.len() as u64);
        if let Some(declared) = self.declared.filter(|d| end > *d) {
            return Err(Error::Invalid(format!(
                "{} was declared as {declared} bytes; more bytes than that are not taken",
                self.name.as_str()
            )));
        }
        if end > limit {
            return Err(Error::TooLarge { limit: self.gateway.settings.rules.max_message_bytes });
        }
        check_litter_size(&self.name, end)?;
        if self.out_of_space {
            return Err(Error::NoSpace);
        }
        if let Err(e) = self.writer.write(data).await {
            let e = Error::from(e);
            self.out_of_space = matches!(e, Error::NoSpace);
            return Err(self.gateway.explain_lost_upload(&self.transfer_id, e).await);
        }
        if let Some(head) = self.head.as_mut().filter(|h| h.len() < content::HEAD_LEN) {
            head.extend_from_slice(&data[..data.len().min(content::HEAD_LEN - head.len())]);
        }
        if let Some(crc) = self.crc.as_mut() {
            crc.update(data);
        }
        self.position += data.len() as u64;
        Ok(())
    }

    async fn start_window(&mut self, now: Timestamp) -> Result<()> {
        let t = self.transfer_id.clone();
        let started = self
            .gateway
            .db
            .write(move |conn| {
                diesel::update(transfers::table.find(&t).filter(transfers::window_started_at.is_null()))
                    .set(transfers::window_started_at.eq(now.as_millis()))
                    .execute(conn)?;
                Ok(transfers::table.find(&t).select(transfers::window_started_at).get_result::<Option<i64>>(conn)?)
            })
            .await?;
        let started = started.map(Timestamp::from_millis).unwrap_or(now);
        self.closes_at = started.plus(self.gateway.settings.rules.upload_window);
        self.window_started = true;
        Ok(())
    }

    /// Stop for now, keeping what was stored; returns the offset to resume at.
    pub async fn suspend(self) -> Result<u64> {
        let (gateway, doc_id) = (self.gateway.clone(), self.doc_id.clone());
        let (offset, checkpoint) = self.writer.suspend_at_checkpoint().await?;
        let size = i64::try_from(offset).unwrap_or(i64::MAX);
        gateway
            .db
            .write(move |conn| {
                diesel::update(documents::table.find(&doc_id).filter(documents::state.eq("uploading")))
                    .set((documents::size.eq(size), documents::staged_checkpoint.eq(checkpoint.to_bytes())))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
        Ok(offset)
    }

    /// Complete the document: it becomes visible only now, after its bytes
    /// are durably stored and its content matches its extension.
    pub async fn finish(self) -> Result<DocumentInfo> {
        let (gateway, transfer_id) = (self.gateway.clone(), self.transfer_id.clone());
        match self.finish_and_record().await {
            Err(e) => Err(gateway.explain_lost_upload(&transfer_id, e).await),
            done => done,
        }
    }

    async fn finish_and_record(self) -> Result<DocumentInfo> {
        if self.out_of_space {
            // What was sealed stays staged: the client resumes once there is room.
            return Err(Error::NoSpace);
        }
        let now = self.gateway.now();
        if now >= self.closes_at {
            return Err(Error::WindowClosed { closed_at: self.closes_at });
        }
        let Upload { gateway, session, transfer_id, doc_id, name, writer, replaces, head, crc, .. } = self;
        let committed = writer.commit().await?;
        let crc = match (crc, name.kind()) {
            (Some(crc), _) => Some(crc.finalize()),
            // A resumed file in a folder: its zip needs the sum, read back once.
            (None, NameKind::Member) => Some(gateway.crc_of(&doc_id, committed.size, committed.inline.clone()).await?),
            (None, _) => None,
        };
        let check = match (has_content_to_check(&name, committed.size), head) {
            (false, _) => Ok(None),
            (true, Some(head)) => gateway.check_head(&name, &head).map(Some),
            (true, None) => {
                gateway.check_content(&doc_id, &name, committed.size, committed.inline.clone()).await.map(Some)
            }
        };
        let check = match check {
            Ok(check) => check,
            Err(e) => {
                gateway.delete_document_row(&session, &transfer_id, &doc_id).await?;
                return Err(e);
            }
        };
        let size = i64::try_from(committed.size).map_err(|_| Error::TooLarge { limit: u64::MAX })?;
        let sha = committed.sha256.to_vec();
        let inline = committed.inline;
        let event = gateway
            .event(&session.origin, "document-added")
            .actor(&session.audit_actor())
            .transfer(&transfer_id)
            .document(&doc_id)
            .detail(&format!("{} ({} bytes)", name.as_str(), committed.size));
        let (s, t, d) = (session.clone(), transfer_id.clone(), doc_id.clone());
        let (old, name_key) = (replaces.clone(), name.collation_key());
        gateway
            .db
            .write(move |conn| {
                load_own_draft(conn, &s, &t)?;
                let complete = (
                    documents::state.eq("complete"),
                    documents::size.eq(size),
                    documents::sha256.eq(Some(sha)),
                    documents::content_check.eq(check.as_ref().map(ContentCheck::as_str)),
                    documents::completed_at.eq(Some(now.as_millis())),
                    documents::inline_blob.eq(inline),
                    documents::crc32.eq(crc.map(i64::from)),
                );
                // Only an upload in progress finishes: of two connections
                // writing one document, the second to finish is refused.
                let row = documents::table.find(&d).filter(documents::state.eq("uploading"));
                let updated = match &old {
                    Some(old) => {
                        // A new version of a document keeps what a client noted on it.
                        crate::properties::pass_on(conn, &t, old, &d)?;
                        diesel::delete(documents::table.find(old).filter(documents::transfer_id.eq(&t)))
                            .execute(conn)?;
                        // The new version takes the name only now: it had a key of its own meanwhile.
                        diesel::update(row).set((documents::name_key.eq(&name_key), complete)).execute(conn)?
                    }
                    // The row has its name's key since it was made: an index left alone.
                    None => diesel::update(row).set(complete).execute(conn)?,
                };
                if updated == 0 {
                    // Removed, or finished, by another connection meanwhile.
                    return Err(Error::NotFound);
                }
                event.record(conn)?;
                Ok(())
            })
            .await?;
        // What the row now holds, known without reading it back.
        let info = DocumentInfo {
            id: doc_id,
            name: name.as_str().to_owned(),
            kind: name.kind(),
            state: DocumentState::Complete,
            size: committed.size,
            sha256: Some(data_encoding::HEXLOWER.encode(&committed.sha256)),
            content_check: check.as_ref().map(|c| c.as_str().to_owned()),
            completed_at: Some(now),
            deleted_at: None,
        };
        if let Some(old) = replaces {
            gateway.store.delete(&BlobId::parse(&old)?).await?;
        }
        Ok(info)
    }

    /// Give up this upload: what was stored is deleted, and a document it was
    /// replacing stays as it was. For doors where an interrupted transfer is
    /// not resumed (a WebDAV PUT is whole or nothing).
    pub async fn abandon(self) -> Result<()> {
        let Upload { gateway, session, transfer_id, doc_id, writer, .. } = self;
        drop(writer);
        gateway.delete_document_row(&session, &transfer_id, &doc_id).await
    }
}

/// The draft an upload goes into: by id, or by its name in the outbox.
enum Draft {
    Id(String),
    Named(String),
}

/// Where a new document row goes: under its name, or beside the complete
/// document of that name it will replace.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Named,
    Replacement,
}

impl Gateway {
    /// Read back the first bytes of a committed document (an upload resumed in
    /// another connection, a file renamed) and compare them with what the
    /// extension of `name` promises.
    pub(crate) async fn check_content(
        &self,
        doc_id: &str,
        name: &FileName,
        size: u64,
        inline: Option<Vec<u8>>,
    ) -> Result<ContentCheck> {
        let head_len = size.min(content::HEAD_LEN as u64);
        let mut reader = self.read_back(doc_id, size, 0..head_len, inline).await?;
        let mut head = Vec::with_capacity(content::HEAD_LEN);
        while let Some(piece) = reader.next_chunk().await? {
            head.extend_from_slice(&piece);
        }
        self.check_head(name, &head)
    }

    /// The CRC-32 of a committed file, read back (a file in a folder whose
    /// upload was resumed in another connection).
    async fn crc_of(&self, doc_id: &str, size: u64, inline: Option<Vec<u8>>) -> Result<u32> {
        let mut reader = self.read_back(doc_id, size, 0..size, inline).await?;
        let mut crc = crc32fast::Hasher::new();
        while let Some(piece) = reader.next_chunk().await? {
            crc.update(&piece);
        }
        Ok(crc.finalize())
    }

    /// The whole chunks the staging file of an unfinished document holds.
    pub(crate) async fn staged_len(&self, doc_id: &str) -> Result<u64> {
        Ok(self.store.staged_len(&BlobId::parse(doc_id)?).await?)
    }

    /// A reader of a document of a draft, through the server's key.
    async fn read_back(
        &self,
        doc_id: &str,
        size: u64,
        range: std::ops::Range<u64>,
        inline: Option<Vec<u8>>,
    ) -> Result<crate::store::BlobReader> {
        let d = doc_id.to_owned();
        let sealed: Option<Vec<u8>> = self
            .db
            .read(move |conn| Ok(documents::table.find(&d).select(documents::key_sealed).get_result(conn)?))
            .await?;
        let sealed = sealed.ok_or_else(|| Error::Internal("document without key".into()))?;
        let key = self.keys.unwrap_document_key(&sealed, doc_id, None)?;
        Ok(self.store.open(&BlobId::parse(doc_id)?, &key, size, range, inline).await?)
    }

    /// Compare the first bytes of a document with what its extension promises.
    fn check_head(&self, name: &FileName, head: &[u8]) -> Result<ContentCheck> {
        match content::check(&name.extension(), head) {
            ContentCheck::Mismatch { expected, detected } => Err(Error::ContentMismatch {
                name: name.as_str().to_owned(),
                expected: content::describe(expected),
                detected: content::describe(detected),
            }),
            verdict => Ok(verdict),
        }
    }

    /// What a failed write or finish means when its message was aborted
    /// meanwhile (withdrawn by the sender, or its window closed by the jobs
    /// on any node), which deleted what was staged, in a folder or in an
    /// object store: that, instead of the missing file or object it ran into.
    async fn explain_lost_upload(&self, transfer_id: &str, e: Error) -> Error {
        if !matches!(e, Error::NotFound | Error::Internal(_) | Error::Conflict(_)) {
            return e;
        }
        let t = transfer_id.to_owned();
        let state = self
            .db
            .read(move |conn| {
                Ok(transfers::table
                    .find(&t)
                    .select((transfers::state, transfers::abort_reason))
                    .get_result::<(String, Option<String>)>(conn)
                    .optional()?)
            })
            .await;
        match state {
            Ok(Some((state, reason))) if state == TransferState::Aborted.as_str() => {
                Error::Aborted(reason.unwrap_or_default())
            }
            _ => e,
        }
    }
}
