//! Reading what the embedded default delivers: each mail an `.eml` file in
//! `<data>/mail`, read as a recipient's mail program would show it enough to
//! follow a link in it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The files of a folder, sorted by name (none when it does not exist yet).
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    out.sort();
    out
}

/// Every mail in `dir`, quoted-printable unfolded.
pub fn mails(dir: &Path) -> std::io::Result<Vec<String>> {
    listing(dir).iter().map(|f| Ok(unfold(&std::fs::read_to_string(f)?))).collect()
}

/// Soft line breaks of quoted-printable joined, so a link reads in one piece.
pub fn unfold(text: &str) -> String {
    text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

/// The secret of the first link in `mail` that starts with `prefix`
/// (`https://…/l/`, `…/r/`): the URL-safe characters after it.
pub fn secret_after(mail: &str, prefix: &str) -> Option<String> {
    let at = mail.find(prefix)?;
    let secret: String =
        mail[at + prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (!secret.is_empty()).then_some(secret)
}

/// The header `name` of a mail (the first one, unfolded lines not joined).
pub fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// What an upload request's mail tells the person asked: where the SFTP door
/// is, the user name, and the secret (the last part of the link).
pub struct RequestMail {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub secret: String,
}

/// The request mail to `to` in `dir`.
pub fn request_mail(dir: &Path, to: &str) -> Result<RequestMail, Box<dyn std::error::Error + Send + Sync>> {
    let mails = mails(dir)?;
    let m = mails
        .iter()
        .find(|m| header(m, "To") == Some(to) && m.contains("/r/"))
        .ok_or(format!("no request mail to {to}"))?;
    // The text part: "SFTP: 127.0.0.1, port 2222, user name request-…"
    // ("poort", "gebruikersnaam" in Dutch).
    let line = m.lines().find_map(|l| l.trim().strip_prefix("SFTP: ")).ok_or("no SFTP line in the mail")?;
    let mut parts = line.split(", ");
    let host = parts.next().ok_or("no host")?.to_owned();
    let port = parts.next().and_then(|p| p.strip_prefix("port ").or(p.strip_prefix("poort "))).ok_or("no port")?;
    let user = parts.next().and_then(|p| p.strip_prefix("user name ").or(p.strip_prefix("gebruikersnaam ")));
    let (port, user) = (port.parse()?, user.ok_or("no user name")?.to_owned());
    let secret = secret_after(m, "/r/").ok_or("no request link in the mail")?;
    Ok(RequestMail { host, port, user, secret })
}

/// The secret of the link under `prefix` in a mail to `to` in `dir`, once
/// one has been written (waiting up to 30 s for the outbox).
pub fn mailed_secret(dir: &Path, to: &str, prefix: &str) -> Option<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = mails(dir)
            .unwrap_or_default()
            .iter()
            .filter(|m| header(m, "To") == Some(to))
            .find_map(|m| secret_after(m, prefix));
        if found.is_some() || std::time::Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
