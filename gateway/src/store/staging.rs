//! Staged uploads: sealing plaintext into a staging file as it arrives,
//! suspending and resuming after a disconnect or a crash, and committing the
//! finished blob into the committed tree.
//!
//! A staging file is always a header followed by whole records of full,
//! non-final chunks (plus, after a crash, possibly a torn record at the end).
//! The final chunk is only sealed at commit, so a staging file can never be
//! mistaken for a complete blob.

use std::fmt;
use std::io;
use std::mem;
use std::sync::Arc;

use sha2::digest::common::hazmat::{SerializableState, SerializedState};
use sha2::{Digest, Sha256};
use tokio::task::{JoinHandle, spawn_blocking};

use super::chunk::{CHUNK_LEN, ChunkCipher, HEADER_LEN, RECORD_LEN, TAG_LEN, record_offset};
use super::{Backend, BlobId, StagingFile, StoreError, blocking, joined};

/// Chunks hashed and sealed per blocking task: large enough that handing
/// work to the blocking pool costs little, small enough to keep memory flat.
const BATCH_CHUNKS: usize = 16;
const BATCH_LEN: usize = BATCH_CHUNKS * CHUNK_LEN;

/// Flushing as the upload goes keeps the disk busy while chunks are being
/// sealed, instead of leaving the whole document to the fsync at commit.
/// A background flush starts once this much has been appended since the
/// last one started...
const FLUSH_AFTER: u64 = 8 << 20;
/// ...and once this much is waiting behind a flush that is still running,
/// the writer waits for it, so a slow disk slows the upload down instead of
/// filling memory with dirty pages.
const FLUSH_BACKLOG: u64 = 128 << 20;

/// Documents of at most this many bytes are committed as a sealed blob in
/// memory ([`Committed::inline`]), for the caller to keep in its record: one
/// chunk, so a document that needs a second one is a file.
pub const INLINE_MAX: u64 = CHUNK_LEN as u64 - 1;

/// What a commit produced, to be recorded by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// Plaintext length; pass it to [`Store::open`](super::Store::open).
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// For a document of at most [`INLINE_MAX`] bytes, its sealed blob
    /// (header and final chunk, the same bytes a blob file would hold): the
    /// store keeps no file of it, the caller stores these bytes with its
    /// record and passes them to [`Store::open`](super::Store::open).
    /// Durable when that record is.
    pub inline: Option<Vec<u8>>,
}

/// An upload in progress. Plaintext is sealed in batches of whole chunks;
/// an incomplete chunk stays in memory and never reaches the disk.
///
/// Dropping the writer without [`suspend`](Self::suspend) or
/// [`commit`](Self::commit) is safe: the staging file keeps whatever records
/// were appended and the next [`Store::stage`](super::Store::stage) resumes
/// from the last one that is intact.
pub struct StagedWriter {
    backend: Arc<Backend>,
    id: BlobId,
    cipher: Arc<ChunkCipher>,
    /// The staging file, once there is one: a new upload makes it only when
    /// its first batch is sealed or it is suspended, so a small document
    /// never has one.
    file: Option<StagingFile>,
    /// Running hash of the plaintext of all sealed chunks. Each step takes
    /// it and puts it back only on success, so after a failed or cancelled
    /// step the writer refuses to continue from an unknown file state.
    hasher: Option<Sha256>,
    /// The hash of the last batch, still being computed while the next batch
    /// arrives; it hands back the hasher and the batch's buffer.
    hashing: Option<JoinHandle<(Sha256, Arc<Vec<u8>>)>>,
    /// The sealing and append of the last batch, likewise still running
    /// while the next batch arrives; it hands back the records buffer. The
    /// next step awaits it first, so records reach the file in order and a
    /// failed append stops the writer before anything follows it. Should
    /// the writer be dropped meanwhile, the task still holds the staging
    /// file, and with it the file's lock: no one resumes the upload before
    /// the append is done.
    sealing: Option<JoinHandle<Result<Vec<u8>, StoreError>>>,
    /// Number of chunks sealed into the staging file.
    chunks: u64,
    /// Plaintext received but not yet sealed, less than one batch.
    pending: Vec<u8>,
    /// Buffers kept between batches so a long upload does not reallocate.
    spare: Vec<u8>,
    records: Vec<u8>,
    /// Bytes appended since the last background flush was started.
    unflushed: u64,
    flushing: Option<JoinHandle<io::Result<()>>>,
}

