//! The numbers of SPEC section 3 and the other knobs of the core, with their
//! defaults. The binary loads and validates them; the core only reads them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::policy::name::NameRules;

/// Everything the core needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the database (SQLite), the blobs and the keys live.
    pub data_dir: PathBuf,
    /// `sqlite://…`, a path, or `postgres://…`.
    pub database_url: String,
    /// The rules of section 3.
    pub rules: Rules,
    /// Connections, request bodies and the free-space reserve (`[limits]`).
    pub limits: crate::Limits,
    /// Where the keys beside the master key come from.
    pub keys: KeyFiles,
    /// The S3-compatible object store the documents are kept in; unset:
    /// `<data>/blobs` and `<data>/staging`.
    pub store: Option<crate::store::ObjectStoreConfig>,
}

/// The key files of the core beside the master key, and whether a missing
/// one is made (one node) or stops the start (a node of a cluster, which
/// must use the keys every other node uses).
#[derive(Debug, Clone)]
pub struct KeyFiles {
    /// The report signing key (PKCS#8 PEM); unset: `<data>/keys/report-signing.key`.
    pub report_signing_key: Option<PathBuf>,
    /// Make a key that is missing (false in a cluster).
    pub make_missing: bool,
}

impl Default for KeyFiles {
    fn default() -> Self {
        KeyFiles { report_signing_key: None, make_missing: true }
    }
}

/// The rules of SPEC section 3 and the limits on guessing. Every number configurable.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// All documents of a message must be uploaded within this time of its first byte.
    #[serde(with = "humantime_serde")]
    pub upload_window: Duration,
    /// Documents are deleted this long after sending.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// The most one message may hold, in bytes.
    pub max_message_bytes: u64,
    /// Allowed extensions (lowercase, without the dot).
    pub allowed_extensions: Vec<String>,
    /// The longest document name, in UTF-8 bytes.
    pub max_name_bytes: usize,
    /// How long an account verification link is valid.
    #[serde(with = "humantime_serde")]
    pub verification_valid: Duration,
    /// How long an upload request link is valid.
    #[serde(with = "humantime_serde")]
    pub request_valid: Duration,
    /// How long the link that proves a public delivery's address is valid.
    #[serde(with = "humantime_serde")]
    pub delivery_valid: Duration,
    /// Public deliveries that may be started from one network address (IPv6:
    /// per /64) in 24 hours.
    pub deliveries_per_ip_per_day: u32,
    /// How long an SMS code is valid.
    #[serde(with = "humantime_serde")]
    pub code_valid: Duration,
    /// Wrong tries on one code before it is void.
    pub code_attempts: u32,
    /// Wrong tries on one link in all before it locks.
    pub link_attempts: u32,
    /// Codes that may be sent for one link per hour.
    pub codes_per_hour: u32,
    /// Failed sign-ins per account per hour before the account is refused for a while.
    pub account_failures_per_hour: u32,
    /// Failed sign-ins per address (IPv6: per /64) in 30 minutes before it is banned.
    pub ip_failures_per_30min: u32,
    /// The pause before a failed sign-in is answered; grows with recent failures.
    #[serde(with = "humantime_serde")]
    pub auth_failure_delay: Duration,
    /// The shortest password accepted.
    pub min_password_chars: usize,
    /// SMS one sender may cause in 24 hours (against SMS pumping).
    pub sms_per_sender_per_day: u32,
    /// Upload-request or verification mails one account may cause in 24 hours, per kind.
    pub mails_per_sender_per_day: u32,
    /// Upload-request or verification mails one address may get in 24 hours, per kind.
    pub mails_per_address_per_day: u32,
    /// What a folder put in a message becomes.
    pub folders: FolderRule,
}

/// What a folder put in a message becomes (`[rules] folders`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FolderRule {
    /// Kept as a folder; each top-level folder reaches the recipient as
    /// `<folder>.zip`, made as it is read.
    #[default]
    Zip,
    /// Refused: the sender zips it first.
    Refuse,
}

