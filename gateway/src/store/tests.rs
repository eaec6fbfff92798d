//! Behavioural tests of the store: round trips and ranged reads, plaintext
//! never reaching the disk, tamper and truncation detection, resumable
//! uploads, visibility and cleanup.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{SHA256, digest};
use tokio::io::AsyncReadExt as _;

use super::chunk::{HEADER_LEN, RECORD_LEN, TAG_LEN, record_offset};
use super::*;

const C: usize = CHUNK_LEN;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::open_local(&root, 0).unwrap();
    Fixture { _dir: dir, root, store }
}

pub(super) fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes
}

pub(super) fn new_doc() -> (BlobId, DocumentKey) {
    (BlobId::generate().unwrap(), DocumentKey::generate().unwrap())
}

/// Writes `data` in uneven pieces so that batches straddle write calls.
pub(super) async fn write_uneven(writer: &mut StagedWriter, data: &[u8]) {
    let sizes = [1, 7_000, C, 100_000, 300_000, 2 << 20];
    let mut rest = data;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at((*size).min(rest.len()));
        writer.write(piece).await.unwrap();
        rest = tail;
    }
}

pub(super) async fn upload(store: &Store, data: &[u8]) -> (BlobId, DocumentKey, Committed) {
    let (id, key) = new_doc();
    let mut writer = store.stage_new(&id, &key).unwrap();
    write_uneven(&mut writer, data).await;
    let committed = writer.commit().await.unwrap();
    (id, key, committed)
}

async fn read_range(
    store: &Store,
    id: &BlobId,
    key: &DocumentKey,
    size: u64,
    range: std::ops::Range<u64>,
) -> Result<Vec<u8>, StoreError> {
    read_sealed(store, id, key, size, range, None).await
}

/// Reads `range` of what `upload` committed, from its file or from the
/// sealed bytes handed back for a small document.
async fn read_committed(
    store: &Store,
    id: &BlobId,
    key: &DocumentKey,
    committed: &Committed,
    range: std::ops::Range<u64>,
) -> Result<Vec<u8>, StoreError> {
    read_sealed(store, id, key, committed.size, range, committed.inline.clone()).await
}

pub(super) async fn read_sealed(
    store: &Store,
    id: &BlobId,
    key: &DocumentKey,
    size: u64,
    range: std::ops::Range<u64>,
    inline: Option<Vec<u8>>,
) -> Result<Vec<u8>, StoreError> {
    let mut reader = store.open(id, key, size, range, inline).await?;
    let mut out = Vec::new();
    while let Some(piece) = reader.next_chunk().await? {
        assert!(!piece.is_empty(), "pieces are never empty");
        out.extend_from_slice(&piece);
    }
    Ok(out)
}

/// A document just big enough to be committed as a file.
fn file_sized(head: &[u8]) -> Vec<u8> {
    let mut data = head.to_vec();
    data.resize(INLINE_MAX as usize + 1, b' ');
    data
}

fn blob_path(root: &Path, id: &BlobId) -> PathBuf {
    root.join("blobs").join(&id.as_str()[..1]).join(id.as_str())
}

fn staging_path(root: &Path, id: &BlobId) -> PathBuf {
    root.join("staging").join(id.as_str())
}

fn assert_corrupt(result: Result<Vec<u8>, StoreError>, what: &str) {
    match result {
        Err(StoreError::Corrupt(_)) => {}
        Err(err) => panic!("{what}: expected corrupt, got {err:?}"),
        Ok(data) => panic!("{what}: expected corrupt, read {} bytes", data.len()),
    }
}

pub(super) fn sha256(data: &[u8]) -> [u8; 32] {
    digest(&SHA256, data).as_ref().try_into().unwrap()
}

/// Offsets worth splitting a document of `size` bytes at.
fn boundaries(size: usize) -> Vec<usize> {
    let mut points = vec![0, 1, C - 1, C, C + 1, 2 * C, 3 * C - 1, 3 * C + 5, size / 2, size.saturating_sub(1), size];
    points.retain(|&point| point <= size);
    points.sort_unstable();
    points.dedup();
    points
}

