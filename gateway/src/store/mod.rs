//! The encrypted document store: every document is sealed under its own
//! random key into a chunked, authenticated blob that can be written as a
//! resumable upload and read back at any range.
//!
//! An upload is staged ([`Store::stage`]), written in any number of pieces,
//! possibly suspended and resumed after a disconnect or a crash, and finally
//! committed, which makes it readable through [`Store::open`]. Plaintext never
//! reaches the disk: the bytes of a chunk that is not yet complete stay in
//! memory and are resent by the client after a suspend.
//!
//! The store keeps no index. The caller records each document's id, wrapped
//! key and committed size, and uses [`Store::listing`] then [`Store::sweep`]
//! to clean up what no record refers to. There is one writer per id at a
//! time: a second [`Store::stage`] of an upload in progress is refused.

mod chunk;
mod id;
mod local;
mod object;
#[cfg(test)]
mod object_tests;
mod reader;
mod staging;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use tokio::task::JoinError;

pub use chunk::{CHUNK_LEN, DocumentKey};
pub use id::{BlobId, InvalidBlobId};
pub use reader::BlobReader;
pub use staging::{Checkpoint, Committed, INLINE_MAX, StagedWriter};

use chunk::{ChunkCipher, HEADER_LEN};
use local::{BlobFile, DiskStaging, LocalBackend};
pub use object::ObjectStoreConfig;
use object::{ObjectBackend, ObjectStaging};

/// Why a store operation failed. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("blob not found")]
    NotFound,
    /// The stored bytes were altered, truncated or reordered, or the key is
    /// not the one the blob was sealed with: AES-GCM cannot tell these apart.
    #[error("blob is corrupt: {0}")]
    Corrupt(String),
    #[error("store i/o failed: {0}")]
    Io(#[from] io::Error),
    /// The crypto library refused an operation (key setup, randomness or
    /// sealing), as opposed to data failing authentication.
    #[error("cryptographic operation failed")]
    Crypto,
    #[error("range {start}..{end} is not within a document of {size} bytes")]
    InvalidRange { start: u64, end: u64, size: u64 },
    /// An earlier call on this writer failed or was cancelled part way, so
    /// what reached the file is unknown; staging the id again finds out.
    #[error("staged upload was interrupted; stage it again to resume")]
    Interrupted,
    /// Another writer holds this upload.
    #[error("the upload is being written by another writer")]
    Busy,
}

impl From<StoreError> for io::Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Io(err) => err,
            StoreError::NotFound => io::Error::new(io::ErrorKind::NotFound, err),
            StoreError::Corrupt(_) => io::Error::new(io::ErrorKind::InvalidData, err),
            StoreError::InvalidRange { .. } => io::Error::new(io::ErrorKind::InvalidInput, err),
            StoreError::Busy => io::Error::new(io::ErrorKind::ResourceBusy, err),
            StoreError::Crypto | StoreError::Interrupted => io::Error::other(err),
        }
    }
}

/// The room left in a store ([`Store::space`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes free for an unprivileged writer.
    pub free: u64,
    /// Whether a file could be written just now.
    pub writable: bool,
}

/// Handle to a document store; cheap to clone and share between tasks.
/// The blobs and staging files present at one moment ([`Store::listing`]).
#[derive(Debug, Default)]
pub struct Listing {
    committed: Vec<BlobId>,
    staging: Vec<OsString>,
}

impl Listing {
    /// How many blobs and staged uploads were listed.
    pub fn len(&self) -> usize {
        self.committed.len() + self.staging.len()
    }

    /// Whether the store held nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    backend: Arc<Backend>,
}

impl Store {
    /// Opens (creating if needed) a store kept in the directory `root`.
    /// This blocks on the filesystem briefly; it is meant for startup.
    /// Uploads stop with [`io::ErrorKind::StorageFull`] where they would
    /// leave less than `reserve` bytes free (0: no reserve).
    pub fn open_local(root: &Path, reserve: u64) -> Result<Self, StoreError> {
        let backend = Backend::Local(LocalBackend::open(root, reserve)?);
        Ok(Self { backend: Arc::new(backend) })
    }

    /// A store in an S3-compatible object store, shared by every node. Made
    /// on the runtime that will use it; nothing is requested yet.
    pub fn open_object(config: &ObjectStoreConfig) -> Result<Self, StoreError> {
        let backend = Backend::Object(ObjectBackend::open(config)?);
        Ok(Self { backend: Arc::new(backend) })
    }

