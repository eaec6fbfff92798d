//! The files every page may load, built into the binary: the style sheet
//! the icon, and the upload script with its styles (the CSP allows no inline script
//! or style, and nothing from elsewhere).

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::App;

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
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