#[tokio::test]
async fn round_trips_and_ranges_at_awkward_sizes() {
    let f = fixture();
    // Past 1 MiB a batch is hashed while the next one arrives: several of them.
    for size in [0, 1, C - 1, C, C + 1, 3 * C, (1 << 20) + 7, (3 << 20) + 5] {
        let data = random_bytes(size);
        let (id, key, committed) = upload(&f.store, &data).await;
        assert_eq!(committed.size, size as u64);
        assert_eq!(committed.sha256, sha256(&data), "sha-256 of {size} bytes");
        let points = boundaries(size);
        for &start in &points {
            for &end in points.iter().filter(|&&end| end >= start) {
                let read = read_committed(&f.store, &id, &key, &committed, start as u64..end as u64).await.unwrap();
                assert!(read == data[start..end], "range {start}..{end} of {size}");
            }
        }
    }
}

#[tokio::test]
async fn a_small_document_is_sealed_in_memory_and_leaves_no_file() {
    let f = fixture();
    let data = marker_block(INLINE_MAX as usize);
    let (id, key, committed) = upload(&f.store, &data).await;
    let sealed = committed.inline.clone().expect("a document of INLINE_MAX bytes is handed back sealed");
    assert_eq!(sealed.len(), HEADER_LEN + data.len() + TAG_LEN, "the bytes a blob file would hold");
    assert!(!contains(&sealed, &data[..64]), "sealed, not plain");
    assert!(!blob_path(&f.root, &id).exists() && !staging_path(&f.root, &id).exists(), "no file of it");
    assert!(read_committed(&f.store, &id, &key, &committed, 0..committed.size).await.unwrap() == data);

    let mut flipped = committed.clone();
    if let Some(bytes) = flipped.inline.as_mut() {
        bytes[HEADER_LEN + 100] ^= 1;
    }
    assert_corrupt(read_committed(&f.store, &id, &key, &flipped, 0..10).await, "a flipped byte of a small document");
    let mut cut = committed.clone();
    if let Some(bytes) = cut.inline.as_mut() {
        bytes.pop();
    }
    assert_corrupt(read_committed(&f.store, &id, &key, &cut, 0..10).await, "a small document cut short");

    // One byte more takes a second chunk: a file, as before.
    let (id, _, committed) = upload(&f.store, &marker_block(INLINE_MAX as usize + 1)).await;
    assert_eq!(committed.inline, None);
    assert!(blob_path(&f.root, &id).is_file());
}

#[tokio::test]
async fn async_read_yields_the_range() {
    let f = fixture();
    let data = random_bytes(3 * C + 100);
    let (id, key, committed) = upload(&f.store, &data).await;
    let mut reader =
        f.store.open(&id, &key, committed.size, 1000..(3 * C + 50) as u64, committed.inline.clone()).await.unwrap();
    let mut read = Vec::new();
    reader.read_to_end(&mut read).await.unwrap();
    assert!(read == data[1000..3 * C + 50]);
}

#[tokio::test]
async fn ranges_outside_the_document_are_rejected() {
    let f = fixture();
    let (id, key, committed) = upload(&f.store, &random_bytes(10)).await;
    let backwards = std::ops::Range { start: 5, end: 4 };
    for range in [backwards, 0..11, 11..11] {
        let result = f.store.open(&id, &key, committed.size, range.clone(), committed.inline.clone()).await;
        assert!(matches!(result, Err(StoreError::InvalidRange { .. })), "{range:?}");
    }
}

const MARKER: &[u8] = b"koerier-plaintext-marker-0451";

fn marker_block(len: usize) -> Vec<u8> {
    MARKER.iter().copied().cycle().take(len).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.iter().enumerate().any(|(at, &byte)| byte == needle[0] && haystack[at..].starts_with(needle))
}

