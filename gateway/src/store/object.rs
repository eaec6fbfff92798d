//! The S3-compatible backend: the same sealed blobs as the local one, as
//! objects, so that any number of nodes share them.
//!
//! ```text
//! prefix/blobs/<id>     committed blobs: header and records, as a file holds them
//! prefix/staging/<id>   an upload in progress: its manifest and the records not yet sent
//! ```
//!
//! An upload is a multipart upload to its blob's own name, begun once its
//! records fill a part ([`PART_LEN`]). The manifest says which multipart
//! upload, the tags of the parts sent, how many chunks they hold and where
//! the plaintext hash stood after them; it also carries the records after
//! the last part (the "tail"). Parts cannot be read back before the upload
//! completes, so a resume, on any node, continues from the manifest: the
//! parts as they are and the tail verified like a staging file's records.
//!
//! One writer per upload: opening an upload's staging claims its manifest
//! with a conditional write, and every later write of the manifest is
//! conditional on the version this writer wrote last. A writer that was
//! taken over finds out at its next manifest write and stops; the parts it
//! may have sent meanwhile cannot slip into the blob, because the completion
//! names every part by the tag its current writer was given.
//!
//! Every function here blocks: the store calls them on the blocking pool,
//! where they wait for requests that run on the store's own small runtime.
//! Its own, so that requests in flight when the service stops finish on a
//! runtime that is still there, and a command-line tool needs none.

use std::ffi::OsString;
use std::io;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::runtime::{Handle, Runtime};

use super::BlobId;
use super::staging::Checkpoint;

/// Records are sent as a part once the tail holds this many bytes: above
/// S3's least part (5 MiB), and small enough that an upload in progress
/// keeps little in memory and a crash costs little to resend.
pub(super) const PART_LEN: usize = 8 << 20;

/// Where the store is and how to reach it: `s3://bucket/prefix`, and the
/// endpoint and region of an S3-compatible service. Credentials come from
/// the standard `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and
/// `AWS_SESSION_TOKEN`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectStoreConfig {
    pub bucket: String,
    pub prefix: String,
    /// `https://…` or `http://…`; unset: AWS itself.
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

impl ObjectStoreConfig {
    /// From `s3://bucket/prefix`, the form of `KOERIER_STORE_URL`.
    pub fn from_url(url: &str, endpoint: Option<String>, region: Option<String>) -> Result<Self, String> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| format!("{url} is not s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{url} names no bucket"));
        }
        let prefix = prefix.trim_matches('/').to_owned();
        Ok(ObjectStoreConfig { bucket: bucket.to_owned(), prefix, endpoint, region })
    }
}

/// The runtime the store's requests run on; stopped without waiting when
/// the store goes (dropping a runtime may not block where it is dropped).
struct Requests {
    handle: Handle,
    runtime: Option<Runtime>,
}

impl Requests {
    fn start() -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("koerier-store")
            .enable_all()
            .build()?;
        Ok(Requests { handle: runtime.handle().clone(), runtime: Some(runtime) })
    }

    fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Requests {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[derive(Clone)]
pub(super) struct ObjectBackend {
    s3: Arc<AmazonS3>,
    prefix: Path,
    requests: Arc<Requests>,
    /// Says so in the service's error messages.
    bucket: String,
}

impl std::fmt::Debug for ObjectBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBackend").field("bucket", &self.bucket).field("prefix", &self.prefix).finish()
    }
}

