//! The virtual tree of SPEC section 4 as a dav-server filesystem, one per
//! request, holding the caller's `Session`: `/outbox`, `/sent`, `/inbox`, a
//! folder per message, and in it `message.txt`, the documents and (outside
//! the outbox, when the core lets the caller read it) `report.pdf`. Every
//! operation is one call of the core; this file decides no rule, it only says
//! which call a WebDAV method on a path is.
//!
//! dav-server asks about one path several times per method (a GET: its
//! metadata, then open; a PUT: its metadata, then open; a PROPFIND: a node's
//! dead properties once per property asked for), so the answers of one
//! request are kept in [`Seen`] for that request only.
//!
//! Dead properties are the core's too (`gateway::properties`): a message's
//! folder, its `message.txt` and its documents carry them; the fixed folders
//! (`/`, `/outbox`, `/sent`, `/inbox`) carry none and refuse each with a 403.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use axum::http::StatusCode;
use bytes::Bytes;
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, DavProp, FsError, FsFuture, FsResult, FsStream, OpenOptions,
    ReadDirMeta,
};
use futures_util::FutureExt;
use gateway::properties::{DeadProperty, PropertyNode};
use gateway::upload::{DocumentInfo, UploadMode};
use gateway::{Folder, Gateway, Session, TransferSummary};

use crate::error::Refusal;
use crate::file::{MemFile, MessageFile, Meta, ReadFile, UploadFile, time};
use crate::props;

/// The envelope of a message, in every message folder.
pub const MESSAGE_TXT: &str = "message.txt";
/// The report of a message, generated when read.
pub const REPORT_PDF: &str = "report.pdf";

const READ_ONLY: &str = "sent and received messages are read-only; drafts are composed in /outbox";

/// The caller's tree for one request.
#[derive(Clone)]
pub struct Tree {
    pub gateway: Gateway,
    pub session: Session,
    pub refusal: Refusal,
    pub started: SystemTime,
    pub seen: Seen,
}

/// An entry of a message folder, as the core described it.
#[derive(Debug, Clone)]
enum Found {
    /// `message.txt`, with its text.
    Envelope(Bytes),
    /// A complete document.
    Document,
    /// The report, made for this request.
    Report(Bytes),
}

/// What the core answered earlier in this request: the messages found by
/// name, the entries looked up and the dead properties read. It belongs to
/// one request's tree and is emptied by every change that tree makes, so no
/// answer outlives the request or a change: the next request asks the core
/// again, which checks every rule (a disabled account, a draft sent
/// meanwhile) afresh.
#[derive(Debug, Clone, Default)]
pub struct Seen(Arc<Mutex<Answers>>);

#[derive(Debug, Default)]
struct Answers {
    messages: Vec<(Folder, String, TransferSummary)>,
    entries: Vec<(Node, Meta, Found)>,
    props: Vec<(Node, Vec<DeadProperty>)>,
}

impl Seen {
    fn answers(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn message(&self, folder: Folder, name: &str) -> Option<TransferSummary> {
        let answers = self.answers();
        answers.messages.iter().find(|(f, n, _)| *f == folder && n == name).map(|(_, _, t)| t.clone())
    }

    fn entry(&self, node: &Node) -> Option<(Meta, Found)> {
        let answers = self.answers();
        answers.entries.iter().find(|(n, ..)| n == node).map(|(_, meta, found)| (meta.clone(), found.clone()))
    }

    fn props(&self, node: &Node) -> Option<Vec<DeadProperty>> {
        let answers = self.answers();
        answers.props.iter().find(|(n, _)| n == node).map(|(_, props)| props.clone())
    }

    /// Forget everything: the tree has just changed.
    pub fn forget(&self) {
        let mut answers = self.answers();
        answers.messages.clear();
        answers.entries.clear();
        answers.props.clear();
    }
}

/// A path of the tree, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Root,
    Folder(Folder),
    Message(Folder, String),
    Entry(Folder, String, String),
}

impl Node {
    /// The message and the node in it that dead properties are kept on;
    /// `None` for the root and the fixed folders.
    fn property_node(&self) -> Option<(Folder, &str, PropertyNode)> {
        match self {
            Node::Root | Node::Folder(_) => None,
            Node::Message(folder, message) => Some((*folder, message, PropertyNode::Folder)),
            Node::Entry(folder, message, name) if name == MESSAGE_TXT => {
                Some((*folder, message, PropertyNode::Envelope))
            }
            Node::Entry(folder, message, name) => Some((*folder, message, PropertyNode::Document(name.clone()))),
        }
    }
}

