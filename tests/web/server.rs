//! A running `koerier serve` for the web tests: its own folder, free ports,
//! the database named by `KOERIER_TEST_DATABASE` (SQLite, or a new PostgreSQL
//! database), a staff account that sends, and real clients (curl, Chromium)
//! against it. A missing client fails the test with a pointer to
//! `scripts/setup`; nothing is skipped.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::RunQueryDsl;

pub use crate::browser::{Browser, Error, header, sha256};
use crate::{browser, mail, sms};

pub type TestResult = Result<(), Error>;

pub use crate::ports::free_port;

/// A peer program the tests need, or an error that says how to get it.
pub fn need(program: &str) -> Result<(), Error> {
    let found = Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    match found {
        Ok(s) if s.success() => Ok(()),
        _ => Err(format!("{program} is needed by the web tests and is not installed: run scripts/setup").into()),
    }
}

pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub database_url: String,
    child: Option<Child>,
    env: Vec<(String, String)>,
}

fn database_for(dir: &Path) -> Result<String, Error> {
    let target = std::env::var("KOERIER_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into());
    if target == "sqlite" {
        return Ok(dir.join("data/koerier.db").to_string_lossy().into_owned());
    }
    if !target.starts_with("postgres://") {
        return Err(format!("KOERIER_TEST_DATABASE must be sqlite or a postgres:// URL, not {target:?}").into());
    }
    let name =
        format!("koerier_web_{}", dir.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default())
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
    let mut admin = diesel::PgConnection::establish(&target)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    let (base, _) = target.rsplit_once('/').ok_or("a postgres URL ends in /database")?;
    Ok(format!("{base}/{name}"))
}

impl Server {
    /// A folder with a staff account at an affiliated domain; not started yet.
    pub fn new(extra_env: &[(&str, &str)]) -> Result<Server, Error> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("data"))?;
        let port = free_port()?;
        let database_url = database_for(dir.path())?;
        let mut env = vec![
            ("KOERIER_DATABASE_URL".to_owned(), database_url.clone()),
            ("KOERIER_HTTPS_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
            ("KOERIER_SFTP_LISTEN".to_owned(), format!("127.0.0.1:{}", free_port()?)),
            ("KOERIER_OUTBOX_INTERVAL".to_owned(), "1s".to_owned()),
        ];
        env.extend(crate::ports::store_env(dir.path())?);
        env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let server = Server { dir, port, database_url, child: None, env };
        server.ok(&["domain", "add", "minvws.nl"])?;
        server.ok(&["account", "create", "--email", "jan@minvws.nl", "--name", "Jan Jansen"])?;
        Ok(server)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_koerier"));
        c.args(args)
            .current_dir(self.path())
            .env_remove("KOERIER_DATA_DIR")
            .env_remove("KOERIER_SMTP_URL")
            .env_remove("KOERIER_SMS_URL")
            .env_remove("KOERIER_PUBLIC_URL")
            .env("KOERIER_LOG", "warn");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn ok(&self, args: &[&str]) -> Result<String, Error> {
        let out = self.command(args).output()?;
        if !out.status.success() {
            return Err(format!("koerier {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `koerier serve`, waiting until `/healthz` answers over HTTPS.
    pub fn start(&mut self) -> TestResult {
        need("curl")?;
        let child = self.command(&["serve"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.curl(&["-o", "/dev/null", "-w", "%{http_code}", &self.url("/healthz")])?.stdout == b"200" {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("koerier serve did not answer /healthz within 30 s".into())
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// A real curl against the self-signed certificate (`-k`).
    pub fn curl(&self, args: &[&str]) -> Result<Output, Error> {
        browser::curl(args)
    }

    /// Send `files` (in the folder) from jan@minvws.nl to an external recipient.
    pub fn send(&self, language: &str, files: &[&str], extra: &[(&str, &str)]) -> Result<Sent, Error> {
        let before = mail::listing(&self.path().join("data/mail"));
        let mut args = vec![
            "send",
            "--from",
            "jan@minvws.nl",
            "--to",
            "Piet <piet@example.org>",
            "--phone",
            "06 12345678",
            "--language",
            language,
            "--subject",
            "Stukken",
            "--text-file",
            "note.txt",
        ];
        args.extend_from_slice(files);
        std::fs::write(self.path().join("note.txt"), "Hierbij de stukken.\nMet groet, Jan")?;
        let mut c = self.command(&args);
        for (k, v) in extra {
            c.env(k, v);
        }
        let out = c.output()?;
        if !out.status.success() {
            return Err(format!("koerier send failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let prefix = format!("https://127.0.0.1:{}/l/", self.port);
        for file in mail::listing(&self.path().join("data/mail")).iter().filter(|m| !before.contains(m)) {
            if let Some(secret) = mail::secret_after(&mail::unfold(&std::fs::read_to_string(file)?), &prefix) {
                return Ok(Sent { link: format!("{prefix}{secret}"), secret });
            }
        }
        Err("no mail with the link".into())
    }

    /// The newest code in `<data>/sms`.
    pub fn latest_code(&self) -> Result<String, Error> {
        Ok(sms::latest_code(&self.path().join("data/sms"))?.0)
    }

    pub fn sms_count(&self) -> usize {
        sms::count(&self.path().join("data/sms"))
    }

    pub fn mails(&self) -> Result<Vec<String>, Error> {
        Ok(mail::mails(&self.path().join("data/mail"))?)
    }

    /// One number from the database.
    pub fn number(&self, sql: &str) -> Result<i64, Error> {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let query = format!("SELECT CAST(({sql}) AS BIGINT) AS n");
        let rows: Vec<N> = if self.database_url.starts_with("postgres://") {
            diesel::sql_query(query).load(&mut diesel::PgConnection::establish(&self.database_url)?)?
        } else {
            diesel::sql_query(query).load(&mut diesel::SqliteConnection::establish(&self.database_url)?)?
        };
        Ok(rows.first().map_or(0, |r| r.n))
    }

    /// What a request could change: every row that records something a
    /// recipient did, and the state of every link.
    pub fn state(&self) -> Result<Vec<i64>, Error> {
        [
            "SELECT count(*) FROM audit_events",
            "SELECT count(*) FROM downloads",
            "SELECT count(*) FROM outbox",
            "SELECT count(*) FROM web_sessions",
            "SELECT count(*) FROM auth_failures",
            "SELECT coalesce(sum(failures_total + code_failures + codes_issued), 0) FROM links",
            "SELECT coalesce(sum(coalesce(code_issued_at, 0) + coalesce(locked_at, 0) + coalesce(redeemed_at, 0)), 0) FROM links",
        ]
        .iter()
        .map(|q| self.number(q))
        .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub struct Sent {
    pub link: String,
    pub secret: String,
}
