//! Credentials as values: passwords hashed with Argon2id (bounded, off the
//! async runtime) and SSH public keys as registered. A leaf of the core:
//! accounts store them and `auth` checks them, and neither is needed here.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use aws_lc_rs::digest;
use data_encoding::{BASE64, BASE64_NOPAD};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Argon2id hashing, bounded: each hash takes about 19 MiB and 50 ms of a core.
#[derive(Debug, Clone)]
pub(crate) struct Hashing {
    permits: Arc<Semaphore>,
    /// A real hash to verify against when the account does not exist, so that
    /// the answer takes as long for an unknown address as for a wrong password.
    decoy: Arc<String>,
}

impl Hashing {
    pub async fn new() -> Result<Hashing> {
        let permits = Arc::new(Semaphore::new(2));
        let mut hashing = Hashing { permits, decoy: Arc::new(String::new()) };
        let decoy = hash_password(&hashing, "decoy password for unknown accounts".into()).await?;
        hashing.decoy = Arc::new(decoy);
        Ok(hashing)
    }
}

/// Hash a password with Argon2id at the library's defaults (m=19 MiB, t=2, p=1,
/// the OWASP recommendation), off the async runtime.
pub(crate) async fn hash_password(hashing: &Hashing, password: String) -> Result<String> {
    let _permit = hashing.permits.acquire().await.map_err(|e| Error::internal("hashing closed", e))?;
    let password = Zeroizing::new(password);
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::internal("password hashing failed", e))
    })
    .await
    .map_err(|e| Error::internal("hashing task failed", e))?
}

pub(crate) async fn verify_password(hashing: &Hashing, password: &str, stored: Option<String>) -> Result<bool> {
    let _permit = hashing.permits.acquire().await.map_err(|e| Error::internal("hashing closed", e))?;
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| hashing.decoy.as_ref().clone());
    let password = Zeroizing::new(password.to_owned());
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .map_err(|e| Error::internal("hashing task failed", e))?;
    Ok(ok && known)
}

/// An SSH public key as registered: the algorithm name and the key in SSH wire
/// encoding (base64), which is what a client presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshPublicKey {
    pub(crate) algorithm: String,
    pub(crate) blob: String,
    pub(crate) comment: String,
}

const SSH_ALGORITHMS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-256",
    "rsa-sha2-512",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

impl SshPublicKey {
    /// Parse one `authorized_keys` line: `type base64 [comment]` (no options).
    pub fn parse_openssh(line: &str) -> Result<SshPublicKey> {
        let mut parts = line.split_whitespace();
        let (Some(algorithm), Some(b64)) = (parts.next(), parts.next()) else {
            return Err(Error::Invalid("expected an OpenSSH public key line: <type> <base64> [comment]".into()));
        };
        let comment = parts.collect::<Vec<_>>().join(" ");
        let blob =
            BASE64.decode(b64.as_bytes()).map_err(|_| Error::Invalid("the public key is not valid base64".into()))?;
        SshPublicKey::from_wire(algorithm, &blob).map(|k| SshPublicKey { comment, ..k })
    }

    /// A key as an SSH client presents it (wire encoding).
    pub fn from_wire(algorithm: &str, blob: &[u8]) -> Result<SshPublicKey> {
        if !SSH_ALGORITHMS.contains(&algorithm) {
            return Err(Error::Invalid(format!("unsupported key type {algorithm}")));
        }
        // The blob starts with the key type as an SSH string; it must agree.
        let declared = blob
            .get(..4)
            .and_then(|len| usize::try_from(u32::from_be_bytes([len[0], len[1], len[2], len[3]])).ok())
            .and_then(|len| blob.get(4..4 + len));
        let expected = if algorithm.starts_with("rsa-sha2") { "ssh-rsa" } else { algorithm };
        if declared != Some(expected.as_bytes()) {
            return Err(Error::Invalid("the key data does not match its type".into()));
        }
        Ok(SshPublicKey { algorithm: expected.to_owned(), blob: BASE64.encode(blob), comment: String::new() })
    }

    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        let raw = BASE64.decode(self.blob.as_bytes()).unwrap_or_default();
        format!("SHA256:{}", BASE64_NOPAD.encode(digest::digest(&digest::SHA256, &raw).as_ref()))
    }
}
