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

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gateway::Gateway;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use ssh::LOGIN_GRACE;

/// What the SFTP door needs to run.
#[derive(Debug, Clone)]
pub struct SftpSettings {
    /// Where to listen (`KOERIER_SFTP_LISTEN`).
    pub listen: SocketAddr,
    /// The data folder: the host key is kept under it.
    pub data_dir: PathBuf,
    /// A connection without traffic for this long is closed.
    pub idle_timeout: Duration,
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
}

impl SftpServer {
    /// Load (or make) the host key and bind the listener.
    pub async fn bind(gateway: Gateway, settings: &SftpSettings) -> Result<SftpServer, StartError> {
        let key = hostkey::load_or_generate(&settings.data_dir)?;
        let config = Arc::new(ssh::config(key, settings.idle_timeout));
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|source| StartError::Listen { addr: settings.listen, source })?;
        Ok(SftpServer { listener, config, gateway })
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
            let (config, gateway) = (self.config.clone(), self.gateway.clone());
            tokio::spawn(async move { connection(config, gateway, socket, peer).await });
        }
    }
}

/// One connection: the SSH session, ended if it has not authenticated within
/// the login grace time.
async fn connection(
    config: Arc<russh::server::Config>,
    gateway: Gateway,
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
) {
    let _ = socket.set_nodelay(true);
    let authenticated = Arc::new(AtomicBool::new(false));
    let handler = ssh::Connection::new(gateway, Some(peer), authenticated.clone());
    let started = tokio::time::timeout(LOGIN_GRACE, russh::server::run_stream(config, socket, handler)).await;
    let session = match started {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, %peer, "SSH handshake failed");
            return;
        }
        Err(_) => return,
    };
    let handle = session.handle();
    let grace = tokio::spawn(async move {
        tokio::time::sleep(LOGIN_GRACE).await;
        if !authenticated.load(Ordering::SeqCst) {
            let _ =
                handle.disconnect(russh::Disconnect::ByApplication, "login grace time over".into(), "en".into()).await;
        }
    });
    if let Err(e) = session.await {
        tracing::debug!(error = %e, %peer, "SSH session ended");
    }
    grace.abort();
}