    /// Begins the upload of `id`, or resumes it if a staging file exists;
    /// [`StagedWriter::offset`] says where the client must continue.
    pub async fn stage(&self, id: &BlobId, key: &DocumentKey) -> Result<StagedWriter, StoreError> {
        self.resume(id, key, None).await
    }

    /// [`Store::stage`] from the checkpoint its last suspend gave
    /// ([`StagedWriter::suspend_at_checkpoint`]): only what the staging file
    /// holds past it is read back. Without one, or one the file does not
    /// hold, everything staged is.
    pub async fn resume(
        &self,
        id: &BlobId,
        key: &DocumentKey,
        checkpoint: Option<Checkpoint>,
    ) -> Result<StagedWriter, StoreError> {
        let cipher = ChunkCipher::new(key, id)?;
        StagedWriter::begin(Arc::clone(&self.backend), id.clone(), cipher, checkpoint).await
    }

    /// Begins the upload of an `id` never staged before (a new document):
    /// like [`Store::stage`] without looking for anything to resume, and
    /// without touching the disk until a batch is sealed.
    pub fn stage_new(&self, id: &BlobId, key: &DocumentKey) -> Result<StagedWriter, StoreError> {
        let cipher = ChunkCipher::new(key, id)?;
        Ok(StagedWriter::fresh(Arc::clone(&self.backend), id.clone(), cipher))
    }

    /// Opens `range` of the committed document `id`, whose plaintext is
    /// `size` bytes long as recorded at commit, from its file, or from
    /// `inline`: the sealed bytes the caller kept for a small document
    /// ([`Committed::inline`]). Only the chunks covering the range are read.
    pub async fn open(
        &self,
        id: &BlobId,
        key: &DocumentKey,
        size: u64,
        range: Range<u64>,
        inline: Option<Vec<u8>>,
    ) -> Result<BlobReader, StoreError> {
        if range.start > range.end || range.end > size {
            return Err(StoreError::InvalidRange { start: range.start, end: range.end, size });
        }
        let expected = chunk::sealed_len(size)
            .ok_or_else(|| StoreError::Corrupt(format!("recorded size {size} is impossible")))?;
        let cipher = Arc::new(ChunkCipher::new(key, id)?);
        // The length and the header, read where reading may block.
        let (file, len, header) = match inline {
            Some(sealed) => {
                let file = BlobFile::Memory(sealed.into());
                let (len, header) = length_and_header(&file)?;
                (file, len, header)
            }
            None => {
                let (backend, id) = (Arc::clone(&self.backend), id.clone());
                blocking(move || {
                    let file = backend.open_blob(&id).map_err(not_found)?;
                    let (len, header) = length_and_header(&file)?;
                    Ok((file, len, header))
                })
                .await?
            }
        };
        if len != expected {
            return Err(StoreError::Corrupt(format!(
                "blob is {len} bytes but a {size}-byte document seals to {expected}"
            )));
        }
        cipher.check_header(&header)?;
        Ok(BlobReader::new(file, cipher, size, range))
    }

    /// The store's free space, and whether a file can be written there now
    /// (a full filesystem, or one that went read-only, cannot).
    pub async fn space(&self) -> Result<Space, StoreError> {
        let backend = Arc::clone(&self.backend);
        blocking(move || {
            let free = backend.free_space()?;
            Ok(Space { free, writable: backend.probe_write().is_ok() })
        })
        .await
    }

    /// The plaintext bytes in whole chunks that the staging file of `id`
    /// holds: where an upload cut off (a dropped connection, a killed
    /// process) resumes, as long as they reached the disk. Read from the
    /// file's length alone, without taking it from a writer.
    pub async fn staged_len(&self, id: &BlobId) -> Result<u64, StoreError> {
        let (backend, id) = (Arc::clone(&self.backend), id.clone());
        let len = blocking(move || Ok(backend.staging_len(&id)?)).await?;
        let records = len.saturating_sub(chunk::HEADER_LEN as u64) / chunk::RECORD_LEN as u64;
        Ok(records * chunk::CHUNK_LEN as u64)
    }

    /// Deletes the committed blob `id`; deleting a missing blob succeeds.
    pub async fn delete(&self, id: &BlobId) -> Result<(), StoreError> {
        let (backend, id) = (Arc::clone(&self.backend), id.clone());
        blocking(move || Ok(backend.delete_blob(&id)?)).await
    }

