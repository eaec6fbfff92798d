//! The SFTP requests on paths, translated into the core's tree
//! ([`gateway::tree::Tree`]): a path is parsed into a place once, each
//! request is one call of the tree, and its answer becomes SFTP attributes
//! or a status. Nothing here decides what exists or who may do what.

use std::sync::Arc;

use gateway::Timestamp;
use gateway::tree::{EnvelopeWriter, Meta, Node, Overwrite, Place, TreePath, Writer};
use gateway::upload::{DocumentInfo, Upload, UploadMode};
use gateway::{Gateway, Session, TransferSummary};
use russh_sftp::protocol::{FileAttributes, OpenFlags};

use crate::status::Refusal;

pub(crate) type OpResult<T> = Result<T, Refusal>;

/// One signed-in user's view of the tree.
pub(crate) struct Tree {
    tree: gateway::tree::Tree,
}

/// One entry of a listing.
pub(crate) struct Entry {
    pub name: String,
    pub attrs: FileAttributes,
}

/// What an open handle reads or writes.
pub(crate) enum Opened {
    /// A file made when read (`message.txt`, `report.pdf`), held whole.
    Bytes(Arc<Vec<u8>>),
    /// A document, read through the core in order.
    Document(DocumentRead),
    /// A file being uploaded.
    Upload(Upload),
    /// `message.txt` being written; given to the core on close.
    Envelope(EnvelopeWriter),
    /// A listing.
    Dir(Vec<Entry>),
}

/// A document being read: the core's reader, kept while the client reads on.
pub(crate) struct DocumentRead {
    message: TransferSummary,
    document: DocumentInfo,
    reader: Option<(gateway::download::DocumentReader, u64)>,
    pending: bytes::Bytes,
}

impl DocumentRead {
    /// The document's size.
    pub fn size(&self) -> u64 {
        self.document.size
    }
}

fn time_of(t: Timestamp) -> u32 {
    u32::try_from(t.as_millis().max(0) / 1000).unwrap_or(u32::MAX)
}

/// The attributes of what the core describes.
pub(crate) fn attrs_of(meta: &Meta) -> FileAttributes {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(match (meta.dir, meta.writable) {
        (true, true) => 0o40755,
        (true, false) => 0o40555,
        (false, true) => 0o100644,
        (false, false) => 0o100444,
    });
    attrs.size = Some(meta.size);
    attrs.mtime = Some(time_of(meta.modified));
    attrs.atime = attrs.mtime;
    attrs
}

/// The attributes of an open file: what it holds so far.
pub(crate) fn open_file_attrs(writable: bool, size: u64) -> FileAttributes {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(if writable { 0o100644 } else { 0o100444 });
    attrs.size = Some(size);
    attrs
}

fn place(path: &str) -> OpResult<Place> {
    TreePath::parse(path).place().ok_or_else(Refusal::no_such_file)
}

impl Tree {
    pub fn new(gateway: &Gateway, session: &Session) -> Tree {
        Tree { tree: gateway::tree::Tree::new(gateway, session) }
    }

    /// Attributes of a path (STAT, LSTAT: there are no links).
    pub async fn stat(&self, path: &str) -> OpResult<FileAttributes> {
        let node = self.tree.node(&place(path)?).await?;
        Ok(attrs_of(&self.tree.meta(&node)))
    }

    /// The entries of a folder (OPENDIR).
    pub async fn list(&self, path: &str) -> OpResult<Vec<Entry>> {
        let entries = self.tree.list(&place(path)?).await?;
        Ok(entries.into_iter().map(|e| Entry { attrs: attrs_of(&e.meta), name: e.name }).collect())
    }

    /// Open a file for reading or writing (OPEN): with TRUNC a file is
    /// written anew, with EXCL only a new one, otherwise an unfinished
    /// upload resumes where it stopped (`reput`, WinSCP's resume).
    pub async fn open(&self, path: &str, flags: OpenFlags) -> OpResult<Opened> {
        let place = place(path)?;
        if flags.intersects(OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE) {
            let mode = if flags.contains(OpenFlags::TRUNCATE) {
                UploadMode::Replace
            } else if flags.contains(OpenFlags::EXCLUDE) {
                UploadMode::New
            } else {
                UploadMode::Resume
            };
            return Ok(match self.tree.write(&place, mode).await? {
                Writer::File(upload) => Opened::Upload(*upload),
                Writer::Envelope(text) => Opened::Envelope(text),
            });
        }
        match self.tree.node(&place).await? {
            Node::Envelope(_, bytes) | Node::Report(_, bytes) => Ok(Opened::Bytes(bytes)),
            Node::File(message, document) => {
                Ok(Opened::Document(DocumentRead { message, document, reader: None, pending: bytes::Bytes::new() }))
            }
            Node::Root | Node::Folder(_) | Node::Message(_) | Node::Subfolder(..) => {
                Err(Refusal::failure("this is a folder"))
            }
        }
    }

    /// Read from an open document at `offset`: the core's reader is kept while
    /// the client reads on in order, and opened again where it jumps. A read
    /// from the start by the recipient is a download, recorded by the core.
    pub async fn read_document(&self, doc: &mut DocumentRead, offset: u64, len: u32) -> OpResult<Option<Vec<u8>>> {
        let size = doc.size();
        if offset >= size && !(offset == 0 && doc.reader.is_none()) {
            return Ok(None);
        }
        let at = doc.reader.as_ref().map(|(_, pos)| *pos);
        if at != Some(offset) {
            let reader = self.tree.read(&doc.message, &doc.document, Some(offset..size)).await?;
            doc.reader = Some((reader, offset));
            doc.pending = bytes::Bytes::new();
        }
        let want = usize::try_from(u64::from(len).min(size - offset.min(size))).unwrap_or(0);
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

    /// Close a handle: an upload is completed, `message.txt` handed to the core.
    pub async fn close(&self, opened: Opened) -> OpResult<()> {
        match opened {
            Opened::Upload(upload) => {
                upload.finish().await?;
                Ok(())
            }
            Opened::Envelope(text) => Ok(text.finish().await?),
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
        Ok(self.tree.mkdir(&place(path)?).await?)
    }

    /// RMDIR: removing a draft's folder withdraws the draft.
    pub async fn rmdir(&self, path: &str) -> OpResult<()> {
        Ok(self.tree.rmdir(&place(path)?).await?)
    }

    /// REMOVE: a file leaves its draft.
    pub async fn remove(&self, path: &str) -> OpResult<()> {
        Ok(self.tree.remove(&place(path)?).await?)
    }

    /// RENAME (a name taken is refused, as SFTP version 3 says) and
    /// `posix-rename@openssh.com` (a name taken is replaced).
    pub async fn rename(&self, from: &str, to: &str, overwrite: Overwrite) -> OpResult<()> {
        Ok(self.tree.rename(&place(from)?, &place(to)?, overwrite).await?)
    }

    /// SETSTAT: attributes belong to the server; accepted and ignored for a
    /// place that exists, so that clients which set times do not fail.
    pub async fn setstat(&self, path: &str) -> OpResult<()> {
        self.tree.node(&place(path)?).await.map(|_| ()).map_err(Refusal::from)
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
