//! The tree over the core: each SFTP operation becomes calls on the
//! [`gateway::Gateway`] with the caller's [`gateway::Session`], one call (or
//! more) per request, so that a rule changed or an account disabled counts at
//! the next request. Nothing here decides who may see or do what: a place the
//! core does not show is not found, a refusal of the core is passed on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gateway::upload::{DocumentInfo, UploadMode};
use gateway::{Folder, Gateway, Language, Session, Timestamp, TransferSummary};
use russh_sftp::protocol::{FileAttributes, OpenFlags, StatusCode};

use crate::status::Refusal;
use crate::tree::{CanonicalPath, MESSAGE_TXT, Place, REPORT_PDF, REPORT_PDF_ALT};

pub(crate) type OpResult<T> = Result<T, Refusal>;

/// The largest `message.txt` a client may write.
const MAX_MESSAGE_TXT: usize = 64 * 1024;
/// How long a generated report is reused, so that the size a listing shows is
/// the size the next read gives.
const REPORT_REUSE: Duration = Duration::from_secs(5);

/// One signed-in user's view of the tree.
pub(crate) struct Tree {
    gateway: Gateway,
    session: Session,
    reports: Mutex<HashMap<String, Generated>>,
}

/// A report PDF and when it was made.
type Generated = (Instant, Arc<Vec<u8>>);

/// One entry of a listing.
pub(crate) struct Entry {
    pub name: String,
    pub attrs: FileAttributes,
}

/// What an open handle reads or writes.
pub(crate) enum Opened {
    /// A generated file (`message.txt`, `report.pdf`) held whole.
    Bytes(Arc<Vec<u8>>),
    /// A document, read through the core in order.
    Document(DocumentRead),
    /// A document being uploaded.
    Upload(gateway::upload::Upload),
    /// `message.txt` being written; given to the core on close.
    Envelope { transfer_id: String, text: Vec<u8> },
    /// A listing.
    Dir(Vec<Entry>),
}

/// A document being read: the core's reader, kept while the client reads on.
pub(crate) struct DocumentRead {
    transfer_id: String,
    name: String,
    size: u64,
    reader: Option<(gateway::download::DocumentReader, u64)>,
    pending: bytes::Bytes,
}

impl DocumentRead {
    /// The document's size.
    pub fn size(&self) -> u64 {
        self.size
    }
}

fn time_of(t: Timestamp) -> u32 {
    u32::try_from(t.as_millis().max(0) / 1000).unwrap_or(u32::MAX)
}

pub(crate) fn dir_attrs(writable: bool, mtime: Option<Timestamp>) -> FileAttributes {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(if writable { 0o40755 } else { 0o40555 });
    attrs.size = Some(0);
    attrs.mtime = mtime.map(time_of);
    attrs.atime = attrs.mtime;
    attrs
}

pub(crate) fn file_attrs(writable: bool, size: u64, mtime: Option<Timestamp>) -> FileAttributes {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(if writable { 0o100644 } else { 0o100444 });
    attrs.size = Some(size);
    attrs.mtime = mtime.map(time_of);
    attrs.atime = attrs.mtime;
    attrs
}

fn message_time(t: &TransferSummary) -> Timestamp {
    t.sent_at.unwrap_or(t.created_at)
}

impl Tree {
    pub fn new(gateway: Gateway, session: Session) -> Tree {
        Tree { gateway, session, reports: Mutex::new(HashMap::new()) }
    }

    /// The folders this caller has: someone signed in with a request link has
    /// no inbox.
    fn folders(&self) -> Vec<Folder> {
        match self.session.role() {
            Some(_) => Folder::ALL.to_vec(),
            None => vec![Folder::Outbox, Folder::Sent],
        }
    }

    fn has_folder(&self, folder: Folder) -> OpResult<()> {
        if self.folders().contains(&folder) { Ok(()) } else { Err(Refusal::no_such_file()) }
    }

    fn place(path: &str) -> OpResult<Place> {
        CanonicalPath::parse(path).place().ok_or_else(Refusal::no_such_file)
    }