/// Parse a decoded path. Anything that is not a node of the tree is `NotFound`.
pub fn parse(path: &DavPath) -> FsResult<Node> {
    let text = std::str::from_utf8(path.as_bytes()).map_err(|_| FsError::NotFound)?;
    let parts: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
    let folder = |s: &str| Folder::parse(s).ok_or(FsError::NotFound);
    Ok(match parts.as_slice() {
        [] => Node::Root,
        [f] => Node::Folder(folder(f)?),
        [f, m] => Node::Message(folder(f)?, (*m).to_owned()),
        [f, m, e] => Node::Entry(folder(f)?, (*m).to_owned(), (*e).to_owned()),
        _ => return Err(FsError::NotFound),
    })
}

struct Entry {
    name: String,
    meta: Meta,
}

impl DavDirEntry for Entry {
    fn name(&self) -> Vec<u8> {
        self.name.as_bytes().to_vec()
    }
    fn metadata(&self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = self.meta.clone();
        async move { Ok(Box::new(meta) as Box<dyn DavMetaData>) }.boxed()
    }
}

fn message_meta(t: &TransferSummary) -> Meta {
    let created = time(t.created_at);
    Meta::dir(created, t.sent_at.map(time).unwrap_or(created))
}

fn document_meta(d: &DocumentInfo, t: &TransferSummary) -> Meta {
    let modified = d.completed_at.map(time).unwrap_or_else(|| time(t.created_at));
    let etag = d.sha256.as_deref().map(|s| s.chars().take(32).collect());
    Meta::file(d.size, modified, modified, etag)
}

impl Tree {
    fn keep(&self, e: gateway::Error) -> FsError {
        self.refusal.keep(e)
    }

    fn read_only(&self) -> FsError {
        self.refusal.refuse(StatusCode::FORBIDDEN, READ_ONLY)
    }

    async fn message(&self, folder: Folder, name: &str) -> FsResult<TransferSummary> {
        if let Some(t) = self.seen.message(folder, name) {
            return Ok(t);
        }
        let t = self.gateway.find(&self.session, folder, name).await.map_err(|e| self.keep(e))?;
        self.seen.answers().messages.push((folder, name.to_owned(), t.clone()));
        Ok(t)
    }

    /// One entry of a message folder: `message.txt`, a complete document
    /// (looked up by its name alone) or the report.
    async fn entry(&self, folder: Folder, message: &str, name: &str) -> FsResult<(Meta, Found)> {
        let node = Node::Entry(folder, message.to_owned(), name.to_owned());
        if let Some(hit) = self.seen.entry(&node) {
            return Ok(hit);
        }
        let now = self.started;
        let (meta, found) = if name == MESSAGE_TXT {
            let t = self.message(folder, message).await?;
            let text = self.gateway.message_txt(&self.session, &t.id).await.map_err(|e| self.keep(e))?;
            (Meta::file(text.len() as u64, time(t.created_at), now, None), Found::Envelope(Bytes::from(text)))
        } else {
            let (t, docs) = match self.seen.message(folder, message) {
                Some(t) => {
                    let docs =
                        self.gateway.documents_named(&self.session, &t.id, name).await.map_err(|e| self.keep(e))?;
                    (t, docs)
                }
                None => {
                    let (t, docs) = self
                        .gateway
                        .find_documents_named(&self.session, folder, message, name)
                        .await
                        .map_err(|e| self.keep(e))?;
                    self.seen.answers().messages.push((folder, message.to_owned(), t.clone()));
                    (t, docs)
                }
            };
            match docs.iter().find(|d| d.state == "complete") {
                Some(d) => (document_meta(d, &t), Found::Document),
                None if name == REPORT_PDF && folder != Folder::Outbox => match self.report(&t).await {
                    Ok(pdf) => (Meta::file(pdf.len() as u64, now, now, None), Found::Report(pdf)),
                    Err(_) => return Err(FsError::NotFound),
                },
                None => return Err(FsError::NotFound),
            }
        };
        self.seen.answers().entries.push((node, meta.clone(), found.clone()));
        Ok((meta, found))
    }

