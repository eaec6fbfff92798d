//! The folder view of messages (SPEC section 4), the one every door shows:
//! `/outbox`, `/sent`, `/inbox`, a folder per message, and in it
//! `message.txt`, the files and (outside the outbox, when the caller may
//! read it) `report.pdf`. A door parses its protocol's path into a [`Place`]
//! and calls one operation of a [`Tree`]; what exists, who sees it, what a
//! listing holds and what each change means are decided here, once.
//!
//! A [`Tree`] holds the caller's [`Session`] and asks the core afresh on
//! every call, so a rule changed or an account disabled counts at the next
//! request. It keeps only the report it made last, for a few seconds, so that
//! the size a listing shows is the size the next read gives.

mod files;
mod folders;
mod path;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub use files::Overwrite;
pub use folders::MAX_FOLDERS_PER_DRAFT;
pub(crate) use folders::check_folder;
pub use path::{Place, TreePath};

use crate::download::DocumentReader;
use crate::error::{Error, Result};
use crate::policy::name::NameKind;
use crate::upload::{DocumentInfo, DocumentState, Inside, Upload, UploadMode, delivered};
use crate::{Folder, Gateway, Session, Timestamp, TransferId, TransferSummary};

/// The envelope of a message, as a file in its folder.
pub const MESSAGE_TXT: &str = "message.txt";
/// The report of a message, generated when read.
pub const REPORT_PDF: &str = "report.pdf";
/// The report's name when a document of the message is itself called `report.pdf`.
pub const REPORT_PDF_ALT: &str = "report-koerier.pdf";

/// How long a generated report is reused.
const REPORT_REUSE: Duration = Duration::from_secs(5);

const READ_ONLY: &str = "sent and received messages are read-only; drafts are composed in /outbox";

/// What a place of the tree is, as the core found it for the caller.
#[derive(Debug, Clone)]
pub enum Node {
    /// `/`
    Root,
    /// `/outbox`, `/sent`, `/inbox`
    Folder(Folder),
    /// A message's folder.
    Message(TransferSummary),
    /// `message.txt`, with its bytes.
    Envelope(TransferSummary, Arc<Vec<u8>>),
    /// A file of a message: a document (complete or, in a draft, still
    /// arriving), a temporary file, or litter reached by its exact name; in
    /// a sent or received message, a folder as its zip.
    File(TransferSummary, DocumentInfo),
    /// A folder in a draft.
    Subfolder(TransferSummary, DocumentInfo),
    /// The report, made for this caller.
    Report(TransferSummary, Arc<Vec<u8>>),
}

/// What a listing or a stat says of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// A folder, or a file.
    pub dir: bool,
    /// Bytes (0 for a folder); for an unfinished upload, what is safely stored.
    pub size: u64,
    /// When it was made.
    pub created: Timestamp,
    /// When it last changed.
    pub modified: Timestamp,
    /// Whether the caller may change it.
    pub writable: bool,
    /// A strong validator when the content has one (a document's SHA-256).
    pub etag: Option<String>,
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name in the folder.
    pub name: String,
    /// What it is.
    pub meta: Meta,
}

/// What a write goes into.
pub enum Writer {
    /// A file of a draft, streamed into the store.
    File(Box<Upload>),
    /// `message.txt`, held until it is closed.
    Envelope(EnvelopeWriter),
}

/// `message.txt` being written: the bytes at their offsets, handed to the
/// core whole when the client closes the file.
pub struct EnvelopeWriter {
    tree: Tree,
    transfer_id: TransferId,
    text: Vec<u8>,
}

impl EnvelopeWriter {
    /// Write `data` at `offset`; the file may grow to
    /// [`crate::envelope::MAX_MESSAGE_TXT`] bytes.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let max = crate::envelope::MAX_MESSAGE_TXT;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(data.len());
        if end > max {
            return Err(Error::Invalid(format!("message.txt may be at most {max} bytes")));
        }
        if self.text.len() < end {
            self.text.resize(end, 0);
        }
        self.text[start..end].copy_from_slice(data);
        Ok(())
    }

    /// Append `data`.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        self.write_at(self.len(), data)
    }

    /// The bytes written so far.
    pub fn len(&self) -> u64 {
        self.text.len() as u64
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Hand the text to the core.
    pub async fn finish(self) -> Result<()> {
        self.tree.gateway.write_message_txt(&self.tree.session, &self.transfer_id, &self.text).await
    }
}

