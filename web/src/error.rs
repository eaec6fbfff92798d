//! The one place where the core's errors become HTTP answers: each
//! `gateway::Error` a status and a page in the reader's language. An unknown
//! link and an expired one get the very same page (no oracle).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use gateway::{Error, Language};

use crate::App;
use crate::pages::Frame;

/// The page for a refusal or failure of the core.
pub fn page_for(app: &App, f: &Frame<'_>, err: &Error) -> Response {
    let t = f.t;
    let (status, title, text) = match err {
        Error::NotFound | Error::Expired => (StatusCode::NOT_FOUND, t.gone_title, t.gone_text),
        Error::Aborted(_) => (StatusCode::GONE, t.aborted_title, t.aborted_text),
        Error::Locked => (StatusCode::FORBIDDEN, t.locked_title, t.locked_text),
        Error::RateLimited => (StatusCode::TOO_MANY_REQUESTS, t.refused_title, t.rate_limited),
        Error::BadCredentials | Error::Forbidden(_) => (StatusCode::FORBIDDEN, t.refused_title, t.refused_text),
        Error::Invalid(_) | Error::Field(_) | Error::Name(_) | Error::Conflict(_) => {
            (StatusCode::BAD_REQUEST, t.refused_title, t.refused_text)
        }
        Error::Corrupt | Error::Internal(_) => {
            tracing::error!(error = %err, "a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, t.error_title, t.error_text)
        }
        other => {
            tracing::warn!(error = %other, "unexpected refusal on the web front");
            (StatusCode::BAD_REQUEST, t.refused_title, t.refused_text)
        }
    };
    app.pages.refusal(status, f, title, text)
}

/// Any other path.
pub async fn not_found(State(app): State<App>) -> Response {
    let f = Frame { switch_url: None, ..app.frame(Language::Nl) };
    app.pages.refusal(StatusCode::NOT_FOUND, &f, f.t.not_found_title, f.t.not_found_text)
}
