//! A running `koerier serve` for the WebDAV tests: the real binary on the
//! embedded default in a folder of the test's own, its HTTPS listener on a
//! free port, a staff account, and `curl` as the client.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type TestResult = Result<(), Error>;

pub const JAN: &str = "jan@minvws.nl";
pub const KEES: &str = "kees@minvws.nl";
pub const PASSWORD: &str = "correct horse battery staple";

/// A minimal PDF that passes the content check.
pub fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n%%EOF\n").into_bytes()
}

/// Fail with what to do when a client program is missing: never skip.
pub fn need(program: &str) -> Result<(), Error> {
    let found = Command::new("sh").args(["-c", &format!("command -v {program}")]).output()?;
    if !found.status.success() {
        return Err(
            format!("{program} is not installed: run scripts/setup (it installs the WebDAV test clients)").into()
        );
    }
    Ok(())
}

pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    sftp: u16,
    settings: Vec<(String, String)>,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use crate::ports::free_port;

impl Server {
    /// Start with two staff accounts and extra `KOERIER_*` settings.
    pub fn start(settings: &[(&str, &str)]) -> Result<Server, Error> {
        let dir = tempfile::tempdir()?;
        // Says at once when the store asked for is not there.
        crate::ports::store_env(dir.path())?;
        let port = free_port()?;
        let sftp = free_port()?;
        let child = Self::spawn(dir.path(), port, sftp, settings)?;
        let settings = settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let mut server = Server { child, dir, port, sftp, settings };
        server.wait_for_port()?;
        server.cli(&["domain", "add", "minvws.nl"])?;
        for who in [JAN, KEES] {
            server.cli_stdin(&["account", "create", "--email", who, "--name", who, "--password-stdin"], PASSWORD)?;
        }
        Ok(server)
    }

    fn wait_for_port(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("koerier serve stopped before opening its HTTPS port: {status}").into());
            }
            if Instant::now() > deadline {
                return Err("koerier serve did not open its HTTPS port".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Stop the server (killed, as a crash would) and start it again on the
    /// same ports, folder and settings.
    pub fn restart(&mut self) -> Result<(), Error> {
        let _ = self.child.kill();
        self.child.wait()?;
        let settings: Vec<(&str, &str)> = self.settings.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.child = Self::spawn(self.dir.path(), self.port, self.sftp, &settings)?;
        self.wait_for_port()
    }

    fn env(cmd: &mut Command, dir: &Path, port: u16, sftp: u16, settings: &[(&str, &str)]) {
        cmd.current_dir(dir)
            .env_remove("KOERIER_DATABASE_URL")
            .env_remove("KOERIER_DATA_DIR")
            .env("KOERIER_LOG", "warn")
            .env("KOERIER_HTTPS_LISTEN", format!("127.0.0.1:{port}"))
            .env("KOERIER_SFTP_LISTEN", format!("127.0.0.1:{sftp}"))
            .env("KOERIER_OUTBOX_INTERVAL", "1s")
            .env("KOERIER_RULES__AUTH_FAILURE_DELAY", "0s")
            .envs(crate::ports::store_env(dir).unwrap_or_default());
        for (k, v) in settings {
            cmd.env(k, v);
        }
    }

    fn spawn(dir: &Path, port: u16, sftp: u16, settings: &[(&str, &str)]) -> Result<Child, Error> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_koerier"));
        cmd.arg("serve").stdout(Stdio::null()).stderr(Stdio::inherit());
        Self::env(&mut cmd, dir, port, sftp, settings);
        Ok(cmd.spawn()?)
    }

    /// Run an operator command against the same data folder.
    pub fn cli(&self, args: &[&str]) -> Result<String, Error> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_koerier"));
        cmd.args(args);
        Self::env(&mut cmd, self.dir.path(), self.port, 0, &[]);
        let out = cmd.output()?;
        if !out.status.success() {
            return Err(format!("koerier {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn cli_stdin(&self, args: &[&str], input: &str) -> Result<String, Error> {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_koerier"));
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        Self::env(&mut cmd, self.dir.path(), self.port, 0, &[]);
        let mut child = cmd.spawn()?;
        child.stdin.take().ok_or("no stdin")?.write_all(input.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(format!("koerier {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Files in `<data>/<sub>` with this extension.
    pub fn files_in(&self, sub: &str, ext: &str) -> Vec<PathBuf> {
        std::fs::read_dir(self.data().join(sub))
            .map(|d| {
                d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == ext)).collect()
            })
            .unwrap_or_default()
    }

    /// One request with curl as `user`: the status and the body.
    pub fn curl(&self, user: &str, method: &str, path: &str, args: &[&str]) -> Result<(u16, Vec<u8>), Error> {
        let credentials = format!("{user}:{PASSWORD}");
        self.curl_as(&credentials, method, path, args)
    }

    /// One request with curl and these `user:password` credentials.
    pub fn curl_as(&self, credentials: &str, method: &str, path: &str, args: &[&str]) -> Result<(u16, Vec<u8>), Error> {
        let body = tempfile::NamedTempFile::new()?;
        let out = Command::new("curl")
            .args(["-sk", "--max-time", "30", "-u", credentials, "-X", method, "-o"])
            .arg(body.path())
            .args(["-w", "%{http_code}"])
            .args(args)
            .arg(self.url(path))
            .output()?;
        let status = String::from_utf8_lossy(&out.stdout).trim().parse::<u16>().unwrap_or(0);
        Ok((status, std::fs::read(body.path())?))
    }

    /// Run a program with a time limit.
    pub fn run(cmd: &mut Command) -> Result<Output, Error> {
        Ok(cmd.output()?)
    }
}