impl StagedWriter {
    pub(super) async fn begin(
        backend: Arc<Backend>,
        id: BlobId,
        cipher: ChunkCipher,
        checkpoint: Option<Checkpoint>,
    ) -> Result<Self, StoreError> {
        let cipher = Arc::new(cipher);
        let (file, chunks, hasher) = blocking({
            let (backend, id, cipher) = (Arc::clone(&backend), id.clone(), Arc::clone(&cipher));
            move || open_and_recover(&backend, &id, &cipher, checkpoint)
        })
        .await?;
        Ok(Self::with(backend, id, cipher, Some(file), chunks, hasher))
    }

    /// A writer for an id that has never been staged: nothing to recover,
    /// and no file until one is needed.
    pub(super) fn fresh(backend: Arc<Backend>, id: BlobId, cipher: ChunkCipher) -> Self {
        Self::with(backend, id, Arc::new(cipher), None, 0, Sha256::new())
    }

    fn with(
        backend: Arc<Backend>,
        id: BlobId,
        cipher: Arc<ChunkCipher>,
        file: Option<StagingFile>,
        chunks: u64,
        hasher: Sha256,
    ) -> Self {
        Self {
            backend,
            id,
            cipher,
            file,
            hasher: Some(hasher),
            hashing: None,
            sealing: None,
            chunks,
            pending: Vec::with_capacity(BATCH_LEN),
            spare: Vec::with_capacity(BATCH_LEN),
            records: Vec::new(),
            unflushed: 0,
            flushing: None,
        }
    }

    /// The staging file, made (with its lock) when first needed. Should
    /// another writer have made it meanwhile and sealed chunks into it,
    /// this writer is the second of one upload and is refused.
    async fn file(&mut self) -> Result<StagingFile, StoreError> {
        if let Some(file) = &self.file {
            return Ok(file.clone());
        }
        let (backend, id, cipher) = (Arc::clone(&self.backend), self.id.clone(), Arc::clone(&self.cipher));
        let (file, chunks, _) = blocking(move || open_and_recover(&backend, &id, &cipher, None)).await?;
        if chunks != 0 {
            return Err(StoreError::Busy);
        }
        Ok(self.file.insert(file).clone())
    }

    pub fn id(&self) -> &BlobId {
        &self.id
    }

    /// Plaintext bytes sealed into the staging file. Right after
    /// [`Store::stage`](super::Store::stage) this is where the client must
    /// continue; it is always a multiple of [`CHUNK_LEN`].
    pub fn offset(&self) -> u64 {
        self.chunks * CHUNK_LEN as u64
    }

    /// Appends plaintext. It is buffered until a batch of 16 chunks (1 MiB)
    /// is complete, which is then hashed, sealed and appended to the file on
    /// the blocking pool while the next batch arrives; suspend and commit
    /// seal whatever is buffered and wait for all of it.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<(), StoreError> {
        self.ensure_usable()?;
        while !data.is_empty() {
            let take = (BATCH_LEN - self.pending.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            self.pending.extend_from_slice(head);
            data = rest;
            if self.pending.len() == BATCH_LEN {
                self.seal_pending().await?;
            }
        }
        Ok(())
    }

    /// Seals every full chunk received so far, makes the staging file
    /// durable and returns the offset the client must resume from. The
    /// bytes of an incomplete chunk are dropped; the client resends them.
    pub async fn suspend(self) -> Result<u64, StoreError> {
        Ok(self.suspend_at_checkpoint().await?.0)
    }

    /// [`suspend`](Self::suspend), and the [`Checkpoint`] of what is staged:
    /// kept by the caller and handed to [`Store::resume`](super::Store::resume),
    /// the upload goes on without reading back what was staged before.
    pub async fn suspend_at_checkpoint(mut self) -> Result<(u64, Checkpoint), StoreError> {
        self.ensure_usable()?;
        self.seal_pending().await?;
        self.settle().await?;
        self.finish_flush().await?;
        let hasher = self.take_hasher().await?;
        let checkpoint = Checkpoint::of(self.chunks, &hasher);
        self.hasher = Some(hasher);
        let (file, backend) = (self.file().await?, Arc::clone(&self.backend));
        blocking(move || Ok(backend.keep_staging(&file)?)).await?;
        Ok((self.offset(), checkpoint))
    }