impl ObjectBackend {
    /// A client for the store. Nothing is requested until it is used.
    pub(super) fn open(config: &ObjectStoreConfig) -> io::Result<Self> {
        let requests = Arc::new(Requests::start()?);
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&config.bucket);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                // An endpoint of one's own is addressed by path, as most
                // S3-compatible services expect.
                .with_virtual_hosted_style_request(false);
        }
        if let Some(region) = &config.region {
            builder = builder.with_region(region);
        }
        let s3 = builder.build().map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        Ok(ObjectBackend {
            s3: Arc::new(s3),
            prefix: Path::from(config.prefix.as_str()),
            requests,
            bucket: config.bucket.clone(),
        })
    }

    fn wait<T>(&self, request: impl Future<Output = object_store::Result<T>>) -> io::Result<T> {
        self.run(request).map_err(io_error)
    }

    /// Runs a request on the store's runtime and waits for it.
    fn run<T>(&self, request: impl Future<Output = T>) -> T {
        self.requests.handle().block_on(request)
    }

    fn blob_path(&self, id: &BlobId) -> Path {
        self.prefix.clone().join("blobs").join(id.as_str())
    }

    fn staging_path(&self, name: &str) -> Path {
        self.prefix.clone().join("staging").join(name)
    }

    /// Whether the bucket takes a write now: a small object rewritten.
    pub(super) fn probe_write(&self) -> io::Result<()> {
        let path = self.prefix.clone().join("ready");
        self.wait(self.s3.put(&path, PutPayload::from_static(b"koerier")))?;
        Ok(())
    }

    /// Opens the staging of `id` and claims it for this writer: from its
    /// manifest, or new.
    pub(super) fn open_staging(&self, id: &BlobId) -> io::Result<ObjectStaging> {
        let path = self.staging_path(id.as_str());
        let (mut manifest, mut tail, version) = match self.read_manifest(&path)? {
            Some((manifest, tail, version)) => (manifest, tail, Some(version)),
            None => (Manifest::default(), Vec::new(), None),
        };
        // A blob beside a manifest that names a multipart upload: the upload
        // was completed and the node stopped before its manifest went (and
        // before its document was recorded complete). That upload is gone;
        // this one starts over, as a staging file renamed away does, and
        // the blob goes too, so a blob beside a manifest always means this.
        if manifest.upload.is_some() && self.exists(&self.blob_path(id))? {
            tracing::info!(%id, "an upload completed in the store but not recorded; starting over");
            self.delete(&self.blob_path(id))?;
            (manifest, tail) = (Manifest::default(), Vec::new());
        }
        let staging = ObjectStaging {
            backend: self.clone(),
            id: id.clone(),
            state: Mutex::new(Staged { manifest, tail, version: None }),
        };
        staging.claim(version)?;
        Ok(staging)
    }

    fn read_manifest(&self, path: &Path) -> io::Result<Option<(Manifest, Vec<u8>, UpdateVersion)>> {
        let got = match self.run(async {
            let got = self.s3.get(path).await?;
            let version = UpdateVersion { e_tag: got.meta.e_tag.clone(), version: got.meta.version.clone() };
            Ok::<_, object_store::Error>((got.bytes().await?, version))
        }) {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(err) => return Err(io_error(err)),
        };
        let (bytes, version) = got;
        match Manifest::decode(&bytes) {
            Some((manifest, tail)) => Ok(Some((manifest, tail.to_vec(), version))),
            None => {
                // Not one of ours, or damaged: the upload starts over.
                tracing::warn!(%path, "staging manifest does not parse, starting over");
                Ok(Some((Manifest::default(), Vec::new(), version)))
            }
        }
    }

    /// The bytes the staging of `id` holds (parts and tail), 0 without one.
    pub(super) fn staging_len(&self, id: &BlobId) -> io::Result<u64> {
        let path = self.staging_path(id.as_str());
        match self.read_manifest(&path)? {
            None => Ok(0),
            // Completed but not recorded: a resume starts over (see `open_staging`).
            Some((manifest, _, _)) if manifest.upload.is_some() && self.exists(&self.blob_path(id))? => Ok(0),
            Some((manifest, tail, _)) => Ok(manifest.sent + tail.len() as u64),
        }
    }

    pub(super) fn remove_staging(&self, id: &BlobId) -> io::Result<()> {
        self.remove_staging_name(&OsString::from(id.as_str()))
    }

    /// Gives up the staging named `name`: its multipart upload, then its manifest.
    pub(super) fn remove_staging_name(&self, name: &OsString) -> io::Result<()> {
        let Some(name) = name.to_str() else { return Ok(()) };
        let path = self.staging_path(name);
        if let Some((manifest, _, _)) = self.read_manifest(&path)?
            && let Some(upload) = &manifest.upload
        {
            let blob = self.prefix.clone().join("blobs").join(name);
            match self.run(self.s3.abort_multipart(&blob, &upload.clone())) {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(io_error(err)),
            }
        }
        self.delete(&path)
    }

    pub(super) fn staging_names(&self) -> io::Result<Vec<OsString>> {
        Ok(self.list("staging")?.into_iter().map(OsString::from).collect())
    }

    pub(super) fn committed_ids(&self) -> io::Result<Vec<BlobId>> {
        let mut ids = Vec::new();
        for name in self.list("blobs")? {
            match BlobId::parse(&name) {
                Ok(id) => ids.push(id),
                Err(_) => tracing::warn!(name, "ignoring unexpected object among committed blobs"),
            }
        }
        Ok(ids)
    }

    /// The names of the objects in a folder of the store.
    fn list(&self, folder: &str) -> io::Result<Vec<String>> {
        let folder = self.prefix.clone().join(folder);
        let found: Vec<_> = self.wait(self.s3.list(Some(&folder)).try_collect())?;
        Ok(found
            .into_iter()
            .filter_map(|meta| meta.location.prefix_match(&folder)?.next().map(|part| part.as_ref().to_owned()))
            .collect())
    }

    pub(super) fn open_blob(&self, id: &BlobId) -> io::Result<ObjectBlob> {
        let path = self.blob_path(id);
        let meta = self.wait(self.s3.head(&path))?;
        Ok(ObjectBlob { backend: self.clone(), path, len: meta.size })
    }

    pub(super) fn delete_blob(&self, id: &BlobId) -> io::Result<()> {
        self.delete(&self.blob_path(id))
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        match self.run(self.s3.head(path)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(io_error(err)),
        }
    }

    fn delete(&self, path: &Path) -> io::Result<()> {
        match self.run(self.s3.delete(path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(io_error(err)),
        }
    }

    /// Completes the upload of `staging` into its blob: the tail as the last
    /// part, or as the whole blob when no part was sent; then the manifest goes.
    pub(super) fn move_to_committed(&self, staging: &ObjectStaging) -> io::Result<()> {
        let mut staged = staging.lock();
        staging.check_claim(&staged)?;
        let blob = self.blob_path(&staging.id);
        let tail = Bytes::from(std::mem::take(&mut staged.tail));
        match staged.manifest.upload.clone() {
            None => {
                self.wait(self.s3.put(&blob, tail.into()))?;
            }
            Some(upload) => {
                let last = self.wait(self.s3.put_part(&blob, &upload, staged.manifest.parts.len(), tail.into()))?;
                let mut parts: Vec<PartId> =
                    staged.manifest.parts.iter().map(|tag| PartId { content_id: tag.clone() }).collect();
                parts.push(last);
                self.wait(self.s3.complete_multipart(&blob, &upload, parts))?;
            }
        }
        staged.manifest = Manifest::default();
        self.delete(&self.staging_path(staging.id.as_str()))
    }
}

