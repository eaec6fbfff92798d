//! The test bed: a core on a temporary data folder and a fresh database, with
//! a manual clock, and helpers to make accounts and drafts.

use std::sync::Arc;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use gateway::address::{Mailbox, PhoneNumber};
use gateway::outbox::QueuedMessage;
use gateway::upload::{DocumentInfo, UploadMode};
use gateway::{
    Admin, Envelope, Gateway, Language, ManualClock, MasterKey, NewAccount, Origin, Role, Rules, Session, Settings,
    SystemRandom, Timestamp, TransferId,
};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 2026-11-23T09:00:00Z: the clock stands here until a test moves it.
pub const START: i64 = 1_795_424_400_000;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Bed {
    pub gw: Gateway,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    pub admin: Admin,
    pub database_url: String,
    /// The object store the documents are kept in, if not the data folder.
    pub store: Option<gateway::store::ObjectStoreConfig>,
}

pub fn test_rules() -> Rules {
    Rules { auth_failure_delay: Duration::ZERO, ..Rules::default() }
}

/// The database for one test: a file in the data folder, or a new PostgreSQL database.
fn database_for(dir: &std::path::Path) -> Result<String, Box<dyn std::error::Error>> {
    let target = std::env::var("KOERIER_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into());
    if target == "sqlite" {
        return Ok(dir.join("koerier.db").to_string_lossy().into_owned());
    }
    if !target.starts_with("postgres://") {
        return Err(format!("KOERIER_TEST_DATABASE must be sqlite or a postgres:// URL, not {target:?}").into());
    }
    let name =
        format!("koerier_test_{}", dir.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default())
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
    let mut admin = diesel::PgConnection::establish(&target)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    let (base, _) = target.rsplit_once('/').ok_or("a postgres URL ends in /database")?;
    Ok(format!("{base}/{name}"))
}

impl Bed {
    pub async fn new() -> Result<Bed, Box<dyn std::error::Error>> {
        Bed::with_rules(test_rules()).await
    }

    pub async fn with_rules(rules: Rules) -> Result<Bed, Box<dyn std::error::Error>> {
        Bed::open(rules, None).await
    }

    /// A bed whose documents are kept in the S3 server `scripts/test`
    /// starts (`KOERIER_TEST_S3_ENDPOINT`, the bucket `koerier-test`), under
    /// a prefix of its own.
    pub async fn on_object_store() -> Result<Bed, Box<dyn std::error::Error>> {
        let endpoint = std::env::var("KOERIER_TEST_S3_ENDPOINT").map_err(|_| {
            "KOERIER_TEST_S3_ENDPOINT is not set: run scripts/test, which starts an S3 server (moto) with the bucket koerier-test"
        })?;
        let prefix = format!("core-tests/{}", gateway::store::BlobId::generate()?.as_str());
        let store = gateway::store::ObjectStoreConfig::from_url(
            &format!("s3://koerier-test/{prefix}"),
            Some(endpoint),
            Some("us-east-1".into()),
        )?;
        Bed::open(test_rules(), Some(store)).await
    }

    async fn open(
        rules: Rules,
        store: Option<gateway::store::ObjectStoreConfig>,
    ) -> Result<Bed, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let database_url = database_for(dir.path())?;
        let clock = ManualClock::new(Timestamp::from_millis(START));
        let master = MasterKey::from_base64("S29lcmllciB0ZXN0IG1hc3RlciBrZXkgMzIgYnl0ZXM=")?;
        let settings = Settings {
            data_dir: dir.path().to_owned(),
            database_url: database_url.clone(),
            rules,
            limits: Default::default(),
            keys: Default::default(),
            store: store.clone(),
        };
        let gw = Gateway::open(settings, master, Arc::new(clock.clone()), Arc::new(SystemRandom)).await?;
        let admin = Admin::console();
        gw.add_domain(&admin, "minvws.nl").await?;
        Ok(Bed { gw, clock, dir, admin, database_url, store })
    }

    /// Open a second core on the same folder and database: a restart.
    pub async fn restart(&self) -> Result<Gateway, Box<dyn std::error::Error>> {
        self.node_with(Arc::new(self.clock.clone())).await
    }

    /// Another node on the same folder and database, with its own clock.
    pub async fn node_with(&self, clock: Arc<dyn gateway::Clock>) -> Result<Gateway, Box<dyn std::error::Error>> {
        let master = MasterKey::from_base64("S29lcmllciB0ZXN0IG1hc3RlciBrZXkgMzIgYnl0ZXM=")?;
        let settings = Settings {
            data_dir: self.dir.path().to_owned(),
            database_url: self.database_url.clone(),
            rules: self.gw.settings().rules.clone(),
            limits: self.gw.settings().limits.clone(),
            keys: Default::default(),
            store: None,
        };
        Ok(Gateway::open(settings, master, clock, Arc::new(SystemRandom)).await?)
    }

    /// How many rows a table holds, read from the database itself: what the
    /// core keeps, not what it shows.
    pub fn rows(&self, table: &str) -> Result<i64, Box<dyn std::error::Error>> {
        let count =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("(SELECT COUNT(*) FROM {table})")));
        Ok(if self.database_url.starts_with("postgres://") {
            count.get_result(&mut diesel::PgConnection::establish(&self.database_url)?)?
        } else {
            count.get_result(&mut diesel::SqliteConnection::establish(&self.database_url)?)?
        })
    }

    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }

    pub async fn account(&self, email: &str, role: Role) -> Result<Session, Box<dyn std::error::Error>> {
        let new = NewAccount { email: email.into(), display_name: email.into(), role, password: PASSWORD.into() };
        self.gw.create_account(&self.admin, new).await?;
        Ok(self.gw.authenticate_password(email, PASSWORD, Origin::cli()).await?)
    }

    pub async fn staff(&self, email: &str) -> Result<Session, Box<dyn std::error::Error>> {
        self.account(email, Role::Staff).await
    }

    /// Add a whole document in one go.
    pub async fn put(
        &self,
        s: &Session,
        transfer: &TransferId,
        name: &str,
        bytes: &[u8],
    ) -> gateway::Result<DocumentInfo> {
        let mut upload = self.gw.begin_upload(s, transfer, name, UploadMode::New).await?;
        upload.write(bytes).await?;
        upload.finish().await
    }

    /// A draft addressed to `to` (with `phone` when given) holding the documents.
    pub async fn draft(
        &self,
        s: &Session,
        name: &str,
        to: &str,
        phone: Option<&str>,
        docs: &[(&str, &[u8])],
    ) -> Result<TransferId, Box<dyn std::error::Error>> {
        let draft = self.gw.create_draft(s, name).await?;
        let env = Envelope {
            to: Some(Mailbox::parse(to)?),
            phone: phone.map(PhoneNumber::parse).transpose()?,
            subject: "Dossier 12".into(),
            reference: "REF-7".into(),
            language: Language::En,
            text: "the accompanying text".into(),
        };
        self.gw.set_envelope(s, &draft.id, env).await?;
        for (doc, bytes) in docs {
            self.put(s, &draft.id, doc, bytes).await?;
        }
        Ok(draft.id)
    }

    /// The queued messages of one template.
    pub async fn queued(&self, template: &str) -> Result<Vec<QueuedMessage>, Box<dyn std::error::Error>> {
        Ok(self.gw.due_messages(10_000).await?.into_iter().filter(|m| m.template == template).collect())
    }

    /// The parameter of the last queued message of a template.
    pub async fn param(&self, template: &str, key: &str) -> Result<String, Box<dyn std::error::Error>> {
        let msgs = self.queued(template).await?;
        let msg = msgs.last().ok_or_else(|| format!("no {template} message queued"))?;
        let value = msg.params.get(key).and_then(|v| v.as_str()).ok_or_else(|| format!("{template} has no {key}"))?;
        Ok(value.to_owned())
    }

    /// Every file under the data folder.
    pub fn files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }

    /// How many documents have sealed bytes kept: blob files (committed or
    /// staged) and small documents' blobs kept in their rows.
    pub fn stored(&self) -> Result<usize, Box<dyn std::error::Error>> {
        let in_rows = self.rows("documents WHERE inline_blob IS NOT NULL")?;
        Ok(self.blob_files().len() + usize::try_from(in_rows)?)
    }

    /// How many blobs and staged uploads the store holds, in the data folder
    /// or in the object store.
    pub async fn in_store(&self) -> Result<usize, Box<dyn std::error::Error>> {
        Ok(match &self.store {
            Some(config) => gateway::store::Store::open_object(config)?.listing().await?.len(),
            None => self.blob_files().len(),
        })
    }

    /// Blob files (committed or staged) under the data folder.
    pub fn blob_files(&self) -> Vec<std::path::PathBuf> {
        self.files()
            .into_iter()
            .filter(|p| p.components().any(|c| c.as_os_str() == "blobs" || c.as_os_str() == "staging"))
            .collect()
    }
}

/// A minimal PDF: what the content check wants to see in a `.pdf`.
pub fn pdf(body: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {body}\n%%EOF\n").into_bytes()
}
