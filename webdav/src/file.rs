//! What dav-server opens: metadata of the tree's nodes, documents read through
//! the core (any range), uploads staged by the core and committed only when
//! the whole body arrived, and small in-memory files (`message.txt`,
//! `report.pdf`).

use std::io::SeekFrom;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes};
use dav_server::fs::{DavFile, DavMetaData, FsError, FsFuture, FsResult};
use futures_util::FutureExt;
use gateway::download::DocumentReader;
use gateway::tree::EnvelopeWriter;
use gateway::upload::{DocumentInfo, Upload};
use gateway::{Timestamp, TransferSummary};

use crate::error::Refusal;
use crate::tree::Seen;

/// A node's metadata.
#[derive(Debug, Clone)]
pub struct Meta {
    pub len: u64,
    pub modified: SystemTime,
    pub created: SystemTime,
    pub dir: bool,
    pub etag: Option<String>,
}

pub fn time(t: Timestamp) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(t.as_millis()).unwrap_or(0))
}

impl From<&gateway::tree::Meta> for Meta {
    fn from(m: &gateway::tree::Meta) -> Meta {
        Meta { len: m.size, modified: time(m.modified), created: time(m.created), dir: m.dir, etag: m.etag.clone() }
    }
}

impl Meta {
    /// A file about to be written, dated as `self`.
    pub fn into_new_file(self) -> Meta {
        Meta { len: 0, dir: false, etag: None, ..self }
    }
}

impl DavMetaData for Meta {
    fn len(&self) -> u64 {
        self.len
    }
    fn modified(&self) -> FsResult<SystemTime> {
        Ok(self.modified)
    }
    fn created(&self) -> FsResult<SystemTime> {
        Ok(self.created)
    }
    fn is_dir(&self) -> bool {
        self.dir
    }
    fn etag(&self) -> Option<String> {
        match &self.etag {
            Some(tag) => Some(tag.clone()),
            None => {
                let t = self.modified.duration_since(UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
                Some(format!("{:x}-{t:x}", self.len))
            }
        }
    }
}

/// Bytes held in memory: `message.txt` and `report.pdf` when read.
#[derive(Debug)]
pub struct MemFile {
    pub data: Bytes,
    pub pos: usize,
    pub meta: Meta,
}

impl DavFile for MemFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = self.meta.clone();
        async move { Ok(Box::new(meta) as Box<dyn DavMetaData>) }.boxed()
    }
    fn write_buf(&mut self, _buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn write_bytes(&mut self, _buf: Bytes) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn read_bytes(&mut self, count: usize) -> FsFuture<'_, Bytes> {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(count).min(self.data.len());
        self.pos = end;
        let piece = self.data.slice(start..end);
        async move { Ok(piece) }.boxed()
    }
    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        let len = self.data.len() as i64;
        let target = match pos {
            SeekFrom::Start(n) => i64::try_from(n).unwrap_or(i64::MAX),
            SeekFrom::End(n) => len.saturating_add(n),
            SeekFrom::Current(n) => (self.pos as i64).saturating_add(n),
        };
        let result = match usize::try_from(target) {
            Ok(t) => {
                self.pos = t;
                Ok(t as u64)
            }
            Err(_) => Err(FsError::GeneralFailure),
        };
        async move { result }.boxed()
    }
    fn flush(&mut self) -> FsFuture<'_, ()> {
        async { Ok(()) }.boxed()
    }
}

/// A document read through the core. dav-server seeks once to the start of
/// a range and then reads in order; the core opens the range from there.
pub struct ReadFile {
    pub tree: gateway::tree::Tree,
    pub message: TransferSummary,
    pub document: DocumentInfo,
    pub meta: Meta,
    pub pos: u64,
    pub reader: Option<DocumentReader>,
    pub pending: Bytes,
    pub refusal: Refusal,
}

impl std::fmt::Debug for ReadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadFile").field("name", &self.document.name).field("pos", &self.pos).finish()
    }
}

impl DavFile for ReadFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = self.meta.clone();
        async move { Ok(Box::new(meta) as Box<dyn DavMetaData>) }.boxed()
    }
    fn write_buf(&mut self, _buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn write_bytes(&mut self, _buf: Bytes) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn read_bytes(&mut self, count: usize) -> FsFuture<'_, Bytes> {
        async move {
            if self.pending.is_empty() {
                if self.reader.is_none() {
                    if self.pos >= self.meta.len {
                        return Ok(Bytes::new());
                    }
                    let range = Some(self.pos..self.meta.len);
                    let opened = self.tree.read(&self.message, &self.document, range).await;
                    self.reader = Some(opened.map_err(|e| self.refusal.keep(e))?);
                }
                let next = match self.reader.as_mut() {
                    Some(reader) => reader.next_chunk().await.map_err(|e| self.refusal.keep(e))?,
                    None => None,
                };
                match next {
                    Some(piece) => self.pending = Bytes::from(piece),
                    None => return Ok(Bytes::new()),
                }
            }
            let n = count.min(self.pending.len());
            self.pos += n as u64;
            Ok(self.pending.split_to(n))
        }
        .boxed()
    }
    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(n) => self.meta.len.checked_add_signed(n),
            SeekFrom::Current(n) => self.pos.checked_add_signed(n),
        };
        let result = match target {
            Some(t) if t <= self.meta.len => {
                if t != self.pos {
                    self.reader = None;
                    self.pending = Bytes::new();
                    self.pos = t;
                }
                Ok(t)
            }
            _ => Err(FsError::GeneralFailure),
        };
        async move { result }.boxed()
    }
    fn flush(&mut self) -> FsFuture<'_, ()> {
        async { Ok(()) }.boxed()
    }
}