/// What the manifest object says, before the tail's bytes.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Manifest {
    /// The claim of the writer that wrote it.
    writer: String,
    /// The multipart upload, once a part was sent.
    upload: Option<String>,
    /// The tag of every part sent, in order.
    parts: Vec<String>,
    /// Bytes in those parts (the header and whole records).
    sent: u64,
    /// Chunks in those parts, and the plaintext hash after them.
    checkpoint: Option<Vec<u8>>,
}

const MAGIC: &[u8; 8] = b"KSTAGE01";

impl Manifest {
    fn encode(&self, tail: &[u8]) -> Vec<u8> {
        let head = serde_json::to_vec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(MAGIC.len() + 4 + head.len() + tail.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&u32::try_from(head.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&head);
        out.extend_from_slice(tail);
        out
    }

    fn decode(bytes: &[u8]) -> Option<(Manifest, &[u8])> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let (len, rest) = rest.split_first_chunk::<4>()?;
        let (head, tail) = rest.split_at_checked(usize::try_from(u32::from_le_bytes(*len)).ok()?)?;
        Some((serde_json::from_slice(head).ok()?, tail))
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.checkpoint.as_deref().and_then(Checkpoint::from_bytes)
    }
}

struct Staged {
    manifest: Manifest,
    /// The bytes after the parts: the header until the first part is sent,
    /// then whole records.
    tail: Vec<u8>,
    /// The version of the manifest this writer wrote last.
    version: Option<UpdateVersion>,
}

