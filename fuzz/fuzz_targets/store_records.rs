//! The store's record reader on bytes that were never sealed, or were
//! altered: every read ends in an error (the blob is corrupt), never a
//! panic, a hang or plaintext that did not authenticate.
#![no_main]

use std::sync::OnceLock;

use gateway::store::{BlobId, DocumentKey, Store};
use libfuzzer_sys::fuzz_target;

struct Bed {
    runtime: tokio::runtime::Runtime,
    store: Store,
    key: DocumentKey,
    id: BlobId,
    _dir: tempfile::TempDir,
}

fn bed() -> &'static Bed {
    static BED: OnceLock<Bed> = OnceLock::new();
    BED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a folder");
        let store = Store::open_local(dir.path(), 0).expect("a store");
        let id = BlobId::generate().expect("an id");
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        Bed { runtime, store, key: DocumentKey::generate().expect("a key"), id, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((size, sealed)) = data.split_first_chunk::<4>() else { return };
    let size = u64::from(u32::from_le_bytes(*size) % (1 << 20));
    let bed = bed();
    bed.runtime.block_on(async {
        let Ok(mut reader) = bed.store.open(&bed.id, &bed.key, size, 0..size, Some(sealed.to_vec())).await else {
            return;
        };
        // Bytes that were not sealed under this key never authenticate.
        assert!(reader.next_chunk().await.is_err() || size == 0);
    });
});
