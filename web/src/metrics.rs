//! `/healthz` (the process answers), `/readyz` (the database answers and the
//! data folder takes a write) and `/metrics` in the Prometheus text format,
//! written by hand: four counters and a few gauges need no metrics library.

use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::App;

/// The counters of this process since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: AtomicU64,
    downloads: AtomicU64,
    bytes: AtomicU64,
    failures: AtomicU64,
}

impl Metrics {
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub fn download(&self) {
        self.downloads.fetch_add(1, Ordering::Relaxed);
    }
    pub fn bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
    pub fn failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the database answers and the data folder takes a write.
pub async fn readyz(State(app): State<App>) -> Response {
    if let Err(e) = app.gateway.outbox_counts().await {
        tracing::warn!(error = %e, "not ready: the database does not answer");
        return (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer\n").into_response();
    }
    match app.gateway.storage_space().await {
        Ok(space) if space.writable => (StatusCode::OK, "ready\n").into_response(),
        Ok(space) => {
            tracing::warn!(free = space.free, "not ready: the data folder cannot be written");
            let why = format!("the data folder cannot be written ({} bytes free)\n", space.free);
            (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the data folder cannot be read");
            (StatusCode::SERVICE_UNAVAILABLE, "the data folder cannot be read\n").into_response()
        }
    }
}

/// Whether this request may read the metrics: with the configured bearer
/// token, or without one from this machine only. Anyone else is told the
/// page does not exist.
fn may_read(app: &App, peer: SocketAddr, headers: &HeaderMap) -> bool {
    match &app.settings.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| crate::session::constant_time_eq(given.trim().as_bytes(), token.as_bytes())),
        None => peer.ip().to_canonical().is_loopback(),
    }
}

pub async fn exposition(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !may_read(&app, peer, &headers) {
        return crate::error::not_found(State(app)).await;
    }
    let m = &app.metrics;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, value: u64| {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");
    };
    counter("koerier_web_requests_total", "HTTP requests to the web front.", m.requests.load(Ordering::Relaxed));
    counter("koerier_web_downloads_total", "Documents and zips begun.", m.downloads.load(Ordering::Relaxed));
    counter("koerier_web_download_bytes_total", "Document bytes sent.", m.bytes.load(Ordering::Relaxed));
    counter("koerier_web_failures_total", "Responses with a server error.", m.failures.load(Ordering::Relaxed));
    match app.gateway.outbox_counts().await {
        Ok(c) => {
            let _ = write!(
                out,
                "# HELP koerier_outbox_pending Mail and SMS waiting for delivery.\n\
                 # TYPE koerier_outbox_pending gauge\nkoerier_outbox_pending {}\n\
                 # HELP koerier_outbox_failed Mail and SMS given up.\n\
                 # TYPE koerier_outbox_failed gauge\nkoerier_outbox_failed {}\n",
                c.pending, c.failed
            );
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count the outbox"),
    }
    match app.gateway.storage_space().await {
        Ok(space) => {
            let _ = write!(
                out,
                "# HELP koerier_storage_free_bytes Bytes free in the data folder.\n\
                 # TYPE koerier_storage_free_bytes gauge\nkoerier_storage_free_bytes {}\n\
                 # HELP koerier_storage_reserve_bytes Bytes uploads leave free for the database.\n\
                 # TYPE koerier_storage_reserve_bytes gauge\nkoerier_storage_reserve_bytes {}\n\
                 # HELP koerier_storage_writable Whether the data folder took a write (1) or not (0).\n\
                 # TYPE koerier_storage_writable gauge\nkoerier_storage_writable {}\n",
                space.free,
                app.gateway.settings().limits.free_space_reserve,
                u8::from(space.writable)
            );
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot see the data folder's space"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}