/// An upload in progress in the object store, claimed by this writer.
pub(super) struct ObjectStaging {
    backend: ObjectBackend,
    id: BlobId,
    state: Mutex<Staged>,
}

impl std::fmt::Debug for ObjectStaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStaging").field("id", &self.id).finish_non_exhaustive()
    }
}

impl ObjectStaging {
    fn lock(&self) -> MutexGuard<'_, Staged> {
        // Every section leaves the state whole or the writer refused (an
        // error on a manifest write); a panic inside changes neither.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the manifest this writer's: a new claim written over the
    /// version read (or where there was none), refused when another writer
    /// wrote in between.
    fn claim(&self, read: Option<UpdateVersion>) -> io::Result<()> {
        let mut staged = self.lock();
        staged.manifest.writer = claim_token()?;
        staged.version = read;
        let mode = match staged.version.clone() {
            Some(version) => PutMode::Update(version),
            None => PutMode::Create,
        };
        self.write_manifest(&mut staged, mode)
    }

    /// Writes the manifest, with the tail, over the version this writer
    /// wrote last: another writer's claim meanwhile refuses it.
    fn persist(&self, staged: &mut Staged) -> io::Result<()> {
        let mode = match staged.version.clone() {
            Some(version) => PutMode::Update(version),
            None => PutMode::Create,
        };
        self.write_manifest(staged, mode)
    }

    fn write_manifest(&self, staged: &mut Staged, mode: PutMode) -> io::Result<()> {
        let body = Bytes::from(staged.manifest.encode(&staged.tail));
        let path = self.backend.staging_path(self.id.as_str());
        let options = PutOptions { mode, ..PutOptions::default() };
        let put = self.backend.run(self.backend.s3.put_opts(&path, body.into(), options));
        match put {
            Ok(done) => {
                staged.version = Some(UpdateVersion { e_tag: done.e_tag, version: done.version });
                Ok(())
            }
            Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => {
                Err(io::Error::new(io::ErrorKind::ResourceBusy, "another writer took the upload over"))
            }
            Err(err) => Err(io_error(err)),
        }
    }

    /// Before a completion: the manifest still this writer's.
    fn check_claim(&self, staged: &Staged) -> io::Result<()> {
        let path = self.backend.staging_path(self.id.as_str());
        match self.backend.read_manifest(&path)? {
            Some((manifest, _, _)) if manifest.writer == staged.manifest.writer => Ok(()),
            _ => Err(io::Error::new(io::ErrorKind::ResourceBusy, "another writer took the upload over")),
        }
    }

    pub(super) fn len(&self) -> u64 {
        let staged = self.lock();
        staged.manifest.sent + staged.tail.len() as u64
    }

    /// Where the plaintext hash stood after the parts sent: records before it
    /// cannot be read back, so a resume continues from here or later.
    pub(super) fn sent_checkpoint(&self) -> Option<Checkpoint> {
        self.lock().manifest.checkpoint()
    }

