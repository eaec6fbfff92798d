//! The sealed blob format: the per-document key, the header, AES-256-GCM
//! sealing and opening of chunk records, and the arithmetic that maps
//! plaintext offsets to record offsets.
//!
//! Layout of a blob (and of a staging file, which is a prefix of one):
//!
//! ```text
//! header (32 bytes)
//!   0..8    magic "KOERBLB1"
//!   8..10   format version, big endian (1)
//!   10..12  cipher suite, big endian (1 = AES-256-GCM)
//!   12..16  plaintext chunk length, big endian (65536)
//!   16..32  the blob id's 128 bits
//! record 0: ciphertext || 16-byte tag
//! record 1: ...
//! ```
//!
//! Every chunk but the last holds exactly [`CHUNK_LEN`] plaintext bytes. The
//! last one holds `size % CHUNK_LEN` bytes, so it is empty when the size is a
//! multiple of the chunk length (including 0): a document always ends with a
//! flagged final record, which is what makes truncation at a record boundary
//! detectable. The header is the AAD of every record and the chunk index and
//! final flag are in the nonce, so records cannot be moved, dropped or taken
//! from another blob without failing authentication.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroize;

use super::{BlobId, StoreError};

/// Plaintext bytes per chunk.
pub const CHUNK_LEN: usize = 64 * 1024;
/// Length of the AES-GCM tag that follows each chunk's ciphertext.
pub(super) const TAG_LEN: usize = 16;
/// Length of one full sealed chunk on disk.
pub(super) const RECORD_LEN: usize = CHUNK_LEN + TAG_LEN;
/// Length of the blob header.
pub(super) const HEADER_LEN: usize = 32;

const MAGIC: &[u8; 8] = b"KOERBLB1";
const FORMAT_VERSION: u16 = 1;
const SUITE_AES_256_GCM: u16 = 1;
/// The nonce has seven bytes of chunk counter.
const MAX_CHUNKS: u64 = 1 << 56;

/// A document's 256-bit data key. The bytes are wiped when it is dropped and
/// never printed.
pub struct DocumentKey([u8; 32]);

impl DocumentKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, StoreError> {
        // Fill in place so no stray copy of the key is left on the stack.
        let mut key = Self([0; 32]);
        aws_lc_rs::rand::fill(&mut key.0).map_err(|_| StoreError::Crypto)?;
        Ok(key)
    }

    /// Wraps key bytes that the caller has unwrapped from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key, for the caller that wraps it for storage.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for DocumentKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for DocumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DocumentKey(***)")
    }
}

/// Byte offset of record `index` in a blob.
pub(super) fn record_offset(index: u64) -> u64 {
    HEADER_LEN as u64 + index * RECORD_LEN as u64
}

/// Index of the flagged final chunk of a document of `size` bytes.
pub(super) fn final_chunk(size: u64) -> u64 {
    size / CHUNK_LEN as u64
}

/// Length of the sealed blob of a document of `size` bytes, or `None` when
/// that size cannot be represented.
pub(super) fn sealed_len(size: u64) -> Option<u64> {
    let tail = size % CHUNK_LEN as u64 + TAG_LEN as u64;
    final_chunk(size).checked_mul(RECORD_LEN as u64)?.checked_add(HEADER_LEN as u64)?.checked_add(tail)
}

/// Length on disk of record `index` of a document of `size` bytes.
pub(super) fn record_len(index: u64, size: u64) -> usize {
    if index == final_chunk(size) {
        // Lossless: the remainder is below CHUNK_LEN.
        (size % CHUNK_LEN as u64) as usize + TAG_LEN
    } else {
        RECORD_LEN
    }
}