    /// Seals the final chunk, makes the blob durable and moves it into the
    /// committed tree, after which [`Store::open`](super::Store::open) can
    /// read it; or, for a document of at most [`INLINE_MAX`] bytes, hands the
    /// sealed blob back instead ([`Committed::inline`]).
    pub async fn commit(mut self) -> Result<Committed, StoreError> {
        self.ensure_usable()?;
        self.seal_pending().await?;
        self.settle().await?;
        self.finish_flush().await?;
        let mut hasher = self.take_hasher().await?;
        let tail = mem::take(&mut self.pending);
        let size = self.offset() + tail.len() as u64;
        let index = self.chunks;
        if index == 0 && size <= INLINE_MAX {
            // Sealed in memory. A staging file, if a resume made one, holds
            // a header and nothing else, and goes: no file is made durable
            // for this document.
            let (cipher, file, backend, id) = (self.cipher, self.file, self.backend, self.id);
            let (digest, sealed) = blocking(move || {
                hasher.update(&tail);
                let digest: [u8; 32] = hasher.finalize().into();
                let mut sealed = cipher.header().to_vec();
                sealed.resize(HEADER_LEN + tail.len() + TAG_LEN, 0);
                cipher.seal_into(0, true, &tail, &mut sealed[HEADER_LEN..])?;
                if let Some(file) = file {
                    backend.remove_staging(&id)?;
                    drop(file);
                }
                Ok((digest, sealed))
            })
            .await?;
            return Ok(Committed { size, sha256: digest, inline: Some(sealed) });
        }
        let file = self.file().await?;
        let (cipher, backend, id) = (self.cipher, self.backend, self.id);
        let digest = blocking({
            let (file, backend, id) = (file.clone(), Arc::clone(&backend), id.clone());
            move || {
                hasher.update(&tail);
                let mut record = vec![0; tail.len() + TAG_LEN];
                cipher.seal_into(index, true, &tail, &mut record)?;
                backend.ensure_room(record.len())?;
                file.append(&record, None)?;
                backend.move_to_committed(&file, &id)?;
                Ok(<[u8; 32]>::from(hasher.finalize()))
            }
        })
        .await?;
        // The bytes and the new name, side by side, each on a thread of the
        // pool (no thread is made per commit).
        let data = blocking(move || Ok(file.sync_data()?));
        let folder = blocking(move || Ok(backend.sync_committed_folder(&id)?));
        let (data, folder) = tokio::join!(data, folder);
        data.and(folder)?;
        Ok(Committed { size, sha256: digest, inline: None })
    }

    fn ensure_usable(&self) -> Result<(), StoreError> {
        if self.hasher.is_some() || self.hashing.is_some() { Ok(()) } else { Err(StoreError::Interrupted) }
    }

    /// Waits for the last batch's append. If it failed, or this wait is
    /// cancelled, the hash goes with it and the writer refuses to go on.
    async fn settle(&mut self) -> Result<(), StoreError> {
        let Some(sealing) = self.sealing.take() else { return Ok(()) };
        let hash = (self.hasher.take(), self.hashing.take());
        self.records = joined(sealing.await)??;
        (self.hasher, self.hashing) = hash;
        Ok(())
    }

    /// Seals the whole chunks in `pending`, keeping any incomplete one.
    async fn seal_pending(&mut self) -> Result<(), StoreError> {
        let whole = self.pending.len() / CHUNK_LEN * CHUNK_LEN;
        if whole == 0 {
            return Ok(());
        }
        // First, so the last batch's buffer is back to take the next one.
        self.settle().await?;
        let hasher = self.take_hasher().await?;
        let mut batch = mem::replace(&mut self.pending, mem::take(&mut self.spare));
        self.pending.extend_from_slice(&batch[whole..]);
        batch.truncate(whole);
        self.seal_batch(batch, hasher).await
    }

