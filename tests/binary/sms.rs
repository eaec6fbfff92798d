//! Reading the SMS the embedded default delivers: each a file in
//! `<data>/sms`, first line `To: <number>`, a blank line, then the text.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_file()).collect()
}

/// How many SMS were delivered.
pub fn count(dir: &Path) -> usize {
    files(dir).len()
}

/// The six-digit code in the newest SMS, and the number it went to.
pub fn latest_code(dir: &Path) -> Result<(String, String), Error> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    for f in files(dir) {
        let at = std::fs::metadata(&f)?.modified()?;
        if newest.as_ref().is_none_or(|(t, _)| at >= *t) {
            newest = Some((at, f));
        }
    }
    let (_, file) = newest.ok_or("no SMS file")?;
    let text = std::fs::read_to_string(file)?;
    let (head, body) = text.split_once("\n\n").ok_or("an SMS file has a blank line after To:")?;
    let to = head.strip_prefix("To: ").ok_or(format!("an SMS file starts with To: {head:?}"))?;
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 6 {
        return Err(format!("no six-digit code in {body:?}").into());
    }
    Ok((digits, to.trim().to_owned()))
}
