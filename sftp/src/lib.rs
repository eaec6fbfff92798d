//! koerier's SFTP door. It shows every signed-in user the virtual tree of SPEC
//! section 4 (`/outbox`, `/sent`, `/inbox`) and translates each SFTP request
//! into calls on the core's [`gateway::Gateway`]; it checks no rule itself.
//!
//! - `ssh` — russh: algorithms, authentication through the core, only the
//!   `sftp` subsystem;
//! - `dispatch` — the SFTP protocol loop: concurrent requests, ordered per handle;
//! - `fs` — SFTP's requests on paths as calls of the core's tree
//!   (`gateway::tree`);
//! - `status` — the one mapping of core errors to SFTP statuses;
//! - [`hostkey`] — the Ed25519 host key in the data folder.

mod dispatch;
mod fs;
pub mod hostkey;
mod ssh;
mod status;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use gateway::admission::Ticket;
use gateway::proxied::TrustedProxies;
use gateway::{Admission, Gateway};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Sleep;

/// What the SFTP door needs to run.
#[derive(Debug, Clone)]
pub struct SftpSettings {
    /// Where to listen (`KOERIER_SFTP_LISTEN`).
    pub listen: SocketAddr,
    /// The host key (OpenSSH Ed25519).
    pub host_key_file: PathBuf,
    /// Make the host key when the file is missing (not in a cluster).
    pub make_missing_key: bool,
    /// A connection without traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Who may connect, and how long a connection has to sign in.
    pub admission: Admission,
    /// Load balancers whose PROXY header names the client.
    pub trusted_proxies: TrustedProxies,
}

/// Why the SFTP door could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The host key.
    #[error(transparent)]
    HostKey(#[from] hostkey::HostKeyError),
    /// The listening socket.
    #[error("cannot listen for SFTP on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// A started SFTP door: bound and accepting until stopped.
pub struct SftpServer {
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    gateway: Gateway,
    admission: Admission,
    proxies: TrustedProxies,
}

impl SftpServer {
    /// Load (or make) the host key and bind the listener.
    pub async fn bind(gateway: Gateway, settings: &SftpSettings) -> Result<SftpServer, StartError> {
        let key = if settings.make_missing_key {
            hostkey::load_or_generate(&settings.host_key_file)?
        } else {
            hostkey::load(&settings.host_key_file)?
        };
        let config = Arc::new(ssh::config(key, settings.idle_timeout));
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|source| StartError::Listen { addr: settings.listen, source })?;
        let (admission, proxies) = (settings.admission.clone(), settings.trusted_proxies.clone());
        Ok(SftpServer { listener, config, gateway, admission, proxies })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Accept connections until `stop` turns true; connections in progress
    /// are ended with the process.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = stop.changed() => return,
            };
            let (socket, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "SFTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if self.proxies.contains(peer.ip()) {
                // The client's address first, from its proxy's header; then admitted by it.
                let (config, gateway, admission) = (self.config.clone(), self.gateway.clone(), self.admission.clone());
                tokio::spawn(async move {
                    let mut socket = socket;
                    let client = match gateway::proxied::client_of(&mut socket, peer).await {
                        Ok(client) => client,
                        Err(e) => {
                            tracing::warn!(%peer, error = %e, "a trusted proxy's PROXY header was refused");
                            return;
                        }
                    };
                    if let Some(ticket) = admitted(&admission, &socket, client) {
                        tokio::time::sleep(ticket.wait()).await;
                        let socket = SignInDeadline::new(socket, ticket, admission.limits().sign_in_time);
                        connection(config, gateway, socket, client).await
                    }
                });
                continue;
            }
            let Some(ticket) = admitted(&self.admission, &socket, peer) else { continue };
            let sign_in_time = self.admission.limits().sign_in_time;
            let (config, gateway) = (self.config.clone(), self.gateway.clone());
            tokio::spawn(async move {
                tokio::time::sleep(ticket.wait()).await;
                let socket = SignInDeadline::new(socket, ticket, sign_in_time);
                connection(config, gateway, socket, peer).await
            });
        }
    }
}

/// A place for a connection from `client`, or a line that says why not.
fn admitted(admission: &Admission, socket: &TcpStream, client: SocketAddr) -> Option<Ticket> {
    match admission.admit_to_sign_in(client.ip()) {
        Ok(ticket) => Some(ticket),
        Err(why) => {
            // RFC 4253 4.2 lets a server send lines before its version;
            // OpenSSH shows them with -v. Never waits: a full buffer drops it.
            let _ = socket.try_write(format!("koerier: {why}\r\n").as_bytes());
            None
        }
    }
}

