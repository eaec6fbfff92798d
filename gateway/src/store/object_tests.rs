//! The store on an S3-compatible object store, against a real S3 server
//! process (`KOERIER_TEST_S3_ENDPOINT`, which `scripts/test` starts, with
//! the bucket `koerier-test`): round trips and ranges, damage detected,
//! uploads sent as parts, paused and resumed by another client (another
//! node), taken over by a second writer, and the sweep.

use object_store::ObjectStoreExt as _;
use object_store::path::Path;

use super::object::PART_LEN;
use super::tests::{new_doc, random_bytes, read_sealed, sha256, upload, write_uneven};
use super::*;

const C: usize = CHUNK_LEN;

/// A store under a prefix of its own in the test bucket, and a raw client
/// of the same bucket to look at and damage the objects.
struct Bucket {
    config: ObjectStoreConfig,
    raw: object_store::aws::AmazonS3,
}

fn bucket() -> Bucket {
    let endpoint = std::env::var("KOERIER_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!("KOERIER_TEST_S3_ENDPOINT is not set: run scripts/test, which starts an S3 server (moto) with the bucket koerier-test")
    });
    let prefix = format!("store-tests/{}", BlobId::generate().unwrap().as_str());
    let config = ObjectStoreConfig::from_url(
        &format!("s3://koerier-test/{prefix}"),
        Some(endpoint.clone()),
        Some("us-east-1".into()),
    )
    .unwrap();
    let raw = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name("koerier-test")
        .with_endpoint(&endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .build()
        .unwrap();
    Bucket { config, raw }
}

impl Bucket {
    fn store(&self) -> Store {
        Store::open_object(&self.config).unwrap()
    }

    fn path(&self, folder: &str, id: &BlobId) -> Path {
        Path::from(format!("{}/{folder}/{}", self.config.prefix, id.as_str()))
    }

