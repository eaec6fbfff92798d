//! The real peers of the delivery tests, as processes the tests start and
//! stop: an SMTP server (aiosmtpd, `smtp_peer.py`) that keeps every message it
//! accepts, and an HTTP SMS gateway (`sms_peer.py`) that answers by plan.
//! The Python comes from `KOERIER_TEST_PYTHON` (set by `scripts/test`); a
//! missing aiosmtpd fails the test with what to do, it never skips it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(peers_dir()).join(name)
}

/// The peers live beside this file, whichever package's tests include it.
fn peers_dir() -> &'static str {
    if Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers").is_dir() { "tests/peers" } else { "../tests/peers" }
}

/// The Python that has aiosmtpd.
pub fn python() -> Result<String, Error> {
    let python = std::env::var("KOERIER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python).args(["-c", "import aiosmtpd"]).stderr(Stdio::null()).status();
    match ok {
        Ok(s) if s.success() => Ok(python),
        _ => Err(format!(
            "the mail tests need a real SMTP server: {python} cannot import aiosmtpd. Run scripts/test \
             (it installs it), or set KOERIER_TEST_PYTHON to a Python with aiosmtpd"
        )
        .into()),
    }
}

pub use crate::ports::free_port;

/// Wait until `check` holds or `timeout` passes; whether it held.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

/// Start a peer script and wait for its "ready" line.
fn start(args: &[String]) -> Result<Child, Error> {
    let mut child = Command::new(python()?).args(args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    let stdout = child.stdout.take().ok_or("the peer has no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(line) if line.starts_with("ready") => Ok(child),
        other => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("the peer {args:?} did not start: {other:?}").into())
        }
    }
}

/// The SMTP server.
pub struct SmtpPeer {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Where it keeps what it accepted.
    pub dir: PathBuf,
}

impl SmtpPeer {
    /// Start on `port`, keeping messages in `dir`.
    pub fn start(dir: &Path, port: u16) -> Result<SmtpPeer, Error> {
        let args = vec![
            script("smtp_peer.py").to_string_lossy().into_owned(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir.to_string_lossy().into_owned(),
        ];
        Ok(SmtpPeer { child: Some(start(&args)?), port, dir: dir.to_owned() })
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stop it (the port stays reserved for a restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it again on the same port and folder.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.stop();
        *self = SmtpPeer::start(&self.dir.clone(), self.port)?;
        Ok(())
    }

    /// Every message accepted so far, parsed back, in order of arrival.
    pub fn messages(&self) -> Result<Vec<serde_json::Value>, Error> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files.iter().map(|p| Ok(serde_json::from_slice(&std::fs::read(p)?)?)).collect()
    }

    /// How many messages arrived.
    pub fn count(&self) -> usize {
        self.messages().map(|m| m.len()).unwrap_or(0)
    }
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The HTTP SMS gateway.
pub struct SmsPeer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Where it records the requests.
    pub dir: PathBuf,
}

impl SmsPeer {
    /// Start with a plan of answers (`"500,hang,200"`); `hang` waits `hang_secs`.
    pub fn start(dir: &Path, plan: &str, hang_secs: u32) -> Result<SmsPeer, Error> {
        let port = free_port()?;
        let args = vec![
            script("sms_peer.py").to_string_lossy().into_owned(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir.to_string_lossy().into_owned(),
            "--plan".into(),
            plan.into(),
            "--hang".into(),
            hang_secs.to_string(),
        ];
        Ok(SmsPeer { child: start(&args)?, port, dir: dir.to_owned() })
    }

    /// `http://127.0.0.1:<port>/send`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/send", self.port)
    }

    /// Every request so far.
    pub fn requests(&self) -> Result<Vec<serde_json::Value>, Error> {
        let path = self.dir.join("requests.jsonl");
        if !path.exists() {
            return Ok(Vec::new());
        }
        std::fs::read_to_string(path)?.lines().map(|l| Ok(serde_json::from_str(l)?)).collect()
    }
}

impl Drop for SmsPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a parsed mail's part of a content type.
pub fn part<'a>(mail: &'a serde_json::Value, content_type: &str) -> Option<&'a str> {
    mail["parts"].as_array()?.iter().find(|p| p["type"] == content_type)?["body"].as_str()
}