    /// Throws away the staged upload of `id`, if any.
    pub async fn discard_staged(&self, id: &BlobId) -> Result<(), StoreError> {
        let (backend, id) = (Arc::clone(&self.backend), id.clone());
        blocking(move || Ok(backend.remove_staging(&id)?)).await
    }

    /// What is in the store now, for a sweep. List before reading the
    /// records: every file is made after its record, so a listed file whose
    /// record a later read does not find is an orphan, whereas a file made
    /// after the read (an upload begun in between) is never listed.
    pub async fn listing(&self) -> Result<Listing, StoreError> {
        let backend = Arc::clone(&self.backend);
        blocking(move || Ok(Listing { committed: backend.committed_ids()?, staging: backend.staging_names()? })).await
    }

    /// Removes every listed blob and staging file whose id `keep` rejects,
    /// and anything listed in the staging area that is not named like a blob
    /// id (nothing the store writes is). Files made after the listing are
    /// left alone. Returns how many blobs and staging files were removed.
    pub async fn sweep(
        &self,
        listing: Listing,
        keep: &(dyn Fn(&BlobId) -> bool + Sync),
    ) -> Result<(usize, usize), StoreError> {
        let blobs: Vec<BlobId> = listing.committed.into_iter().filter(|id| !keep(id)).collect();
        let staging: Vec<OsString> = listing
            .staging
            .into_iter()
            .filter(|name| {
                let id = name.to_str().and_then(|name| BlobId::parse(name).ok());
                !id.is_some_and(|id| keep(&id))
            })
            .collect();
        let removed = (blobs.len(), staging.len());
        let backend = Arc::clone(&self.backend);
        blocking(move || {
            for id in &blobs {
                backend.delete_blob(id)?;
            }
            for name in &staging {
                tracing::info!(?name, "removing orphaned staging file");
                backend.remove_staging_name(name)?;
            }
            Ok(())
        })
        .await?;
        Ok(removed)
    }

    /// Ids of all committed blobs, in no particular order.
    pub async fn committed_ids(&self) -> Result<Vec<BlobId>, StoreError> {
        let backend = Arc::clone(&self.backend);
        blocking(move || Ok(backend.committed_ids()?)).await
    }
}

/// Where blob bytes live: a folder of this machine's, or an S3-compatible
/// object store that every node shares. Every method blocks.
#[derive(Debug)]
enum Backend {
    Local(LocalBackend),
    Object(ObjectBackend),
}

impl Backend {
    /// Bytes free for uploads; an object store has no such bound.
    fn free_space(&self) -> io::Result<u64> {
        match self {
            Backend::Local(local) => local.free_space(),
            Backend::Object(_) => Ok(u64::MAX),
        }
    }

    fn ensure_room(&self, len: usize) -> io::Result<()> {
        match self {
            Backend::Local(local) => local.ensure_room(len),
            Backend::Object(_) => Ok(()),
        }
    }

    fn probe_write(&self) -> io::Result<()> {
        match self {
            Backend::Local(local) => local.probe_write(),
            Backend::Object(object) => object.probe_write(),
        }
    }

    fn open_staging(&self, id: &BlobId) -> io::Result<StagingFile> {
        match self {
            Self::Local(local) => local.open_staging(id).map(StagingFile::Disk),
            Self::Object(object) => object.open_staging(id).map(|staging| StagingFile::Object(Arc::new(staging))),
        }
    }

    /// Makes a fully written staging the committed blob of `id`.
    fn move_to_committed(&self, file: &StagingFile, id: &BlobId) -> io::Result<()> {
        match (self, file) {
            (Self::Local(local), _) => local.move_to_committed(id),
            (Self::Object(object), StagingFile::Object(staging)) => object.move_to_committed(staging),
            (Self::Object(_), StagingFile::Disk(_)) => Err(io::Error::other("a staging file outside the object store")),
        }
    }

    fn sync_committed_folder(&self, id: &BlobId) -> io::Result<()> {
        match self {
            Self::Local(local) => local.sync_committed_folder(id),
            // A completed upload is durable when the service says so.
            Self::Object(_) => Ok(()),
        }
    }

    fn keep_staging(&self, file: &StagingFile) -> io::Result<()> {
        match (self, file) {
            (Self::Local(local), StagingFile::Disk(disk)) => local.keep_staging(disk),
            (_, StagingFile::Object(staging)) => staging.keep(),
            (Self::Object(_), StagingFile::Disk(_)) => Err(io::Error::other("a staging file outside the object store")),
        }
    }

