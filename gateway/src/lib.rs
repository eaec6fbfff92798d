//! koerier's core. Every door (SFTP, WebDAV, the web, the command line) calls
//! the operations of one [`Gateway`]; every rule of the service is checked
//! inside them, once, in one order. The core knows nothing of the protocols.
//!
//! The rules, in the order they are checked when a document is added:
//! who may touch the draft, the name (tricks, then the extension allowlist on
//! the final name), no folders, duplicates, the upload window from the first
//! byte, the size cap, and when complete the content check. When a draft is
//! sent: the window, complete documents, one recipient, the recipient's kind
//! (staff-only for partners and the public; the requester for a request
//! answer), a mobile number for a recipient outside the affiliated domains.

pub mod account;
pub mod address;
pub mod addressbook;
pub mod admission;
pub mod app_password;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod credential;
pub mod crypto;
pub mod db;
pub mod delivery;
pub mod download;
pub mod draft;
pub mod envelope;
pub mod error;
pub mod first_run;
pub mod home;
pub mod key_check;
pub mod lifecycle;
pub mod link;
pub mod lock;
pub mod outbox;
pub mod outsider;
pub mod own_account;
pub mod policy;
pub mod properties;
pub mod proxied;
pub mod random;
pub mod registration;
pub mod report;
pub mod request;
pub mod resumable;
pub mod second_factor;
pub mod session;
pub mod settings;
pub mod staff_session;
pub mod store;
pub mod transfer;
pub mod tree;
pub mod upload;
pub mod web_session;
pub mod zip;

use std::sync::Arc;

pub use account::{AccountInfo, Admin, NewAccount, Role};
pub use admission::{Admission, Crowded, Limits, Listener};
pub use clock::{Clock, LocalZone, ManualClock, SystemClock, Timestamp};
pub use crypto::{KeyOrigin, MasterKey};
pub use envelope::Envelope;
pub use error::{Error, Field, FieldRefusal, Result, Unready};
pub use random::{Random, SystemRandom};
pub use session::{Door, Origin, Session};
pub use settings::{FolderRule, KeyFiles, Rules, Settings};
pub use transfer::{Folder, TransferId, TransferKind, TransferState, TransferSummary};

/// The language of a page or a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Language {
    /// Dutch, the default.
    #[default]
    Nl,
    /// English.
    En,
}

impl Language {
    /// `nl` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
        }
    }

    /// From `nl`/`en` (any case, also the names of the languages).
    pub fn parse(s: &str) -> Result<Language> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" | "nederlands" | "dutch" => Ok(Language::Nl),
            "en" | "english" | "engels" => Ok(Language::En),
            other => Err(Error::Invalid(format!("language {other:?} is not offered: use nl or en"))),
        }
    }
}

/// The core: one per process, cheap to clone, shared by every door.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

/// The state behind a [`Gateway`].
pub struct Inner {
    pub(crate) db: db::Db,
    pub(crate) store: store::Store,
    pub(crate) keys: crypto::Keys,
    pub(crate) signing: crypto::SigningKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn Random>,
    pub(crate) settings: Settings,
    pub(crate) hashing: credential::Hashing,
    pub(crate) names: policy::name::NameRules,
    pub(crate) node: String,
}

impl std::ops::Deref for Gateway {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("db", &self.db).field("node", &self.node).finish_non_exhaustive()
    }
}

impl Gateway {
    /// Open the core: connect to the database and apply pending migrations,
    /// open the document store, derive the keys.
    pub async fn open(
        settings: Settings,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
    ) -> Result<Gateway> {
        settings.rules.validate()?;
        let db = db::Db::connect(&settings.database_url)?;
        db.migrate().await?;
        let store = match &settings.store {
            Some(object) => store::Store::open_object(object)?,
            None => store::Store::open_local(&settings.data_dir, settings.limits.free_space_reserve)?,
        };
        let hashing = credential::Hashing::new().await?;
        let names = settings.rules.name_rules();
        let node = random::RandomExt::id(random.as_ref())?;
        let signing = report::load_signing_key(&settings, random.as_ref())?;
        let keys = crypto::Keys::new(master);
        key_check::master_key_matches(&db, &keys).await?;
        let inner = Inner { db, store, keys, signing, clock, random, settings, hashing, names, node };
        Ok(Gateway { inner: Arc::new(inner) })
    }

    /// The settings this core runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The data folder's free space, and whether it can be written now
    /// (`/readyz`, `/metrics`, the jobs' warning).
    pub async fn storage_space(&self) -> Result<store::Space> {
        Ok(self.store.space().await?)
    }

    /// Now, by the core's clock (a page that offers today's date asks this).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
