//! The SFTP door end to end: `koerier serve` on free ports in a folder of the
//! test's own (on the database `KOERIER_TEST_DATABASE` names), driven by real,
//! unmodified clients. A missing client fails the test with what to do.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type TestResult = Result<(), Error>;

/// A client the tests need, or a failure saying how to get it.
pub fn need(program: &str) -> Result<(), Error> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if found {
        Ok(())
    } else {
        Err(format!("{program} is missing: run scripts/setup (it installs the SFTP test clients)").into())
    }
}

/// The Python with paramiko (the peers environment of `scripts/setup --python`).
pub fn python() -> Result<String, Error> {
    let python = std::env::var("KOERIER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python).args(["-c", "import paramiko"]).stderr(Stdio::null()).status();
    match ok {
        Ok(s) if s.success() => Ok(python),
        _ => Err(format!(
            "{python} cannot import paramiko: run scripts/test (scripts/setup --python installs it), \
             or set KOERIER_TEST_PYTHON to a Python with paramiko"
        )
        .into()),
    }
}

pub use crate::ports::free_port;

/// The database for one server: SQLite in its folder, or a new PostgreSQL database.
fn database_for(dir: &Path) -> Result<Option<String>, Error> {
    let target = std::env::var("KOERIER_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into());
    if target == "sqlite" {
        return Ok(None);
    }
    let name =
        format!("koerier_sftp_{}", dir.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default())
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
    let out = Command::new("psql").args([&target, "-q", "-c", &format!("CREATE DATABASE {name}")]).output()?;
    if !out.status.success() {
        return Err(format!("cannot create a database: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let (base, _) = target.rsplit_once('/').ok_or("a postgres URL ends in /database")?;
    Ok(Some(format!("{base}/{name}")))
}

/// A running `koerier serve` with its folder.
pub struct Koerier {
    pub dir: tempfile::TempDir,
    /// The SFTP listener's port.
    pub port: u16,
    /// The HTTPS listener's port (the web and WebDAV under `/dav/`).
    pub https: u16,
    database: Option<String>,
    child: Option<Child>,
    /// Settings of this server beyond the test defaults (`KOERIER_*`).
    env: Vec<(String, String)>,
}

/// A signed-up user: address, password and an SSH key pair.
pub struct User {
    pub email: String,
    pub password: String,
    pub key: PathBuf,
}

impl Koerier {
    /// A server with the affiliated domain `minvws.nl`, not yet running.
    pub fn new() -> Result<Koerier, Error> {
        let dir = tempfile::tempdir()?;
        let database = database_for(dir.path())?;
        let env = crate::ports::store_env(dir.path())?;
        let k = Koerier { dir, port: free_port()?, https: free_port()?, database, child: None, env };
        k.ok(&["domain", "add", "minvws.nl"], None)?;
        Ok(k)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_koerier"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("KOERIER_DATABASE_URL")
            .env_remove("KOERIER_DATA_DIR")
            .env_remove("KOERIER_SMTP_URL")
            .env_remove("KOERIER_SMS_URL")
            .env_remove("KOERIER_PUBLIC_URL")
            .env("KOERIER_LOG", "warn")
            .env("KOERIER_SFTP_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("KOERIER_HTTPS_LISTEN", format!("127.0.0.1:{}", self.https))
            .env("KOERIER_OUTBOX_INTERVAL", "1s")
            .env("KOERIER_RULES__AUTH_FAILURE_DELAY", "0s");
        if let Some(url) = &self.database {
            c.env("KOERIER_DATABASE_URL", url);
        }
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Keeps the documents in the data folder even when the tests run on
    /// the object store (`KOERIER_TEST_STORE=s3`): for a test of the folder.
    pub fn in_data_folder(&mut self) {
        self.env.retain(|(key, _)| {
            !matches!(key.as_str(), "KOERIER_STORE_URL" | "KOERIER_S3_ENDPOINT" | "KOERIER_S3_REGION")
        });
    }

    /// A setting for every later command and `serve`.
    pub fn set(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// A command of this server as JSON (`argv`, `cwd`, `env`), for a script to run.
    pub fn command_json(&self, args: &[&str]) -> serde_json::Value {
        let mut env = serde_json::Map::new();
        env.insert("KOERIER_LOG".into(), "warn".into());
        if let Some(url) = &self.database {
            env.insert("KOERIER_DATABASE_URL".into(), url.clone().into());
        }
        let mut argv = vec![serde_json::Value::from(env!("CARGO_BIN_EXE_koerier"))];
        argv.extend(args.iter().map(|a| serde_json::Value::from(*a)));
        serde_json::json!({"argv": argv, "cwd": self.path(), "env": env})
    }

    /// Run a command that must succeed, with optional standard input.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> Result<String, Error> {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.unwrap_or("").as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(format!("koerier {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// An account with a password and a registered Ed25519 key.
    pub fn user(&self, email: &str, name: &str, role: &str) -> Result<User, Error> {
        let password = format!("pw-{}-correct horse battery", email.split('@').next().unwrap_or("x"));
        self.ok(
            &["account", "create", "--email", email, "--name", name, "--role", role, "--password-stdin"],
            Some(&format!("{password}\n")),
        )?;
        let key = self.path().join(format!("key-{email}"));
        let made =
            Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", email, "-f"]).arg(&key).status()?;
        if !made.success() {
            return Err("ssh-keygen failed".into());
        }
        let public = key.with_extension("pub");
        let public = if public.exists() { public } else { PathBuf::from(format!("{}.pub", key.display())) };
        self.ok(&["account", "add-key", "--email", email, &public.to_string_lossy()], None)?;
        Ok(User { email: email.to_owned(), password, key })
    }

    /// Start `koerier serve` and wait until SFTP and HTTPS answer.
    pub fn start(&mut self) -> Result<(), Error> {
        self.start_with(Stdio::inherit())
    }

    /// Start `koerier serve` with its log written to `log`.
    pub fn start_logged(&mut self, log: &Path) -> Result<(), Error> {
        self.start_with(Stdio::from(std::fs::File::create(log)?))
    }

    fn start_with(&mut self, log: Stdio) -> Result<(), Error> {
        let child = self.command(&["serve"]).stdout(Stdio::null()).stderr(log).spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let open = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
            if open(self.port) && open(self.https) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("koerier serve did not open its SFTP and HTTPS ports within 60 s".into())
    }

    /// A URL on the HTTPS listener, as the links in the mail begin.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.https)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Reap a server that was killed.
    pub fn reap(&mut self) -> Result<(), Error> {
        if let Some(mut child) = self.child.take() {
            child.wait()?;
        }
        Ok(())
    }

    /// Stop with SIGTERM and wait.
    pub fn stop(&mut self) -> Result<(), Error> {
        if let Some(mut child) = self.child.take() {
            Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
            child.wait()?;
        }
        Ok(())
    }

    /// OpenSSH options that reach this server as `user` with their key.
    pub fn ssh_options(&self, user: &User) -> Vec<String> {
        [
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "PreferredAuthentications=publickey",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(["-i".to_owned(), user.key.to_string_lossy().into_owned()])
        .chain(["-o".to_owned(), format!("User={}", user.email)])
        .collect()
    }

    /// Run an OpenSSH `sftp -b` batch as `user` in `cwd`.
    pub fn sftp_batch(&self, user: &User, cwd: &Path, batch: &str) -> Result<Output, Error> {
        need("sftp")?;
        let file = cwd.join("batch.txt");
        std::fs::write(&file, batch)?;
        let out = Command::new("sftp")
            .args(self.ssh_options(user))
            .args(["-P", &self.port.to_string(), "-b"])
            .arg(&file)
            .arg("127.0.0.1")
            .current_dir(cwd)
            .output()?;
        Ok(out)
    }

    /// Files the server wrote into `<data>/<sub>`.
    pub fn files(&self, sub: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.path().join("data").join(sub))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Run a paramiko script (from tests/sftp/) with JSON arguments (the
    /// server's port unless they name one); its JSON answer.
    pub fn paramiko(&self, script: &str, args: serde_json::Value) -> Result<serde_json::Value, Error> {
        let python = python()?;
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sftp").join(script);
        let mut child = Command::new(python)
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut args = args;
        if args.get("port").is_none() {
            args["port"] = self.port.into();
        }
        if let Some(mut input) = child.stdin.take() {
            input.write_all(args.to_string().as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(format!("{script} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }
}

impl Drop for Koerier {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Wait until `check` holds or `timeout` passes; whether it held.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    check()
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A minimal PDF the content check accepts.
pub fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {marker}\n%%EOF\n").into_bytes()
}
