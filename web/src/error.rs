//! The one place where the core's errors become HTTP answers: each
//! `gateway::Error` a status and a page in the reader's language, with no
//! catch-all: a new kind of error must be placed here before it compiles. An unknown
//! link and an expired one get the very same page (no oracle).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use gateway::{Error, Language};

use crate::App;
use crate::pages::Frame;
use crate::reasons::reason;

/// The page for a refusal or failure of the core. Every kind has its
/// status; a refusal whose reason helps the reader (a rule of the message,
/// a typed field, a full disk) says it in the page's language.
pub fn page_for(app: &App, f: &Frame<'_>, err: &Error) -> Response {
    let t = f.t;
    let said = || reason(err, t.language);
    let (status, title, text) = match err {
        Error::NotFound | Error::Expired => (StatusCode::NOT_FOUND, t.gone_title, t.gone_text.to_owned()),
        Error::Aborted(_) => (StatusCode::GONE, t.aborted_title, t.aborted_text.to_owned()),
        Error::Locked => (StatusCode::FORBIDDEN, t.locked_title, t.locked_text.to_owned()),
        Error::RateLimited => (StatusCode::TOO_MANY_REQUESTS, t.refused_title, t.rate_limited.to_owned()),
        Error::BadCredentials | Error::Forbidden(_) => {
            (StatusCode::FORBIDDEN, t.refused_title, t.refused_text.to_owned())
        }
        Error::SecondStepDue => (StatusCode::FORBIDDEN, t.refused_title, t.staff.second_step_due.to_owned()),
        Error::Invalid(_) | Error::Field(_) | Error::Name(_) | Error::ContentMismatch { .. } => {
            (StatusCode::BAD_REQUEST, t.refused_title, said())
        }
        Error::Conflict(_) | Error::NotReady(_) | Error::WindowClosed { .. } => {
            (StatusCode::CONFLICT, t.refused_title, said())
        }
        Error::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, t.refused_title, said()),
        Error::NoSpace => (StatusCode::INSUFFICIENT_STORAGE, t.error_title, said()),
        Error::Corrupt | Error::Internal(_) => {
            tracing::error!(error = %err, "a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, t.error_title, t.error_text.to_owned())
        }
    };
    app.pages.refusal(status, f, title, &text)
}

/// Any other path.
pub async fn not_found(State(app): State<App>) -> Response {
    let f = Frame { switch_url: None, ..app.frame(Language::Nl) };
    app.pages.refusal(StatusCode::NOT_FOUND, &f, f.t.not_found_title, f.t.not_found_text)
}