/// One caller's view of the tree.
#[derive(Clone)]
pub struct Tree {
    gateway: Gateway,
    session: Session,
    report: Arc<Mutex<Option<KeptReport>>>,
}

/// The report this tree made last: its message, when, and the PDF.
type KeptReport = (TransferId, Instant, Arc<Vec<u8>>);

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree").field("session", &self.session).finish_non_exhaustive()
    }
}

fn message_time(t: &TransferSummary) -> Timestamp {
    t.sent_at.unwrap_or(t.created_at)
}

/// Whether a file is there at all: complete, or in a draft still arriving
/// (so that a client can resume it).
fn visible(t: &TransferSummary, d: &DocumentInfo) -> bool {
    d.state == DocumentState::Complete || (t.folder == Folder::Outbox && d.state == DocumentState::Uploading)
}

/// Whether a file shows in its message's listing: never litter, which is
/// reached only by its exact name.
fn listed(t: &TransferSummary, d: &DocumentInfo) -> bool {
    d.kind != NameKind::Litter && visible(t, d)
}

/// Of the rows under one name (a complete document and its replacement
/// being uploaded), the one the tree shows: the complete one first.
fn shown(t: &TransferSummary, docs: Vec<DocumentInfo>) -> Option<DocumentInfo> {
    docs.into_iter().filter(|d| visible(t, d)).min_by_key(|d| d.state != DocumentState::Complete)
}

impl Node {
    /// What a listing or stat says of it; `now` dates what is made when read.
    pub fn meta(&self, now: Timestamp) -> Meta {
        let dir = |writable, created, modified| Meta { dir: true, size: 0, created, modified, writable, etag: None };
        let file = |writable, size: usize, created, modified| Meta {
            dir: false,
            size: size as u64,
            created,
            modified,
            writable,
            etag: None,
        };
        match self {
            Node::Root => dir(false, now, now),
            Node::Folder(f) => dir(*f == Folder::Outbox, now, now),
            Node::Message(t) => dir(t.folder == Folder::Outbox, t.created_at, message_time(t)),
            Node::Subfolder(t, d) => dir(true, d.completed_at.unwrap_or(t.created_at), message_time(t)),
            Node::Envelope(t, text) => file(t.folder == Folder::Outbox, text.len(), t.created_at, message_time(t)),
            Node::Report(_, pdf) => file(false, pdf.len(), now, now),
            Node::File(t, d) => {
                let modified = d.completed_at.unwrap_or(t.created_at);
                Meta {
                    dir: false,
                    size: d.size,
                    created: modified,
                    modified,
                    writable: t.folder == Folder::Outbox,
                    etag: d.sha256.as_deref().map(|s| s.chars().take(32).collect()),
                }
            }
        }
    }
}

impl Tree {
    /// The caller's tree.
    pub fn new(gateway: &Gateway, session: &Session) -> Tree {
        Tree { gateway: gateway.clone(), session: session.clone(), report: Arc::new(Mutex::new(None)) }
    }

