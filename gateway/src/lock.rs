//! Locks on paths of a caller's tree (WebDAV class 2), kept in the database so
//! every node sees them. Each caller has a tree of their own, so locks are
//! scoped to their owner: nobody can see, hold or break another's lock. A lock
//! lasts at most [`MAX_LOCK_TIME`] unless refreshed, and an owner holds at most
//! [`MAX_LOCKS_PER_OWNER`] at a time.
//!
//! Paths are the tree's own (`/outbox/x/a.pdf`), without a trailing slash;
//! the root is the empty path.

use std::time::Duration;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::dav_locks;
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::session::Session;
use crate::{Gateway, Timestamp};

/// The longest a lock lasts without a refresh.
pub const MAX_LOCK_TIME: Duration = Duration::from_secs(600);

/// How many live locks one owner may hold.
pub const MAX_LOCKS_PER_OWNER: i64 = 500;

/// The longest path a lock may name, in bytes.
const MAX_PATH_BYTES: usize = 2048;

/// A lock as held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The lock token (a URI).
    pub token: String,
    /// The locked path.
    pub path: String,
    /// What the client said about the lock's owner (an XML fragment), kept as given.
    pub owner: Option<String>,
    /// A shared lock (else exclusive).
    pub shared: bool,
    /// Covers everything below the path too.
    pub deep: bool,
    /// The time it was granted or refreshed for.
    pub timeout: Duration,
    /// When it lapses.
    pub expires_at: Timestamp,
}

/// What a client asks to lock.
#[derive(Debug, Clone)]
pub struct LockRequest {
    /// The path.
    pub path: String,
    /// The owner fragment to keep.
    pub owner: Option<String>,
    /// Shared or exclusive.
    pub shared: bool,
    /// The path and everything below it.
    pub deep: bool,
    /// What the client asked for; `None` (infinite) and anything longer get the maximum.
    pub timeout: Option<Duration>,
}

/// A path in its one form: no trailing slash, the root empty.
pub fn normalize_path(path: &str) -> String {
    path.trim_end_matches('/').to_owned()
}

/// Whether `ancestor` is `path` or one of the folders above it.
fn covers(ancestor: &str, path: &str) -> bool {
    ancestor.is_empty() || path == ancestor || path.strip_prefix(ancestor).is_some_and(|rest| rest.starts_with('/'))
}

/// Whether the caller may act on `path` given the locks of their tree and the
/// tokens they submitted (RFC 4918 section 6): a lock on the path or a deep
/// lock above it must be one of the tokens, unless it is shared and
/// `shared_ok`; with `deep`, so must every lock below the path. On a conflict
/// the lock in the way is returned.
pub fn check_locks(locks: &[Lock], path: &str, deep: bool, tokens: &[String], shared_ok: bool) -> Result<(), Lock> {
    let path = normalize_path(path);
    let held = |l: &Lock| tokens.contains(&l.token);
    let mut holds = false;
    let mut first_shared: Option<&Lock> = None;
    for lock in locks.iter().filter(|l| covers(&l.path, &path)) {
        if lock.path != path && !lock.deep {
            continue;
        }
        if held(lock) {
            holds = true;
        } else if !lock.shared {
            return Err(lock.clone());
        } else if !shared_ok {
            first_shared.get_or_insert(lock);
        }
    }
    if let (false, Some(lock)) = (holds, first_shared) {
        return Err(lock.clone());
    }
    if deep {
        for lock in locks.iter().filter(|l| covers(&path, &l.path)) {
            if (!lock.shared || !shared_ok) && !held(lock) {
                return Err(lock.clone());
            }
        }
    }
    Ok(())
}

type LockRow = (String, String, Option<String>, bool, bool, i64, i64);

fn live_locks(conn: &mut AnyConnection, owner: &str, now: Timestamp) -> Result<Vec<Lock>> {
    let rows: Vec<LockRow> = dav_locks::table
        .filter(dav_locks::owner_key.eq(owner))
        .filter(dav_locks::expires_at.gt(now.as_millis()))
        .order(dav_locks::path)
        .select((
            dav_locks::token,
            dav_locks::path,
            dav_locks::lock_owner,
            dav_locks::shared,
            dav_locks::deep,
            dav_locks::timeout_s,
            dav_locks::expires_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(token, path, owner, shared, deep, timeout, expires)| Lock {
            token,
            path,
            owner,
            shared,
            deep,
            timeout: Duration::from_secs(u64::try_from(timeout).unwrap_or(0)),
            expires_at: Timestamp::from_millis(expires),
        })
        .collect())
}

fn granted_time(asked: Option<Duration>) -> Duration {
    asked.map_or(MAX_LOCK_TIME, |d| d.clamp(Duration::from_secs(1), MAX_LOCK_TIME))
}