/// Every file under `dir` that contains `needle`, scanning every byte.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if contains(&fs::read(&path).unwrap(), needle) {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn no_plaintext_reaches_the_disk() {
    let f = fixture();
    // The scan has to be able to see the marker for its silence to count.
    let control = tempfile::tempdir().unwrap();
    fs::write(control.path().join("plain"), marker_block(1000)).unwrap();
    assert_eq!(files_containing(control.path(), MARKER).len(), 1);

    let block = marker_block(1 << 20);
    let (id, key) = new_doc();
    let mut writer = f.store.stage(&id, &key).await.unwrap();
    for _ in 0..3 {
        writer.write(&block).await.unwrap();
    }
    writer.write(&block[..5000]).await.unwrap();
    assert_eq!(writer.suspend().await.unwrap(), 3 << 20);
    assert_eq!(files_containing(&f.root, MARKER), Vec::<PathBuf>::new());

    // 97 MiB committed, 100 MiB in all with the suspended upload.
    for mib in [40, 40, 17] {
        let (id, key) = new_doc();
        let mut writer = f.store.stage(&id, &key).await.unwrap();
        for _ in 0..mib {
            writer.write(&block).await.unwrap();
        }
        writer.commit().await.unwrap();
    }
    assert_eq!(files_containing(&f.root, MARKER), Vec::<PathBuf>::new());
}

const DOC: usize = 3 * C + 1000;

/// Uploads a random document of `size` bytes, applies `mutate` to the blob
/// file and reads the document back as if it were `claimed` bytes long.
async fn read_tampered(size: usize, claimed: usize, mutate: impl FnOnce(&mut Vec<u8>)) -> Result<Vec<u8>, StoreError> {
    let f = fixture();
    let (id, key, _) = upload(&f.store, &random_bytes(size)).await;
    let path = blob_path(&f.root, &id);
    let mut bytes = fs::read(&path).unwrap();
    mutate(&mut bytes);
    fs::write(&path, bytes).unwrap();
    read_range(&f.store, &id, &key, claimed as u64, 0..claimed as u64).await
}

#[tokio::test]
async fn flipped_bytes_are_detected() {
    let chunk = |index| record_offset(index) as usize;
    let cases = [
        (DOC, 0, "header magic"),
        (DOC, 9, "header version"),
        (DOC, 20, "header blob id"),
        (DOC, HEADER_LEN + 5, "first chunk"),
        (DOC, chunk(1) + 100, "middle chunk"),
        (DOC, chunk(1) + C + 3, "middle chunk tag"),
        (DOC, chunk(3) + 10, "last chunk"),
        (DOC, chunk(3) + 1000 + 15, "last chunk tag"),
        (2 * C, chunk(2) + 5, "tag of an empty final chunk"),
    ];
    for (size, at, what) in cases {
        assert_corrupt(read_tampered(size, size, |b| b[at] ^= 0x01).await, what);
    }
}

#[tokio::test]
async fn ranges_away_from_damage_still_read() {
    let f = fixture();
    let data = random_bytes(DOC);
    let (id, key, committed) = upload(&f.store, &data).await;
    let path = blob_path(&f.root, &id);
    let mut bytes = fs::read(&path).unwrap();
    bytes[record_offset(2) as usize + 7] ^= 0x80;
    fs::write(&path, bytes).unwrap();
    let size = committed.size;
    let near = read_range(&f.store, &id, &key, size, 0..2 * C as u64).await.unwrap();
    assert!(near == data[..2 * C]);
    assert_corrupt(read_range(&f.store, &id, &key, size, 0..size).await, "damaged chunk");
}

#[tokio::test]
async fn truncation_is_detected() {
    let chunk = |index| record_offset(index) as usize;
    let cases: [(usize, usize, usize, &str); 8] = [
        (DOC, DOC, chunk(3) + 1000 + 15, "cut by one byte"),
        (DOC, DOC, chunk(3), "final record removed"),
        (DOC, DOC, chunk(3) + 1016 - RECORD_LEN, "cut by one record length"),
        (DOC, DOC, HEADER_LEN, "header only"),
        (DOC, DOC, 0, "empty file"),
        (2 * C, 2 * C, chunk(2), "empty final record removed"),
        // The file then has the length a shorter document would seal to,
        // so only authentication can notice.
        (DOC, 3 * C + 500, chunk(3) + 516, "cut mid-chunk, size claimed to match"),
        (DOC, 3 * C, chunk(3) + 16, "final chunk cut, size claimed to match"),
    ];
    for (size, claimed, keep, what) in cases {
        assert_corrupt(read_tampered(size, claimed, |b| b.truncate(keep)).await, what);
    }
}

#[tokio::test]
async fn reordered_records_are_detected() {
    let swapped = read_tampered(DOC, DOC, |bytes| {
        let (first, second) = (record_offset(0) as usize, record_offset(1) as usize);
        let copy = bytes[first..second].to_vec();
        bytes.copy_within(second..second + RECORD_LEN, first);
        bytes[second..second + RECORD_LEN].copy_from_slice(&copy);
    })
    .await;
    assert_corrupt(swapped, "records 0 and 1 swapped");
}