    /// The report of a message, when the core lets the caller read it.
    async fn report(&self, t: &TransferSummary) -> gateway::Result<Bytes> {
        let data = self.gateway.report(&self.session, &t.id).await?;
        let language = self.gateway.envelope(&self.session, &t.id).await.map(|e| e.language).unwrap_or_default();
        Ok(Bytes::from(self.gateway.report_pdf(&data, language).await?))
    }

    async fn entries(&self, node: &Node) -> FsResult<Vec<Entry>> {
        let now = self.started;
        match node {
            Node::Root => Ok(Folder::ALL
                .iter()
                .map(|f| Entry { name: f.as_str().to_owned(), meta: Meta::dir(now, now) })
                .collect()),
            Node::Folder(folder) => {
                let list = self.gateway.list(&self.session, *folder).await.map_err(|e| self.keep(e))?;
                Ok(list.iter().map(|t| Entry { name: t.name.clone(), meta: message_meta(t) }).collect())
            }
            Node::Message(folder, name) => {
                let t = self.message(*folder, name).await?;
                let mut out = Vec::new();
                let text = self.gateway.message_txt(&self.session, &t.id).await.map_err(|e| self.keep(e))?;
                let created = time(t.created_at);
                out.push(Entry { name: MESSAGE_TXT.into(), meta: Meta::file(text.len() as u64, created, now, None) });
                let docs = self.gateway.documents(&self.session, &t.id).await.map_err(|e| self.keep(e))?;
                for d in docs.into_iter().filter(|d| d.state == "complete") {
                    let meta = document_meta(&d, &t);
                    out.push(Entry { name: d.name, meta });
                }
                if *folder != Folder::Outbox
                    && !out.iter().any(|e| e.name == REPORT_PDF)
                    && let Ok(pdf) = self.report(&t).await
                {
                    out.push(Entry { name: REPORT_PDF.into(), meta: Meta::file(pdf.len() as u64, now, now, None) });
                }
                Ok(out)
            }
            Node::Entry(..) => Err(FsError::Forbidden),
        }
    }

    async fn meta(&self, node: &Node) -> FsResult<Meta> {
        match node {
            Node::Root | Node::Folder(_) => Ok(Meta::dir(self.started, self.started)),
            Node::Message(folder, name) => Ok(message_meta(&self.message(*folder, name).await?)),
            Node::Entry(folder, message, name) => Ok(self.entry(*folder, message, name).await?.0),
        }
    }

    async fn open_write(&self, node: &Node, options: &OpenOptions) -> FsResult<Box<dyn DavFile>> {
        let Node::Entry(folder, message, name) = node else { return Err(FsError::Forbidden) };
        if *folder != Folder::Outbox {
            return Err(self.read_only());
        }
        let t = self.message(*folder, message).await?;
        let now = SystemTime::now();
        if name == MESSAGE_TXT {
            self.seen.forget();
            return Ok(Box::new(MessageFile {
                gateway: self.gateway.clone(),
                session: self.session.clone(),
                transfer_id: t.id,
                text: Vec::new(),
                expected: options.size,
                refusal: self.refusal.clone(),
                seen: self.seen.clone(),
                meta: Meta::file(0, now, now, None),
            }));
        }
        if options.create_new && self.meta(node).await.is_ok() {
            return Err(FsError::Exists);
        }
        self.seen.forget();
        let upload = self
            .gateway
            .begin_upload(&self.session, &t.id, name, UploadMode::Replace)
            .await
            .map_err(|e| self.keep(e))?;
        Ok(Box::new(UploadFile {
            upload: Some(upload),
            written: 0,
            expected: options.size,
            refusal: self.refusal.clone(),
            seen: self.seen.clone(),
            meta: Meta::file(0, now, now, None),
        }))
    }

    async fn open_read(&self, node: &Node) -> FsResult<Box<dyn DavFile>> {
        let Node::Entry(folder, message, name) = node else { return Err(FsError::Forbidden) };
        let (meta, found) = self.entry(*folder, message, name).await?;
        match found {
            Found::Envelope(data) | Found::Report(data) => Ok(Box::new(MemFile { data, pos: 0, meta })),
            Found::Document => Ok(Box::new(ReadFile {
                gateway: self.gateway.clone(),
                session: self.session.clone(),
                transfer_id: self.message(*folder, message).await?.id,
                name: name.clone(),
                meta,
                pos: 0,
                reader: None,
                pending: Bytes::new(),
                refusal: self.refusal.clone(),
            })),
        }
    }

