//! WebDAV's methods on paths as calls of the core's tree
//! ([`gateway::tree::Tree`]), behind dav-server's `DavFileSystem`: a path is
//! parsed into a place once, each method is one call of the tree, and the
//! core's error becomes a status with the core's words as the body. What
//! exists, who sees it and what each change means is the core's to say.
//!
//! dav-server asks about one path several times per method (a GET: its
//! metadata, then open; a PROPFIND: a node's dead properties once per
//! property asked for), so the core's answers of one request are kept in
//! [`Seen`] for that request only.
//!
//! Dead properties are the core's too (`gateway::properties`): a message's
//! folder, its `message.txt` and its files carry them; the fixed folders
//! (`/`, `/outbox`, `/sent`, `/inbox`) carry none and refuse each with a 403.

use std::sync::{Arc, Mutex, PoisonError};

use axum::http::StatusCode;
use bytes::Bytes;
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, DavProp, FsError, FsFuture, FsResult, FsStream, OpenOptions,
    ReadDirMeta,
};
use futures_util::FutureExt;
use gateway::properties::{DeadProperty, PropertyNode};
use gateway::tree::{MESSAGE_TXT, Node, Overwrite, Place, TreePath, Writer};
use gateway::upload::UploadMode;
use gateway::{Folder, Gateway, TransferSummary};

use crate::error::Refusal;
use crate::file::{MemFile, MessageFile, Meta, ReadFile, UploadFile};
use crate::props;

/// The caller's tree for one request.
#[derive(Clone)]
pub struct Tree {
    pub gateway: Gateway,
    pub tree: gateway::tree::Tree,
    pub refusal: Refusal,
    pub seen: Seen,
    /// The destination of a MOVE or COPY: dav-server deletes a file there
    /// before it renames or copies onto it, which would lose it if the core
    /// then refused. The core replaces it as it renames or copies instead,
    /// or leaves it as it was.
    pub replacing: Option<Place>,
}

/// What the core answered earlier in this request: the places looked up and
/// the dead properties read. It belongs to one request's tree and is emptied
/// by every change that tree makes, so no answer outlives the request or a
/// change: the next request asks the core again, which checks every rule (a
/// disabled account, a draft sent meanwhile) afresh.
#[derive(Debug, Clone, Default)]
pub struct Seen(Arc<Mutex<Answers>>);

#[derive(Debug, Default)]
struct Answers {
    nodes: Vec<(Place, Node)>,
    props: Vec<(Place, Vec<DeadProperty>)>,
}

impl Seen {
    fn answers(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forget everything: the tree has just changed.
    pub fn forget(&self) {
        let mut answers = self.answers();
        answers.nodes.clear();
        answers.props.clear();
    }
}

/// Parse a decoded path. Anything that is not a place of the tree is `NotFound`.
pub fn parse(path: &DavPath) -> FsResult<Place> {
    let text = std::str::from_utf8(path.as_bytes()).map_err(|_| FsError::NotFound)?;
    TreePath::parse(text).place().ok_or(FsError::NotFound)
}

/// The message and the node in it that dead properties are kept on; `None`
/// for the root and the fixed folders.
fn property_node(place: &Place) -> Option<(Folder, &str, PropertyNode)> {
    match place {
        Place::Root | Place::Folder(_) => None,
        Place::Message(folder, message) => Some((*folder, message, PropertyNode::Folder)),
        Place::File(folder, message, name) if name == MESSAGE_TXT => Some((*folder, message, PropertyNode::Envelope)),
        Place::File(folder, message, name) => Some((*folder, message, PropertyNode::Document(name.clone()))),
    }
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

impl Tree {
    fn keep(&self, e: gateway::Error) -> FsError {
        self.refusal.keep(e)
    }

    /// What a place is, asked of the core once per request.
    async fn node(&self, place: &Place) -> FsResult<Node> {
        if let Some((_, node)) = self.seen.answers().nodes.iter().find(|(p, _)| p == place) {
            return Ok(node.clone());
        }
        let node = self.tree.node(place).await.map_err(|e| self.keep(e))?;
        self.seen.answers().nodes.push((place.clone(), node.clone()));
        Ok(node)
    }

    /// The message a place of a message's folder belongs to.
    async fn message(&self, folder: Folder, name: &str) -> FsResult<TransferSummary> {
        match self.node(&Place::Message(folder, name.to_owned())).await? {
            Node::Message(t) => Ok(t),
            _ => Err(FsError::NotFound),
        }
    }

    async fn open_write(&self, place: &Place, options: &OpenOptions) -> FsResult<Box<dyn DavFile>> {
        if options.create_new && self.node(place).await.is_ok() {
            return Err(FsError::Exists);
        }
        self.seen.forget();
        let meta = Meta::from(&self.tree.meta(&Node::Root)).into_new_file();
        let writer = self.tree.write(place, UploadMode::Replace).await.map_err(|e| self.keep(e))?;
        Ok(match writer {
            Writer::File(upload) => Box::new(UploadFile {
                upload: Some(*upload),
                written: 0,
                expected: options.size,
                refusal: self.refusal.clone(),
                seen: self.seen.clone(),
                meta,
            }),
            Writer::Envelope(text) => Box::new(MessageFile {
                text: Some(text),
                expected: options.size,
                refusal: self.refusal.clone(),
                seen: self.seen.clone(),
                meta,
            }),
        })
    }

    async fn open_read(&self, place: &Place) -> FsResult<Box<dyn DavFile>> {
        let node = self.node(place).await?;
        let meta = Meta::from(&self.tree.meta(&node));
        match node {
            Node::Envelope(_, data) | Node::Report(_, data) => {
                Ok(Box::new(MemFile { data: Bytes::from(data.as_ref().clone()), pos: 0, meta }))
            }
            Node::File(message, document) => {
                // Refused now, while the answer can still say so: the bytes
                // are read after dav-server has sent its status.
                self.tree.may_read(&message, &document).await.map_err(|e| self.keep(e))?;
                Ok(Box::new(ReadFile {
                    tree: self.tree.clone(),
                    message,
                    document,
                    meta,
                    pos: 0,
                    reader: None,
                    pending: Bytes::new(),
                    refusal: self.refusal.clone(),
                }))
            }
            Node::Root | Node::Folder(_) | Node::Message(_) | Node::Subfolder(..) => Err(FsError::Forbidden),
        }
    }

    /// Run a change to the tree, then forget what this request saw of it.
    fn changing<'a, T: Send + 'a>(
        &'a self,
        work: impl Future<Output = gateway::Result<T>> + Send + 'a,
    ) -> FsFuture<'a, T> {
        async move {
            let result = work.await;
            self.seen.forget();
            result.map_err(|e| self.keep(e))
        }
        .boxed()
    }

    /// The dead properties of a node (none for a fixed folder), read from
    /// the core once per request.
    async fn props(&self, place: &Place) -> FsResult<Vec<DeadProperty>> {
        let Some((folder, message, at)) = property_node(place) else { return Ok(Vec::new()) };
        if let Some((_, props)) = self.seen.answers().props.iter().find(|(p, _)| p == place) {
            return Ok(props.clone());
        }
        let t = self.message(folder, message).await?;
        let props = self.gateway.dead_properties(self.tree.session(), &t.id, &at).await.map_err(|e| self.keep(e))?;
        self.seen.answers().props.push((place.clone(), props.clone()));
        Ok(props)
    }
}

impl DavFileSystem for Tree {
    fn open<'a>(&'a self, path: &'a DavPath, options: OpenOptions) -> FsFuture<'a, Box<dyn DavFile>> {
        async move {
            let place = parse(path)?;
            if options.write || options.append || options.truncate || options.create {
                self.open_write(&place, &options).await
            } else {
                self.open_read(&place).await
            }
        }
        .boxed()
    }