    async fn exists(&self, folder: &str, id: &BlobId) -> bool {
        self.raw.head(&self.path(folder, id)).await.is_ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_round_trips_and_ranges() {
    let b = bucket();
    let store = b.store();
    // One record short of a part, a part and a bit, three parts and a bit.
    for size in [INLINE_MAX as usize + 1, C * 3 + 17, PART_LEN + C + 5, 3 * PART_LEN + 12_345] {
        let data = random_bytes(size);
        let (id, key, committed) = upload(&store, &data).await;
        assert_eq!(committed.inline, None);
        assert_eq!(committed.sha256, sha256(&data));
        assert!(b.exists("blobs", &id).await, "the blob is an object");
        assert!(!b.exists("staging", &id).await, "its staging is gone");
        let whole = read_sealed(&store, &id, &key, committed.size, 0..committed.size, None).await.unwrap();
        assert!(whole == data, "{size} bytes read back");
        let across = (C - 1) as u64..((C + 1) as u64).min(size as u64);
        for range in [0..1, across, (size - 10) as u64..size as u64] {
            let piece = read_sealed(&store, &id, &key, committed.size, range.clone(), None).await.unwrap();
            assert!(piece == data[range.start as usize..range.end as usize], "{range:?} of {size}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_detects_a_flipped_byte_and_a_truncation() {
    let b = bucket();
    let store = b.store();
    let data = random_bytes(3 * C);
    let (id, key, committed) = upload(&store, &data).await;
    let sealed = b.raw.get(&b.path("blobs", &id)).await.unwrap().bytes().await.unwrap().to_vec();

    let mut flipped = sealed.clone();
    flipped[HEADER_LEN + C + 100] ^= 1;
    b.raw.put(&b.path("blobs", &id), flipped.into()).await.unwrap();
    let read = read_sealed(&store, &id, &key, committed.size, 0..committed.size, None).await;
    assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");
    // A range away from the damage still reads.
    let first = read_sealed(&store, &id, &key, committed.size, 0..C as u64, None).await.unwrap();
    assert!(first == data[..C]);

    b.raw.put(&b.path("blobs", &id), sealed[..sealed.len() - 1].to_vec().into()).await.unwrap();
    let read = store.open(&id, &key, committed.size, 0..1, None).await;
    assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");
}

/// A paused upload is resumed by another node (another client of the same
/// bucket) from the manifest, with or without the caller's checkpoint; an
/// upload cut off without a suspend (a killed node) resumes after the last
/// part it sent, never at 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_uploads_resume_on_another_node() {
    let b = bucket();
    let data = random_bytes(2 * PART_LEN + 5 * C + 123);

    // Suspended on node A, resumed on node B with the checkpoint A gave.
    let (id, key) = new_doc();
    let a = b.store();
    let mut writer = a.stage(&id, &key).await.unwrap();
    write_uneven(&mut writer, &data[..PART_LEN + 3 * C + 7]).await;
    let (offset, checkpoint) = writer.suspend_at_checkpoint().await.unwrap();
    assert_eq!(offset, (PART_LEN + 3 * C) as u64, "whole chunks, past the first part");
    assert_eq!(a.staged_len(&id).await.unwrap(), offset, "what the staging holds, from its manifest");
    let node_b = b.store();
    let mut writer = node_b.resume(&id, &key, Some(checkpoint)).await.unwrap();
    assert_eq!(writer.offset(), offset);
    write_uneven(&mut writer, &data[offset as usize..]).await;
    let committed = writer.commit().await.unwrap();
    assert_eq!(committed.sha256, sha256(&data), "the hash runs on across nodes");
    let read = read_sealed(&node_b, &id, &key, committed.size, 0..committed.size, None).await.unwrap();
    assert!(read == data);
    let read = read_sealed(&a, &id, &key, committed.size, 0..committed.size, None).await.unwrap();
    assert!(read == data, "and node A reads what B finished");

    // Cut off on A without a suspend, after two parts went: B resumes at
    // the end of what was sent, without any checkpoint of the caller's.
    let (id, key) = new_doc();
    let mut writer = a.stage(&id, &key).await.unwrap();
    write_uneven(&mut writer, &data[..2 * PART_LEN + 2 * C]).await;
    drop(writer);
    let mut writer = node_b.stage(&id, &key).await.unwrap();
    assert!(writer.offset() >= PART_LEN as u64, "resumed at {} after a part was sent", writer.offset());
    let at = writer.offset() as usize;
    write_uneven(&mut writer, &data[at..]).await;
    let committed = writer.commit().await.unwrap();
    assert_eq!(committed.sha256, sha256(&data));
    let read = read_sealed(&a, &id, &key, committed.size, 0..committed.size, None).await.unwrap();
    assert!(read == data);
}

/// A second writer takes an upload over (the client came back on another
/// node while its old connection still ran): the first is refused at its
/// next write to the store, and what the second finishes is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_a_second_writer_takes_over_and_the_first_stops() {
    let b = bucket();
    let data = random_bytes(3 * PART_LEN);
    let (id, key) = new_doc();
    let (a, node_b) = (b.store(), b.store());
    let mut first = a.stage(&id, &key).await.unwrap();
    write_uneven(&mut first, &data[..PART_LEN + C]).await;
    let mut second = node_b.stage(&id, &key).await.unwrap();
    let at = second.offset() as usize;
    // The first goes on writing: sending its next part, it finds the upload
    // is no longer its own.
    let mut refused = None;
    for piece in data[PART_LEN + C..].chunks(C) {
        if let Err(err) = first.write(piece).await {
            refused = Some(err);
            break;
        }
    }
    let refused = match refused {
        Some(err) => err,
        None => first.suspend().await.unwrap_err(),
    };
    assert!(matches!(&refused, StoreError::Io(err) if err.kind() == io::ErrorKind::ResourceBusy), "{refused:?}");
    write_uneven(&mut second, &data[at..]).await;
    let committed = second.commit().await.unwrap();
    let read = read_sealed(&a, &id, &key, committed.size, 0..committed.size, None).await.unwrap();
    assert!(read == data);
}

/// The sweep lists the store and removes what no record keeps: a blob, a
/// staged upload with its multipart upload; what it keeps stays readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_sweep_removes_orphans_and_keeps_live_uploads() {
    let b = bucket();
    let store = b.store();
    let data = random_bytes(PART_LEN + 2 * C);
    let (kept, kept_key, committed) = upload(&store, &data).await;
    let (orphan, _, _) = upload(&store, &data).await;
    let (staged, staged_key) = new_doc();
    let mut writer = store.stage(&staged, &staged_key).await.unwrap();
    write_uneven(&mut writer, &data).await;
    writer.suspend().await.unwrap();
    let (abandoned, abandoned_key) = new_doc();
    let mut writer = store.stage(&abandoned, &abandoned_key).await.unwrap();
    write_uneven(&mut writer, &data).await;
    writer.suspend().await.unwrap();

    let listing = store.listing().await.unwrap();
    let keep = |id: &BlobId| *id == kept || *id == staged;
    assert_eq!(store.sweep(listing, &keep).await.unwrap(), (1, 1));
    assert!(!b.exists("blobs", &orphan).await && !b.exists("staging", &abandoned).await);
    let read = read_sealed(&store, &kept, &kept_key, committed.size, 0..committed.size, None).await.unwrap();
    assert!(read == data);
    // The kept upload finishes; the abandoned one starts over from nothing.
    let mut writer = store.stage(&staged, &staged_key).await.unwrap();
    let at = writer.offset() as usize;
    assert!(at > 0);
    writer.write(&data[at..]).await.unwrap();
    writer.commit().await.unwrap();
    assert_eq!(store.stage(&abandoned, &abandoned_key).await.unwrap().offset(), 0);
}
