//! The HTTPS listener shared by the web front and WebDAV: TCP, then TLS, then
//! HTTP/1.1 through hyper, each connection its own task. The peer's address
//! reaches handlers as `ConnectInfo<SocketAddr>`; every response, whichever
//! router made it, carries HSTS.
//!
//! Every accept asks the core's [`Admission`] first: an address past its
//! burst of new connections waits its turn, one past that or a listener
//! that is full is closed at once, and an address over its share of
//! connections is answered `503` with the reason.
//! Request bodies are paced and stalled responses ended (`pace`); the wait
//! for a request's headers, between requests too, is `request_idle`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use gateway::proxied::TrustedProxies;
use gateway::{Admission, Crowded};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::pace::{Paced, WriteDeadline};

/// HSTS for a year, subdomains included (NCSC, A11).
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);
/// What one read from a connection's socket may take in. rustls asks for at
/// most 4 KiB at a time, a system call each without this buffer: a 1 GiB
/// upload made a quarter of a million of them.
const SOCKET_READ_BUFFER: usize = 64 << 10;
/// How long a refused address is asked to wait before it tries again.
const RETRY_AFTER_SECS: &str = "10";

/// Serve `app` over TLS on `listener` until `shutdown` completes; then stop
/// accepting and give open connections a short while to finish.
pub async fn serve_https(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    admission: Admission,
    proxies: Arc<TrustedProxies>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let limits = Arc::new(admission.limits().clone());
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let proxied = proxies.contains(peer.ip());
        let ticket = if proxied {
            // Admitted by the client's address, once its proxy has named it.
            None
        } else {
            match admission.admit(peer.ip()) {
                Ok(ticket) => Some(ticket),
                // Answered below, so that a browser behind a crowded address says why.
                Err(Crowded::AddressFull) => None,
                Err(_) => continue,
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let limits = limits.clone();
        let watcher = graceful.watcher();
        let (admission, proxies) = (admission.clone(), proxies.clone());
        tokio::spawn(async move {
            let mut tcp = tcp;
            let (peer, ticket) = if proxied {
                let client = match gateway::proxied::client_of(&mut tcp, peer).await {
                    Ok(client) => client,
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "a trusted proxy's PROXY header was refused");
                        return;
                    }
                };
                match admission.admit(client.ip()) {
                    Ok(ticket) => (client, Some(ticket)),
                    Err(Crowded::AddressFull) => (client, None),
                    Err(_) => return,
                }
            } else {
                (peer, ticket)
            };
            let tcp = tokio::io::BufReader::with_capacity(SOCKET_READ_BUFFER, tcp);
            if let Some(ticket) = &ticket {
                tokio::time::sleep(ticket.wait()).await;
            }
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let tls = WriteDeadline::new(tls, limits.body_window * 2);
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(limits.request_idle);
            let ended = match ticket {
                Some(_held) => {
                    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                        // Behind a trusted HTTP proxy the client is in X-Forwarded-For.
                        let forwarded = req.headers().get_all("x-forwarded-for");
                        let client =
                            proxies.forwarded_client(peer.ip(), forwarded.iter().filter_map(|v| v.to_str().ok()));
                        req.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, peer.port())));
                        let req = req.map(|body| axum::body::Body::new(Paced::new(body, &limits)));
                        let app = app.clone();
                        async move {
                            let mut response = app.oneshot(req).await?;
                            response
                                .headers_mut()
                                .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    watcher.watch(http.serve_connection(TokioIo::new(tls), service)).await
                }
                None => {
                    let service = hyper::service::service_fn(|_: Request<Incoming>| async {
                        Ok::<_, std::convert::Infallible>(crowded(Crowded::AddressFull))
                    });
                    watcher.watch(http.keep_alive(false).serve_connection(TokioIo::new(tls), service)).await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("open HTTPS connections did not finish in time");
    }
    Ok(())
}

/// The answer on a connection that was not admitted: `503`, the reason, and
/// when to try again.
fn crowded(why: Crowded) -> Response<String> {
    let mut response = Response::new(format!("{why}\n"));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    response
}
