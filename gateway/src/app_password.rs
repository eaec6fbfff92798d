//! App passwords: long random secrets a staff member gives a WebDAV client
//! (a mapped drive, rclone) instead of their own password. Each is shown once,
//! stored only as SHA-256 (it carries 256 bits of entropy, so a plain hash
//! cannot be reversed and needs no Argon2 on every request), and opens the
//! WebDAV door only: the web, SFTP and the command line refuse it.

use diesel::prelude::*;

use crate::account::find_by_email;
use crate::auth::ip_key;
use crate::crypto::secret_hash;
use crate::db::schema::{accounts, app_passwords};
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::session::{Door, Origin, Session};
use crate::{Admin, Gateway, Timestamp};

/// Every app password starts with this, so a door can tell one from an
/// account password without trying both (and counting two failures).
pub const PREFIX: &str = "kdav-";

/// The longest label of an app password.
const MAX_LABEL_CHARS: usize = 100;

/// Whether a secret has the shape of an app password.
pub fn looks_like_app_password(secret: &str) -> bool {
    secret.starts_with(PREFIX)
}

/// A new app password: the secret is shown once and never stored.
#[derive(Clone)]
pub struct NewAppPassword {
    /// Its id, to revoke it.
    pub id: String,
    /// What the owner called it.
    pub label: String,
    /// The secret to give the client.
    pub secret: String,
}

impl std::fmt::Debug for NewAppPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAppPassword").field("id", &self.id).field("label", &self.label).finish_non_exhaustive()
    }
}

/// An app password as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPasswordInfo {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it last opened the door.
    pub last_used_at: Option<Timestamp>,
}

impl Gateway {
    /// Make an app password for an account (the operator's command line).
    pub async fn create_app_password_as_admin(
        &self,
        _admin: &Admin,
        email: &str,
        label: &str,
    ) -> Result<NewAppPassword> {
        let key = email.trim().to_lowercase();
        let account = self.db.read(move |conn| find_by_email(conn, &key)).await?.ok_or(Error::NotFound)?;
        self.insert_app_password(&account.id, label).await
    }

    /// Make an app password for the signed-in account (the staff pages).
    pub async fn create_app_password(&self, session: &Session, label: &str) -> Result<NewAppPassword> {
        let account_id = session.account_id().ok_or(Error::Forbidden("only accounts have app passwords"))?;
        self.insert_app_password(account_id, label).await
    }

    async fn insert_app_password(&self, account_id: &str, label: &str) -> Result<NewAppPassword> {
        let label = label.trim();
        let label = if label.is_empty() { "WebDAV" } else { label };
        if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(Error::Invalid(format!(
                "a label has at most {MAX_LABEL_CHARS} characters and no control characters"
            )));
        }
        let id = self.random.id()?;
        let secret = format!("{PREFIX}{}", self.random.secret()?);
        let now = self.now().as_millis();
        let (row_id, account, label_owned, hash) =
            (id.clone(), account_id.to_owned(), label.to_owned(), secret_hash(&secret));
        self.db
            .write(move |conn| {
                diesel::insert_into(app_passwords::table)
                    .values((
                        app_passwords::id.eq(row_id),
                        app_passwords::account_id.eq(account),
                        app_passwords::label.eq(label_owned),
                        app_passwords::secret_hash.eq(hash),
                        app_passwords::created_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
        Ok(NewAppPassword { id, label: label.to_owned(), secret })
    }

    /// The app passwords of the signed-in account.
    pub async fn app_passwords(&self, session: &Session) -> Result<Vec<AppPasswordInfo>> {
        let account_id = session.account_id().ok_or(Error::Forbidden("only accounts have app passwords"))?.to_owned();
        self.db
            .read(move |conn| {
                let rows: Vec<(String, String, i64, Option<i64>)> = app_passwords::table
                    .filter(app_passwords::account_id.eq(&account_id))
                    .order(app_passwords::created_at)
                    .select((
                        app_passwords::id,
                        app_passwords::label,
                        app_passwords::created_at,
                        app_passwords::last_used_at,
                    ))
                    .load(conn)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, label, created, used)| AppPasswordInfo {
                        id,
                        label,
                        created_at: Timestamp::from_millis(created),
                        last_used_at: used.map(Timestamp::from_millis),
                    })
                    .collect())
            })
            .await
    }

    /// Revoke one of the signed-in account's app passwords.
    pub async fn revoke_app_password(&self, session: &Session, id: &str) -> Result<()> {
        let account_id = session.account_id().ok_or(Error::Forbidden("only accounts have app passwords"))?.to_owned();
        let id = id.to_owned();
        let n = self
            .db
            .write(move |conn| {
                Ok(diesel::delete(app_passwords::table.find(&id).filter(app_passwords::account_id.eq(&account_id)))
                    .execute(conn)?)
            })
            .await?;
        if n == 0 { Err(Error::NotFound) } else { Ok(()) }
    }

    /// Sign in with an app password. Only the WebDAV door accepts one; a wrong
    /// one counts as a failure in the store every door shares.
    pub async fn authenticate_app_password(&self, email: &str, secret: &str, origin: Origin) -> Result<Session> {
        let account_key = email.trim().to_lowercase();
        let ip = ip_key(origin.ip);
        let attempt = self.attempt(&account_key, &ip, origin).await?;
        if origin.door != Door::Webdav || !looks_like_app_password(secret) {
            return Err(self.fail(attempt, origin).await);
        }
        let (key, hash, now) = (account_key.clone(), secret_hash(secret), self.now().as_millis());
        let account = self
            .db
            .write(move |conn| {
                let found: Option<String> = app_passwords::table
                    .inner_join(accounts::table)
                    .filter(app_passwords::secret_hash.eq(&hash))
                    .filter(accounts::email.eq(&key))
                    .select(app_passwords::id)
                    .first(conn)
                    .optional()?;
                let Some(id) = found else { return Ok(None) };
                diesel::update(app_passwords::table.find(&id))
                    .set(app_passwords::last_used_at.eq(Some(now)))
                    .execute(conn)?;
                find_by_email(conn, &key)
            })
            .await?;
        match account {
            Some(account) => {
                self.succeeded(attempt).await?;
                self.admit(account, origin, "app-password").await
            }
            None => Err(self.fail(attempt, origin).await),
        }
    }

    /// Whether an app password still stands (not revoked): one indexed read,
    /// for a door that remembers a sign-in and must not outlive a revocation.
    pub async fn app_password_stands(&self, secret: &str) -> Result<bool> {
        let hash = secret_hash(secret);
        self.db
            .read(move |conn| {
                let n: i64 =
                    app_passwords::table.filter(app_passwords::secret_hash.eq(&hash)).count().get_result(conn)?;
                Ok(n > 0)
            })
            .await
    }
}