#[tokio::test]
async fn the_wrong_key_cannot_read() {
    let f = fixture();
    let (id, _, committed) = upload(&f.store, &random_bytes(DOC)).await;
    let other = DocumentKey::generate().unwrap();
    let read = read_range(&f.store, &id, &other, committed.size, 0..committed.size).await;
    assert_corrupt(read, "wrong key");
    // Even an empty document proves its key, and a small one kept in memory.
    let (id, _, committed) = upload(&f.store, &[]).await;
    assert_corrupt(read_committed(&f.store, &id, &other, &committed, 0..0).await, "wrong key, empty");
    let (id, _, committed) = upload(&f.store, b"%PDF-1.7 small").await;
    assert_corrupt(read_committed(&f.store, &id, &other, &committed, 0..14).await, "wrong key, small");
}

#[tokio::test]
async fn suspended_upload_resumes_at_the_last_whole_chunk() {
    let f = fixture();
    let data = random_bytes(500_000);
    let (id, key) = new_doc();
    let mut writer = f.store.stage(&id, &key).await.unwrap();
    assert_eq!(writer.offset(), 0);
    writer.write(&data[..200 * 1024]).await.unwrap();
    assert_eq!(writer.suspend().await.unwrap(), 196_608);
    let staged = fs::metadata(staging_path(&f.root, &id)).unwrap().len();
    assert_eq!(staged, record_offset(3), "no partial chunk on disk");

    let mut writer = f.store.stage(&id, &key).await.unwrap();
    assert_eq!(writer.offset(), 196_608);
    write_uneven(&mut writer, &data[196_608..]).await;
    let committed = writer.commit().await.unwrap();
    assert_eq!(committed.sha256, sha256(&data));
    let read = read_range(&f.store, &id, &key, committed.size, 0..committed.size).await;
    assert!(read.unwrap() == data);
}

/// A resume from the checkpoint of the last suspend reads back only what
/// came after it: a record before it that no longer authenticates is not
/// even seen (a resume without the checkpoint cuts the file back to it),
/// and the document's SHA-256 is still that of all its bytes. A checkpoint
/// the file does not hold (cut back since), or one that does not parse, is
/// not used.
#[tokio::test]
async fn a_resume_from_its_checkpoint_reads_back_only_what_came_after() {
    let f = fixture();
    let data = random_bytes(40 * C);
    let (id, key) = new_doc();
    let mut writer = f.store.stage_new(&id, &key).unwrap();
    writer.write(&data[..20 * C]).await.unwrap();
    let (offset, checkpoint) = writer.suspend_at_checkpoint().await.unwrap();
    assert_eq!(offset, 20 * C as u64);
    assert_eq!(Checkpoint::from_bytes(&checkpoint.to_bytes()), Some(checkpoint.clone()));
    assert_eq!(Checkpoint::from_bytes(b"short"), None);
    assert_eq!(Checkpoint::from_bytes(&[0; 40]), None, "not a SHA-256 state");

    // Resumed from the checkpoint, then suspended again at 30 chunks.
    let mut writer = f.store.resume(&id, &key, Some(checkpoint)).await.unwrap();
    assert_eq!(writer.offset(), 20 * C as u64);
    writer.write(&data[20 * C..30 * C]).await.unwrap();
    let (offset, checkpoint) = writer.suspend_at_checkpoint().await.unwrap();
    assert_eq!(offset, 30 * C as u64);

    // Chunk 5 damaged on disk: the checkpoint's resume never reads it...
    let path = staging_path(&f.root, &id);
    let mut bytes = fs::read(&path).unwrap();
    bytes[record_offset(5) as usize + 10] ^= 1;
    fs::write(&path, &bytes).unwrap();
    let writer = f.store.resume(&id, &key, Some(checkpoint.clone())).await.unwrap();
    assert_eq!(writer.offset(), 30 * C as u64, "the records before the checkpoint are not read back");
    drop(writer);
    // ...one without it reads everything and cuts back to chunk 5.
    let writer = f.store.stage(&id, &key).await.unwrap();
    assert_eq!(writer.offset(), 5 * C as u64);
    drop(writer);
    // The file now holds less than the checkpoint: it is not used.
    let mut writer = f.store.resume(&id, &key, Some(checkpoint)).await.unwrap();
    assert_eq!(writer.offset(), 5 * C as u64);
    writer.write(&data[5 * C..]).await.unwrap();
    let committed = writer.commit().await.unwrap();
    assert_eq!(committed.sha256, sha256(&data), "the hash of every byte, across resumes");

    // And a document resumed from checkpoints only hashes to all its bytes.
    let (id, key) = new_doc();
    let mut writer = f.store.stage_new(&id, &key).unwrap();
    let mut at = 0;
    for end in [7 * C + 100, 19 * C, 33 * C + 5] {
        writer.write(&data[at..end]).await.unwrap();
        let (offset, checkpoint) = writer.suspend_at_checkpoint().await.unwrap();
        at = usize::try_from(offset).unwrap();
        writer = f.store.resume(&id, &key, Some(checkpoint)).await.unwrap();
        assert_eq!(writer.offset(), offset);
    }
    writer.write(&data[at..]).await.unwrap();
    let committed = writer.commit().await.unwrap();
    assert_eq!(committed.sha256, sha256(&data));
    let read = read_range(&f.store, &id, &key, committed.size, 0..committed.size).await;
    assert!(read.unwrap() == data);
}