    async fn message(&self, folder: Folder, name: &str) -> OpResult<TransferSummary> {
        self.has_folder(folder)?;
        Ok(self.gateway.find(&self.session, folder, name).await?)
    }

    /// The report of a message as a PDF, when the core lets this caller read it.
    async fn report(&self, t: &TransferSummary, fresh: bool) -> OpResult<Option<Arc<Vec<u8>>>> {
        if t.folder == Folder::Outbox {
            return Ok(None);
        }
        if !fresh {
            let reports = self.reports.lock().map_err(|_| Refusal::failure("internal error"))?;
            if let Some((at, pdf)) = reports.get(&t.id).filter(|(at, _)| at.elapsed() < REPORT_REUSE) {
                let _ = at;
                return Ok(Some(pdf.clone()));
            }
        }
        let data = match self.gateway.report(&self.session, &t.id).await {
            Ok(data) => data,
            Err(gateway::Error::Forbidden(_) | gateway::Error::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let language = match self.gateway.envelope(&self.session, &t.id).await {
            Ok(env) => env.language,
            Err(_) => Language::Nl,
        };
        let pdf = Arc::new(self.gateway.report_pdf(&data, language).await?);
        if let Ok(mut reports) = self.reports.lock() {
            reports.retain(|_, (at, _)| at.elapsed() < REPORT_REUSE);
            reports.insert(t.id.clone(), (Instant::now(), pdf.clone()));
        }
        Ok(Some(pdf))
    }

    /// The documents a folder shows: complete ones, and in the outbox also the
    /// unfinished ones (with what is stored), so that `reput` can resume.
    async fn documents(&self, t: &TransferSummary) -> OpResult<Vec<DocumentInfo>> {
        let docs = self.gateway.documents(&self.session, &t.id).await?;
        Ok(docs.into_iter().filter(|d| Self::shown(t, d)).collect())
    }

    /// The documents of a message named `file` that its folder shows: one
    /// lookup, however many documents the message holds.
    async fn documents_named(&self, t: &TransferSummary, file: &str) -> OpResult<Vec<DocumentInfo>> {
        let docs = self.gateway.documents_named(&self.session, &t.id, file).await?;
        Ok(docs.into_iter().filter(|d| Self::shown(t, d)).collect())
    }

    fn shown(t: &TransferSummary, d: &DocumentInfo) -> bool {
        d.state == "complete" || (t.folder == Folder::Outbox && d.state == "uploading")
    }

    fn report_name(docs: &[DocumentInfo]) -> &'static str {
        if docs.iter().any(|d| d.name == REPORT_PDF) { REPORT_PDF_ALT } else { REPORT_PDF }
    }

    /// Whether `file`, which names no document, is where the report shows.
    async fn is_report(&self, t: &TransferSummary, file: &str) -> OpResult<bool> {
        Ok(match file {
            REPORT_PDF => true,
            REPORT_PDF_ALT => !self.documents_named(t, REPORT_PDF).await?.is_empty(),
            _ => false,
        })
    }

    /// Attributes of a path (STAT, LSTAT: there are no links).
    pub async fn stat(&self, path: &str) -> OpResult<FileAttributes> {
        match Self::place(path)? {
            Place::Root => Ok(dir_attrs(false, None)),
            Place::Folder(f) => {
                self.has_folder(f)?;
                Ok(dir_attrs(f == Folder::Outbox, None))
            }
            Place::Message(f, name) => {
                let t = self.message(f, &name).await?;
                Ok(dir_attrs(f == Folder::Outbox, Some(message_time(&t))))
            }
            Place::File(f, name, file) => {
                let t = self.message(f, &name).await?;
                let writable = f == Folder::Outbox;
                if file == MESSAGE_TXT {
                    let text = self.gateway.message_txt(&self.session, &t.id).await?;
                    return Ok(file_attrs(writable, text.len() as u64, Some(message_time(&t))));
                }
                let docs = self.documents_named(&t, &file).await?;
                if let Some(d) = docs.iter().find(|d| d.state == "complete").or(docs.first()) {
                    return Ok(file_attrs(writable, d.size, d.completed_at.or(Some(t.created_at))));
                }
                if self.is_report(&t, &file).await?
                    && let Some(pdf) = self.report(&t, false).await?
                {
                    return Ok(file_attrs(false, pdf.len() as u64, Some(self.gateway_now())));
                }
                Err(Refusal::no_such_file())
            }
        }
    }

    fn gateway_now(&self) -> Timestamp {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp::from_millis(i64::try_from(now.as_millis()).unwrap_or(i64::MAX))
    }

    /// The entries of a folder (OPENDIR).
    pub async fn list(&self, path: &str) -> OpResult<Vec<Entry>> {
        match Self::place(path)? {
            Place::Root => Ok(self
                .folders()
                .into_iter()
                .map(|f| Entry { name: f.as_str().to_owned(), attrs: dir_attrs(f == Folder::Outbox, None) })
                .collect()),
            Place::Folder(f) => {
                self.has_folder(f)?;
                let messages = self.gateway.list(&self.session, f).await?;
                Ok(messages
                    .iter()
                    .map(|t| Entry {
                        name: t.name.clone(),
                        attrs: dir_attrs(f == Folder::Outbox, Some(message_time(t))),
                    })
                    .collect())
            }
            Place::Message(f, name) => {
                let t = self.message(f, &name).await?;
                let writable = f == Folder::Outbox;
                let text = self.gateway.message_txt(&self.session, &t.id).await?;
                let mut entries = vec![Entry {
                    name: MESSAGE_TXT.into(),
                    attrs: file_attrs(writable, text.len() as u64, Some(message_time(&t))),
                }];
                let docs = self.documents(&t).await?;
                let report_name = Self::report_name(&docs);
                for d in docs {
                    let attrs = file_attrs(writable, d.size, d.completed_at.or(Some(t.created_at)));
                    entries.push(Entry { name: d.name, attrs });
                }
                if let Some(pdf) = self.report(&t, false).await? {
                    let attrs = file_attrs(false, pdf.len() as u64, Some(self.gateway_now()));
                    entries.push(Entry { name: report_name.into(), attrs });
                }
                Ok(entries)
            }
            Place::File(..) => Err(Refusal::failure("not a folder")),
        }
    }

    /// Open a file for reading or writing (OPEN).
    pub async fn open(&self, path: &str, flags: OpenFlags) -> OpResult<Opened> {
        let Place::File(folder, name, file) = Self::place(path)? else {
            return match Self::place(path)? {
                Place::Root | Place::Folder(_) | Place::Message(..) => Err(Refusal::failure("this is a folder")),
                Place::File(..) => Err(Refusal::no_such_file()),
            };
        };
        let writing = flags.intersects(OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE);
        if writing && folder == Folder::Outbox && file != MESSAGE_TXT {
            let mode = if flags.contains(OpenFlags::TRUNCATE) {
                UploadMode::Replace
            } else if flags.contains(OpenFlags::EXCLUDE) {
                UploadMode::New
            } else {
                UploadMode::Resume
            };
            // The draft is found by its name in the transaction that begins the upload.
            let upload = self.gateway.begin_upload_in_draft(&self.session, &name, &file, mode).await?;
            return Ok(Opened::Upload(upload));
        }
        let t = self.message(folder, &name).await?;
        if writing {
            if folder != Folder::Outbox {
                return Err(Refusal::read_only());
            }
            // message.txt: checked now so that a refusal comes at once, not at close.
            self.gateway.message_txt(&self.session, &t.id).await?;
            return Ok(Opened::Envelope { transfer_id: t.id, text: Vec::new() });
        }
        if file == MESSAGE_TXT {
            let text = self.gateway.message_txt(&self.session, &t.id).await?;
            return Ok(Opened::Bytes(Arc::new(text.into_bytes())));
        }
        let docs = self.documents_named(&t, &file).await?;
        if let Some(d) = docs.iter().find(|d| d.state == "complete") {
            return Ok(Opened::Document(DocumentRead {
                transfer_id: t.id,
                name: d.name.clone(),
                size: d.size,
                reader: None,
                pending: bytes::Bytes::new(),
            }));
        }
        if docs.is_empty()
            && self.is_report(&t, &file).await?
            && let Some(pdf) = self.report(&t, true).await?
        {
            return Ok(Opened::Bytes(pdf));
        }
        Err(Refusal::no_such_file())
    }

    /// Read from an open document at `offset`: the core's reader is kept while
    /// the client reads on in order, and opened again where it jumps. A read
    /// from the start by the recipient is a download, recorded by the core.
    pub async fn read_document(&self, doc: &mut DocumentRead, offset: u64, len: u32) -> OpResult<Option<Vec<u8>>> {
        if offset >= doc.size && !(offset == 0 && doc.reader.is_none()) {
            return Ok(None);
        }
        let at = doc.reader.as_ref().map(|(_, pos)| *pos);
        if at != Some(offset) {
            let reader =
                self.gateway.read_document(&self.session, &doc.transfer_id, &doc.name, Some(offset..doc.size)).await?;
            doc.reader = Some((reader, offset));
            doc.pending = bytes::Bytes::new();
        }
        let want = usize::try_from(u64::from(len).min(doc.size - offset.min(doc.size))).unwrap_or(0);
        let mut out = Vec::with_capacity(want);
        while out.len() < want {
            if doc.pending.is_empty() {
                let Some((reader, _)) = doc.reader.as_mut() else { break };
                match reader.next_chunk().await? {
                    Some(piece) => doc.pending = bytes::Bytes::from(piece),
                    None => break,
                }
            }
            let n = (want - out.len()).min(doc.pending.len());
            out.extend_from_slice(&doc.pending.split_to(n));
        }
        if let Some((_, pos)) = doc.reader.as_mut() {
            *pos = offset + out.len() as u64;
        }
        if out.is_empty() { Ok(None) } else { Ok(Some(out)) }
    }

    /// Write into `message.txt` as held for the close.
    pub fn write_envelope(text: &mut Vec<u8>, offset: u64, data: &[u8]) -> OpResult<()> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(data.len());
        if end > MAX_MESSAGE_TXT {
            return Err(Refusal::failure(format!("message.txt may be at most {MAX_MESSAGE_TXT} bytes")));
        }
        if text.len() < end {
            text.resize(end, 0);
        }
        text[start..end].copy_from_slice(data);
        Ok(())
    }

