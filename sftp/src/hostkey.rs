//! The server's SSH host key: Ed25519, made on first start and kept in the
//! data folder (owner-only), so that clients see the same key after a restart;
//! or given (`KOERIER_SSH_HOST_KEY_FILE`), the same on every node of a cluster.

use std::path::{Path, PathBuf};

use russh::keys::PrivateKey;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;

/// Where the host key lives under the data folder.
pub const HOST_KEY_FILE: &str = "keys/ssh_host_ed25519_key";

/// Why the host key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    /// Reading or writing the file failed.
    #[error("host key {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The file is not an OpenSSH private key.
    #[error("host key {path} is not an OpenSSH Ed25519 private key: {reason}")]
    Format { path: PathBuf, reason: String },
    /// No randomness for a new key.
    #[error("no randomness for a new host key")]
    Random,
    /// A node of a cluster makes no key, and this one is not there.
    #[error(
        "host key {path} does not exist; a node of a cluster makes no keys, so every node is given the same \
         file (KOERIER_SSH_HOST_KEY_FILE)"
    )]
    Missing { path: PathBuf },
}

/// Load the host key from `path`, which must exist (a node of a cluster).
pub fn load(path: &Path) -> Result<PrivateKey, HostKeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => PrivateKey::from_openssh(text.as_bytes())
            .map_err(|e| HostKeyError::Format { path: path.to_owned(), reason: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(HostKeyError::Missing { path: path.to_owned() }),
        Err(source) => Err(HostKeyError::Io { path: path.to_owned(), source }),
    }
}

/// Load the host key at `path`, making it first if there is none.
pub fn load_or_generate(path: &Path) -> Result<PrivateKey, HostKeyError> {
    let path = path.to_owned();
    let io = |source| HostKeyError::Io { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(text) => PrivateKey::from_openssh(text.as_bytes())
            .map_err(|e| HostKeyError::Format { path: path.clone(), reason: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            aws_lc_rs::rand::fill(&mut seed).map_err(|_| HostKeyError::Random)?;
            let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
            let text = key
                .to_openssh(LineEnding::LF)
                .map_err(|e| HostKeyError::Format { path: path.clone(), reason: e.to_string() })?;
            if !gateway::crypto::create_private(&path, text.as_bytes()).map_err(io)? {
                // Another process made it first: use theirs.
                return load_or_generate(&path);
            }
            tracing::info!(path = %path.display(), "generated the SSH host key");
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_owner_only_and_kept() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(HOST_KEY_FILE);
        assert!(matches!(load(&path), Err(HostKeyError::Missing { .. })), "not made by load");
        let first = load_or_generate(&path)?;
        let again = load_or_generate(&path)?;
        assert_eq!(load(&path)?.public_key(), first.public_key());
        assert_eq!(first.public_key(), again.public_key());
        assert_eq!(first.algorithm(), russh::keys::Algorithm::Ed25519);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(HOST_KEY_FILE))?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }
}