    /// The running hash, once the last batch is in it.
    async fn take_hasher(&mut self) -> Result<Sha256, StoreError> {
        match self.hashing.take() {
            Some(hashing) => {
                let (hasher, batch) = joined(hashing.await)?;
                self.spare = Arc::try_unwrap(batch).unwrap_or_default();
                self.spare.clear();
                Ok(hasher)
            }
            None => self.hasher.take().ok_or(StoreError::Interrupted),
        }
    }

    /// Hashes `batch` on one blocking thread while sealing and appending it
    /// on another, and returns at once: both go on while the next batch
    /// arrives, so receiving, hashing and sealing overlap.
    async fn seal_batch(&mut self, batch: Vec<u8>, mut hasher: Sha256) -> Result<(), StoreError> {
        let batch = Arc::new(batch);
        let chunks = (batch.len() / CHUNK_LEN) as u64;
        let file = self.file().await?;
        let backend = Arc::clone(&self.backend);
        // Where the hash stands before this batch: an object store's staging
        // keeps it with the records it sends as a part.
        let before = Checkpoint::of(self.chunks, &hasher);
        let hashing = spawn_blocking({
            let batch = Arc::clone(&batch);
            move || {
                hasher.update(batch.as_slice());
                (hasher, batch)
            }
        });
        self.sealing = Some(spawn_blocking({
            let cipher = Arc::clone(&self.cipher);
            let (first, mut records) = (self.chunks, mem::take(&mut self.records));
            move || -> Result<Vec<u8>, StoreError> {
                cipher.seal_full_chunks(first, &batch, &mut records)?;
                backend.ensure_room(records.len())?;
                file.append(&records, Some(&before))?;
                Ok(records)
            }
        }));
        self.hashing = Some(hashing);
        self.chunks += chunks;
        self.write_behind(chunks * RECORD_LEN as u64).await
    }

    /// Starts a background flush when enough has been appended and the
    /// previous flush is done, or waits for it when the backlog is too long.
    async fn write_behind(&mut self, appended: u64) -> Result<(), StoreError> {
        self.unflushed += appended;
        if self.unflushed < FLUSH_AFTER {
            return Ok(());
        }
        let busy = self.flushing.as_ref().is_some_and(|flush| !flush.is_finished());
        if busy && self.unflushed < FLUSH_BACKLOG {
            return Ok(());
        }
        self.finish_flush().await?;
        self.unflushed = 0;
        let file = self.file().await?;
        self.flushing = Some(spawn_blocking(move || file.sync_data()));
        Ok(())
    }