impl Default for Rules {
    fn default() -> Self {
        let names = NameRules::default();
        Rules {
            upload_window: Duration::from_secs(3600),
            retention: Duration::from_secs(5 * 24 * 3600),
            max_message_bytes: 100_000_000_000,
            allowed_extensions: names.allowed_extensions,
            max_name_bytes: names.max_name_bytes,
            verification_valid: Duration::from_secs(24 * 3600),
            request_valid: Duration::from_secs(14 * 24 * 3600),
            delivery_valid: Duration::from_secs(24 * 3600),
            deliveries_per_ip_per_day: 20,
            code_valid: Duration::from_secs(600),
            code_attempts: 5,
            link_attempts: 15,
            codes_per_hour: 3,
            account_failures_per_hour: 100,
            ip_failures_per_30min: 15,
            auth_failure_delay: Duration::from_secs(1),
            min_password_chars: 12,
            sms_per_sender_per_day: 200,
            mails_per_sender_per_day: 50,
            mails_per_address_per_day: 5,
            folders: FolderRule::Zip,
        }
    }
}

impl Rules {
    /// Refuse values that would make the service unsafe or useless.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::Invalid(what.to_owned()));
        if self.upload_window.is_zero() {
            return bad("upload_window must be longer than zero");
        }
        if self.retention.is_zero() {
            return bad("retention must be longer than zero");
        }
        if self.max_message_bytes == 0 {
            return bad("max_message_bytes must be more than zero");
        }
        if self.allowed_extensions.is_empty() {
            return bad("allowed_extensions must name at least one extension");
        }
        if let Some(ext) = self
            .allowed_extensions
            .iter()
            .find(|e| e.is_empty() || e.starts_with('.') || e.chars().any(|c| !c.is_ascii_alphanumeric()))
        {
            return Err(Error::Invalid(format!(
                "allowed_extensions: {ext:?} is not an extension (letters and digits, no dot)"
            )));
        }
        if !(16..=1024).contains(&self.max_name_bytes) {
            return bad("max_name_bytes must be between 16 and 1024");
        }
        if self.code_attempts == 0 || self.link_attempts < self.code_attempts {
            return bad("code_attempts must be at least 1 and link_attempts at least code_attempts");
        }
        if self.codes_per_hour == 0 {
            return bad("codes_per_hour must be at least 1");
        }
        if self.code_valid.is_zero() || self.verification_valid.is_zero() || self.request_valid.is_zero() {
            return bad("code_valid, verification_valid and request_valid must be longer than zero");
        }
        if self.sms_per_sender_per_day == 0 || self.mails_per_sender_per_day == 0 || self.mails_per_address_per_day == 0
        {
            return bad(
                "sms_per_sender_per_day, mails_per_sender_per_day and mails_per_address_per_day must be at least 1",
            );
        }
        if self.min_password_chars < 8 {
            return bad("min_password_chars must be at least 8");
        }
        Ok(())
    }

    /// The name rules derived from these settings.
    pub fn name_rules(&self) -> NameRules {
        NameRules {
            allowed_extensions: self.allowed_extensions.iter().map(|e| e.to_ascii_lowercase()).collect(),
            max_name_bytes: self.max_name_bytes,
        }
    }
}

/// Durations in settings are written the humane way: `90s`, `10m`, `1h`, `5d`.
pub mod humantime_serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    /// Parse a humantime duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| serde::de::Error::custom(format!("{text:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec() {
        let r = Rules::default();
        assert_eq!(r.upload_window, Duration::from_secs(3600));
        assert_eq!(r.retention, Duration::from_secs(432_000));
        assert_eq!(r.max_message_bytes, 100_000_000_000);
        assert!(r.allowed_extensions.iter().any(|e| e == "pdf"));
        assert!(r.validate().is_ok());
    }

    #[test]
    fn nonsense_is_refused() {
        let r = Rules { upload_window: Duration::ZERO, ..Rules::default() };
        assert!(r.validate().is_err());
        let r = Rules { allowed_extensions: vec![".pdf".into()], ..Rules::default() };
        assert!(r.validate().is_err());
        let r = Rules { link_attempts: 2, ..Rules::default() };
        assert!(r.validate().is_err());
    }
}