    /// Copy a document into a draft, through the core (read, then a new upload).
    async fn copy_document(&self, from: &Node, to: &Node) -> FsResult<()> {
        let (Node::Entry(ff, fm, fname), Node::Entry(Folder::Outbox, tm, tname)) = (from, to) else {
            return Err(self.refusal.refuse(
                StatusCode::FORBIDDEN,
                "only documents can be copied, and only into a draft in /outbox; messages hold no folders",
            ));
        };
        if fname == MESSAGE_TXT || tname == MESSAGE_TXT {
            return Err(self.refusal.refuse(StatusCode::FORBIDDEN, "message.txt belongs to its message"));
        }
        let source = self.message(*ff, fm).await?;
        let target = self.message(Folder::Outbox, tm).await?;
        let mut reader =
            self.gateway.read_document(&self.session, &source.id, fname, None).await.map_err(|e| self.keep(e))?;
        let mut upload = self
            .gateway
            .begin_upload(&self.session, &target.id, tname, UploadMode::Replace)
            .await
            .map_err(|e| self.keep(e))?;
        loop {
            match reader.next_chunk().await {
                Ok(Some(piece)) => {
                    if let Err(e) = upload.write(&piece).await {
                        let _ = upload.abandon().await;
                        return Err(self.keep(e));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = upload.abandon().await;
                    return Err(self.keep(e));
                }
            }
        }
        upload.finish().await.map_err(|e| self.keep(e))?;
        self.gateway
            .copy_dead_properties(&self.session, &source.id, fname, &target.id, tname)
            .await
            .map_err(|e| self.keep(e))
    }

    /// Run a change to the tree, then forget what this request saw of it.
    fn changing<'a, T: Send + 'a>(&'a self, work: impl Future<Output = FsResult<T>> + Send + 'a) -> FsFuture<'a, T> {
        async move {
            let result = work.await;
            self.seen.forget();
            result
        }
        .boxed()
    }

    /// The dead properties of a node (none for a fixed folder), read from
    /// the core once per request.
    async fn props(&self, node: &Node) -> FsResult<Vec<DeadProperty>> {
        let Some((folder, message, at)) = node.property_node() else { return Ok(Vec::new()) };
        if let Some(hit) = self.seen.props(node) {
            return Ok(hit);
        }
        let t = self.message(folder, message).await?;
        let props = self.gateway.dead_properties(&self.session, &t.id, &at).await.map_err(|e| self.keep(e))?;
        self.seen.answers().props.push((node.clone(), props.clone()));
        Ok(props)
    }
}

impl DavFileSystem for Tree {
    fn open<'a>(&'a self, path: &'a DavPath, options: OpenOptions) -> FsFuture<'a, Box<dyn DavFile>> {
        async move {
            let node = parse(path)?;
            if options.write || options.append || options.truncate || options.create {
                self.open_write(&node, &options).await
            } else {
                self.open_read(&node).await
            }
        }
        .boxed()
    }