    async fn finish_flush(&mut self) -> Result<(), StoreError> {
        match self.flushing.take() {
            Some(flush) => Ok(joined(flush.await)??),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for StagedWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedWriter")
            .field("id", &self.id)
            .field("offset", &self.offset())
            .field("buffered", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// Where a suspended upload stood: how many chunks were staged and the
/// SHA-256 state of their plaintext. It says nothing of the plaintext that a
/// digest would not; the records it stands for are authenticated when read.
#[derive(Clone, PartialEq, Eq)]
pub struct Checkpoint {
    chunks: u64,
    state: Vec<u8>,
}

impl Checkpoint {
    fn of(chunks: u64, hasher: &Sha256) -> Checkpoint {
        Checkpoint { chunks, state: hasher.serialize().to_vec() }
    }

    /// As the caller keeps it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.chunks.to_le_bytes().to_vec();
        out.extend_from_slice(&self.state);
        out
    }

    /// From what the caller kept; `None` for anything else (another
    /// version's state, a damaged value): the upload is then read back.
    pub fn from_bytes(bytes: &[u8]) -> Option<Checkpoint> {
        let (chunks, state) = bytes.split_at_checked(8)?;
        let checkpoint = Checkpoint { chunks: u64::from_le_bytes(chunks.try_into().ok()?), state: state.to_vec() };
        checkpoint.hasher().map(|_| checkpoint)
    }

    fn hasher(&self) -> Option<Sha256> {
        let state = SerializedState::<Sha256>::try_from(self.state.as_slice()).ok()?;
        Sha256::deserialize(&state).ok()
    }
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint").field("chunks", &self.chunks).finish_non_exhaustive()
    }
}

/// Opens (or makes) the staging file of `id`, taking its lock, and recovers
/// it: from `checkpoint` on when one is given and the file holds it.
fn open_and_recover(
    backend: &Backend,
    id: &BlobId,
    cipher: &ChunkCipher,
    checkpoint: Option<Checkpoint>,
) -> Result<(StagingFile, u64, Sha256), StoreError> {
    let file = backend.open_staging(id).map_err(|err| match err.kind() {
        io::ErrorKind::ResourceBusy => StoreError::Busy,
        _ => err.into(),
    })?;
    let (chunks, hasher) = recover(&file, cipher, id, checkpoint)?;
    Ok((file, chunks, hasher))
}

/// Verifies a staging file, rebuilding the plaintext hash, and cuts it back
/// to the last record that authenticates. Returns the number of chunks kept
/// and their hash. From the start; or, with a checkpoint the file holds,
/// from the checkpoint on (the records before it were verified when it was
/// taken, and are authenticated again when read): a resumed upload reads
/// back only what came after its last suspend, not all it staged.
///
/// Whatever is cut (a record torn by a crash, bytes that never reached the
/// disk, a file sealed under another key) is simply resent by the client,
/// so a damaged staging file costs a retransmission, never a wrong document.
fn recover(
    file: &StagingFile,
    cipher: &ChunkCipher,
    id: &BlobId,
    checkpoint: Option<Checkpoint>,
) -> Result<(u64, Sha256), StoreError> {
    let mut hasher = Sha256::new();
    let len = file.len()?;
    // Records sent to an object store as parts are not read back: the
    // staging says where the hash stood after them, and the header went
    // with the first of them.
    let sent = file.sent_checkpoint().filter(|sent| sent.hasher().is_some());
    let mut header = [0; HEADER_LEN];
    let header_ok = sent.is_some()
        || len >= HEADER_LEN as u64
            && match file.read_exact_at(&mut header, 0) {
                Ok(()) => cipher.check_header(&header).is_ok(),
                // Parts whose hash state was lost: the upload starts over.
                Err(err) if err.kind() == io::ErrorKind::Unsupported => false,
                Err(err) => return Err(err.into()),
            };
    if !header_ok {
        if len > 0 {
            tracing::warn!(%id, len, "staging file has no valid header, starting over");
        }
        file.truncate(0)?;
        file.append(cipher.header(), None)?;
        // Not synced on its own: a header lost in a crash is written again
        // here, and suspend and commit sync the file with it.
        return Ok((0, hasher));
    }

    let complete = (len - HEADER_LEN as u64) / RECORD_LEN as u64;
    let mut chunks = 0;
    let sent_chunks = sent.as_ref().map_or(0, |sent| sent.chunks);
    let start = checkpoint.filter(|c| c.chunks <= complete && c.chunks >= sent_chunks && c.hasher().is_some()).or(sent);
    if let Some((at, state)) = start.and_then(|c| Some((c.chunks, c.hasher()?))) {
        (chunks, hasher) = (at, state);
    }
    let mut buf = vec![0; BATCH_LEN + BATCH_CHUNKS * TAG_LEN];
    'verify: while chunks < complete {
        let count = (complete - chunks).min(BATCH_CHUNKS as u64) as usize;
        let batch = &mut buf[..count * RECORD_LEN];
        file.read_exact_at(batch, record_offset(chunks))?;
        for record in batch.chunks_mut(RECORD_LEN) {
            match cipher.open_in_place(chunks, false, record) {
                Ok(plain_len) => hasher.update(&record[..plain_len]),
                Err(err) => {
                    tracing::warn!(%id, chunk = chunks, %err, "resuming before a staged chunk that does not authenticate");
                    break 'verify;
                }
            }
            chunks += 1;
        }
    }

    let keep = record_offset(chunks);
    if keep != len {
        tracing::info!(%id, dropped = len - keep, "cutting staging file back to its last intact chunk");
        file.truncate(keep)?;
        // The cut must be on disk before new records are appended after it.
        file.sync_all()?;
    }
    Ok((chunks, hasher))
}