    /// Close a handle: an upload is completed, `message.txt` handed to the core.
    pub async fn close(&self, opened: Opened) -> OpResult<()> {
        match opened {
            Opened::Upload(upload) => {
                upload.finish().await?;
                Ok(())
            }
            Opened::Envelope { transfer_id, text } => {
                let text = String::from_utf8(text).map_err(|_| Refusal::failure("message.txt must be UTF-8 text"))?;
                self.gateway.write_message_txt(&self.session, &transfer_id, &text).await?;
                Ok(())
            }
            Opened::Bytes(_) | Opened::Document(_) | Opened::Dir(_) => Ok(()),
        }
    }

    /// A handle left open when the connection ends: what was uploaded stays
    /// resumable, nothing else happens.
    pub async fn abandon(&self, opened: Opened) {
        if let Opened::Upload(upload) = opened
            && let Err(e) = upload.suspend().await
        {
            tracing::warn!(error = %e, "could not keep an interrupted upload");
        }
    }

    /// MKDIR: a folder in `/outbox` is a new draft.
    pub async fn mkdir(&self, path: &str) -> OpResult<()> {
        match Self::place(path)? {
            Place::Message(Folder::Outbox, name) => {
                self.gateway.create_draft(&self.session, &name).await?;
                Ok(())
            }
            Place::File(Folder::Outbox, name, file) => {
                let t = self.message(Folder::Outbox, &name).await?;
                Ok(self.gateway.create_subfolder(&self.session, &t.id, &file)?)
            }
            Place::Root | Place::Folder(_) => Err(Refusal::failure("this folder already exists")),
            Place::Message(..) | Place::File(..) => Err(Refusal::read_only()),
        }
    }

