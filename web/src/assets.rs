//! The files every page may load, built into the binary: the style sheet
//! the icon, and the upload script with its styles (the CSP allows no inline script
//! or style, and nothing from elsewhere); and the operator's logo, read once at start.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::App;

/// The operator's logo (`[branding] logo_file`), served at `/static/logo`
/// for the pages and as the mails' image.
#[derive(Clone, Debug)]
pub struct Logo {
    content_type: &'static str,
    bytes: Arc<[u8]>,
}

/// A logo is a small picture; a larger file is a mistake in the setting.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

impl Logo {
    /// Read a PNG, JPEG, WebP or SVG file, recognised by its first bytes.
    pub fn read(path: &Path) -> Result<Logo, String> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(format!("{shown} is {} bytes; a logo may be {MAX_LOGO_BYTES} at most", bytes.len()));
        }
        let head = &bytes[..bytes.len().min(512)];
        let content_type = if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
            "image/jpeg"
        } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
            "image/webp"
        } else if String::from_utf8_lossy(head).contains("<svg") {
            "image/svg+xml"
        } else {
            return Err(format!("{shown} is not a PNG, JPEG, WebP or SVG picture"));
        };
        Ok(Logo { content_type, bytes: bytes.into() })
    }
}

const STYLE: &str = include_str!("../templates/koerier.css");
const UPLOAD_SCRIPT: &str = include_str!("../assets/upload.js");
const UPLOAD_STYLE: &str = include_str!("../assets/upload.css");
const ICON: &str = include_str!("../assets/icon.svg");

pub fn routes() -> Router<App> {
    Router::new()
        .route("/static/koerier.css", get(|| asset("text/css; charset=utf-8", STYLE)))
        .route("/static/upload.css", get(|| asset("text/css; charset=utf-8", UPLOAD_STYLE)))
        .route("/static/upload.js", get(|| asset("text/javascript; charset=utf-8", UPLOAD_SCRIPT)))
        .route("/static/icon.svg", get(|| asset("image/svg+xml", ICON)))
        .route("/favicon.ico", get(|| asset("image/svg+xml", ICON)))
        .route("/static/logo", get(logo))
}

/// The logo may be shown by a mail reader at another origin; the page CSP
/// still applies when it is opened on its own, so an SVG runs no script.
async fn logo(State(app): State<App>) -> Response {
    let Some(logo) = &app.settings.logo else { return StatusCode::NOT_FOUND.into_response() };
    let headers = [
        (header::CONTENT_TYPE, logo.content_type),
        (header::CACHE_CONTROL, "public, max-age=3600"),
        (HeaderName::from_static("cross-origin-resource-policy"), "cross-origin"),
    ];
    (headers, axum::body::Bytes::from_owner(logo.bytes.clone())).into_response()
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