/// Resumes `id`, checks the offset, finishes the upload with the rest of
/// `data` and checks the committed document.
async fn resume_and_finish(f: &Fixture, id: &BlobId, key: &DocumentKey, data: &[u8], offset: usize) {
    let mut writer = f.store.stage(id, key).await.unwrap();
    assert_eq!(writer.offset(), offset as u64);
    writer.write(&data[offset..]).await.unwrap();
    let committed = writer.commit().await.unwrap();
    assert_eq!(committed.size, data.len() as u64);
    assert_eq!(committed.sha256, sha256(data));
    let read = read_range(&f.store, id, key, committed.size, 0..committed.size).await;
    assert!(read.unwrap() == data);
}

#[tokio::test]
async fn torn_tail_is_cut_on_resume() {
    let f = fixture();
    let data = random_bytes(300_000);
    let (id, key) = new_doc();
    let mut writer = f.store.stage(&id, &key).await.unwrap();
    writer.write(&data[..200 * 1024]).await.unwrap();
    writer.suspend().await.unwrap();
    let path = staging_path(&f.root, &id);
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&random_bytes(1000)).unwrap();
    drop(file);

    let writer = f.store.stage(&id, &key).await.unwrap();
    assert_eq!(writer.offset(), 196_608);
    assert_eq!(fs::metadata(&path).unwrap().len(), record_offset(3));
    drop(writer);
    resume_and_finish(&f, &id, &key, &data, 196_608).await;
}

#[tokio::test]
async fn dropped_writer_leaves_a_resumable_upload() {
    let f = fixture();
    let data = random_bytes(4 << 20);
    let (id, key) = new_doc();
    let mut writer = f.store.stage(&id, &key).await.unwrap();
    // Two whole batches get sealed; the half batch after them is lost.
    writer.write(&data[..(5 << 20) / 2]).await.unwrap();
    drop(writer);
    resume_and_finish(&f, &id, &key, &data, 2 << 20).await;
}

#[tokio::test]
async fn a_second_writer_of_one_upload_is_refused() {
    let f = fixture();
    let data = random_bytes(3 << 20);
    let (id, key) = new_doc();
    let mut writer = f.store.stage(&id, &key).await.unwrap();
    writer.write(&data[..2 << 20]).await.unwrap();

    let started = std::time::Instant::now();
    let second = f.store.stage(&id, &key).await;
    assert!(matches!(second, Err(StoreError::Busy)), "{second:?}");
    assert!(started.elapsed() >= local::LOCK_WAIT, "it waited for the first writer to let go");

    // The first writer is unharmed by the refusal, and once it is gone the
    // upload resumes where its appends ended.
    writer.write(&data[2 << 20..(5 << 20) / 2]).await.unwrap();
    drop(writer);
    resume_and_finish(&f, &id, &key, &data, 2 << 20).await;
}

