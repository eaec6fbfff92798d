//! Basic authentication (over TLS: the door is served only by the HTTPS
//! listener): an account password, an app password (`kdav-…`), or a request
//! link (user `request-<id>`). The core checks every credential and counts
//! every failure in the store the other doors share.
//!
//! WebDAV clients send the credentials with every request, and an account
//! password costs an Argon2id hash (about 50 ms and 19 MiB). A successful
//! sign-in is therefore remembered for [`REMEMBER`], keyed by the SHA-256 of
//! the user and password (never the password itself); the core re-checks on
//! every write that the account is still enabled, and a remembered app
//! password is looked up again (revoked, it stops at once).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use gateway::{Door, Gateway, Origin, Session};

/// How long a successful sign-in is remembered.
pub const REMEMBER: Duration = Duration::from_secs(60);

/// The most sign-ins remembered at once.
const MAX_REMEMBERED: usize = 10_000;

/// Sessions by the SHA-256 of their credentials, with when they were made.
type Remembered = HashMap<Vec<u8>, (Session, Instant)>;

/// Remembered sign-ins.
#[derive(Clone, Default)]
pub struct SignIns(Arc<Mutex<Remembered>>);

fn challenge(status: StatusCode, why: &str) -> Response {
    let mut res = crate::text(status, format!("{why}\n"));
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"koerier\", charset=\"UTF-8\""));
    }
    res
}

/// The user and password of a Basic `Authorization` header.
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = data_encoding::BASE64.decode(encoded.trim().as_bytes()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

impl SignIns {
    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The caller's session, or the answer to give instead.
    pub async fn authenticate(
        &self,
        gateway: &Gateway,
        headers: &HeaderMap,
        ip: Option<IpAddr>,
    ) -> Result<Session, Response> {
        let Some((user, password)) = basic(headers) else {
            return Err(challenge(StatusCode::UNAUTHORIZED, "sign in with your address and password"));
        };
        let key = gateway::crypto::secret_hash(&format!("{user}\u{0}{password}"));
        let remembered = self.lock().get(&key).cloned();
        if let Some((session, at)) = remembered
            && at.elapsed() < REMEMBER
        {
            // A revoked app password stops at once: whether it stands is one
            // cheap read (an account password's check is the Argon2 hash).
            let revoked = gateway::app_password::looks_like_app_password(&password)
                && !gateway.app_password_stands(&password).await.unwrap_or(false);
            if !revoked {
                // This request's own address, not the one of the sign-in remembered.
                return Ok(session.from_origin(Origin::new(Door::Webdav, ip)));
            }
            self.lock().remove(&key);
        }
        let origin = Origin::new(Door::Webdav, ip);
        let result = gateway.authenticate_login(&user, &password, origin).await;
        match result {
            Ok(session) => {
                let mut map = self.lock();
                if map.len() >= MAX_REMEMBERED {
                    map.retain(|_, (_, at)| at.elapsed() < REMEMBER);
                }
                if map.len() < MAX_REMEMBERED {
                    map.insert(key, (session.clone(), Instant::now()));
                }
                Ok(session)
            }
            Err(gateway::Error::BadCredentials) => {
                Err(challenge(StatusCode::UNAUTHORIZED, "the address or password is not right"))
            }
            Err(e) => {
                let status = crate::status_of(&e);
                let status = if status == StatusCode::FORBIDDEN { StatusCode::UNAUTHORIZED } else { status };
                Err(challenge(status, crate::body_of(&e).trim_end()))
            }
        }
    }
}

/// Percent-decode a URL path once (invalid escapes stay as they are).
pub fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_parse_and_junk_does_not() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic amFuQG1pbnZ3cy5ubDpwdzpwdw=="));
        assert_eq!(basic(&h), Some(("jan@minvws.nl".into(), "pw:pw".into())));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(basic(&h), None);
    }

    #[test]
    fn percent_decoding_is_done_once() {
        assert_eq!(percent_decode("/dav/%2e%2e/x"), "/dav/../x");
        assert_eq!(percent_decode("/dav/%252e"), "/dav/%2e");
        assert_eq!(percent_decode("/dav/%zz"), "/dav/%zz");
    }
}
