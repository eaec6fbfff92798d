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

use super::chunk::{CHUNK_LEN, ChunkCipher, final_chunk, record_len, record_offset};
use super::local::BlobFile;
use super::{StoreError, joined};

/// Chunks read and opened per blocking task.
const BATCH_CHUNKS: u64 = 16;
/// From an object store, per request: 4 MiB, so a download is not bound by
/// the store's latency per request.
const OBJECT_BATCH_CHUNKS: u64 = 64;
/// Batches in flight at once: enough that a blocking thread finishing one
/// finds the next already queued, so both cores stay busy.
const READ_AHEAD: usize = 3;

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
    /// Chunks per batch: [`BATCH_CHUNKS`], or [`OBJECT_BATCH_CHUNKS`].
    batch: u64,
    in_flight: VecDeque<JoinHandle<Result<Vec<Vec<u8>>, StoreError>>>,
    /// Pieces of the last finished batch not yet handed out.
    ready: std::vec::IntoIter<Vec<u8>>,
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
        let batch = if matches!(file, BlobFile::Object(_)) { OBJECT_BATCH_CHUNKS } else { BATCH_CHUNKS };
        Self {
            file,
            cipher,
            size,
            range,
            next,
            end,
            batch,
            in_flight: VecDeque::with_capacity(READ_AHEAD),
            ready: Vec::new().into_iter(),
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
            if let Some(piece) = self.ready.next() {
                return Poll::Ready(Ok(Some(piece)));
            }
            self.schedule();
            let Some(batch) = self.in_flight.front_mut() else {
                return Poll::Ready(Ok(None));
            };
            let outcome = ready!(Pin::new(batch).poll(cx));
            self.in_flight.pop_front();
            match joined(outcome).and_then(|pieces| pieces) {
                Ok(pieces) => {
                    self.ready = pieces.into_iter();
                    // Keep the pipeline full while the caller uses the pieces.
                    self.schedule();
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
            let chunks = self.next..(self.next + self.batch).min(self.end);
            self.next = chunks.end;
            let (file, cipher) = (self.file.clone(), Arc::clone(&self.cipher));
            let (size, range) = (self.size, self.range.clone());
            self.in_flight.push_back(spawn_blocking(move || read_batch(&file, &cipher, size, range, chunks)));
        }
    }
}

/// Reads and opens `chunks` of a document of `size` bytes and returns, one
/// piece per chunk, the parts of their plaintext that lie inside `range`.
///
/// Each record is read straight into the buffer that becomes its piece and
/// opened in place there, so the plaintext is never copied again.
fn read_batch(
    file: &BlobFile,
    cipher: &ChunkCipher,
    size: u64,
    range: Range<u64>,
    chunks: Range<u64>,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let last = final_chunk(size);
    let short = |err: io::Error| {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            StoreError::Corrupt("blob is shorter than its recorded size".to_owned())
        } else {
            StoreError::Io(err)
        }
    };
    // From an object store the batch's records come in one request.
    let span = match (file, chunks.clone().last()) {
        (BlobFile::Object(_), Some(end)) => {
            let start = record_offset(chunks.start);
            let len = record_offset(end) + record_len(end, size) as u64 - start;
            Some((start, file.read_at(start, usize::try_from(len).unwrap_or(usize::MAX)).map_err(short)?))
        }
        _ => None,
    };
    let mut pieces = Vec::with_capacity(chunks.clone().count());
    for index in chunks {
        let (at, len) = (record_offset(index), record_len(index, size));
        let mut piece = match &span {
            Some((start, bytes)) => {
                let from = usize::try_from(at - start).unwrap_or(usize::MAX);
                bytes
                    .get(from..from.saturating_add(len))
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| short(io::ErrorKind::UnexpectedEof.into()))?
            }
            None => file.read_at(at, len).map_err(short)?,
        };
        let opened = cipher.open_in_place(index, index == last, &mut piece)?;
        // Cut the piece down to the range; only the first and last chunk
        // of a range can stick out of it.
        let base = index * CHUNK_LEN as u64;
        let clamp = |offset: u64| (offset.saturating_sub(base) as usize).min(opened);
        piece.truncate(clamp(range.end));
        piece.drain(..clamp(range.start));
        if !piece.is_empty() {
            pieces.push(piece);
        }
    }
    Ok(pieces)
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