    fn read_dir<'a>(&'a self, path: &'a DavPath, _meta: ReadDirMeta) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        async move {
            let entries = self.entries(&parse(path)?).await?;
            let items: Vec<FsResult<Box<dyn DavDirEntry>>> =
                entries.into_iter().map(|e| Ok(Box::new(e) as Box<dyn DavDirEntry>)).collect();
            Ok(Box::pin(futures_util::stream::iter(items)) as FsStream<Box<dyn DavDirEntry>>)
        }
        .boxed()
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        async move {
            let meta = self.meta(&parse(path)?).await?;
            Ok(Box::new(meta) as Box<dyn DavMetaData>)
        }
        .boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.changing(async move {
            match parse(path)? {
                Node::Message(Folder::Outbox, name) => {
                    self.gateway.create_draft(&self.session, &name).await.map(|_| ()).map_err(|e| self.keep(e))
                }
                Node::Entry(Folder::Outbox, message, name) => {
                    let t = self.message(Folder::Outbox, &message).await?;
                    self.gateway.create_subfolder(&self.session, &t.id, &name).map_err(|e| self.keep(e))
                }
                Node::Root | Node::Folder(_) => Err(FsError::Exists),
                _ => Err(self.read_only()),
            }
        })
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.changing(async move {
            match parse(path)? {
                Node::Message(Folder::Outbox, name) => {
                    let t = self.message(Folder::Outbox, &name).await?;
                    self.gateway.discard_draft(&self.session, &t.id).await.map_err(|e| self.keep(e))
                }
                _ => Err(self.read_only()),
            }
        })
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.changing(async move {
            match parse(path)? {
                // message.txt always exists: deleting it empties the envelope
                // (and lets a client delete a whole draft file by file).
                Node::Entry(Folder::Outbox, message, name) if name == MESSAGE_TXT => {
                    let t = self.message(Folder::Outbox, &message).await?;
                    self.gateway.write_message_txt(&self.session, &t.id, "").await.map_err(|e| self.keep(e))
                }
                Node::Entry(Folder::Outbox, message, name) => {
                    let t = self.message(Folder::Outbox, &message).await?;
                    self.gateway.remove_document(&self.session, &t.id, &name).await.map_err(|e| self.keep(e))
                }
                _ => Err(self.read_only()),
            }
        })
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        self.changing(async move {
            let (source, target) = (parse(from)?, parse(to)?);
            match (&source, &target) {
                (Node::Message(Folder::Outbox, name), Node::Message(Folder::Sent, _)) => {
                    let t = self.message(Folder::Outbox, name).await?;
                    self.gateway.send(&self.session, &t.id).await.map(|_| ()).map_err(|e| self.keep(e))?;
                }
                (Node::Message(Folder::Outbox, name), Node::Message(Folder::Outbox, new_name)) => {
                    let t = self.message(Folder::Outbox, name).await?;
                    self.gateway.rename_draft(&self.session, &t.id, new_name).await.map_err(|e| self.keep(e))?;
                }
                (Node::Entry(Folder::Outbox, message, name), Node::Entry(Folder::Outbox, ..)) => {
                    self.copy_document(&source, &target).await?;
                    let t = self.message(Folder::Outbox, message).await?;
                    self.gateway.remove_document(&self.session, &t.id, name).await.map_err(|e| self.keep(e))?;
                }
                (Node::Message(Folder::Outbox, _), _) => {
                    return Err(self.refusal.refuse(
                        StatusCode::FORBIDDEN,
                        "a draft can be renamed within /outbox, or moved into /sent to send it",
                    ));
                }
                _ => return Err(self.read_only()),
            }
            Ok(())
        })
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        self.changing(async move { self.copy_document(&parse(from)?, &parse(to)?).await })
    }

    /// Without asking the core: only whether the path is a node that can carry any.
    fn have_props<'a>(&'a self, path: &'a DavPath) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        let can = parse(path).is_ok_and(|node| node.property_node().is_some());
        Box::pin(std::future::ready(can))
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
    ) -> FsFuture<'a, Vec<(StatusCode, DavProp)>> {
        self.changing(async move {
            let node = parse(path)?;
            let Some((folder, message, at)) = node.property_node() else {
                return Ok(patch.into_iter().map(|(_, p)| (StatusCode::FORBIDDEN, props::named(p))).collect());
            };
            let t = self.message(folder, message).await?;
            let names: Vec<DavProp> = patch.iter().map(|(_, p)| props::named(p.clone())).collect();
            let changes = patch.into_iter().map(props::change).collect();
            let outcomes = self
                .gateway
                .patch_dead_properties(&self.session, &t.id, &at, changes)
                .await
                .map_err(|e| self.keep(e))?;
            Ok(outcomes.into_iter().map(props::status_of).zip(names).collect())
        })
    }

    fn get_props<'a>(&'a self, path: &'a DavPath, do_content: bool) -> FsFuture<'a, Vec<DavProp>> {
        async move {
            let found = self.props(&parse(path)?).await?;
            Ok(found.iter().map(|p| props::dav_prop(p, do_content)).collect())
        }
        .boxed()
    }

    fn get_prop<'a>(&'a self, path: &'a DavPath, prop: DavProp) -> FsFuture<'a, Vec<u8>> {
        async move {
            let found = self.props(&parse(path)?).await?;
            found.into_iter().find(|p| props::is(p, &prop)).map(|p| p.value).ok_or(FsError::NotFound)
        }
        .boxed()
    }

    fn get_quota(&self) -> FsFuture<'_, (u64, Option<u64>)> {
        async move {
            let used = self.gateway.outbox_bytes(&self.session).await.map_err(|e| self.keep(e))?;
            let room = self.gateway.settings().rules.max_message_bytes;
            Ok((used, Some(used.saturating_add(room))))
        }
        .boxed()
    }
}
