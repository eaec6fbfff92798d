//! The local filesystem backend: where staging files and committed blobs
//! live under the store root, and the durable moves between them.
//!
//! ```text
//! root/staging/<id>       uploads in progress, appended to in place
//! root/blobs/<a>/<id>     committed blobs, in 32 shards by the id's first character
//! ```
//!
//! Every function here blocks; the store calls them on the blocking pool.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::BlobId;

/// How long opening a staging file waits for its lock (see
/// [`LocalBackend::open_staging`]).
pub(super) const LOCK_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(super) struct LocalBackend {
    blobs: PathBuf,
    staging: PathBuf,
    /// Bytes an upload leaves free on the filesystem, for the database.
    reserve: u64,
}

impl LocalBackend {
    pub(super) fn open(root: &Path, reserve: u64) -> io::Result<Self> {
        let blobs = root.join("blobs");
        let staging = root.join("staging");
        fs::create_dir_all(&blobs)?;
        fs::create_dir_all(&staging)?;
        // Every shard is made once, here, so that no commit has to make a
        // directory (on ext4 that costs more than the commit itself).
        let mut changed = false;
        for shard in SHARDS.chars() {
            match fs::create_dir(blobs.join(String::from(shard))) {
                Ok(()) => changed = true,
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
        changed |= move_two_character_shards(&blobs)?;
        if changed {
            sync_dir(&blobs)?;
        }
        Ok(Self { blobs, staging, reserve })
    }

    /// Bytes free on the store's filesystem for an unprivileged writer.
    pub(super) fn free_space(&self) -> io::Result<u64> {
        let stat = rustix::fs::statvfs(&self.staging)?;
        Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
    }

    /// Whether `len` more bytes leave the reserve free; `StorageFull` if not.
    pub(super) fn ensure_room(&self, len: usize) -> io::Result<()> {
        if self.reserve == 0 {
            return Ok(());
        }
        let free = self.free_space()?;
        if free < self.reserve.saturating_add(len as u64) {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "the store keeps its free-space reserve"));
        }
        Ok(())
    }

    /// Whether a file can be written in the store's folder now.
    pub(super) fn probe_write(&self) -> io::Result<()> {
        let probe = self.staging.with_file_name(".write-probe");
        let written = fs::write(&probe, b"1");
        let _ = fs::remove_file(&probe);
        written
    }

    fn shard_dir(&self, id: &BlobId) -> PathBuf {
        // Ids are ASCII by construction, so the one-byte prefix is a char boundary.
        self.blobs.join(&id.as_str()[..1])
    }

    fn blob_path(&self, id: &BlobId) -> PathBuf {
        self.shard_dir(id).join(id.as_str())
    }

    fn staging_path(&self, id: &BlobId) -> PathBuf {
        self.staging.join(id.as_str())
    }