/// One connection: the SSH session, cut if it has not signed in within the
/// sign-in time counted from the accept.
async fn connection(config: Arc<russh::server::Config>, gateway: Gateway, socket: SignInDeadline, peer: SocketAddr) {
    let handler = ssh::Connection::new(gateway, Some(peer), socket.signed_in.clone());
    let session = match russh::server::run_stream(config, socket, handler).await {
        Ok(session) => session,
        Err(e) => {
            tracing::debug!(error = %e, %peer, "SSH handshake failed");
            return;
        }
    };
    if let Err(e) = session.await {
        tracing::debug!(error = %e, %peer, "SSH session ended");
    }
}

/// The socket of one SSH connection: holds the connection's place in the
/// [`Admission`] for as long as it lives (counted as signing in until it
/// has), and fails every read once the sign-in time is over without a
/// sign-in, which ends the session wherever it is (banner, key exchange or
/// authentication).
struct SignInDeadline {
    inner: TcpStream,
    signed_in: Arc<AtomicBool>,
    deadline: Option<Pin<Box<Sleep>>>,
    ticket: Ticket,
}

impl SignInDeadline {
    fn new(inner: TcpStream, ticket: Ticket, sign_in_time: Duration) -> SignInDeadline {
        let _ = inner.set_nodelay(true);
        SignInDeadline {
            inner,
            signed_in: Arc::new(AtomicBool::new(false)),
            deadline: Some(Box::pin(tokio::time::sleep(sign_in_time))),
            ticket,
        }
    }
}

impl AsyncRead for SignInDeadline {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = &mut this.deadline {
            if this.signed_in.load(Ordering::SeqCst) {
                this.deadline = None;
                this.ticket.signed_in();
            } else if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "sign-in time over")));
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SignInDeadline {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The door's reading of what a client sends on the `sftp` channel, opened
/// to the fuzz targets in `fuzz/` (feature `fuzzing`) and to nothing else:
/// each function is the session loop's own step, on bytes.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use bytes::Bytes;
    use russh_sftp::protocol::Packet;

    use crate::dispatch;

    /// The largest packet body the session loop reads.
    pub const MAX_BODY: usize = dispatch::MAX_PACKET as usize + 1024;

    /// A packet as the session loop takes it, once decoded.
    #[derive(Debug)]
    pub struct Decoded {
        /// The request id it is answered with; none for a packet a client
        /// does not send with one (INIT, or a server's answer sent back).
        pub id: Option<u32>,
        /// The paths it names, as the loop hands them to the tree.
        pub paths: Vec<String>,
        /// A `posix-rename@openssh.com`'s two paths; `Some(None)`: refused
        /// as a bad message.
        pub rename: Option<Option<(String, String)>>,
    }

    /// One packet framed off the front of `stream` (`None`: the stream
    /// ended; an error ends the session).
    pub async fn read_packet(stream: &mut &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
        dispatch::read_packet(stream).await.map(|body| body.map(Vec::from))
    }

    /// The request id an undecodable packet body is answered with.
    pub fn request_id(body: &[u8]) -> u32 {
        dispatch::request_id(&Bytes::copy_from_slice(body))
    }

    /// A packet body decoded as the session loop decodes it, or the id of
    /// the BAD_MESSAGE answer.
    pub fn decode(body: &[u8]) -> Result<Decoded, u32> {
        let mut bytes = Bytes::copy_from_slice(body);
        let id = dispatch::request_id(&bytes);
        let packet = Packet::try_from(&mut bytes).map_err(|_| id)?;
        let request = !matches!(
            packet,
            Packet::Init(_)
                | Packet::Version(_)
                | Packet::Status(_)
                | Packet::Handle(_)
                | Packet::Data(_)
                | Packet::Name(_)
                | Packet::Attrs(_)
                | Packet::ExtendedReply(_)
        );
        let mut decoded = Decoded { id: request.then(|| packet.get_request_id()), paths: Vec::new(), rename: None };
        match packet {
            Packet::Open(o) => decoded.paths.push(o.filename),
            Packet::OpenDir(o) => decoded.paths.push(o.path),
            Packet::Stat(s) => decoded.paths.push(s.path),
            Packet::Lstat(s) => decoded.paths.push(s.path),
            Packet::SetStat(s) => decoded.paths.push(s.path),
            Packet::RealPath(p) => decoded.paths.push(p.path),
            Packet::MkDir(m) => decoded.paths.push(m.path),
            Packet::RmDir(r) => decoded.paths.push(r.path),
            Packet::Remove(r) => decoded.paths.push(r.filename),
            Packet::Rename(r) => decoded.paths.extend([r.oldpath, r.newpath]),
            Packet::Extended(e) if e.request == dispatch::POSIX_RENAME => {
                decoded.rename = Some(dispatch::two_strings(&e.data));
            }
            _ => {}
        }
        Ok(decoded)
    }
}