    fn open_blob(&self, id: &BlobId) -> io::Result<BlobFile> {
        match self {
            Self::Local(local) => local.open_blob(id),
            Self::Object(object) => object.open_blob(id).map(|blob| BlobFile::Object(Arc::new(blob))),
        }
    }

    fn delete_blob(&self, id: &BlobId) -> io::Result<()> {
        match self {
            Self::Local(local) => local.delete_blob(id),
            Self::Object(object) => object.delete_blob(id),
        }
    }

    fn remove_staging(&self, id: &BlobId) -> io::Result<()> {
        match self {
            Self::Local(local) => local.remove_staging(id),
            Self::Object(object) => object.remove_staging(id),
        }
    }

    fn staging_len(&self, id: &BlobId) -> io::Result<u64> {
        match self {
            Self::Local(local) => local.staging_len(id),
            Self::Object(object) => object.staging_len(id),
        }
    }

    fn staging_names(&self) -> io::Result<Vec<OsString>> {
        match self {
            Self::Local(local) => local.staging_names(),
            Self::Object(object) => object.staging_names(),
        }
    }

    fn remove_staging_name(&self, name: &OsString) -> io::Result<()> {
        match self {
            Self::Local(local) => local.remove_staging_name(name),
            Self::Object(object) => object.remove_staging_name(name),
        }
    }

    fn committed_ids(&self) -> io::Result<Vec<BlobId>> {
        match self {
            Self::Local(local) => local.committed_ids(),
            Self::Object(object) => object.committed_ids(),
        }
    }
}

/// An upload's staging, held by its one writer: a locked file, or a claimed
/// manifest in the object store.
#[derive(Clone, Debug)]
enum StagingFile {
    Disk(DiskStaging),
    Object(Arc<ObjectStaging>),
}

impl StagingFile {
    fn len(&self) -> io::Result<u64> {
        match self {
            Self::Disk(disk) => disk.len(),
            Self::Object(staging) => Ok(staging.len()),
        }
    }

    /// A checkpoint the staging holds by itself, before which its records
    /// cannot be read back (those sent to the object store as parts).
    fn sent_checkpoint(&self) -> Option<Checkpoint> {
        match self {
            Self::Disk(_) => None,
            Self::Object(staging) => staging.sent_checkpoint(),
        }
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match self {
            Self::Disk(disk) => disk.read_exact_at(buf, offset),
            Self::Object(staging) => staging.read_exact_at(buf, offset),
        }
    }

    /// Appends sealed bytes; `before`, when they are records, is where the
    /// plaintext hash stood before them.
    fn append(&self, bytes: &[u8], before: Option<&Checkpoint>) -> io::Result<()> {
        match self {
            Self::Disk(disk) => disk.append(bytes),
            Self::Object(staging) => staging.append(bytes, before),
        }
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        match self {
            Self::Disk(disk) => disk.truncate(len),
            Self::Object(staging) => staging.truncate(len),
        }
    }

    /// Flushes what was appended; the object store's parts are durable once
    /// sent, and its tail is kept at a suspend.
    fn sync_data(&self) -> io::Result<()> {
        match self {
            Self::Disk(disk) => disk.sync_data(),
            Self::Object(_) => Ok(()),
        }
    }

    fn sync_all(&self) -> io::Result<()> {
        match self {
            Self::Disk(disk) => disk.sync_all(),
            Self::Object(_) => Ok(()),
        }
    }
}

/// A blob's length and its header (empty when it is too short for one).
fn length_and_header(file: &BlobFile) -> io::Result<(u64, Vec<u8>)> {
    let len = file.len()?;
    let header = if len >= HEADER_LEN as u64 { file.read_at(0, HEADER_LEN)? } else { Vec::new() };
    Ok((len, header))
}

/// Runs blocking store work on tokio's blocking pool.
async fn blocking<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    joined(tokio::task::spawn_blocking(work).await)?
}

/// Unwraps a blocking task's outcome. A panic in the task is a bug and is
/// passed on as a panic; cancellation only happens at runtime shutdown.
fn joined<T>(outcome: Result<T, JoinError>) -> Result<T, StoreError> {
    outcome.map_err(|err| {
        if err.is_panic() {
            std::panic::resume_unwind(err.into_panic());
        }
        StoreError::Io(io::Error::other("store task was cancelled"))
    })
}

fn not_found(err: io::Error) -> StoreError {
    if err.kind() == io::ErrorKind::NotFound { StoreError::NotFound } else { StoreError::Io(err) }
}