/// A second writer that opened the staging file while the first still held
/// it, and gets the lock only after the first committed, starts a new
/// staging file: the committed blob is never cut back or appended to.
#[tokio::test]
async fn a_writer_waiting_while_the_upload_commits_leaves_the_blob_alone() {
    let f = fixture();
    let data = random_bytes(3 << 20);
    let (id, key) = new_doc();
    let mut first = f.store.stage(&id, &key).await.unwrap();
    first.write(&data).await.unwrap();
    // The second writer waits for the lock on the staging file while the
    // first commits, and takes none on the blob that file became.
    let (second, committed) = tokio::join!(f.store.stage(&id, &key), async {
        tokio::time::sleep(local::LOCK_WAIT / 4).await;
        first.commit().await.unwrap()
    });
    let second = second.unwrap();
    assert_eq!(second.offset(), 0, "the second writer starts a staging file of its own");
    let whole = 0..data.len() as u64;
    assert_eq!(
        read_committed(&f.store, &id, &key, &committed, whole.clone()).await.unwrap(),
        data,
        "the blob is whole"
    );
    drop(second);
    assert_eq!(read_committed(&f.store, &id, &key, &committed, whole).await.unwrap(), data);
}

#[tokio::test]
async fn a_new_upload_makes_no_file_until_a_batch_is_sealed() {
    let f = fixture();
    let data = random_bytes(3 << 20);
    let (id, key) = new_doc();
    let mut writer = f.store.stage_new(&id, &key).unwrap();
    writer.write(&data[..(1 << 20) - 1]).await.unwrap();
    assert!(!staging_path(&f.root, &id).exists(), "nothing on disk yet");
    writer.write(&data[(1 << 20) - 1..2 << 20]).await.unwrap();
    assert!(staging_path(&f.root, &id).exists(), "the first batch made the file");
    // It holds the lock from then on.
    assert!(matches!(f.store.stage(&id, &key).await, Err(StoreError::Busy)));
    let committed = writer.commit().await.unwrap();
    assert_eq!(committed.inline, None);

    // A new writer whose upload another one has begun staging meanwhile is
    // the second writer of that upload: refused when it needs the file.
    let (id, key) = new_doc();
    let mut late = f.store.stage_new(&id, &key).unwrap();
    let mut first = f.store.stage(&id, &key).await.unwrap();
    first.write(&data[..2 << 20]).await.unwrap();
    first.suspend().await.unwrap();
    assert!(matches!(late.write(&data[..2 << 20]).await, Err(StoreError::Busy)));
    // A small document needs no file, so nothing stops it in the store;
    // the caller's record decides which of two finishes counts.
    let mut small = f.store.stage_new(&id, &key).unwrap();
    small.write(b"%PDF-1.7").await.unwrap();
    assert!(small.commit().await.unwrap().inline.is_some());
}

#[tokio::test]
async fn damaged_staged_chunk_is_resent() {
    let f = fixture();
    let data = random_bytes(8 * C + 3);
    let (id, key) = new_doc();
    let mut writer = f.store.stage(&id, &key).await.unwrap();
    writer.write(&data[..5 * C]).await.unwrap();
    assert_eq!(writer.suspend().await.unwrap(), 5 * C as u64);
    let path = staging_path(&f.root, &id);
    let mut bytes = fs::read(&path).unwrap();
    bytes[record_offset(2) as usize + 42] ^= 0x04;
    fs::write(&path, bytes).unwrap();
    resume_and_finish(&f, &id, &key, &data, 2 * C).await;
}

#[tokio::test]
async fn staging_file_without_a_header_starts_over() {
    let f = fixture();
    let data = random_bytes(C + 5);
    let (id, key) = new_doc();
    fs::write(staging_path(&f.root, &id), b"not a header").unwrap();
    resume_and_finish(&f, &id, &key, &data, 0).await;
}

