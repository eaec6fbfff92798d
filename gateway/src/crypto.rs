//! Key material of the server and what is derived from it: wrapping of document
//! keys, sealing of small texts (accompanying texts, queued messages), hashing of
//! link secrets and keyed hashing of SMS codes.
//!
//! Every purpose has its own key, derived from the master key with HKDF-SHA-256
//! and a distinct label, so a key can never be used for something else.
//! A document for an external recipient is wrapped with a key that also depends
//! on the link secret, which the database holds only as a SHA-256 hash: the
//! database, the blobs and the master key together cannot open it.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hkdf, hmac};
use data_encoding::BASE64;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::random::Random;
use crate::store::DocumentKey;

/// The server's 256-bit master key. Its `Debug` never shows it.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// Where the master key came from, so the operator can be warned about a generated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Read from the environment or an existing key file.
    Loaded,
    /// Generated just now and written to the key file.
    Generated,
}

impl MasterKey {
    /// From 32 bytes in standard base64 (the environment variable's format).
    pub fn from_base64(text: &str) -> Result<MasterKey> {
        let bytes = Zeroizing::new(
            BASE64
                .decode(text.trim().as_bytes())
                .map_err(|_| Error::Invalid("the master key is not valid base64".into()))?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::Invalid("the master key must be 32 bytes (44 base64 characters)".into()))?;
        Ok(MasterKey(Zeroizing::new(key)))
    }

    /// Read the key file, or create it (mode 0600) with a fresh key when it does not exist.
    /// Two processes starting at once (`serve` and a command) agree on one key:
    /// the one that loses the race reads the winner's file.
    pub fn load_or_generate(path: &Path, random: &dyn Random) -> Result<(MasterKey, KeyOrigin)> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((MasterKey::from_base64(&text)?, KeyOrigin::Loaded)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = Zeroizing::new([0u8; 32]);
                random.fill(key.as_mut())?;
                let text = Zeroizing::new(BASE64.encode(key.as_ref()));
                let made = create_private(path, text.as_bytes())
                    .map_err(|e| Error::internal("cannot write the master key file", e))?;
                if made { Ok((MasterKey(key), KeyOrigin::Generated)) } else { Self::load_or_generate(path, random) }
            }
            Err(e) => Err(Error::internal("cannot read the master key file", e)),
        }
    }

    fn derive(&self, label: &str, salt: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(self.0.as_ref());
        let info = [label.as_bytes()];
        // HKDF-SHA-256 can always produce 32 bytes; a failure here is a broken library.
        if let Ok(okm) = prk.expand(&info, hkdf::HKDF_SHA256) {
            let _ = okm.fill(out.as_mut());
        }
        out
    }
}

/// The keys of one running server, derived once from the master key.
pub struct Keys {
    master: MasterKey,
    wrap: LessSafeKey,
    seal: LessSafeKey,
    code: hmac::Key,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

/// How a document key is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScheme {
    /// By a key derived from the master key alone (drafts, staff recipients).
    Server,
    /// By a key derived from the master key and the recipient's link secret.
    Link,
}

impl KeyScheme {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScheme::Server => "server",
            KeyScheme::Link => "link",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Result<KeyScheme> {
        match s {
            "server" => Ok(KeyScheme::Server),
            "link" => Ok(KeyScheme::Link),
            other => Err(Error::Internal(format!("unknown key scheme {other}"))),
        }
    }
}

impl Keys {
    /// Derive the working keys.
    pub fn new(master: MasterKey) -> Keys {
        let wrap = aead_key(&master.derive("koerier/wrap/server/v1", b""));
        let seal = aead_key(&master.derive("koerier/seal/text/v1", b""));
        let code = hmac::Key::new(hmac::HMAC_SHA256, master.derive("koerier/hmac/code/v1", b"").as_ref());
        Keys { master, wrap, seal, code }
    }

