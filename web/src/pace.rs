//! Deadlines on what a client sends and reads, so that a connection that
//! trickles or stalls is ended instead of held: a request body must bring
//! at least the operator's minimum rate over every window the server spends
//! waiting for it ([`Paced`]), and a response the client stops reading is
//! ended after a while ([`WriteDeadline`]). Time the server itself spends
//! between reads (sealing a chunk, a database write) is not held against
//! the client.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request body was ended.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {min_rate} bytes a second over {window:?}")]
pub struct TooSlow {
    min_rate: u64,
    window: Duration,
}

/// A request body held to a minimum rate.
pub struct Paced<B> {
    inner: B,
    window: Duration,
    need: u64,
    min_rate: u64,
    /// Bytes received in this window.
    got: u64,
    /// Time spent waiting for the client in this window.
    waited: Duration,
    /// Since when the last poll has been waiting for the client.
    pending_since: Option<Instant>,
    timer: Pin<Box<Sleep>>,
}

impl<B> Paced<B> {
    /// `inner`, ended with [`TooSlow`] when a `window` of waiting brings
    /// less than `min_rate` bytes a second.
    pub fn new(inner: B, limits: &gateway::Limits) -> Paced<B> {
        Paced {
            inner,
            window: limits.body_window,
            need: limits.body_bytes_per_window(),
            min_rate: limits.body_min_rate,
            got: 0,
            waited: Duration::ZERO,
            pending_since: None,
            timer: Box::pin(tokio::time::sleep(limits.body_window)),
        }
    }
}

impl<B> Body for Paced<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let now = Instant::now();
        if let Some(since) = this.pending_since.take() {
            this.waited += now.saturating_duration_since(since);
        }
        if this.waited >= this.window {
            if this.got < this.need {
                return Poll::Ready(Some(Err(TooSlow { min_rate: this.min_rate, window: this.window }.into())));
            }
            this.waited = Duration::ZERO;
            this.got = 0;
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.got = this.got.saturating_add(data.len() as u64);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                this.pending_since = Some(now);
                this.timer.as_mut().reset(now + (this.window - this.waited));
                // Registers the wake-up at the window's end; it cannot be due yet.
                let _ = this.timer.as_mut().poll(cx);
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection whose writes fail once one has waited `stall` for the
/// client to read.
pub struct WriteDeadline<S> {
    inner: S,
    stall: Duration,
    blocked: Option<Pin<Box<Sleep>>>,
}

impl<S> WriteDeadline<S> {
    pub fn new(inner: S, stall: Duration) -> WriteDeadline<S> {
        WriteDeadline { inner, stall, blocked: None }
    }

    /// `Pending` from a write: start (or keep) the clock, and fail once it ran out.
    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let stall = self.stall;
        let timer = self.blocked.get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.stalled(cx).map(Err),
            done => {
                self.blocked = None;
                done
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.stalled(cx).map(Err),
            done => {
                self.blocked = None;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.stalled(cx).map(Err),
            done => {
                self.blocked = None;
                done
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn limits(min_rate: u64, window: Duration) -> gateway::Limits {
        gateway::Limits { body_min_rate: min_rate, body_window: window, ..gateway::Limits::default() }
    }

    /// A body fed through a channel, as a client sends it.
    fn channel() -> (tokio::sync::mpsc::Sender<Bytes>, impl Body<Data = Bytes, Error = BoxError> + Unpin) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, BoxError>(Frame::data(b)), rx))
        });
        (tx, http_body_util::StreamBody::new(Box::pin(stream)))
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_brings_nothing_ends_after_one_window() {
        let (_tx, body) = channel();
        let mut paced = Paced::new(body, &limits(1024, Duration::from_secs(30)));
        let started = Instant::now();
        let frame = paced.frame().await.expect("an answer");
        assert!(frame.is_err(), "ended as too slow");
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_is_ended_and_a_slow_steady_body_is_not() {
        // 100 bytes a second against a minimum of 1 KiB/s: ended at the first window.
        let (tx, body) = channel();
        tokio::spawn(async move {
            while tx.send(Bytes::from(vec![0u8; 100])).await.is_ok() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut paced = Paced::new(body, &limits(1024, Duration::from_secs(10)));
        let started = Instant::now();
        let mut got = 0;
        let ended = loop {
            match paced.frame().await {
                Some(Ok(f)) => got += f.into_data().map(|d| d.len()).unwrap_or(0),
                Some(Err(_)) => break started.elapsed(),
                None => panic!("the body does not end"),
            }
        };
        assert_eq!(ended, Duration::from_secs(10));
        assert!((1000..=1100).contains(&got), "{got}");

        // 2 KiB a second for a minute, then the end: all of it arrives.
        let (tx, body) = channel();
        tokio::spawn(async move {
            for _ in 0..60 {
                let _ = tx.send(Bytes::from(vec![0u8; 2048])).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut paced = Paced::new(body, &limits(1024, Duration::from_secs(10)));
        let mut got = 0;
        while let Some(frame) = paced.frame().await {
            got += frame.expect("never too slow").into_data().map(|d| d.len()).unwrap_or(0);
        }
        assert_eq!(got, 60 * 2048);
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_server_spends_is_not_held_against_the_client() {
        let (tx, body) = channel();
        tokio::spawn(async move {
            for _ in 0..3 {
                let _ = tx.send(Bytes::from(vec![0u8; 10])).await;
            }
        });
        let mut paced = Paced::new(body, &limits(1024, Duration::from_secs(10)));
        let mut got = 0;
        while let Some(frame) = paced.frame().await {
            got += frame.expect("not the client's fault").into_data().map(|d| d.len()).unwrap_or(0);
            // The server is busy for longer than a window between reads.
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        assert_eq!(got, 30);
    }
}
