//! The one place where the core's errors become WebDAV answers: a status and
//! a readable body naming the rule, and the coarser `FsError` dav-server needs
//! while it runs the method (the body is put back afterwards, see `lib.rs`).

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use dav_server::fs::FsError;

/// The status and body for a core error.
pub fn status_of(err: &gateway::Error) -> StatusCode {
    use gateway::Error as E;
    match err {
        E::NotFound => StatusCode::NOT_FOUND,
        E::Forbidden(_) | E::SecondStepDue | E::Name(_) | E::ContentMismatch { .. } | E::WindowClosed { .. } => {
            StatusCode::FORBIDDEN
        }
        E::BadCredentials => StatusCode::UNAUTHORIZED,
        E::RateLimited | E::Locked => StatusCode::TOO_MANY_REQUESTS,
        E::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        E::Expired | E::Aborted(_) => StatusCode::GONE,
        E::Invalid(_) | E::Field(_) => StatusCode::BAD_REQUEST,
        E::Conflict(_) | E::NotReady(_) => StatusCode::CONFLICT,
        E::NoSpace => StatusCode::INSUFFICIENT_STORAGE,
        E::Corrupt | E::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The text a client shows: the rule, in the core's words.
pub fn body_of(err: &gateway::Error) -> String {
    match err {
        gateway::Error::Internal(_) | gateway::Error::Corrupt => {
            "something went wrong on the server; try again later\n".to_owned()
        }
        other => format!("{other}\n"),
    }
}

/// dav-server's view of a core error.
pub fn fs_error(err: &gateway::Error) -> FsError {
    match status_of(err) {
        StatusCode::NOT_FOUND => FsError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => FsError::TooLarge,
        StatusCode::INSUFFICIENT_STORAGE => FsError::InsufficientStorage,
        StatusCode::INTERNAL_SERVER_ERROR => FsError::GeneralFailure,
        StatusCode::CONFLICT if matches!(err, gateway::Error::Conflict(_)) => FsError::Exists,
        _ => FsError::Forbidden,
    }
}

/// The first core error of one request, kept so the answer can carry its
/// reason even though dav-server only passes a status along.
#[derive(Debug, Clone, Default)]
pub struct Refusal(Arc<Mutex<Option<(StatusCode, String)>>>);

impl Refusal {
    /// Keep this error (the first one wins) and give dav-server its code.
    pub fn keep(&self, err: gateway::Error) -> FsError {
        let fs = fs_error(&err);
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() && !matches!(err, gateway::Error::NotFound) {
            *slot = Some((status_of(&err), body_of(&err)));
        }
        fs
    }

    /// What was kept, if anything.
    pub fn take(&self) -> Option<(StatusCode, String)> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_has_a_status_and_internal_details_stay_inside() {
        let cases = [
            (gateway::Error::NotFound, StatusCode::NOT_FOUND),
            (gateway::Error::Forbidden("x"), StatusCode::FORBIDDEN),
            (gateway::Error::TooLarge { limit: 1 }, StatusCode::PAYLOAD_TOO_LARGE),
            (gateway::Error::NoSpace, StatusCode::INSUFFICIENT_STORAGE),
            (gateway::Error::NotReady(gateway::Unready::NoRecipient), StatusCode::CONFLICT),
            (gateway::Error::Expired, StatusCode::GONE),
            (gateway::Error::RateLimited, StatusCode::TOO_MANY_REQUESTS),
            (gateway::Error::Internal("database password x".into()), StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (err, status) in cases {
            assert_eq!(status_of(&err), status, "{err:?}");
        }
        assert!(!body_of(&gateway::Error::Internal("secret detail".into())).contains("secret"));
        assert!(body_of(&gateway::Error::NotReady(gateway::Unready::NoRecipient)).contains("no recipient"));
    }

    #[test]
    fn the_first_refusal_is_kept() {
        let r = Refusal::default();
        assert_eq!(r.keep(gateway::Error::Forbidden("first")), FsError::Forbidden);
        r.keep(gateway::Error::Forbidden("second"));
        let kept = r.take();
        assert_eq!(kept.map(|(s, b)| (s, b.contains("first"))), Some((StatusCode::FORBIDDEN, true)));
    }
}
