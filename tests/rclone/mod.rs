//! rclone as users run it, with its default settings, against either door:
//! Debian's 1.60, which writes each file in place, and the current release
//! (`scripts/setup --rclone-current`), which over SFTP writes
//! `name.XXXXXX.partial` and renames it onto the name (rclone ≥ 1.63; only
//! `--inplace` turns that off). One round trip both must make: a folder copied
//! into a draft, read back byte for byte, and the draft moved into /sent.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Which rclone.
#[derive(Clone, Copy)]
pub enum Release {
    /// Debian's package (1.60), `rclone` on the PATH.
    Debian,
    /// The current release, the one scripts/test exports as `KOERIER_TEST_RCLONE_CURRENT`.
    Current,
}

/// A remote `k:` as environment variables (rclone's own way of configuring
/// without a file), plus the flags the door needs.
pub struct Remote {
    env: Vec<(&'static str, String)>,
    flags: Vec<&'static str>,
}

impl Remote {
    /// rclone's sftp backend with a password. `shell_type none`: the door runs
    /// no commands, so rclone is told not to try them for hashes.
    pub fn sftp(port: u16, user: &str, password: &str) -> Remote {
        Remote {
            env: vec![
                ("RCLONE_CONFIG_K_TYPE", "sftp".into()),
                ("RCLONE_CONFIG_K_HOST", "127.0.0.1".into()),
                ("RCLONE_CONFIG_K_PORT", port.to_string()),
                ("RCLONE_CONFIG_K_USER", user.into()),
                ("RCLONE_CONFIG_K_PASS", password.into()),
                ("RCLONE_CONFIG_K_SHELL_TYPE", "none".into()),
            ],
            flags: vec![],
        }
    }

    /// rclone's webdav backend (vendor "other") on the door's self-signed certificate.
    pub fn webdav(url: &str, user: &str, password: &str) -> Remote {
        Remote {
            env: vec![
                ("RCLONE_CONFIG_K_TYPE", "webdav".into()),
                ("RCLONE_CONFIG_K_URL", url.into()),
                ("RCLONE_CONFIG_K_VENDOR", "other".into()),
                ("RCLONE_CONFIG_K_USER", user.into()),
                ("RCLONE_CONFIG_K_PASS", password.into()),
            ],
            flags: vec!["--no-check-certificate"],
        }
    }
}

/// One rclone program with a remote `k:` configured.
pub struct Rclone {
    program: PathBuf,
    remote: Remote,
}

impl Rclone {
    /// The rclone of `release` with `remote` (its password obscured, as rclone
    /// wants it), or a failure saying how to install it.
    pub fn new(release: Release, mut remote: Remote) -> Result<Rclone, Error> {
        let program = program(release)?;
        for (key, value) in &mut remote.env {
            if *key == "RCLONE_CONFIG_K_PASS" {
                let out = Command::new(&program).args(["obscure", value.as_str()]).output()?;
                *value = String::from_utf8_lossy(&ok(&out, "rclone obscure")?).trim().to_owned();
            }
        }
        Ok(Rclone { program, remote })
    }

    /// Run `rclone args…` as a user would, with no config file of theirs.
    /// One try each: a failure shows at once instead of after three rounds.
    pub fn run(&self, args: &[&str]) -> Result<Output, Error> {
        Ok(Command::new(&self.program)
            .args(args)
            .args(&self.remote.flags)
            .args(["--retries", "1"])
            .env("RCLONE_CONFIG", "/dev/null")
            .envs(self.remote.env.iter().map(|(k, v)| (k, v)))
            .output()?)
    }

    /// Run a command that must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> Result<Vec<u8>, Error> {
        ok(&self.run(args)?, &format!("rclone {}", args.join(" ")))
    }
}

fn ok(out: &Output, what: &str) -> Result<Vec<u8>, Error> {
    if !out.status.success() {
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        return Err(format!("{what} failed: {said}").into());
    }
    Ok(out.stdout.clone())
}