    /// Wrap a document key; `aad` binds it to the document.
    pub fn wrap_document_key(&self, key: &DocumentKey, doc_id: &str, random: &dyn Random) -> Result<Vec<u8>> {
        seal_with(&self.wrap, key.as_bytes(), &format!("document:{doc_id}"), random)
    }

    /// Wrap a document key with the key of a recipient's link.
    pub fn wrap_for_link(
        &self,
        key: &DocumentKey,
        doc_id: &str,
        link_secret: &str,
        random: &dyn Random,
    ) -> Result<Vec<u8>> {
        let kek = aead_key(&self.master.derive("koerier/wrap/link/v1", link_secret.as_bytes()));
        seal_with(&kek, key.as_bytes(), &format!("document:{doc_id}"), random)
    }

    /// Unwrap a document key wrapped by [`Keys::wrap_document_key`] or [`Keys::wrap_for_link`].
    pub fn unwrap_document_key(&self, sealed: &[u8], doc_id: &str, link_secret: Option<&str>) -> Result<DocumentKey> {
        let aad = format!("document:{doc_id}");
        let plain = match link_secret {
            None => open_with(&self.wrap, sealed, &aad)?,
            Some(secret) => {
                let kek = aead_key(&self.master.derive("koerier/wrap/link/v1", secret.as_bytes()));
                open_with(&kek, sealed, &aad)?
            }
        };
        let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| Error::Corrupt)?;
        Ok(DocumentKey::from_bytes(bytes))
    }

    /// Seal a small text (an accompanying text, a queued message) for the database.
    pub fn seal_text(&self, text: &str, context: &str, random: &dyn Random) -> Result<Vec<u8>> {
        seal_with(&self.seal, text.as_bytes(), context, random)
    }

    /// Open a text sealed by [`Keys::seal_text`] with the same context.
    pub fn open_text(&self, sealed: &[u8], context: &str) -> Result<String> {
        let plain = open_with(&self.seal, sealed, context)?;
        String::from_utf8(plain.to_vec()).map_err(|_| Error::Corrupt)
    }

    /// A value that proves which master key this is without revealing it
    /// (HKDF is one-way): kept in the database, compared at every start.
    pub fn check_value(&self) -> Vec<u8> {
        self.master.derive("koerier/key-check/v1", b"").as_ref().to_vec()
    }

    /// The keyed hash of an SMS code, bound to its link.
    pub fn code_tag(&self, link_id: &str, code: &str) -> Vec<u8> {
        hmac::sign(&self.code, format!("{link_id}:{code}").as_bytes()).as_ref().to_vec()
    }

    /// Compare a code with a stored tag in constant time.
    pub fn code_matches(&self, link_id: &str, code: &str, tag: &[u8]) -> bool {
        hmac::verify(&self.code, format!("{link_id}:{code}").as_bytes(), tag).is_ok()
    }
}

/// The server's Ed25519 key for signing reports. Its `Debug` shows only the public key.
pub struct SigningKey(aws_lc_rs::signature::Ed25519KeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use aws_lc_rs::signature::KeyPair;
        write!(f, "SigningKey({})", BASE64.encode(self.0.public_key().as_ref()))
    }
}

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

