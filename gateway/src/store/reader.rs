//! Reading a committed blob: random access to a plaintext range, with a
//! couple of batches of chunks read and decrypted ahead on the blocking
//! pool so that decryption uses both cores and overlaps the consumer.

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::task::{JoinHandle, spawn_blocking};

use super::chunk::{CHUNK_LEN, ChunkCipher, TAG_LEN, final_chunk, record_len, record_offset};
use super::local::BlobFile;
use super::{StoreError, joined};

/// Chunks read and opened per blocking task.
const BATCH_CHUNKS: u64 = 16;
/// Batches in flight at once: enough that a blocking thread finishing one
/// finds the next already queued, so both cores stay busy.
const READ_AHEAD: usize = 4;

/// A batch task's outcome, with its record buffer handed back for reuse.
struct Batch {
    piece: Result<Vec<u8>, StoreError>,
    records: Vec<u8>,
}

/// Plaintext of a range of a committed blob, in order. Every byte handed
/// out has been authenticated; a tampered, truncated or reordered blob, or
/// the wrong key, yields [`StoreError::Corrupt`].
pub struct BlobReader {
    file: BlobFile,
    cipher: Arc<ChunkCipher>,
    size: u64,
    range: Range<u64>,
    /// Next chunk to schedule, and one past the last chunk to read.
    next: u64,
    end: u64,
    in_flight: VecDeque<JoinHandle<Batch>>,
    /// Record buffers of finished batches, reused so they need no zeroing.
    spare: Vec<Vec<u8>>,
    failed: bool,
    /// A piece partly handed out through [`AsyncRead`].
    unread: Vec<u8>,
    unread_pos: usize,
}

impl BlobReader {
    pub(super) fn new(file: BlobFile, cipher: Arc<ChunkCipher>, size: u64, range: Range<u64>) -> Self {
        let chunk = CHUNK_LEN as u64;
        // A read reaching the end of the document also opens the final
        // record, even when it holds no plaintext: that is what proves the
        // document was not cut short at a chunk boundary.
        let (next, end) = if range.end == size {
            (range.start / chunk, final_chunk(size) + 1)
        } else if range.is_empty() {
            (0, 0)
        } else {
            (range.start / chunk, (range.end - 1) / chunk + 1)
        };
        Self {
            file,
            cipher,
            size,
            range,
            next,
            end,
            in_flight: VecDeque::with_capacity(READ_AHEAD),
            spare: Vec::with_capacity(READ_AHEAD),
            failed: false,
            unread: Vec::new(),
            unread_pos: 0,
        }
    }

    /// The next piece of plaintext, or `None` at the end of the range.
    /// Pieces are never empty.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, StoreError> {
        if self.unread_pos < self.unread.len() {
            let rest = self.unread.split_off(self.unread_pos);
            self.unread.clear();
            self.unread_pos = 0;
            return Ok(Some(rest));
        }
        poll_fn(|cx| self.poll_piece(cx)).await
    }

    fn poll_piece(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Vec<u8>>, StoreError>> {
        if self.failed {
            return Poll::Ready(Err(StoreError::Io(io::Error::other("blob reader already failed"))));
        }
        loop {
            self.schedule();
            let Some(batch) = self.in_flight.front_mut() else {
                return Poll::Ready(Ok(None));
            };
            let outcome = ready!(Pin::new(batch).poll(cx));
            self.in_flight.pop_front();
            let piece = joined(outcome).and_then(|batch| {
                self.spare.push(batch.records);
                batch.piece
            });
            match piece {
                // Only the final record of a document can open to nothing.
                Ok(piece) if piece.is_empty() => continue,
                Ok(piece) => {
                    // Keep the pipeline full while the caller uses the piece.
                    self.schedule();
                    return Poll::Ready(Ok(Some(piece)));
                }
                Err(err) => {
                    self.failed = true;
                    self.in_flight.clear();
                    return Poll::Ready(Err(err));
                }
            }
        }
    }

    fn schedule(&mut self) {
        while self.in_flight.len() < READ_AHEAD && self.next < self.end {
            let chunks = self.next..(self.next + BATCH_CHUNKS).min(self.end);
            self.next = chunks.end;
            let (file, cipher) = (self.file.clone(), Arc::clone(&self.cipher));
            let (size, range) = (self.size, self.range.clone());
            let mut records = self.spare.pop().unwrap_or_default();
            self.in_flight.push_back(spawn_blocking(move || {
                let piece = read_batch(&file, &cipher, size, range, chunks, &mut records);
                Batch { piece, records }
            }));
        }
    }
}

/// Reads and opens `chunks` of a document of `size` bytes and returns the
/// part of their plaintext that lies inside `range`. `records` is scratch
/// space for the sealed bytes.
fn read_batch(
    file: &BlobFile,
    cipher: &ChunkCipher,
    size: u64,
    range: Range<u64>,
    chunks: Range<u64>,
    records: &mut Vec<u8>,
) -> Result<Vec<u8>, StoreError> {
    let last = chunks.end - 1;
    let start = record_offset(chunks.start);
    let stop = record_offset(last) + record_len(last, size) as u64;
    // At most BATCH_CHUNKS records, so this always fits.
    let len = (stop - start) as usize;
    if records.len() < len {
        records.resize(len, 0);
    }
    let records = &mut records[..len];
    file.read_exact_at(records, start).map_err(|err| {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            StoreError::Corrupt("blob is shorter than its recorded size".to_owned())
        } else {
            StoreError::Io(err)
        }
    })?;
    let count = (chunks.end - chunks.start) as usize;
    let mut plain = Vec::with_capacity(len - count * TAG_LEN);
    cipher.open_records(chunks.start, size, records, &mut plain)?;
    // `plain` starts at the first byte of chunk `chunks.start`.
    let base = chunks.start * CHUNK_LEN as u64;
    let opened = plain.len();
    let clamp = |offset: u64| (offset.saturating_sub(base) as usize).min(opened);
    plain.truncate(clamp(range.end));
    plain.drain(..clamp(range.start));
    Ok(plain)
}

impl AsyncRead for BlobReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.unread_pos == this.unread.len() {
            match ready!(this.poll_piece(cx)) {
                Ok(Some(piece)) => (this.unread, this.unread_pos) = (piece, 0),
                Ok(None) => return Poll::Ready(Ok(())),
                Err(err) => return Poll::Ready(Err(err.into())),
            }
        }
        let available = &this.unread[this.unread_pos..];
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        this.unread_pos += n;
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobReader")
            .field("range", &self.range)
            .field("next_chunk", &self.next)
            .field("end_chunk", &self.end)
            .finish_non_exhaustive()
    }
}