    /// Reads from the tail; what was sent as parts is not readable.
    pub(super) fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let staged = self.lock();
        let start = offset
            .checked_sub(staged.manifest.sent)
            .and_then(|at| usize::try_from(at).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "records sent as parts are not read back"))?;
        let piece = start.checked_add(buf.len()).and_then(|end| staged.tail.get(start..end));
        buf.copy_from_slice(piece.ok_or(io::ErrorKind::UnexpectedEof)?);
        Ok(())
    }

    /// Appends records; `before` is where the hash stood before them. A
    /// full tail is sent as a part first, and the manifest says so.
    pub(super) fn append(&self, bytes: &[u8], before: Option<&Checkpoint>) -> io::Result<()> {
        let mut staged = self.lock();
        if let Some(before) = before
            && staged.tail.len() >= PART_LEN
        {
            self.send_part(&mut staged, before)?;
        }
        staged.tail.extend_from_slice(bytes);
        Ok(())
    }

    fn send_part(&self, staged: &mut Staged, at: &Checkpoint) -> io::Result<()> {
        let blob = self.backend.blob_path(&self.id);
        let upload = match staged.manifest.upload.clone() {
            Some(upload) => upload,
            None => {
                let upload = self.backend.wait(self.backend.s3.create_multipart(&blob))?;
                staged.manifest.upload = Some(upload.clone());
                upload
            }
        };
        let part = Bytes::from(std::mem::take(&mut staged.tail));
        let sent = part.len() as u64;
        let index = staged.manifest.parts.len();
        let tag = self.backend.wait(self.backend.s3.put_part(&blob, &upload, index, part.into()))?;
        staged.manifest.parts.push(tag.content_id);
        staged.manifest.sent += sent;
        staged.manifest.checkpoint = Some(at.to_bytes());
        self.persist(staged)
    }

    /// Cuts the tail back; a cut into the parts starts the upload over.
    pub(super) fn truncate(&self, len: u64) -> io::Result<()> {
        let mut staged = self.lock();
        match len.checked_sub(staged.manifest.sent) {
            Some(keep) => staged.tail.truncate(usize::try_from(keep).unwrap_or(usize::MAX)),
            None => {
                if let Some(upload) = staged.manifest.upload.take() {
                    let blob = self.backend.blob_path(&self.id);
                    match self.backend.run(self.backend.s3.abort_multipart(&blob, &upload)) {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(err) => return Err(io_error(err)),
                    }
                }
                let writer = std::mem::take(&mut staged.manifest.writer);
                staged.manifest = Manifest { writer, ..Manifest::default() };
                staged.tail.clear();
                self.persist(&mut staged)?;
            }
        }
        Ok(())
    }

    /// Makes the tail durable with the manifest: a suspended upload resumes
    /// from here on any node.
    pub(super) fn keep(&self) -> io::Result<()> {
        let mut staged = self.lock();
        self.persist(&mut staged)
    }
}

/// A committed blob read by ranges.
#[derive(Debug)]
pub(super) struct ObjectBlob {
    backend: ObjectBackend,
    path: Path,
    len: u64,
}

impl ObjectBlob {
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    pub(super) fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let range: Range<u64> = offset..offset.saturating_add(len as u64);
        let bytes = self.backend.wait(self.backend.s3.get_range(&self.path, range))?;
        if bytes.len() < len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(bytes.into())
    }
}

/// A writer's claim on an upload: 128 random bits.
fn claim_token() -> io::Result<String> {
    let mut bytes = [0; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| io::Error::other("random source failed"))?;
    Ok(data_encoding::HEXLOWER.encode(&bytes))
}

/// The service's refusal as the store reports it: a missing object is
/// [`io::ErrorKind::NotFound`]; the rest names the service's reason.
fn io_error(err: object_store::Error) -> io::Error {
    let kind = match &err {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. } => {
            io::ErrorKind::ResourceBusy
        }
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, err)
}
