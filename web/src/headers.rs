//! The security headers of every page and download (A11), and the request
//! counter of `/metrics`. HSTS is added by the listener to every response.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::App;

/// Nothing from elsewhere, scripts and requests only from this site's own
/// files (no inline script or style), no framing, forms only to this site.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub async fn secure(State(app): State<App>, request: Request, next: Next) -> Response {
    app.metrics.request();
    let mut response = next.run(request).await;
    if response.status().is_server_error() {
        app.metrics.failure();
    }
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    let corp = HeaderName::from_static("cross-origin-resource-policy");
    if !h.contains_key(&corp) {
        set(h, corp, "same-origin");
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}