impl Gateway {
    /// Take a lock on a path of the caller's tree. `Ok(Err(lock))` names the
    /// lock in the way.
    pub async fn lock(&self, session: &Session, request: LockRequest) -> Result<Result<Lock, Lock>> {
        let path = normalize_path(&request.path);
        if path.len() > MAX_PATH_BYTES {
            return Err(Error::Invalid("the path is too long to lock".into()));
        }
        if request.owner.as_ref().is_some_and(|o| o.len() > 4096) {
            return Err(Error::Invalid("the lock's owner description is too long".into()));
        }
        let owner = session.tree_key();
        let now = self.now();
        let timeout = granted_time(request.timeout);
        let token = format!("opaquelocktoken:{}", self.random.id()?);
        let s = session.clone();
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                diesel::delete(dav_locks::table.filter(dav_locks::expires_at.le(now.as_millis()))).execute(conn)?;
                let held = live_locks(conn, &owner, now)?;
                if i64::try_from(held.len()).unwrap_or(i64::MAX) >= MAX_LOCKS_PER_OWNER {
                    return Err(Error::Forbidden("too many locks are held; close some files or wait ten minutes"));
                }
                if let Err(conflict) = check_locks(&held, &path, request.deep, &[], request.shared) {
                    return Ok(Err(conflict));
                }
                let lock = Lock {
                    token,
                    path,
                    owner: request.owner,
                    shared: request.shared,
                    deep: request.deep,
                    timeout,
                    expires_at: now.plus(timeout),
                };
                diesel::insert_into(dav_locks::table)
                    .values((
                        dav_locks::token.eq(&lock.token),
                        dav_locks::owner_key.eq(&owner),
                        dav_locks::path.eq(&lock.path),
                        dav_locks::lock_owner.eq(&lock.owner),
                        dav_locks::shared.eq(lock.shared),
                        dav_locks::deep.eq(lock.deep),
                        dav_locks::timeout_s.eq(i64::try_from(timeout.as_secs()).unwrap_or(600)),
                        dav_locks::expires_at.eq(lock.expires_at.as_millis()),
                    ))
                    .execute(conn)?;
                Ok(Ok(lock))
            })
            .await
    }

    /// Extend a lock the caller holds on `path` (or above it); `None` when
    /// there is no such live lock.
    pub async fn refresh_lock(
        &self,
        session: &Session,
        path: &str,
        token: &str,
        timeout: Option<Duration>,
    ) -> Result<Option<Lock>> {
        let (owner, path, token) = (session.tree_key(), normalize_path(path), token.to_owned());
        let now = self.now();
        let timeout = granted_time(timeout);
        self.db
            .write(move |conn| {
                let found =
                    live_locks(conn, &owner, now)?.into_iter().find(|l| l.token == token && covers(&l.path, &path));
                let Some(mut lock) = found else { return Ok(None) };
                lock.timeout = timeout;
                lock.expires_at = now.plus(timeout);
                diesel::update(dav_locks::table.find(&lock.token))
                    .set((
                        dav_locks::timeout_s.eq(i64::try_from(timeout.as_secs()).unwrap_or(600)),
                        dav_locks::expires_at.eq(lock.expires_at.as_millis()),
                    ))
                    .execute(conn)?;
                Ok(Some(lock))
            })
            .await
    }

    /// Release a lock the caller holds on `path` (or above it); `false` when
    /// there is no such live lock.
    pub async fn unlock(&self, session: &Session, path: &str, token: &str) -> Result<bool> {
        let (owner, path, token) = (session.tree_key(), normalize_path(path), token.to_owned());
        let now = self.now();
        self.db
            .write(move |conn| {
                let found =
                    live_locks(conn, &owner, now)?.into_iter().any(|l| l.token == token && covers(&l.path, &path));
                if found {
                    diesel::delete(dav_locks::table.find(&token).filter(dav_locks::owner_key.eq(&owner)))
                        .execute(conn)?;
                }
                Ok(found)
            })
            .await
    }

    /// Every live lock of the caller's tree.
    pub async fn locks(&self, session: &Session) -> Result<Vec<Lock>> {
        let owner = session.tree_key();
        let now = self.now();
        self.db.read(move |conn| live_locks(conn, &owner, now)).await
    }

    /// Drop the locks on `path` and below (after it was moved or deleted).
    pub async fn delete_locks(&self, session: &Session, path: &str) -> Result<()> {
        let (owner, path) = (session.tree_key(), normalize_path(path));
        let now = self.now();
        self.db
            .write(move |conn| {
                for lock in live_locks(conn, &owner, now)?.into_iter().filter(|l| covers(&path, &l.path)) {
                    diesel::delete(dav_locks::table.find(&lock.token)).execute(conn)?;
                }
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(token: &str, path: &str, shared: bool, deep: bool) -> Lock {
        Lock {
            token: token.into(),
            path: path.into(),
            owner: None,
            shared,
            deep,
            timeout: MAX_LOCK_TIME,
            expires_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn locks_cover_the_path_and_below_when_deep() {
        let held = vec![lock("a", "/outbox/x", false, true), lock("b", "/outbox/y/z.pdf", false, false)];
        assert!(check_locks(&held, "/outbox/x/a.pdf", false, &[], false).is_err());
        assert!(check_locks(&held, "/outbox/x/a.pdf", false, &["a".into()], false).is_ok());
        assert!(check_locks(&held, "/outbox/xy", false, &[], false).is_ok(), "a sibling with a longer name");
        assert!(check_locks(&held, "/outbox/y", false, &[], false).is_ok(), "a lock below, not deep");
        assert!(check_locks(&held, "/outbox/y", true, &[], false).is_err(), "a deep operation over a lock below");
        assert!(check_locks(&held, "/outbox/y/", true, &["b".into()], false).is_ok());
    }

    #[test]
    fn shared_locks_admit_more_shared_locks_but_not_writes() {
        let held = vec![lock("s", "/outbox/x", true, false)];
        assert!(check_locks(&held, "/outbox/x", false, &[], true).is_ok());
        assert!(check_locks(&held, "/outbox/x", false, &[], false).is_err());
        assert!(check_locks(&held, "/outbox/x", false, &["s".into()], false).is_ok());
    }

    #[test]
    fn the_granted_time_is_capped() {
        assert_eq!(granted_time(None), MAX_LOCK_TIME);
        assert_eq!(granted_time(Some(Duration::from_secs(86_400))), MAX_LOCK_TIME);
        assert_eq!(granted_time(Some(Duration::from_secs(30))), Duration::from_secs(30));
    }
}