/// The header that a blob with this id must start with.
fn header_for(id: &BlobId) -> [u8; HEADER_LEN] {
    let mut header = [0; HEADER_LEN];
    header[0..8].copy_from_slice(MAGIC);
    header[8..10].copy_from_slice(&FORMAT_VERSION.to_be_bytes());
    header[10..12].copy_from_slice(&SUITE_AES_256_GCM.to_be_bytes());
    header[12..16].copy_from_slice(&(CHUNK_LEN as u32).to_be_bytes());
    header[16..32].copy_from_slice(id.as_bytes());
    header
}

/// Seals and opens the chunks of one blob with one document key.
pub(super) struct ChunkCipher {
    key: LessSafeKey,
    header: [u8; HEADER_LEN],
}

impl ChunkCipher {
    pub(super) fn new(key: &DocumentKey, id: &BlobId) -> Result<Self, StoreError> {
        let key = UnboundKey::new(&AES_256_GCM, key.as_bytes()).map_err(|_| StoreError::Crypto)?;
        Ok(Self { key: LessSafeKey::new(key), header: header_for(id) })
    }

    pub(super) fn header(&self) -> &[u8; HEADER_LEN] {
        &self.header
    }

    /// Explains why `found` is not this blob's header, if it is not.
    pub(super) fn check_header(&self, found: &[u8]) -> Result<(), StoreError> {
        if found == self.header {
            return Ok(());
        }
        let reason = if !found.starts_with(MAGIC) {
            "header magic is wrong".to_owned()
        } else if found.get(8..16) != self.header.get(8..16) {
            "header names an unsupported format version, cipher or chunk length".to_owned()
        } else {
            "header belongs to a different blob".to_owned()
        };
        Err(StoreError::Corrupt(reason))
    }

    /// Seals chunk `index` from `plain` into `record`, which must be exactly
    /// `plain.len() + TAG_LEN` bytes long.
    pub(super) fn seal_into(&self, index: u64, last: bool, plain: &[u8], record: &mut [u8]) -> Result<(), StoreError> {
        let (ciphertext, tag) = record.split_at_mut(plain.len());
        self.key
            .seal_out_of_place_scatter(nonce(index, last)?, Aad::from(&self.header), plain, ciphertext, &[], tag)
            .map_err(|_| StoreError::Crypto)
    }

    /// Seals `plain`, a whole number of full non-final chunks starting at
    /// chunk `first`, into `records`, replacing its contents.
    pub(super) fn seal_full_chunks(&self, first: u64, plain: &[u8], records: &mut Vec<u8>) -> Result<(), StoreError> {
        debug_assert_eq!(plain.len() % CHUNK_LEN, 0);
        // Reusing the buffer at the same length means no re-zeroing per batch.
        records.resize(plain.len() / CHUNK_LEN * RECORD_LEN, 0);
        let pairs = plain.chunks(CHUNK_LEN).zip(records.chunks_mut(RECORD_LEN));
        for (index, (chunk, record)) in (first..).zip(pairs) {
            self.seal_into(index, false, chunk, record)?;
        }
        Ok(())
    }

    /// Opens one record in place and returns the length of its plaintext,
    /// which then sits at the start of `record`.
    pub(super) fn open_in_place(&self, index: u64, last: bool, record: &mut [u8]) -> Result<usize, StoreError> {
        let opened = self
            .key
            .open_in_place(nonce(index, last)?, Aad::from(&self.header), record)
            .map_err(|_| StoreError::Corrupt(format!("chunk {index} failed authentication")))?;
        Ok(opened.len())
    }
}

/// Nonce for chunk `index`: four zero bytes, the index as a 56-bit big-endian
/// counter, then 1 for the final chunk and 0 otherwise.
fn nonce(index: u64, last: bool) -> Result<Nonce, StoreError> {
    if index >= MAX_CHUNKS {
        return Err(StoreError::Crypto);
    }
    let mut bytes = [0; NONCE_LEN];
    bytes[4..11].copy_from_slice(&index.to_be_bytes()[1..]);
    bytes[11] = u8::from(last);
    Ok(Nonce::assume_unique_for_key(bytes))
}