    /// Who is looking.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The folders this caller has: someone signed in with a request link
    /// answers that request only, and receives nothing.
    pub fn folders(&self) -> &'static [Folder] {
        match self.session.role() {
            Some(_) => &Folder::ALL,
            None => &[Folder::Outbox, Folder::Sent],
        }
    }

    fn folder(&self, folder: Folder) -> Result<Folder> {
        if self.folders().contains(&folder) { Ok(folder) } else { Err(Error::NotFound) }
    }

    /// A message the caller sees in `folder` under `name`.
    pub async fn message(&self, folder: Folder, name: &str) -> Result<TransferSummary> {
        self.gateway.find(&self.session, self.folder(folder)?, name).await
    }

    /// The time of something made as it is read.
    fn now(&self) -> Timestamp {
        self.gateway.now()
    }

    /// What a listing or stat says of a node, dated by the core's clock.
    pub fn meta(&self, node: &Node) -> Meta {
        node.meta(self.now())
    }

    /// What a place is (STAT, PROPFIND Depth 0, HEAD).
    pub async fn node(&self, place: &Place) -> Result<Node> {
        match place {
            Place::Root => Ok(Node::Root),
            Place::Folder(f) => Ok(Node::Folder(self.folder(*f)?)),
            Place::Message(f, name) => Ok(Node::Message(self.message(*f, name).await?)),
            Place::File(f, message, name) => self.file(*f, message, name).await,
        }
    }

    /// A file of a message: `message.txt`, a file or folder of a draft by
    /// its path (one lookup of the message and the name together), what a
    /// sent or received message delivers, or its report.
    async fn file(&self, folder: Folder, message: &str, name: &str) -> Result<Node> {
        if name == MESSAGE_TXT {
            let t = self.message(folder, message).await?;
            let text = self.gateway.message_txt(&self.session, &t.id).await?;
            return Ok(Node::Envelope(t, Arc::new(text.into_bytes())));
        }
        if folder == Folder::Outbox {
            let (t, docs) = self.gateway.find_documents_named(&self.session, folder, message, name).await?;
            return match shown(&t, docs) {
                Some(d) if d.kind == NameKind::Folder => Ok(Node::Subfolder(t, d)),
                Some(d) => Ok(Node::File(t, self.staged(d).await?)),
                None => Err(Error::NotFound),
            };
        }
        let t = self.message(folder, message).await?;
        let docs = self.delivered(&t).await?;
        if let Some(d) = docs.iter().find(|d| d.name == name) {
            return Ok(Node::File(t, d.clone()));
        }
        let report_here = match name {
            REPORT_PDF => true,
            REPORT_PDF_ALT => docs.iter().any(|d| d.name == REPORT_PDF),
            _ => false,
        };
        if report_here && let Some(pdf) = self.report(&t).await? {
            return Ok(Node::Report(t, pdf));
        }
        Err(Error::NotFound)
    }

    /// What a sent or received message delivers, as far as it is there.
    async fn delivered(&self, t: &TransferSummary) -> Result<Vec<DocumentInfo>> {
        let all = self.gateway.documents(&self.session, &t.id).await?;
        Ok(delivered(&all, Inside::Zipped).into_iter().filter(|d| visible(t, d)).collect())
    }

    /// The report of a message as a PDF, when the caller may read it: made
    /// afresh unless this tree made it a moment ago.
    async fn report(&self, t: &TransferSummary) -> Result<Option<Arc<Vec<u8>>>> {
        if t.folder == Folder::Outbox {
            return Ok(None);
        }
        {
            let kept = self.report.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, _, pdf)) = kept.as_ref().filter(|(id, at, _)| *id == t.id && at.elapsed() < REPORT_REUSE) {
                return Ok(Some(pdf.clone()));
            }
        }
        let data = match self.gateway.report(&self.session, &t.id).await {
            Ok(data) => data,
            Err(Error::Forbidden(_) | Error::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let language = self.gateway.envelope(&self.session, &t.id).await.map(|e| e.language).unwrap_or_default();
        let pdf = Arc::new(self.gateway.report_pdf(&data, language).await?);
        *self.report.lock().unwrap_or_else(PoisonError::into_inner) = Some((t.id.clone(), Instant::now(), pdf.clone()));
        Ok(Some(pdf))
    }

    /// The entries of a folder (READDIR, PROPFIND Depth 1).
    pub async fn list(&self, place: &Place) -> Result<Vec<Entry>> {
        let now = self.now();
        match place {
            Place::Root => Ok(self
                .folders()
                .iter()
                .map(|f| Entry { name: f.as_str().to_owned(), meta: Node::Folder(*f).meta(now) })
                .collect()),
            Place::Folder(f) => {
                let messages = self.gateway.list(&self.session, self.folder(*f)?).await?;
                Ok(messages
                    .into_iter()
                    .map(|t| Entry { name: t.name.clone(), meta: Node::Message(t).meta(now) })
                    .collect())
            }
            Place::Message(f, name) => {
                let t = self.message(*f, name).await?;
                let text = self.gateway.message_txt(&self.session, &t.id).await?;
                let mut entries = vec![Entry {
                    name: MESSAGE_TXT.into(),
                    meta: Node::Envelope(t.clone(), Arc::new(text.into_bytes())).meta(now),
                }];
                if *f == Folder::Outbox {
                    entries.extend(self.draft_entries(&t, "").await?);
                    return Ok(entries);
                }
                let docs = self.delivered(&t).await?;
                let report_name = if docs.iter().any(|d| d.name == REPORT_PDF) { REPORT_PDF_ALT } else { REPORT_PDF };
                for d in docs {
                    entries.push(Entry { name: d.name.clone(), meta: Node::File(t.clone(), d).meta(now) });
                }
                if let Some(pdf) = self.report(&t).await? {
                    entries.push(Entry { name: report_name.into(), meta: Node::Report(t, pdf).meta(now) });
                }
                Ok(entries)
            }
            Place::File(f, message, path) => match self.file(*f, message, path).await? {
                Node::Subfolder(t, _) => self.draft_entries(&t, &format!("{path}/")).await,
                _ => Err(Error::Invalid("this is a file, not a folder".into())),
            },
        }
    }

    /// What a draft holds directly under `prefix` (`""` for its top,
    /// `Bijlagen/` for a folder), one entry per name: a complete file, not
    /// its replacement being uploaded.
    async fn draft_entries(&self, t: &TransferSummary, prefix: &str) -> Result<Vec<Entry>> {
        let now = self.now();
        let mut docs: Vec<DocumentInfo> = self
            .gateway
            .documents(&self.session, &t.id)
            .await?
            .into_iter()
            .filter(|d| listed(t, d) && d.name.strip_prefix(prefix).is_some_and(|rest| !rest.contains('/')))
            .collect();
        docs.sort_by_key(|d| (d.name.clone(), d.state != DocumentState::Complete));
        docs.dedup_by(|later, first| later.name == first.name);
        let mut entries = Vec::with_capacity(docs.len());
        for d in docs {
            let name = d.name[prefix.len()..].to_owned();
            let node = match d.kind {
                NameKind::Folder => Node::Subfolder(t.clone(), d),
                _ => Node::File(t.clone(), self.staged(d).await?),
            };
            entries.push(Entry { name, meta: node.meta(now) });
        }
        Ok(entries)
    }

    /// A file as a client sees it: one still arriving has the size of what
    /// its staging file holds, whether or not its upload was suspended in
    /// order (a connection cut, a process killed), so that a client resumes
    /// it where the bytes stop, not at 0.
    async fn staged(&self, mut d: DocumentInfo) -> Result<DocumentInfo> {
        if d.state == DocumentState::Uploading {
            d.size = d.size.max(self.gateway.staged_len(&d.id).await?);
        }
        Ok(d)
    }

    /// Read a document from `range` (the whole of it when `None`); a read
    /// from the start by its recipient is a download, recorded by the core.
    pub async fn read(
        &self,
        t: &TransferSummary,
        d: &DocumentInfo,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<DocumentReader> {
        self.gateway.read_document(&self.session, &t.id, &d.name, range).await
    }

    /// Whether [`Tree::read`] would open this document, without reading or
    /// recording anything. A draft's files open for whoever composes it, so
    /// only a sent or received message is asked about.
    pub async fn may_read(&self, t: &TransferSummary, d: &DocumentInfo) -> Result<()> {
        match t.folder {
            Folder::Outbox => Ok(()),
            Folder::Sent | Folder::Inbox => self.gateway.may_read_document(&self.session, &t.id, &d.name).await,
        }
    }

    /// Open a file for writing (OPEN with write flags, PUT): a file of a
    /// draft is uploaded in `mode`; `message.txt` is held until it closes.
    pub async fn write(&self, place: &Place, mode: UploadMode) -> Result<Writer> {
        let Place::File(folder, message, name) = place else {
            return Err(Error::Invalid("this is a folder; a folder is not written to".into()));
        };
        if *folder != Folder::Outbox {
            self.message(*folder, message).await?;
            return Err(Error::Forbidden(READ_ONLY));
        }
        if name == MESSAGE_TXT {
            let t = self.message(Folder::Outbox, message).await?;
            return Ok(Writer::Envelope(EnvelopeWriter { tree: self.clone(), transfer_id: t.id, text: Vec::new() }));
        }
        // The draft is found by its name in the transaction that begins the upload.
        Ok(Writer::File(Box::new(self.gateway.begin_upload_in_draft(&self.session, message, name, mode).await?)))
    }

    /// Make a folder (MKDIR, MKCOL): in `/outbox`, a new draft.
    pub async fn mkdir(&self, place: &Place) -> Result<()> {
        match place {
            Place::Message(Folder::Outbox, name) => self.gateway.create_draft(&self.session, name).await.map(|_| ()),
            Place::File(Folder::Outbox, message, path) => {
                let t = self.message(Folder::Outbox, message).await?;
                self.gateway.create_folder(&self.session, &t.id, path).await
            }
            Place::Root | Place::Folder(_) => Err(Error::Conflict("this folder already exists".into())),
            Place::Message(f, _) | Place::File(f, ..) => {
                self.folder(*f)?;
                Err(Error::Forbidden(READ_ONLY))
            }
        }
    }

    /// Remove a folder (RMDIR, DELETE of a collection): a draft is
    /// withdrawn; a folder in a draft goes when it is empty.
    pub async fn rmdir(&self, place: &Place) -> Result<()> {
        match place {
            Place::Message(Folder::Outbox, name) => {
                let t = self.message(Folder::Outbox, name).await?;
                self.gateway.discard_draft(&self.session, &t.id).await
            }
            Place::Message(f, name) => {
                self.message(*f, name).await?;
                Err(Error::Forbidden(READ_ONLY))
            }
            Place::Root | Place::Folder(_) => Err(Error::Forbidden("this folder stays")),
            Place::File(Folder::Outbox, message, path) => {
                let t = self.message(Folder::Outbox, message).await?;
                self.gateway.remove_folder(&self.session, &t.id, path).await
            }
            Place::File(f, message, _) => {
                self.message(*f, message).await?;
                Err(Error::Forbidden(READ_ONLY))
            }
        }
    }

    /// Remove a file (REMOVE, DELETE): a file leaves its draft; removing
    /// `message.txt` empties it, so that a client can empty a draft file by
    /// file before removing its folder.
    pub async fn remove(&self, place: &Place) -> Result<()> {
        match place {
            Place::File(Folder::Outbox, message, name) => {
                let t = self.message(Folder::Outbox, message).await?;
                match name.as_str() {
                    MESSAGE_TXT => self.gateway.write_message_txt(&self.session, &t.id, b"").await,
                    name => self.gateway.remove_document(&self.session, &t.id, name).await,
                }
            }
            Place::File(f, message, _) => {
                self.message(*f, message).await?;
                Err(Error::Forbidden(READ_ONLY))
            }
            Place::Root | Place::Folder(_) | Place::Message(..) => {
                Err(Error::Invalid("this is a folder; remove it as a folder".into()))
            }
        }
    }

    /// Rename or move (RENAME, MOVE). A draft moved into `/sent` is sent
    /// (under its own name); renamed within `/outbox`, it keeps its
    /// content. A file moves within its draft, or into another draft.
    pub async fn rename(&self, from: &Place, to: &Place, overwrite: Overwrite) -> Result<()> {
        match (from, to) {
            (Place::Message(Folder::Outbox, old), Place::Message(Folder::Sent, new)) => {
                let t = self.message(Folder::Outbox, old).await?;
                if old != new {
                    return Err(Error::Forbidden("keep the folder's name when moving it to /sent"));
                }
                self.gateway.send(&self.session, &t.id).await.map(|_| ())
            }
            (Place::Message(Folder::Outbox, old), Place::Message(Folder::Outbox, new)) => {
                let t = self.message(Folder::Outbox, old).await?;
                self.gateway.rename_draft(&self.session, &t.id, new).await
            }
            (Place::Message(Folder::Outbox, old), _) => {
                self.message(Folder::Outbox, old).await?;
                Err(Error::Forbidden("a draft can be renamed within /outbox, or moved into /sent to send it"))
            }
            (Place::File(Folder::Outbox, from_message, old), Place::File(Folder::Outbox, to_message, new))
                if old != MESSAGE_TXT && new == MESSAGE_TXT && from_message == to_message =>
            {
                self.envelope_from_file(from_message, old).await
            }
            (Place::File(Folder::Outbox, from_message, old), Place::File(Folder::Outbox, to_message, new))
                if old != MESSAGE_TXT && new != MESSAGE_TXT =>
            {
                let source = self.file(Folder::Outbox, from_message, old).await?;
                match (source, from_message == to_message) {
                    (Node::Subfolder(t, _), true) => {
                        self.gateway.rename_folder(&self.session, &t.id, old, new, overwrite).await
                    }
                    (Node::Subfolder(..), false) => {
                        Err(Error::Forbidden("a folder moves within its draft; copy what it holds into the other"))
                    }
                    (Node::File(t, _), true) => {
                        self.gateway.rename_file(&self.session, &t.id, old, new, overwrite).await
                    }
                    (Node::File(source, _), false) => {
                        self.copy(from, to, overwrite).await?;
                        self.gateway.remove_document(&self.session, &source.id, old).await
                    }
                    _ => Err(Error::NotFound),
                }
            }
            (Place::File(Folder::Outbox, message, _), _) => {
                self.message(Folder::Outbox, message).await?;
                Err(Error::Forbidden("message.txt belongs to its message, and a file moves only into a draft"))
            }
            (Place::Message(f, name) | Place::File(f, name, _), _) => {
                self.message(*f, name).await?;
                Err(Error::Forbidden(READ_ONLY))
            }
            (Place::Root | Place::Folder(_), _) => Err(Error::Forbidden("this folder stays where it is")),
        }
    }

    /// A file of a draft renamed onto `message.txt` (rclone writes
    /// `message.txt.XXXXXX.partial` first): its bytes become the envelope
    /// as written, and the file is gone.
    async fn envelope_from_file(&self, message: &str, name: &str) -> Result<()> {
        let Node::File(t, d) = self.file(Folder::Outbox, message, name).await? else { return Err(Error::NotFound) };
        let max = crate::envelope::MAX_MESSAGE_TXT;
        if d.size > max as u64 {
            return Err(Error::Invalid(format!("message.txt may be at most {max} bytes")));
        }
        let text = self.read(&t, &d, None).await?.read_all().await?;
        self.gateway.write_message_txt(&self.session, &t.id, &text).await?;
        self.gateway.remove_document(&self.session, &t.id, name).await
    }

    /// Copy a file into a draft (COPY), through the core: read, then a new
    /// upload under every rule; what a client noted on it goes along.
    pub async fn copy(&self, from: &Place, to: &Place, overwrite: Overwrite) -> Result<()> {
        let (Place::File(from_folder, from_message, old), Place::File(Folder::Outbox, to_message, new)) = (from, to)
        else {
            return Err(Error::Forbidden("only files can be copied, and only into a draft in /outbox"));
        };
        if old == MESSAGE_TXT || new == MESSAGE_TXT {
            return Err(Error::Forbidden("message.txt belongs to its message"));
        }
        let Node::File(source, doc) = self.file(*from_folder, from_message, old).await? else {
            return Err(Error::Forbidden("only files can be copied; the report is made when it is read"));
        };
        let target = self.message(Folder::Outbox, to_message).await?;
        // A name taken is the core's duplicate, unless the client replaces it.
        let mode = match overwrite {
            Overwrite::Yes => UploadMode::Replace,
            Overwrite::No => UploadMode::New,
        };
        let mut reader = self.read(&source, &doc, None).await?;
        let mut upload = self.gateway.begin_upload(&self.session, &target.id, new, mode).await?;
        loop {
            let piece = match reader.next_chunk().await {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(e) => {
                    let _ = upload.abandon().await;
                    return Err(e);
                }
            };
            if let Err(e) = upload.write(&piece).await {
                let _ = upload.abandon().await;
                return Err(e);
            }
        }
        upload.finish().await?;
        self.gateway.copy_dead_properties(&self.session, &source.id, old, &target.id, new).await
    }
}
