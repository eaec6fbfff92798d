//! dav-server's lock system over the core's locks (`gateway::lock`), which
//! live in the database: one per request, holding the caller's session, so a
//! lock belongs to the caller's own tree and every node sees it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dav_server::davpath::DavPath;
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use futures_util::FutureExt;
use gateway::lock::{Lock, LockRequest, check_locks};
use gateway::{Gateway, Session};
use xmltree::{Element, EmitterConfig};

use crate::PREFIX;
use crate::error::Refusal;

/// The caller's locks.
#[derive(Clone)]
pub struct DbLocks {
    pub gateway: Gateway,
    pub session: Session,
    /// Where a refusal's reason goes, so the answer names the rule.
    pub refusal: Refusal,
}

impl std::fmt::Debug for DbLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbLocks").field("caller", &self.session.email()).finish()
    }
}

fn tree_path(path: &DavPath) -> String {
    String::from_utf8_lossy(path.as_bytes()).into_owned()
}

/// Percent-encode a tree path for a URL (everything but unreserved and `/`).
pub fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn owner_xml(owner: Option<&Element>) -> Option<String> {
    // dav-server hands the element over with the request's prefix (`D:`) but
    // without the declaration that binds it; written so, it would not parse
    // back. Unprefixed, it keeps its namespace as the default one.
    let mut owner = owner?.clone();
    owner.prefix = None;
    let mut out = Vec::new();
    let config = EmitterConfig::new().write_document_declaration(false);
    owner.write_with_config(&mut out, config).ok()?;
    String::from_utf8(out).ok()
}

/// dav-server's form of a lock; `near` stands in for a stored path that
/// would not parse (it always does: the core stores what came from a DavPath).
fn to_dav(lock: Lock, principal: Option<&str>, near: &DavPath) -> DavLock {
    let url = format!("{PREFIX}{}", encode(if lock.path.is_empty() { "/" } else { &lock.path }));
    let path = match DavPath::new(&url) {
        Ok(mut p) => match p.set_prefix(PREFIX) {
            Ok(()) => p,
            Err(_) => near.clone(),
        },
        Err(_) => near.clone(),
    };
    let expires = u64::try_from(lock.expires_at.as_millis()).unwrap_or(0);
    DavLock {
        token: lock.token,
        path: Box::new(path),
        principal: principal.map(str::to_owned),
        owner: lock.owner.and_then(|o| Element::parse(o.as_bytes()).ok()).map(Box::new),
        timeout_at: Some(UNIX_EPOCH + Duration::from_millis(expires)),
        timeout: Some(lock.timeout),
        shared: lock.shared,
        deep: lock.deep,
    }
}

impl DbLocks {
    async fn all(&self) -> Vec<Lock> {
        match self.gateway.locks(&self.session).await {
            Ok(locks) => locks,
            Err(e) => {
                tracing::error!(error = %e, "cannot read locks");
                Vec::new()
            }
        }
    }
}

impl DavLockSystem for DbLocks {
    fn lock(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        owner: Option<&Element>,
        timeout: Option<Duration>,
        shared: bool,
        deep: bool,
    ) -> LsFuture<'_, Result<DavLock, DavLock>> {
        let request = LockRequest { path: tree_path(path), owner: owner_xml(owner), shared, deep, timeout };
        let principal = principal.map(str::to_owned);
        let path = path.clone();
        async move {
            match self.gateway.lock(&self.session, request).await {
                Ok(Ok(lock)) => Ok(to_dav(lock, principal.as_deref(), &path)),
                Ok(Err(conflict)) => Err(to_dav(conflict, principal.as_deref(), &path)),
                Err(e) => {
                    // Refused (too many locks, or the account was disabled):
                    // dav-server can only answer 423, so the reason is kept
                    // and the answer becomes the core's status and words.
                    tracing::info!(error = %e, "lock refused");
                    self.refusal.keep(e);
                    let now = SystemTime::now();
                    Err(DavLock {
                        token: String::new(),
                        path: Box::new(path),
                        principal,
                        owner: None,
                        timeout_at: Some(now),
                        timeout: None,
                        shared: false,
                        deep: false,
                    })
                }
            }
        }
        .boxed()
    }

    fn unlock(&self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
        let (path, token) = (tree_path(path), token.to_owned());
        async move {
            match self.gateway.unlock(&self.session, &path, &token).await {
                Ok(true) => Ok(()),
                _ => Err(()),
            }
        }
        .boxed()
    }

    fn refresh(&self, path: &DavPath, token: &str, timeout: Option<Duration>) -> LsFuture<'_, Result<DavLock, ()>> {
        let (near, path, token) = (path.clone(), tree_path(path), token.to_owned());
        async move {
            match self.gateway.refresh_lock(&self.session, &path, &token, timeout).await {
                Ok(Some(lock)) => Ok(to_dav(lock, None, &near)),
                _ => Err(()),
            }
        }
        .boxed()
    }

    fn check(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        _ignore_principal: bool,
        deep: bool,
        submitted_tokens: &[String],
    ) -> LsFuture<'_, Result<(), DavLock>> {
        let near = path.clone();
        let (path, tokens, principal) = (tree_path(path), submitted_tokens.to_vec(), principal.map(str::to_owned));
        async move {
            let locks = self.all().await;
            check_locks(&locks, &path, deep, &tokens, false).map_err(|l| to_dav(l, principal.as_deref(), &near))
        }
        .boxed()
    }

    fn discover(&self, path: &DavPath) -> LsFuture<'_, Vec<DavLock>> {
        let near = path.clone();
        let path = gateway::lock::normalize_path(&tree_path(path));
        async move {
            self.all()
                .await
                .into_iter()
                .filter(|l| {
                    l.path.is_empty()
                        || l.path == path
                        || (path.strip_prefix(&l.path).is_some_and(|rest| rest.starts_with('/')))
                })
                .map(|l| to_dav(l, None, &near))
                .collect()
        }
        .boxed()
    }

    fn delete(&self, path: &DavPath) -> LsFuture<'_, Result<(), ()>> {
        let path = tree_path(path);
        async move { self.gateway.delete_locks(&self.session, &path).await.map_err(|_| ()) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_for_urls() {
        assert_eq!(encode("/outbox/a b/é.pdf"), "/outbox/a%20b/%C3%A9.pdf");
        assert_eq!(encode("/outbox/x"), "/outbox/x");
    }
}