/// The program of a release, checked to be what it says.
fn program(release: Release) -> Result<PathBuf, Error> {
    let (program, want) = match release {
        Release::Debian => (PathBuf::from("rclone"), None),
        Release::Current => match std::env::var_os("KOERIER_TEST_RCLONE_CURRENT") {
            Some(path) => (PathBuf::from(path), Some(75)),
            None => {
                return Err("KOERIER_TEST_RCLONE_CURRENT is not set: run scripts/setup, then set it to the path \
                            `scripts/setup --rclone-current` prints (scripts/test does both)"
                    .into());
            }
        },
    };
    let out = Command::new(&program)
        .arg("version")
        .output()
        .map_err(|e| format!("{} cannot run ({e}): run scripts/setup (it installs both rclones)", program.display()))?;
    let first = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_owned();
    let minor = first.strip_prefix("rclone v1.").and_then(|v| v.split('.').next()?.parse::<u32>().ok());
    if let (Some(want), Some(minor)) = (want, minor)
        && minor < want
    {
        return Err(format!("{} is {first}, not 1.{want} or later: run scripts/setup", program.display()).into());
    }
    Ok(program)
}

/// The message of every round trip: an external recipient told by mail, with
/// an SMS code to the number (written as people write it).
pub const MESSAGE: &str = "To: Piet Pieters <piet@example.org>\nPhone: 06 12345678\nSubject: Dossier 12\n\n\
                           Here are the documents.\n";

/// The folder a user copies: two small documents, a text, message.txt, and
/// a folder of files of any type (with a folder in it), sent as a zip.
fn folder(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let files = vec![
        ("brief.pdf".to_owned(), pdf("the letter")),
        ("bijlage.pdf".to_owned(), pdf("the annex")),
        ("notes.txt".to_owned(), b"notes for the file\n".to_vec()),
        ("message.txt".to_owned(), MESSAGE.as_bytes().to_vec()),
        ("Bijlagen/scan.dat".to_owned(), b"any type inside a folder\n".to_vec()),
        ("Bijlagen/2026/notes".to_owned(), b"no extension either\n".to_vec()),
    ];
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().ok_or("a file is in a folder")?)?;
        std::fs::write(path, bytes)?;
    }
    Ok(files)
}

/// A minimal PDF the content check accepts.
pub fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {marker}\n%%EOF\n").into_bytes()
}

/// Make the draft `/outbox/<draft>`, `rclone copy` a folder into it, check
/// that every file (message.txt too) reads back with its size and bytes, and
/// send it with `rclone moveto` into /sent.
pub fn copy_check_and_send(rclone: &Rclone, work: &Path, draft: &str) -> Result<(), Error> {
    let local = work.join(draft);
    let files = folder(&local)?;
    let remote = format!("k:outbox/{draft}");
    rclone.ok(&["mkdir", &remote])?;
    rclone.ok(&["copy", &local.to_string_lossy(), &remote])?;

    let listed: serde_json::Value = serde_json::from_slice(&rclone.ok(&["lsjson", "-R", "--files-only", &remote])?)?;
    let mut sizes: Vec<(String, u64)> = listed
        .as_array()
        .ok_or("lsjson answers a list")?
        .iter()
        .map(|f| (f["Path"].as_str().unwrap_or_default().to_owned(), f["Size"].as_u64().unwrap_or(u64::MAX)))
        .collect();
    sizes.sort();
    let mut want: Vec<(String, u64)> = files.iter().map(|(n, b)| (n.clone(), b.len() as u64)).collect();
    want.sort();
    assert_eq!(sizes, want, "the draft lists exactly the files copied, each with its size");
    for (name, bytes) in &files {
        let back = rclone.ok(&["cat", &format!("{remote}/{name}")])?;
        assert_eq!(String::from_utf8_lossy(&back), String::from_utf8_lossy(bytes), "{name} reads back byte for byte");
    }

    let sent = format!("k:sent/{draft}");
    rclone.ok(&["moveto", &remote, &sent])?;
    let outbox = rclone.ok(&["lsf", "k:outbox"])?;
    assert!(!String::from_utf8_lossy(&outbox).contains(draft), "the draft left the outbox");
    let delivered = String::from_utf8(rclone.ok(&["lsf", &sent])?)?;
    let mut delivered: Vec<&str> = delivered.lines().collect();
    delivered.sort();
    assert_eq!(
        delivered,
        ["Bijlagen.zip", "bijlage.pdf", "brief.pdf", "message.txt", "notes.txt", "report.pdf"],
        "the folder is sent as one zip"
    );
    Ok(())
}

/// Whether piet got the mail and the SMS of [`MESSAGE`] (the server's
/// `<data>/mail/*.eml` and `<data>/sms/*.txt`), waiting up to 30 s.
pub fn recipient_told(data: &Path) -> bool {
    let any = |sub: &str, needle: &str| {
        std::fs::read_dir(data.join(sub))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(needle)))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if any("mail", "piet@example.org") && any("sms", "612345678") {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
