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