    /// RMDIR: removing a draft's folder withdraws the draft.
    pub async fn rmdir(&self, path: &str) -> OpResult<()> {
        match Self::place(path)? {
            Place::Message(Folder::Outbox, name) => {
                let t = self.message(Folder::Outbox, &name).await?;
                Ok(self.gateway.discard_draft(&self.session, &t.id).await?)
            }
            Place::Root | Place::Folder(_) => Err(Refusal::new(StatusCode::PermissionDenied, "this folder stays")),
            Place::Message(f, name) => {
                self.message(f, &name).await?;
                Err(Refusal::read_only())
            }
            Place::File(..) => Err(Refusal::no_such_file()),
        }
    }

    /// REMOVE: a document leaves its draft.
    pub async fn remove(&self, path: &str) -> OpResult<()> {
        match Self::place(path)? {
            Place::File(Folder::Outbox, name, file) => {
                let t = self.message(Folder::Outbox, &name).await?;
                if file == MESSAGE_TXT {
                    return Err(Refusal::new(
                        StatusCode::PermissionDenied,
                        "message.txt is the envelope of the message; edit it instead",
                    ));
                }
                Ok(self.gateway.remove_document(&self.session, &t.id, &file).await?)
            }
            Place::File(f, name, _) => {
                self.message(f, &name).await?;
                Err(Refusal::read_only())
            }
            _ => Err(Refusal::failure("use rmdir for a folder")),
        }
    }

