//! The errors of delivery. A setting or template that is wrong stops the start;
//! what goes wrong while delivering one message is a [`gateway::outbox::Failure`]
//! of that message, kept on its row.

/// Why delivery could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A setting is wrong; the message names it.
    #[error("{0}")]
    Setting(String),
    /// A template does not compile or render.
    #[error("template {name}: {reason}")]
    Template {
        /// Which template (`nl/transfer-notice.html`).
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The core refused or failed.
    #[error(transparent)]
    Core(#[from] gateway::Error),
}

/// The result type of delivery.
pub type Result<T, E = NotifyError> = std::result::Result<T, E>;

impl NotifyError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> NotifyError {
        NotifyError::Io { what: what.into(), source }
    }

    pub(crate) fn template(name: &str, err: impl std::fmt::Display) -> NotifyError {
        NotifyError::Template { name: name.to_owned(), reason: err.to_string() }
    }
}