impl SigningKey {
    /// Read the key file (PKCS#8 in PEM), or create it (mode 0600) from a
    /// fresh seed when it does not exist. Like the master key, it is made once
    /// and kept: every proof ever issued names its public key.
    pub fn load_or_generate(path: &Path, random: &dyn Random) -> Result<(SigningKey, KeyOrigin)> {
        use aws_lc_rs::signature::Ed25519KeyPair;
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((SigningKey::from_pem(path, &text)?, KeyOrigin::Loaded)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = Zeroizing::new([0u8; 32]);
                random.fill(seed.as_mut())?;
                let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
                    .map_err(|e| Error::internal("cannot make the signing key", e))?;
                let der = pair.to_pkcs8().map_err(|e| Error::internal("cannot encode the signing key", e))?;
                let b64 = Zeroizing::new(BASE64.encode(der.as_ref()));
                let mut pem = Zeroizing::new(format!("{PEM_BEGIN}\n"));
                for line in b64.as_bytes().chunks(64) {
                    pem.push_str(&String::from_utf8_lossy(line));
                    pem.push('\n');
                }
                pem.push_str(PEM_END);
                pem.push('\n');
                let made = create_private(path, pem.as_bytes())
                    .map_err(|e| Error::internal("cannot write the report signing key file", e))?;
                if made { Ok((SigningKey(pair), KeyOrigin::Generated)) } else { Self::load_or_generate(path, random) }
            }
            Err(e) => Err(Error::internal("cannot read the report signing key file", e)),
        }
    }

    /// Read the key file, which must exist (a node of a cluster makes no keys).
    pub fn load(path: &Path) -> Result<SigningKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => SigningKey::from_pem(path, &text),
            Err(e) => Err(Error::Invalid(format!(
                "cannot read the report signing key {}: {e}; a node of a cluster makes no keys, so every node \
                 is given the same file (KOERIER_REPORT_SIGNING_KEY_FILE)",
                path.display()
            ))),
        }
    }

    fn from_pem(path: &Path, text: &str) -> Result<SigningKey> {
        let invalid = || Error::Invalid(format!("{} is not an Ed25519 private key in PKCS#8 PEM", path.display()));
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = Zeroizing::new(BASE64.decode(body.trim().as_bytes()).map_err(|_| invalid())?);
        Ok(SigningKey(aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&der).map_err(|_| invalid())?))
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> Vec<u8> {
        use aws_lc_rs::signature::KeyPair;
        self.0.public_key().as_ref().to_vec()
    }

    /// Sign a message; the signature is 64 bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).as_ref().to_vec()
    }
}

/// SHA-256 of a secret: how link and request secrets are stored and looked up.
/// The secrets carry 256 bits of entropy, so a plain hash cannot be reversed.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, secret.as_bytes()).as_ref().to_vec()
}

fn aead_key(bytes: &[u8; 32]) -> LessSafeKey {
    // A 32-byte key always fits AES-256.
    match UnboundKey::new(&AES_256_GCM, bytes) {
        Ok(k) => LessSafeKey::new(k),
        Err(_) => unreachable!("AES-256 accepts every 32-byte key"),
    }
}

fn seal_with(key: &LessSafeKey, plain: &[u8], aad: &str, random: &dyn Random) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    random.fill(&mut nonce)?;
    let mut buf = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad.as_bytes()), &mut buf)
        .map_err(|_| Error::Internal("sealing failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    buf.iter_mut().for_each(|b| *b = 0);
    Ok(out)
}

fn open_with(key: &LessSafeKey, sealed: &[u8], aad: &str) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN {
        return Err(Error::Corrupt);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::Corrupt)?;
    let mut buf = Zeroizing::new(body.to_vec());
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad.as_bytes()), &mut buf)
        .map_err(|_| Error::Corrupt)?;
    Ok(Zeroizing::new(plain.to_vec()))
}