    /// RENAME: a draft moved into `/sent` is sent; within `/outbox` renamed.
    pub async fn rename(&self, from: &str, to: &str) -> OpResult<()> {
        match (Self::place(from)?, Self::place(to)?) {
            (Place::Message(Folder::Outbox, old), Place::Message(Folder::Sent, new)) => {
                let t = self.message(Folder::Outbox, &old).await?;
                if old != new {
                    return Err(Refusal::failure("keep the folder's name when moving it to /sent"));
                }
                self.gateway.send(&self.session, &t.id).await?;
                Ok(())
            }
            (Place::Message(Folder::Outbox, old), Place::Message(Folder::Outbox, new)) => {
                let t = self.message(Folder::Outbox, &old).await?;
                Ok(self.gateway.rename_draft(&self.session, &t.id, &new).await?)
            }
            (Place::Message(f, old), _) => {
                self.message(f, &old).await?;
                Err(Refusal::new(
                    StatusCode::PermissionDenied,
                    "a draft can be renamed in /outbox or moved to /sent; nothing else moves",
                ))
            }
            (Place::File(f, name, _), _) => {
                self.message(f, &name).await?;
                Err(Refusal::unsupported("renaming a document (upload it under its name)"))
            }
            (Place::Root | Place::Folder(_), _) => {
                Err(Refusal::new(StatusCode::PermissionDenied, "this folder stays where it is"))
            }
        }
    }

    /// SETSTAT: attributes belong to the server; accepted and ignored for a
    /// place that exists, so that clients which set times do not fail.
    pub async fn setstat(&self, path: &str) -> OpResult<()> {
        self.stat(path).await.map(|_| ())
    }
}

/// `ls -l`-style line for a listing.
pub(crate) fn longname(name: &str, attrs: &FileAttributes) -> String {
    let perms = attrs.permissions.unwrap_or(0);
    let kind = if perms & 0o40000 != 0 { 'd' } else { '-' };
    let mut mode = String::with_capacity(10);
    mode.push(kind);
    for shift in [6u32, 3, 0] {
        let bits = (perms >> shift) & 7;
        mode.push(if bits & 4 != 0 { 'r' } else { '-' });
        mode.push(if bits & 2 != 0 { 'w' } else { '-' });
        mode.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let when = attrs
        .mtime
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(i64::from(t)).ok())
        .and_then(|t| {
            t.format(time::macros::format_description!("[month repr:short] [day padding:space] [hour]:[minute]")).ok()
        })
        .unwrap_or_else(|| "Jan  1 00:00".into());
    format!("{mode}    1 koerier  koerier  {:>10} {when} {name}", attrs.size.unwrap_or(0))
}