/// A PUT of a document: the core stages every byte and the document exists
/// (or replaces the old one) only when `flush` sees the whole body. Dropped
/// before that (a short or aborted body), the upload is abandoned and an
/// existing document stays as it was.
pub struct UploadFile {
    pub upload: Option<Upload>,
    pub written: u64,
    pub expected: Option<u64>,
    pub refusal: Refusal,
    pub seen: Seen,
    pub meta: Meta,
}

impl std::fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadFile").field("written", &self.written).finish()
    }
}

impl UploadFile {
    async fn write(&mut self, data: &[u8]) -> FsResult<()> {
        let upload = self.upload.as_mut().ok_or(FsError::GeneralFailure)?;
        if let Err(e) = upload.write(data).await {
            return Err(self.refusal.keep(e));
        }
        self.written += data.len() as u64;
        Ok(())
    }
}

impl DavFile for UploadFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = self.meta.clone();
        async move { Ok(Box::new(meta) as Box<dyn DavMetaData>) }.boxed()
    }
    fn write_buf(&mut self, mut buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async move {
            // Each piece as it lies in the body's buffer, without a copy.
            while buf.has_remaining() {
                let n = buf.chunk().len();
                self.write(buf.chunk()).await?;
                buf.advance(n);
            }
            Ok(())
        }
        .boxed()
    }
    fn write_bytes(&mut self, buf: Bytes) -> FsFuture<'_, ()> {
        async move { self.write(&buf).await }.boxed()
    }
    fn read_bytes(&mut self, _count: usize) -> FsFuture<'_, Bytes> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn seek(&mut self, _pos: SeekFrom) -> FsFuture<'_, u64> {
        async { Err(FsError::NotImplemented) }.boxed()
    }
    fn flush(&mut self) -> FsFuture<'_, ()> {
        async move {
            // dav-server flushes before it checks for a short body: commit
            // only what is complete, or leave it to be abandoned on drop.
            if self.expected.is_some_and(|n| n != self.written) {
                return Ok(());
            }
            let Some(upload) = self.upload.take() else { return Ok(()) };
            self.seen.forget();
            match upload.finish().await {
                Ok(info) => {
                    self.meta.len = info.size;
                    self.meta.etag = info.sha256.as_deref().map(|s| s.chars().take(32).collect());
                    Ok(())
                }
                Err(e) => Err(self.refusal.keep(e)),
            }
        }
        .boxed()
    }
}

impl Drop for UploadFile {
    fn drop(&mut self) {
        if let Some(upload) = self.upload.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(async move {
                if let Err(e) = upload.abandon().await {
                    tracing::warn!(error = %e, "could not abandon an interrupted upload");
                }
            });
        }
    }
}

/// A PUT of `message.txt`: collected by the core's writer (which bounds it)
/// and handed to the core whole.
pub struct MessageFile {
    pub text: Option<EnvelopeWriter>,
    pub expected: Option<u64>,
    pub refusal: Refusal,
    pub seen: Seen,
    pub meta: Meta,
}

impl std::fmt::Debug for MessageFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageFile").field("len", &self.text.as_ref().map(EnvelopeWriter::len)).finish()
    }
}

impl MessageFile {
    fn add(&mut self, data: &[u8]) -> FsResult<()> {
        let text = self.text.as_mut().ok_or(FsError::GeneralFailure)?;
        text.write(data).map_err(|e| self.refusal.keep(e))
    }
}

impl DavFile for MessageFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = self.meta.clone();
        async move { Ok(Box::new(meta) as Box<dyn DavMetaData>) }.boxed()
    }
    fn write_buf(&mut self, mut buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        let piece = buf.copy_to_bytes(buf.remaining());
        let r = self.add(&piece);
        async move { r }.boxed()
    }
    fn write_bytes(&mut self, buf: Bytes) -> FsFuture<'_, ()> {
        let r = self.add(&buf);
        async move { r }.boxed()
    }
    fn read_bytes(&mut self, _count: usize) -> FsFuture<'_, Bytes> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn seek(&mut self, _pos: SeekFrom) -> FsFuture<'_, u64> {
        async { Err(FsError::NotImplemented) }.boxed()
    }
    fn flush(&mut self) -> FsFuture<'_, ()> {
        async move {
            let written = self.text.as_ref().map_or(0, EnvelopeWriter::len);
            if self.expected.is_some_and(|n| n != written) {
                return Ok(());
            }
            let Some(text) = self.text.take() else { return Ok(()) };
            self.meta.len = written;
            self.seen.forget();
            text.finish().await.map_err(|e| self.refusal.keep(e))
        }
        .boxed()
    }
}