#[tokio::test]
async fn staged_data_is_invisible_until_commit() {
    let f = fixture();
    let data = random_bytes(200 * 1024);
    let (id, key) = new_doc();
    let mut writer = f.store.stage(&id, &key).await.unwrap();
    writer.write(&data).await.unwrap();
    writer.suspend().await.unwrap();
    let size = data.len() as u64;
    let staged = f.store.open(&id, &key, size, 0..10, None).await;
    assert!(matches!(staged, Err(StoreError::NotFound)));
    assert!(f.store.committed_ids().await.unwrap().is_empty());

    let mut writer = f.store.stage(&id, &key).await.unwrap();
    let offset = writer.offset() as usize;
    writer.write(&data[offset..]).await.unwrap();
    writer.commit().await.unwrap();
    assert!(f.store.open(&id, &key, size, 0..10, None).await.is_ok());
    assert_eq!(f.store.committed_ids().await.unwrap(), vec![id.clone()]);

    f.store.delete(&id).await.unwrap();
    let deleted = f.store.open(&id, &key, size, 0..10, None).await;
    assert!(matches!(deleted, Err(StoreError::NotFound)));
    f.store.delete(&id).await.unwrap();
    assert!(f.store.committed_ids().await.unwrap().is_empty());
}

#[tokio::test]
async fn sweep_removes_orphans_and_keeps_live_uploads() {
    let f = fixture();
    let data = random_bytes(2 * C);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (id, key) = new_doc();
        let mut writer = f.store.stage(&id, &key).await.unwrap();
        writer.write(&data).await.unwrap();
        writer.suspend().await.unwrap();
        ids.push((id, key));
    }
    fs::write(f.root.join("staging").join("upload.tmp"), b"leftover").unwrap();
    let (kept, kept_key) = &ids[1];

    let listing = f.store.listing().await.unwrap();
    // An upload that begins after the listing is not the sweep's to judge.
    let (late, late_key) = new_doc();
    let mut writer = f.store.stage(&late, &late_key).await.unwrap();
    writer.write(&data).await.unwrap();
    writer.suspend().await.unwrap();
    let (done, done_key) = new_doc();
    let mut writer = f.store.stage(&done, &done_key).await.unwrap();
    writer.write(&data).await.unwrap();
    writer.commit().await.unwrap();
    let removed = f.store.sweep(listing, &|id| id == kept).await.unwrap();
    assert_eq!(removed, (0, 3));
    assert!(staging_path(&f.root, &late).exists(), "an upload begun after the listing is kept");
    assert_eq!(f.store.committed_ids().await.unwrap(), vec![done.clone()], "and so is a blob committed after it");
    f.store.delete(&done).await.unwrap();
    f.store.discard_staged(&late).await.unwrap();
    let left: Vec<_> = fs::read_dir(f.root.join("staging")).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from(kept.as_str())]);
    let writer = f.store.stage(kept, kept_key).await.unwrap();
    assert_eq!(writer.offset(), 2 * C as u64);
    drop(writer);

    f.store.discard_staged(kept).await.unwrap();
    assert!(!staging_path(&f.root, kept).exists());
    f.store.discard_staged(kept).await.unwrap();
}