    /// Opens the staging file for `id`, creating it if needed, and takes its
    /// lock: one writer per upload. A writer that was just dropped may hold
    /// it a moment longer, until its last append is done, so this waits up
    /// to [`LOCK_WAIT`] before it gives up with [`io::ErrorKind::ResourceBusy`].
    ///
    /// The writer that held the lock may have committed meanwhile (the file
    /// is now a blob under another name) or given the upload up (the name is
    /// gone): a lock taken on a file no longer under the staging name is let
    /// go and the name opened again, so no writer ever appends to a
    /// committed blob.
    pub(super) fn open_staging(&self, id: &BlobId) -> io::Result<DiskStaging> {
        let path = self.staging_path(id);
        // O_APPEND: every record lands at the end, even after a truncation.
        let mut options = OpenOptions::new();
        options.read(true).append(true);
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            // A new file's directory entry is made durable only when the
            // upload is suspended (`keep_staging`), or under its committed
            // name at commit: a crash before either loses nothing the client
            // was told is stored.
            let file = match options.open(&path) {
                Err(err) if err.kind() == io::ErrorKind::NotFound => options.create(true).open(&path)?,
                other => other?,
            };
            loop {
                match file.try_lock() {
                    Ok(()) if still_named(&file, &path)? => return Ok(DiskStaging(Arc::new(file))),
                    Ok(()) => break,
                    Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                        thread::sleep(Duration::from_millis(5))
                    }
                    Err(TryLockError::WouldBlock) => return Err(io::ErrorKind::ResourceBusy.into()),
                    Err(TryLockError::Error(err)) => return Err(err),
                }
            }
        }
    }

    /// Moves a fully written staging file into the committed tree. Ids are
    /// fresh per upload, so the target never exists already (but after a
    /// crash before the document was recorded, when it is replaced).
    ///
    /// The caller then makes the blob's bytes and length durable
    /// ([`StagingFile::sync_data`]) and its new name
    /// ([`Self::sync_committed_folder`]), side by side: two flushes the disk
    /// serves together. Until the caller records the document complete,
    /// nothing reads this blob, so a crash before both finish leaves a blob
    /// of an unfinished upload, which a resume starts over and the sweep
    /// removes with its row.
    pub(super) fn move_to_committed(&self, id: &BlobId) -> io::Result<()> {
        // The new name is what must survive. Should a crash bring the old
        // staging name back as well, it belongs to a complete document, is
        // never resumed from, and the sweep takes it with the document.
        fs::rename(self.staging_path(id), self.blob_path(id))
    }

    /// Makes the name that [`Self::move_to_committed`] gave `id` durable.
    pub(super) fn sync_committed_folder(&self, id: &BlobId) -> io::Result<()> {
        sync_dir(&self.shard_dir(id))
    }

    /// Makes a staging file's bytes and its name durable: a suspended upload
    /// promises its offset survives a crash.
    pub(super) fn keep_staging(&self, file: &DiskStaging) -> io::Result<()> {
        file.sync_data()?;
        sync_dir(&self.staging)
    }

    pub(super) fn open_blob(&self, id: &BlobId) -> io::Result<BlobFile> {
        File::open(self.blob_path(id)).map(|file| BlobFile::Disk(Arc::new(Mutex::new(file))))
    }

    pub(super) fn delete_blob(&self, id: &BlobId) -> io::Result<()> {
        remove_if_present(&self.blob_path(id))
    }

    /// The length of the staging file of `id`, 0 when there is none.
    pub(super) fn staging_len(&self, id: &BlobId) -> io::Result<u64> {
        match fs::metadata(self.staging_path(id)) {
            Ok(meta) => Ok(meta.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    pub(super) fn remove_staging(&self, id: &BlobId) -> io::Result<()> {
        remove_if_present(&self.staging_path(id))
    }

    /// Names of everything in the staging directory, ids or not.
    pub(super) fn staging_names(&self) -> io::Result<Vec<OsString>> {
        fs::read_dir(&self.staging)?.map(|entry| entry.map(|entry| entry.file_name())).collect()
    }

    pub(super) fn remove_staging_name(&self, name: &OsString) -> io::Result<()> {
        remove_if_present(&self.staging.join(name))
    }

    /// Ids of all committed blobs. Entries that are not ids filed under
    /// their own shard were not written by the store and are skipped.
    pub(super) fn committed_ids(&self) -> io::Result<Vec<BlobId>> {
        let mut ids = Vec::new();
        for shard in fs::read_dir(&self.blobs)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            let shard_name = shard.file_name();
            for entry in fs::read_dir(shard.path())? {
                let name = entry?.file_name();
                let id = name.to_str().and_then(|name| BlobId::parse(name).ok());
                match id {
                    Some(id) if shard_name.to_str() == id.as_str().get(..1) => {
                        ids.push(id);
                    }
                    _ => tracing::warn!(?name, "ignoring unexpected file among committed blobs"),
                }
            }
        }
        Ok(ids)
    }
}

/// The shard names: the id alphabet. Documents are kept days, not years, so
/// 32 folders keep every folder small.
const SHARDS: &str = "abcdefghijklmnopqrstuvwxyz234567";

/// Blobs of a store written with two-character shards (`blobs/<ab>/<id>`)
/// move to their one-character shard; the emptied folders go. Returns whether
/// anything moved.
fn move_two_character_shards(blobs: &Path) -> io::Result<bool> {
    let mut moved = false;
    for shard in fs::read_dir(blobs)? {
        let shard = shard?;
        let name = shard.file_name();
        let old = name.to_str().filter(|n| n.len() == 2 && n.chars().all(|c| SHARDS.contains(c)));
        let (Some(old), true) = (old, shard.file_type()?.is_dir()) else { continue };
        for entry in fs::read_dir(shard.path())? {
            let entry = entry?;
            let id = entry.file_name().to_str().and_then(|n| BlobId::parse(n).ok());
            if let Some(id) = id.filter(|id| id.as_str().starts_with(old)) {
                let target = blobs.join(&id.as_str()[..1]);
                fs::rename(entry.path(), target.join(id.as_str()))?;
                sync_dir(&target)?;
                moved = true;
            }
        }
        // Only an emptied folder goes; anything else in it stays, untouched.
        if fs::remove_dir(shard.path()).is_ok() {
            moved = true;
        }
    }
    Ok(moved)
}

/// A staging file open for appending, with its lock held. Clones share one
/// descriptor so a background flush can run while the writer keeps
/// appending; the lock goes with the last of them.
#[derive(Clone, Debug)]
pub(super) struct DiskStaging(Arc<File>);

impl DiskStaging {
    pub(super) fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }

    pub(super) fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.0.read_exact_at(buf, offset)
    }

    pub(super) fn append(&self, bytes: &[u8]) -> io::Result<()> {
        (&*self.0).write_all(bytes)
    }

    pub(super) fn truncate(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    pub(super) fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    pub(super) fn sync_all(&self) -> io::Result<()> {
        self.0.sync_all()
    }
}