    fn read_dir<'a>(&'a self, path: &'a DavPath, _meta: ReadDirMeta) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        async move {
            let entries = self.tree.list(&parse(path)?).await.map_err(|e| self.keep(e))?;
            let items: Vec<FsResult<Box<dyn DavDirEntry>>> = entries
                .into_iter()
                .map(|e| Ok(Box::new(Entry { meta: Meta::from(&e.meta), name: e.name }) as Box<dyn DavDirEntry>))
                .collect();
            Ok(Box::pin(futures_util::stream::iter(items)) as FsStream<Box<dyn DavDirEntry>>)
        }
        .boxed()
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        async move {
            let node = self.node(&parse(path)?).await?;
            Ok(Box::new(Meta::from(&self.tree.meta(&node))) as Box<dyn DavMetaData>)
        }
        .boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let place = parse(path)?;
            match place {
                // MKCOL of what exists is 405 (RFC 4918 9.3.1), which dav-server makes of `Exists`.
                Place::Root | Place::Folder(_) => Err(FsError::Exists),
                place if self.node(&place).await.is_ok() => Err(FsError::Exists),
                place => self.changing(self.tree.mkdir(&place)).await,
            }
        }
        .boxed()
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let place = parse(path)?;
            self.changing(self.tree.rmdir(&place)).await
        }
        .boxed()
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let place = parse(path)?;
            if self.replacing.as_ref() == Some(&place) {
                // Replaced by the rename that follows, or left as it is.
                return Ok(());
            }
            self.changing(self.tree.remove(&place)).await
        }
        .boxed()
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (from, to) = (parse(from)?, parse(to)?);
            // dav-server answered `Overwrite: F` onto a taken name with 412 already.
            self.changing(self.tree.rename(&from, &to, Overwrite::Yes)).await
        }
        .boxed()
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (from, to) = (parse(from)?, parse(to)?);
            self.changing(self.tree.copy(&from, &to, Overwrite::Yes)).await
        }
        .boxed()
    }

    /// Without asking the core: only whether the path is a node that can carry any.
    fn have_props<'a>(&'a self, path: &'a DavPath) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        let can = parse(path).is_ok_and(|place| property_node(&place).is_some());
        Box::pin(std::future::ready(can))
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
    ) -> FsFuture<'a, Vec<(StatusCode, DavProp)>> {
        async move {
            let place = parse(path)?;
            let Some((folder, message, at)) = property_node(&place) else {
                return Ok(patch.into_iter().map(|(_, p)| (StatusCode::FORBIDDEN, props::named(p))).collect());
            };
            let t = self.message(folder, message).await?;
            let names: Vec<DavProp> = patch.iter().map(|(_, p)| props::named(p.clone())).collect();
            let changes = patch.into_iter().map(props::change).collect();
            let session = self.tree.session();
            let outcomes = self.changing(self.gateway.patch_dead_properties(session, &t.id, &at, changes)).await?;
            Ok(outcomes.into_iter().map(props::status_of).zip(names).collect())
        }
        .boxed()
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
            let used = self.gateway.outbox_bytes(self.tree.session()).await.map_err(|e| self.keep(e))?;
            let room = self.gateway.settings().rules.max_message_bytes;
            Ok((used, Some(used.saturating_add(room))))
        }
        .boxed()
    }
}