#[test]
fn blob_ids_have_exactly_one_safe_spelling() {
    let id = BlobId::generate().unwrap();
    let text = id.as_str().to_owned();
    assert_eq!(text.len(), 26);
    assert!(text.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7')));
    assert_eq!(BlobId::parse(&text).unwrap(), id);
    assert_eq!(id.to_string(), text);
    assert_ne!(BlobId::generate().unwrap(), id);
    assert!(BlobId::parse("aaaaaaaaaaaaaaaaaaaaaaaaaa").is_ok());
    let bad = [
        String::new(),
        "../../../../../etc/passwd".to_owned(),
        text.to_uppercase(),
        text[..25].to_owned(),
        format!("{text}a"),
        "aaaaaaaaaaaaaaaaaaaaaaaaa1".to_owned(),
        "aaaaaaaaaaaaaaaaaaaaaaaa/a".to_owned(),
        // Non-zero trailing bits: a second spelling of the all-zero id.
        "aaaaaaaaaaaaaaaaaaaaaaaaab".to_owned(),
    ];
    for text in bad {
        assert_eq!(BlobId::parse(&text), Err(InvalidBlobId), "{text:?}");
    }
}

#[test]
fn keys_do_not_show_up_in_debug_output() {
    let key = DocumentKey::from_bytes([0x41; 32]);
    assert_eq!(format!("{key:?}"), "DocumentKey(***)");
    assert_eq!(key.as_bytes(), &[0x41; 32]);
    let err = StoreError::Corrupt("chunk 3 failed authentication".to_owned());
    assert_eq!(err.to_string(), "blob is corrupt: chunk 3 failed authentication");
}

#[tokio::test]
async fn blob_layout_matches_the_format() {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

    let f = fixture();
    let data = random_bytes(2 * C + 10);
    let (id, key, _) = upload(&f.store, &data).await;
    let blob = fs::read(blob_path(&f.root, &id)).unwrap();
    assert_eq!(blob.len(), 32 + 2 * (C + 16) + 10 + 16);
    let header = &blob[..32];
    assert_eq!(&header[..8], b"KOERBLB1");
    assert_eq!(header[8..16], [0, 1, 0, 1, 0, 1, 0, 0]);
    let id_bits = data_encoding::BASE32_NOPAD.decode(id.as_str().to_ascii_uppercase().as_bytes()).unwrap();
    assert_eq!(header[16..], id_bits[..]);

    // Open every record with a nonce and AAD built here from the format
    // description, not with the store's own code.
    let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.as_bytes()).unwrap());
    let records = blob[32..].chunks(C + 16);
    for (index, (record, plain)) in records.zip(data.chunks(C).chain([&[][..]])).enumerate() {
        let last = index == 2;
        let mut nonce = [0; 12];
        nonce[4..11].copy_from_slice(&(index as u64).to_be_bytes()[1..]);
        nonce[11] = u8::from(last);
        let mut record = record.to_vec();
        let opened = aead
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(header), &mut record)
            .unwrap_or_else(|_| panic!("record {index} does not open"));
        assert!(opened == plain, "record {index}");
    }
}

#[test]
fn the_final_flag_is_part_of_the_nonce() {
    let cipher = chunk::ChunkCipher::new(&DocumentKey::generate().unwrap(), &BlobId::generate().unwrap()).unwrap();
    let plain = random_bytes(100);
    let mut record = vec![0; plain.len() + 16];
    cipher.seal_into(4, true, &plain, &mut record).unwrap();
    let mut as_inner = record.clone();
    assert!(matches!(cipher.open_in_place(4, false, &mut as_inner), Err(StoreError::Corrupt(_))));
    let mut as_other_index = record.clone();
    assert!(matches!(cipher.open_in_place(5, true, &mut as_other_index), Err(StoreError::Corrupt(_))));
    assert_eq!(cipher.open_in_place(4, true, &mut record).unwrap(), plain.len());
    assert!(record[..plain.len()] == plain);
}

#[tokio::test]
async fn every_shard_exists_before_the_first_commit_and_commits_make_no_directory() {
    let f = fixture();
    let dirs =
        |root: &Path| fs::read_dir(root.join("blobs")).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count();
    assert_eq!(dirs(&f.root), 32);
    for _ in 0..50 {
        let id = BlobId::generate().unwrap();
        assert!(blob_path(&f.root, &id).parent().unwrap().is_dir(), "{id}");
    }
    let data = file_sized(b"%PDF-1.7 a document");
    for _ in 0..20 {
        let (id, key, committed) = upload(&f.store, &data).await;
        assert!(blob_path(&f.root, &id).is_file());
        assert!(read_range(&f.store, &id, &key, committed.size, 0..committed.size).await.unwrap() == data);
    }
    assert_eq!(dirs(&f.root), 32);
}

#[tokio::test]
async fn blobs_of_the_two_character_layout_are_moved_and_read() {
    let f = fixture();
    let data = file_sized(b"%PDF-1.7 written before");
    let (id, key, committed) = upload(&f.store, &data).await;
    // Put it where the earlier layout kept it, with a stranger beside it.
    let old_shard = f.root.join("blobs").join(&id.as_str()[..2]);
    fs::create_dir(&old_shard).unwrap();
    fs::rename(blob_path(&f.root, &id), old_shard.join(id.as_str())).unwrap();
    let other = f.root.join("blobs").join("zz");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), b"not a blob").unwrap();
    drop(f.store);

    let store = Store::open_local(&f.root, 0).unwrap();
    assert!(read_range(&store, &id, &key, committed.size, 0..committed.size).await.unwrap() == data);
    assert!(!old_shard.exists(), "the emptied folder goes");
    assert_eq!(fs::read(other.join("notes.txt")).unwrap(), b"not a blob", "what is not a blob stays");
}
