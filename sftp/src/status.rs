//! The one place where the core's answers become SFTP statuses. A refusal
//! carries the core's own sentence, which clients such as OpenSSH `sftp` print.

use russh_sftp::protocol::StatusCode;

/// Why an SFTP request did not succeed: a status code and a sentence for the user.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    pub code: StatusCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into() }
    }

    /// The same answer for a path that does not exist and for one the caller
    /// may not know about.
    pub fn no_such_file() -> Refusal {
        Refusal::new(StatusCode::NoSuchFile, "no such file or folder")
    }

    pub fn unsupported(what: &str) -> Refusal {
        Refusal::new(StatusCode::OpUnsupported, format!("{what} is not supported here"))
    }

    pub fn failure(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::Failure, message)
    }
}

/// Map an error of the core to an SFTP status.
pub(crate) fn status_of(err: &gateway::Error) -> Refusal {
    use gateway::Error as E;
    match err {
        E::NotFound => Refusal::no_such_file(),
        E::Forbidden(_) | E::SecondStepDue | E::BadCredentials | E::RateLimited | E::Locked | E::Name(_) => {
            Refusal::new(StatusCode::PermissionDenied, err.to_string())
        }
        E::Corrupt | E::Internal(_) => Refusal::failure("the server could not do this; try again later"),
        E::ContentMismatch { .. }
        | E::WindowClosed { .. }
        | E::TooLarge { .. }
        | E::Expired
        | E::Aborted(_)
        | E::Invalid(_)
        | E::Field(_)
        | E::Conflict(_)
        | E::NotReady(_)
        | E::NoSpace => Refusal::failure(err.to_string()),
    }
}

impl From<gateway::Error> for Refusal {
    fn from(err: gateway::Error) -> Refusal {
        status_of(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_core_error_has_its_status_and_keeps_the_reason() {
        let cases: Vec<(gateway::Error, StatusCode, &str)> = vec![
            (gateway::Error::NotFound, StatusCode::NoSuchFile, "no such file"),
            (gateway::Error::Forbidden("this account is disabled"), StatusCode::PermissionDenied, "disabled"),
            (gateway::Error::BadCredentials, StatusCode::PermissionDenied, "credentials"),
            (gateway::Error::Expired, StatusCode::Failure, "expired"),
            (gateway::Error::NotReady(gateway::Unready::NoRecipient), StatusCode::Failure, "no recipient"),
            (
                gateway::Error::Field(gateway::FieldRefusal::TooLong {
                    field: gateway::Field::Subject,
                    max_chars: 500,
                }),
                StatusCode::Failure,
                "the subject may be at most 500 characters",
            ),
            (gateway::Error::Conflict("already".into()), StatusCode::Failure, "already"),
            (gateway::Error::TooLarge { limit: 10 }, StatusCode::Failure, "10 bytes"),
            (gateway::Error::NoSpace, StatusCode::Failure, "no room"),
            (gateway::Error::Internal("database error".into()), StatusCode::Failure, "try again later"),
        ];
        for (err, code, words) in cases {
            let r = status_of(&err);
            assert_eq!(r.code, code, "{err:?}");
            assert!(r.message.contains(words), "{err:?} gave {:?}", r.message);
        }
        // Internal details never reach the client.
        assert!(!status_of(&gateway::Error::Internal("database error".into())).message.contains("database"));
    }
}
