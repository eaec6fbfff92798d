//! TLS for the HTTPS listener, after the Dutch NCSC guidelines (2025 tables):
//! TLS 1.3 first, TLS 1.2 only with ECDHE and an AEAD (no CBC, no DHE, no
//! RSA key exchange), the groups X25519MLKEM768, x25519, secp256r1 and
//! secp384r1 in that order, no 0-RTT, the extended master secret for TLS 1.2
//! whenever the client offers it. Everything through the aws-lc-rs provider.
//!
//! The certificate is the operator's (PEM files), or on the embedded default a
//! self-signed ECDSA P-256 certificate made on first start in `<data>/certs/`
//! and kept: valid for [`SELF_SIGNED_VALID`] (what browsers accept of a
//! server certificate), made again at a start once it is [`SELF_SIGNED_RENEW`] old.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self, cipher_suite, kx_group};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("cannot use {path}: {source}", path = .0.display(), source = .1)]
    Io(PathBuf, std::io::Error),
    /// A certificate or key file holds no usable PEM.
    #[error("{path} is not a usable PEM file: {why}", path = .0.display(), why = .1)]
    Pem(PathBuf, String),
    /// The self-signed certificate could not be made.
    #[error("cannot make the self-signed certificate: {0}")]
    Generate(String),
    /// rustls refused the configuration (for instance a key that does not match).
    #[error("the certificate and key are not usable: {0}")]
    Rustls(rustls::Error),
}

/// How long a self-signed certificate is valid: 397 days, the most that
/// browsers and Apple's platforms accept of a TLS server certificate.
pub const SELF_SIGNED_VALID: Duration = Duration::from_secs(397 * 24 * 3600);

/// The age at which a start makes the self-signed certificate again, a
/// month before it would expire.
pub const SELF_SIGNED_RENEW: Duration = Duration::from_secs(367 * 24 * 3600);

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// The operator's certificate chain and private key, PEM.
    Files {
        /// The chain, leaf first.
        cert: PathBuf,
        /// The private key (PKCS#8, SEC1 or PKCS#1).
        key: PathBuf,
    },
    /// A self-signed certificate in this folder, made on first start.
    SelfSigned {
        /// Usually `<data>/certs`.
        dir: PathBuf,
        /// The names the certificate is for (host names or IP addresses).
        names: Vec<String>,
    },
}

/// The crypto provider of the listener: aws-lc-rs, cut down to the NCSC set.
pub fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: vec![kx_group::X25519MLKEM768, kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        ..aws_lc_rs::default_provider()
    }
}

/// The server configuration of the HTTPS listener.
pub fn server_config(source: &CertSource) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let (cert_path, key_path) = match source {
        CertSource::Files { cert, key } => (cert.clone(), key.clone()),
        CertSource::SelfSigned { dir, names } => self_signed(dir, names)?,
    };
    let chain = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| TlsError::Pem(cert_path.clone(), e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(cert_path.clone(), e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::Pem(cert_path, "no certificate in it".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| TlsError::Pem(key_path.clone(), e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Rustls)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsError::Rustls)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.max_early_data_size = 0;
    // Negotiated whenever offered, not required: a client or scanner that
    // sends no extended master secret (testssl's TLS 1.2 probe among them)
    // would see no TLS 1.2 at all, and the triple handshake it guards
    // against needs a renegotiation, which rustls never does.
    config.require_ems = false;
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// The self-signed certificate in `dir`, made if it is not there yet or
/// is [`SELF_SIGNED_RENEW`] old (by the time its file was written).
fn self_signed(dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert = dir.join("self-signed.crt");
    let key = dir.join("self-signed.key");
    let made_at = std::fs::metadata(&cert).and_then(|m| m.modified()).ok();
    let young = made_at.and_then(|at| at.elapsed().ok()).is_some_and(|age| age < SELF_SIGNED_RENEW);
    if young && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir).map_err(|e| TlsError::Io(dir.to_owned(), e))?;
    let generate = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(generate)?;
    let now = time::OffsetDateTime::from(SystemTime::now());
    // A day's margin for a client whose clock is behind.
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + SELF_SIGNED_VALID;
    let signing_key = rcgen::KeyPair::generate().map_err(generate)?;
    let made = params.self_signed(&signing_key).map_err(generate)?;
    write_private(&key, signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert, made.pem()).map_err(|e| TlsError::Io(cert.clone(), e))?;
    tracing::info!(cert = %cert.display(), "made a self-signed certificate for the HTTPS listener, valid 397 days");
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| TlsError::Io(path.to_owned(), e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| TlsError::Io(path.to_owned(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_self_signed_certificate_is_made_once_and_kept() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let source = CertSource::SelfSigned { dir: dir.path().join("certs"), names: vec!["127.0.0.1".into()] };
        server_config(&source)?;
        let first = std::fs::read(dir.path().join("certs/self-signed.crt"))?;
        let config = server_config(&source)?;
        assert_eq!(first, std::fs::read(dir.path().join("certs/self-signed.crt"))?, "kept, not made again");
        assert_eq!(config.max_early_data_size, 0, "no 0-RTT");
        assert!(!config.require_ems, "TLS 1.2 without the extended master secret, as scanners probe");
        // A month before it would expire, the next start makes it again.
        let file = std::fs::File::options().write(true).open(dir.path().join("certs/self-signed.crt"))?;
        file.set_modified(SystemTime::now() - SELF_SIGNED_RENEW)?;
        server_config(&source)?;
        assert_ne!(first, std::fs::read(dir.path().join("certs/self-signed.crt"))?, "made again");
        Ok(())
    }

    #[test]
    fn the_self_signed_certificate_is_valid_for_397_days() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let (cert, _) = self_signed(dir.path(), &["127.0.0.1".into()])?;
        let out =
            std::process::Command::new("openssl").args(["x509", "-noout", "-enddate", "-in"]).arg(&cert).output()?;
        assert!(out.status.success(), "openssl reads it: {}", String::from_utf8_lossy(&out.stderr));
        let end = String::from_utf8(out.stdout)?;
        let year = time::OffsetDateTime::from(SystemTime::now() + SELF_SIGNED_VALID).year();
        assert!(end.contains(&year.to_string()) && !end.contains("4096"), "{end}");
        Ok(())
    }

    #[test]
    fn only_aead_suites_and_the_ncsc_groups() {
        let p = provider();
        for suite in &p.cipher_suites {
            let name = format!("{:?}", suite.suite());
            assert!(name.contains("GCM") || name.contains("CHACHA20_POLY1305"), "{name}");
            assert!(!name.contains("CBC") && !name.contains("DHE_RSA_WITH") || name.contains("ECDHE"), "{name}");
        }
        let groups: Vec<String> = p.kx_groups.iter().map(|g| format!("{:?}", g.name())).collect();
        assert_eq!(groups, ["X25519MLKEM768", "X25519", "secp256r1", "secp384r1"]);
    }
}
