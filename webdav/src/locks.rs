//! dav-server's lock system over the core's locks (`gateway::lock`), which
//! live in the database: one per request, holding the caller's session, so a
//! lock belongs to the caller's own tree and every node sees it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dav_server::davpath::DavPath;
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use futures_util::FutureExt;
use gateway::lock::{Lock, LockRequest, check_locks};
use gateway::{Gateway, Session};
use xmltree::{Element, EmitterConfig, Namespace, XMLNode};

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

/// The lock's owner as kept: `DAV:owner` under the prefix `D`, which it
/// declares itself, with every `DAV:` element below it under `D` too and any
/// other namespace under a prefix it declares. So it parses back on its own,
/// and written inside dav-server's answers (which bind `D` to `DAV:`) it
/// still reads as `DAV:owner`, which is where Office and Explorer look for
/// who holds a lock. dav-server hands the element over with whatever prefix
/// the client used (`D:`, `a:`, a default namespace), and not always with the
/// declaration that binds it.
pub(crate) fn owner_xml(owner: Option<&Element>) -> Option<String> {
    const DAV: &str = "DAV:";
    fn rebind(element: &mut Element, others: &mut Vec<String>) {
        element.namespaces = None;
        element.prefix = match element.namespace.as_deref() {
            Some(DAV) => Some("D".to_owned()),
            Some(uri) => {
                let at = others.iter().position(|o| o == uri).unwrap_or_else(|| {
                    others.push(uri.to_owned());
                    others.len() - 1
                });
                Some(format!("n{at}"))
            }
            None => None,
        };
        for child in &mut element.children {
            if let XMLNode::Element(child) = child {
                rebind(child, others);
            }
        }
    }
    let mut owner = owner?.clone();
    owner.namespace = Some(DAV.to_owned());
    let mut others = Vec::new();
    rebind(&mut owner, &mut others);
    let mut declared = Namespace::empty();
    declared.put("D", DAV);
    for (at, uri) in others.iter().enumerate() {
        declared.put(format!("n{at}"), uri.as_str());
    }
    owner.namespaces = Some(declared);
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

    /// The owner element of a `lockinfo` body, as a parser hands it over.
    fn owner_of(lockinfo: &str) -> Option<Element> {
        let root = Element::parse(lockinfo.as_bytes()).ok()?;
        root.children.into_iter().find_map(|n| match n {
            XMLNode::Element(e) if e.name == "owner" => Some(e),
            _ => None,
        })
    }

    #[test]
    fn a_lock_owner_is_kept_as_dav_owner_whatever_prefix_the_client_used() {
        let bodies = [
            // Explorer, Finder and Office.
            r#"<D:lockinfo xmlns:D="DAV:"><D:owner><D:href>JAN-PC\jan</D:href></D:owner></D:lockinfo>"#,
            // Another prefix for DAV:.
            r#"<a:lockinfo xmlns:a="DAV:"><a:owner><a:href>JAN-PC\jan</a:href></a:owner></a:lockinfo>"#,
            // A default namespace (neon: cadaver, litmus), another namespace inside.
            r#"<lockinfo xmlns="DAV:"><owner><href>JAN-PC\jan</href><x xmlns="urn:x">1</x></owner></lockinfo>"#,
            // A client's own prefix D for another namespace inside.
            r#"<a:lockinfo xmlns:a="DAV:"><a:owner xmlns:D="urn:y"><D:href>JAN-PC\jan</D:href></a:owner></a:lockinfo>"#,
        ];
        for body in bodies {
            let mut given = owner_of(body);
            // dav-server hands it over without the declarations in scope.
            if let Some(owner) = given.as_mut() {
                owner.namespaces = None;
            }
            let kept = owner_xml(given.as_ref()).unwrap_or_default();
            // On its own, and inside an answer that binds D to DAV:.
            let answer = format!(r#"<D:activelock xmlns:D="DAV:">{kept}</D:activelock>"#);
            for xml in [kept.clone(), answer] {
                let root = Element::parse(xml.as_bytes()).map_err(|e| format!("{xml}: {e}"));
                let root = root.unwrap_or_else(|e| panic!("{body} kept as {e}"));
                let owner = if root.name == "owner" { Some(root) } else { owner_of(&xml) };
                let owner = owner.unwrap_or_else(|| panic!("{body}: no owner in {xml}"));
                assert_eq!(owner.namespace.as_deref(), Some("DAV:"), "{body} kept as {xml}");
                let href = owner.get_child("href").unwrap_or_else(|| panic!("{body}: href in {xml}"));
                assert_eq!(href.get_text().as_deref(), Some("JAN-PC\\jan"), "{xml}");
                let dav_href = href.namespace.as_deref() == Some("DAV:");
                assert_eq!(dav_href, !body.contains("urn:y"), "{body} kept as {xml}");
            }
        }
        assert_eq!(owner_xml(None), None);
    }

    #[test]
    fn paths_are_encoded_for_urls() {
        assert_eq!(encode("/outbox/a b/é.pdf"), "/outbox/a%20b/%C3%A9.pdf");
        assert_eq!(encode("/outbox/x"), "/outbox/x");
    }
}
