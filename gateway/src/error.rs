//! The core's errors, in domain terms. Each door maps these to its own protocol
//! (an SFTP status, an HTTP status with a body, a page) in one function of its own.

use crate::policy::name::NameRefusal;

/// Why an operation of the [`crate::Gateway`] did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist, or the caller may not know that it does.
    #[error("not found")]
    NotFound,
    /// The caller is known but may not do this.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Credentials did not match (deliberately vague).
    #[error("the credentials are not valid")]
    BadCredentials,
    /// Too many attempts: try again later.
    #[error("too many attempts; try again later")]
    RateLimited,
    /// The link or account is locked after too many wrong tries.
    #[error("locked after too many wrong attempts")]
    Locked,
    /// A document name breaks a rule of section 3.
    #[error("{0}")]
    Name(#[from] NameRefusal),
    /// The bytes of a document do not match its extension.
    #[error("{name} is {detected}, not {expected} as its extension says; a document must be what its name says")]
    ContentMismatch {
        /// The document's name.
        name: String,
        /// What the extension promised.
        expected: &'static str,
        /// What the bytes are.
        detected: &'static str,
    },
    /// The upload window of the message is over.
    #[error("the upload window of this message closed at {closed_at}; start a new message")]
    WindowClosed {
        /// When the window closed.
        closed_at: crate::Timestamp,
    },
    /// The message would grow past the size cap.
    #[error("the message would be larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The message expired and its documents are gone.
    #[error("this message has expired")]
    Expired,
    /// The message was aborted.
    #[error("this message was aborted: {0}")]
    Aborted(String),
    /// A name, address or value that the caller supplied is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (e.g. a draft already sent).
    #[error("{0}")]
    Conflict(String),
    /// A value typed into a field (a subject, a display name, a password)
    /// that the rules refuse.
    #[error("{0}")]
    Field(FieldRefusal),
    /// The admin requires a second sign-in step, and this account has
    /// none yet: the web pages open nothing but the one that sets it up.
    #[error("this account must set up its second sign-in step first")]
    SecondStepDue,
    /// The message cannot be sent yet; the reason is for the sender.
    #[error("cannot send: {0}")]
    NotReady(Unready),
    /// The data folder has no room for more documents now (it is full, or
    /// an upload would eat into the reserve kept for the database).
    #[error("the server has no room for more documents now; try again later")]
    NoSpace,
    /// A stored document failed its integrity check.
    #[error("stored data failed its integrity check")]
    Corrupt,
    /// Something on the server side failed; details are in the log.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A field of a form or of `message.txt`, as a refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Subject,
    Reference,
    Text,
    DisplayName,
    Password,
    TemplateName,
}

impl Field {
    /// The field's name in a sentence.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Subject => "the subject",
            Field::Reference => "the reference",
            Field::Text => "the text",
            Field::DisplayName => "the name",
            Field::Password => "a password",
            Field::TemplateName => "the template's name",
        }
    }
}

/// Why a field's value was refused; each door words it in its own way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldRefusal {
    #[error("{} may be at most {max_chars} characters", field.as_str())]
    TooLong { field: Field, max_chars: usize },
    #[error("{} needs at least {min_chars} characters", field.as_str())]
    TooShort { field: Field, min_chars: usize },
    #[error("{} holds a line break or another control character; leave it out", field.as_str())]
    ControlCharacter { field: Field },
    #[error(
        "{} is too easy to guess (a common password, a word or name with a few digits, or a pattern); \
         choose a longer one, for instance four words that have nothing to do with each other",
        field.as_str()
    )]
    Guessable { field: Field },
}

/// Why a message cannot be sent yet: what the sender still has to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unready {
    #[error("the document {name} has not been uploaded completely")]
    Unfinished { name: String },
    #[error(
        "the folder {folder} is sent as {zip}, and a document of that name is in the message too; rename one of them"
    )]
    FolderClash { folder: String, zip: String },
    #[error("the folder {folder} holds no files; put files in it or delete it")]
    EmptyFolder { folder: String },
    #[error("the temporary file {name} is still in the message; rename it to its final name or delete it")]
    Temporary { name: String },
    #[error("the document {name} is empty; upload its content")]
    Empty { name: String },
    #[error("{name}: {refusal}")]
    Refused { name: String, refusal: NameRefusal },
    #[error("the message has no documents; add at least one")]
    NoDocuments,
    #[error("the message has no recipient; fill in To in message.txt")]
    NoRecipient,
    #[error("{email} is not an address of the organisation; deliveries can only go to its staff")]
    NotOurs { email: String },
    #[error("{email} is outside the organisation: fill in Phone with their mobile number, the code goes there")]
    NoPhone { email: String },
    #[error("{masked} is not a mobile number; the code is sent by SMS")]
    NotMobile { masked: String },
    /// `message.txt` as written does not make an envelope (a drive's client
    /// wrote it; the reason names the line).
    #[error("{0}")]
    Envelope(String),
}

/// The result type of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A stable identifier of the kind of error, for frontends that translate messages.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound => "not-found",
            Error::Forbidden(_) => "forbidden",
            Error::BadCredentials => "bad-credentials",
            Error::RateLimited => "rate-limited",
            Error::Locked => "locked",
            Error::Name(refusal) => refusal.code(),
            Error::ContentMismatch { .. } => "content-mismatch",
            Error::WindowClosed { .. } => "window-closed",
            Error::TooLarge { .. } => "too-large",
            Error::Expired => "expired",
            Error::Aborted(_) => "aborted",
            Error::Invalid(_) => "invalid",
            Error::Conflict(_) => "conflict",
            Error::Field(_) => "invalid-field",
            Error::NotReady(_) => "not-ready",
            Error::SecondStepDue => "second-step-due",
            Error::NoSpace => "no-space",
            Error::Corrupt => "corrupt",
            Error::Internal(_) => "internal",
        }
    }

    pub(crate) fn internal(context: &str, err: impl std::fmt::Display) -> Error {
        tracing::error!(%err, "{context}");
        Error::Internal(context.to_owned())
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Self {
        match err {
            diesel::result::Error::NotFound => Error::NotFound,
            other => Error::internal("database error", other),
        }
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match err {
            StoreError::NotFound => Error::NotFound,
            StoreError::Corrupt(what) => {
                tracing::error!(what, "stored blob failed authentication");
                Error::Corrupt
            }
            StoreError::InvalidRange { start, end, size } => {
                Error::Invalid(format!("the range {start}-{end} is outside the document ({size} bytes)"))
            }
            StoreError::Interrupted => {
                Error::Conflict("an earlier write of this upload failed; resume the upload to continue".into())
            }
            StoreError::Io(e) if no_space(&e) => {
                tracing::warn!(error = %e, "an upload stopped: the data folder has no room");
                Error::NoSpace
            }
            StoreError::Busy => Error::Conflict(
                "this document is being uploaded over another connection; try again when that upload has ended".into(),
            ),
            other => Error::internal("document store error", other),
        }
    }
}

impl From<crate::store::InvalidBlobId> for Error {
    fn from(_: crate::store::InvalidBlobId) -> Self {
        Error::Internal("a stored document id is not a blob id".into())
    }
}

/// Whether an I/O error means the disk (or the quota) is full.
fn no_space(err: &std::io::Error) -> bool {
    matches!(err.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}