/// Create a file readable by its owner only, unless it exists; whether this
/// call made it (`false`: another process did first, read theirs).
///
/// The bytes are written and synced beside it under a name of this call's own,
/// then linked into place, which fails if the file is there: so a reader finds
/// no file or the whole of it, never a half-written key.
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    static ASIDE: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let aside = dir.join(format!(".{name}.{}.{}", std::process::id(), ASIDE.fetch_add(1, Ordering::Relaxed)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&aside).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&aside, path));
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => {
            std::fs::File::open(dir)?.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;

    fn keys() -> Result<Keys> {
        Ok(Keys::new(MasterKey::from_base64("S29lcmllciB0ZXN0IG1hc3RlciBrZXkgMzIgYnl0ZXM=")?))
    }

    #[test]
    fn processes_starting_at_once_agree_on_one_master_key() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::internal("tempdir", e))?;
        let path = dir.path().join("keys/master.key");
        let made: Vec<(Vec<u8>, KeyOrigin)> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        MasterKey::load_or_generate(&path, &SystemRandom).map(|(key, origin)| (key.0.to_vec(), origin))
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap_or(Err(Error::Corrupt))).collect::<Result<_>>()
        })?;
        let generated = made.iter().filter(|(_, origin)| *origin == KeyOrigin::Generated).count();
        assert_eq!(generated, 1, "exactly one racer makes the key");
        assert!(made.iter().all(|(key, _)| *key == made[0].0), "every racer has the same key");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("keys"))
            .map_err(|e| Error::internal("read_dir", e))?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("master.key")], "nothing left aside");
        Ok(())
    }

    #[test]
    fn a_link_wrapped_key_opens_only_with_that_link() -> Result<()> {
        let keys = keys()?;
        let dek = DocumentKey::from_bytes([7u8; 32]);
        let sealed = keys.wrap_for_link(&dek, "doc1", "the-right-secret", &SystemRandom)?;
        let opened = keys.unwrap_document_key(&sealed, "doc1", Some("the-right-secret"))?;
        assert_eq!(opened.as_bytes(), dek.as_bytes());
        assert!(keys.unwrap_document_key(&sealed, "doc1", Some("a-wrong-secret")).is_err());
        assert!(keys.unwrap_document_key(&sealed, "doc1", None).is_err(), "the master key alone cannot");
        assert!(keys.unwrap_document_key(&sealed, "doc2", Some("the-right-secret")).is_err(), "bound to its document");
        Ok(())
    }

    #[test]
    fn another_master_key_opens_nothing() -> Result<()> {
        let other = Keys::new(MasterKey::from_base64("QW5vdGhlciBtYXN0ZXIga2V5IG9mIDMyIGJ5dGVzISE=")?);
        let sealed = keys()?.seal_text("accompanying", "transfer-body:t1", &SystemRandom)?;
        assert_eq!(keys()?.open_text(&sealed, "transfer-body:t1")?, "accompanying");
        assert!(other.open_text(&sealed, "transfer-body:t1").is_err());
        assert!(keys()?.open_text(&sealed, "transfer-body:t2").is_err(), "bound to its context");
        Ok(())
    }

    #[test]
    fn codes_are_bound_to_their_link() -> Result<()> {
        let keys = keys()?;
        let tag = keys.code_tag("link1", "123456");
        assert!(keys.code_matches("link1", "123456", &tag));
        assert!(!keys.code_matches("link1", "123457", &tag));
        assert!(!keys.code_matches("link2", "123456", &tag));
        Ok(())
    }

    #[test]
    fn the_signing_key_is_made_once_and_kept() -> Result<()> {
        use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
        let dir = tempfile::tempdir().map_err(|e| Error::internal("tempdir", e))?;
        let path = dir.path().join("keys/report-signing.key");
        let (made, origin) = SigningKey::load_or_generate(&path, &SystemRandom)?;
        assert_eq!(origin, KeyOrigin::Generated);
        let (loaded, origin) = SigningKey::load_or_generate(&path, &SystemRandom)?;
        assert_eq!(origin, KeyOrigin::Loaded);
        assert_eq!(made.public_key(), loaded.public_key());
        let signature = loaded.sign(b"statement");
        let public = UnparsedPublicKey::new(&ED25519, made.public_key());
        assert!(public.verify(b"statement", &signature).is_ok());
        assert!(public.verify(b"statemenT", &signature).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map_err(|e| Error::internal("stat", e))?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").map_err(|e| Error::internal("write", e))?;
        assert!(matches!(SigningKey::load_or_generate(&path, &SystemRandom), Err(Error::Invalid(_))));
        Ok(())
    }

    #[test]
    fn key_debug_prints_nothing_secret() -> Result<()> {
        let key = MasterKey::from_base64("S29lcmllciB0ZXN0IG1hc3RlciBrZXkgMzIgYnl0ZXM=")?;
        assert_eq!(format!("{key:?}"), "MasterKey(***)");
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        Ok(())
    }
}
