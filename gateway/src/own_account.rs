//! What a signed-in staff member changes of their own account: the name
//! others see, the password (every other web session ends with the old
//! one), the SSH public keys that sign in over SFTP. App passwords for
//! WebDAV are in [`crate::app_password`].

use diesel::prelude::*;

use crate::account::{display_name, insert_ssh_key};
use crate::credential::{SshPublicKey, hash_password, verify_password};
use crate::crypto::secret_hash;
use crate::db::schema::{accounts, ssh_keys, staff_sessions};
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::{Gateway, Session, Timestamp};

/// An SSH key as its owner sees it listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKeyInfo {
    pub id: String,
    pub algorithm: String,
    /// `SHA256:…`, as `ssh-keygen -l` shows it.
    pub fingerprint: String,
    /// The owner's label (the key's comment when none was given).
    pub label: String,
    pub created_at: Timestamp,
}

/// The longest label of a key.
const MAX_LABEL_CHARS: usize = 100;

impl Gateway {
    pub(crate) fn own_id(session: &Session) -> Result<String> {
        session.account_id().map(str::to_owned).ok_or(Error::Forbidden("only an account has settings"))
    }

    /// Change the name others see.
    pub async fn set_display_name(&self, session: &Session, name: &str) -> Result<()> {
        let (id, name, s) = (Gateway::own_id(session)?, display_name(name)?, session.clone());
        let event = self.event(&session.origin, "display-name-changed").actor(session.email());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                diesel::update(accounts::table.find(&id)).set(accounts::display_name.eq(&name)).execute(conn)?;
                event.record(conn)
            })
            .await
    }

    /// Change the password, given the current one. Every web session of
    /// the account but `keep` (the one asking, by its token) ends.
    pub async fn change_password(&self, session: &Session, current: &str, new: &str, keep: &str) -> Result<()> {
        let id = Gateway::own_id(session)?;
        self.check_password_rules(new, &[session.email(), session.display_name()])?;
        let key = id.clone();
        let stored = self
            .db
            .read(move |conn| Ok(accounts::table.find(&key).select(accounts::password_hash).get_result(conn)?))
            .await?;
        if !verify_password(&self.hashing, current, stored).await? {
            return Err(Error::BadCredentials);
        }
        let hash = hash_password(&self.hashing, new.to_owned()).await?;
        let (s, keep) = (session.clone(), secret_hash(keep));
        let event = self.event(&session.origin, "password-changed").actor(session.email());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                diesel::update(accounts::table.find(&id)).set(accounts::password_hash.eq(Some(&hash))).execute(conn)?;
                diesel::delete(
                    staff_sessions::table
                        .filter(staff_sessions::account_id.eq(&id))
                        .filter(staff_sessions::token_hash.ne(&keep)),
                )
                .execute(conn)?;
                event.record(conn)
            })
            .await
    }

    /// The SSH keys of the caller's account.
    pub async fn own_ssh_keys(&self, session: &Session) -> Result<Vec<SshKeyInfo>> {
        let (id, s) = (Gateway::own_id(session)?, session.clone());
        self.db
            .read(move |conn| {
                Gateway::check_live(conn, &s)?;
                let rows: Vec<(String, String, String, String, i64)> = ssh_keys::table
                    .filter(ssh_keys::account_id.eq(&id))
                    .order((ssh_keys::created_at, ssh_keys::id))
                    .select((
                        ssh_keys::id,
                        ssh_keys::algorithm,
                        ssh_keys::fingerprint,
                        ssh_keys::comment,
                        ssh_keys::created_at,
                    ))
                    .load(conn)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, algorithm, fingerprint, label, at)| SshKeyInfo {
                        id,
                        algorithm,
                        fingerprint,
                        label,
                        created_at: Timestamp::from_millis(at),
                    })
                    .collect())
            })
            .await
    }

    /// Add an SSH public key (one `authorized_keys` line, as `ssh-keygen`
    /// writes it to `id_ed25519.pub`) with a label. Returns its fingerprint.
    pub async fn add_own_ssh_key(&self, session: &Session, line: &str, label: &str) -> Result<String> {
        let id = Gateway::own_id(session)?;
        let key = SshPublicKey::parse_openssh(line)?;
        let label = match label.trim() {
            "" => key.comment.clone(),
            label => label.to_owned(),
        };
        let label: String = label.chars().filter(|c| !c.is_control()).take(MAX_LABEL_CHARS).collect();
        let (key_id, now, s) = (self.random.id()?, self.now().as_millis(), session.clone());
        let fingerprint = key.fingerprint();
        let event = self.event(&session.origin, "ssh-key-added").actor(session.email()).detail(&fingerprint);
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                insert_ssh_key(conn, &key_id, &id, &key, &label, now)?;
                event.record(conn)
            })
            .await?;
        Ok(fingerprint)
    }

    /// Remove one of the caller's SSH keys; another's is not found.
    pub async fn remove_own_ssh_key(&self, session: &Session, key_id: &str) -> Result<()> {
        let (id, key_id, s) = (Gateway::own_id(session)?, key_id.to_owned(), session.clone());
        let event = self.event(&session.origin, "ssh-key-removed").actor(session.email()).detail(&key_id);
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                let gone = diesel::delete(
                    ssh_keys::table.filter(ssh_keys::id.eq(&key_id)).filter(ssh_keys::account_id.eq(&id)),
                )
                .execute(conn)?;
                if gone == 0 {
                    return Err(Error::NotFound);
                }
                event.record(conn)
            })
            .await
    }
}