/// A committed blob open for reading at offsets, shareable between
/// concurrent read-ahead tasks: a file, or the bytes of a small blob kept in
/// its document's row.
#[derive(Clone, Debug)]
pub(super) enum BlobFile {
    Disk(Arc<Mutex<File>>),
    Memory(Arc<[u8]>),
    Object(Arc<super::object::ObjectBlob>),
}

impl BlobFile {
    pub(super) fn len(&self) -> io::Result<u64> {
        match self {
            Self::Disk(file) => Ok(lock(file).metadata()?.len()),
            Self::Memory(bytes) => Ok(bytes.len() as u64),
            Self::Object(blob) => Ok(blob.len()),
        }
    }

    /// Reads exactly `len` bytes at `offset` into a new buffer.
    ///
    /// Seeking and reading through `Read` rather than a positional read lets
    /// std fill the buffer's spare capacity directly, without zeroing it
    /// first; the lock keeps the seek and the read together.
    pub(super) fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let file = match self {
            Self::Disk(file) => file,
            Self::Object(blob) => return blob.read_at(offset, len),
            Self::Memory(bytes) => {
                let start = usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::UnexpectedEof))?;
                let piece = start.checked_add(len).and_then(|end| bytes.get(start..end));
                return piece.map(<[u8]>::to_vec).ok_or_else(|| io::ErrorKind::UnexpectedEof.into());
            }
        };
        let mut file = lock(file);
        file.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(len);
        (&mut *file).take(len as u64).read_to_end(&mut buf)?;
        if buf.len() < len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(buf)
    }
}

fn lock(file: &Mutex<File>) -> MutexGuard<'_, File> {
    // The guarded section does only file I/O, so a panic that poisons the
    // lock cannot leave it in a half-updated state worth rejecting; the next
    // read seeks afresh anyway.
    file.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `file` is still the file named `path`.
fn still_named(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt as _;
    let held = file.metadata()?;
    match fs::metadata(path) {
        Ok(named) => Ok(named.dev() == held.dev() && named.ino() == held.ino()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}
