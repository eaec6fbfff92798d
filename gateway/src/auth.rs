//! Authentication for every door: passwords (Argon2id), SSH public keys and
//! upload request links, with one store of failures shared by all doors, so
//! guesses over SFTP count toward the web sign-in and the other way round.

pub use crate::credential::SshPublicKey;

use std::net::IpAddr;
use std::time::Duration;

use diesel::prelude::*;

use crate::account::{AccountRow, find_by_email};
use crate::credential::verify_password;
use crate::db::AnyConnection;
use crate::db::schema::{accounts, auth_failures, ssh_keys, upload_requests};
use crate::error::{Error, Field, FieldRefusal, Result};
use crate::random::RandomExt;
use crate::second_factor;
use crate::session::{Actor, Origin, Session};
use crate::{Gateway, crypto};

/// One admitted sign-in try ([`Gateway::attempt`]): counted as a failure
/// until it succeeds.
pub(crate) struct Attempt {
    id: String,
    ip: String,
}

/// The key under which failures of an address are counted: IPv6 per /64 (one
/// subscriber usually holds a whole /64), IPv4-mapped IPv6 as IPv4.
pub(crate) fn ip_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => format!("v4:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("v6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "local".to_owned(),
    }
}

/// Words Dutch speakers put in passwords that zxcvbn's English lists lack.
const DUTCH_PASSWORD_WORDS: &[&str] = &[
    "wachtwoord",
    "welkom",
    "geheim",
    "hallo",
    "zomer",
    "winter",
    "lente",
    "herfst",
    "januari",
    "februari",
    "maart",
    "april",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
    "voetbal",
    "ajax",
    "feyenoord",
    "nederland",
    "holland",
    "amsterdam",
    "rotterdam",
    "utrecht",
    "denhaag",
    "koerier",
    "ministerie",
    "inspectie",
    "ziekenhuis",
    "gemeente",
    "liefde",
    "schatje",
    "prinses",
    "konijn",
    "poesje",
    "hondje",
    "kabouter",
];

/// Whether an account may sign in at all: enabled, its address proven.
pub(crate) fn admissible(account: &AccountRow) -> Result<()> {
    if account.disabled {
        return Err(Error::Forbidden("this account is disabled"));
    }
    if !account.verified {
        return Err(Error::Forbidden("this account's address has not been verified yet"));
    }
    Ok(())
}

impl Gateway {
    /// Sign in with an account's password, through a door other than the
    /// web pages (those take [`Gateway::sign_in_staff`]). An account with a
    /// second sign-in step, or one the admin requires and it has not set
    /// up, is not opened by its password alone: over SFTP it takes an SSH
    /// key, over WebDAV an app password, both made behind the second step.
    pub async fn authenticate_password(&self, email: &str, password: &str, origin: Origin) -> Result<Session> {
        let account = self.password_account(email, password, origin).await?;
        let id = account.id.clone();
        let second_step =
            self.db.read(move |conn| Ok(second_factor::is_on(conn, &id)? || second_factor::due(conn, &id)?)).await?;
        if second_step {
            return Err(Error::Forbidden(
                "this account signs in with a second step: use an SSH key over SFTP, an app password over WebDAV",
            ));
        }
        self.admit(account, origin, "password").await
    }

    /// The account whose password this is; a wrong one counts as a failure.
    pub(crate) async fn password_account(&self, email: &str, password: &str, origin: Origin) -> Result<AccountRow> {
        let account_key = email.trim().to_lowercase();
        let ip = ip_key(origin.ip);
        let attempt = self.attempt(&account_key, &ip, origin).await?;
        let key = account_key.clone();
        let account = self.db.read(move |conn| find_by_email(conn, &key)).await?;
        let stored = account.as_ref().and_then(|a| a.password_hash.clone());
        let account = match (verify_password(&self.hashing, password, stored).await?, account) {
            (true, Some(account)) => account,
            _ => return Err(self.fail(attempt, origin).await),
        };
        self.succeeded(attempt).await?;
        Ok(account)
    }

    /// Sign in with an SSH public key the client has proven it holds.
    pub async fn authenticate_key(&self, email: &str, key: &SshPublicKey, origin: Origin) -> Result<Session> {
        let account_key = email.trim().to_lowercase();
        let ip = ip_key(origin.ip);
        let attempt = self.attempt(&account_key, &ip, origin).await?;
        let (email, blob) = (account_key.clone(), key.blob.clone());
        let account = self
            .db
            .read(move |conn| {
                Ok(ssh_keys::table
                    .inner_join(accounts::table)
                    .filter(ssh_keys::key_blob.eq(&blob))
                    .filter(accounts::email.eq(&email))
                    .select(AccountRow::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await?;
        match account {
            Some(account) => {
                self.succeeded(attempt).await?;
                self.admit(account, origin, "ssh-key").await
            }
            None => Err(self.fail(attempt, origin).await),
        }
    }

    /// Whether an SSH key is registered for this account (asked before the
    /// client proves it holds the key; does not count as a failure).
    pub async fn ssh_key_known(&self, email: &str, key: &SshPublicKey) -> Result<bool> {
        let (email, blob) = (email.trim().to_lowercase(), key.blob.clone());
        self.db
            .read(move |conn| {
                let n: i64 = ssh_keys::table
                    .inner_join(accounts::table)
                    .filter(ssh_keys::key_blob.eq(&blob))
                    .filter(accounts::email.eq(&email))
                    .count()
                    .get_result(conn)?;
                Ok(n > 0)
            })
            .await
    }

    /// Sign in with the credentials of an upload request: the user name from the
    /// request mail and its secret.
    /// A sign-in with a user name and a secret, as the SFTP and WebDAV doors
    /// take it: a request link's user name (`request-…`, in any case), an app
    /// password (`kdav-…`, WebDAV only), or an account's password.
    pub async fn authenticate_login(&self, user: &str, secret: &str, origin: Origin) -> Result<Session> {
        if user.trim().to_lowercase().starts_with(crate::request::USER_PREFIX) {
            self.authenticate_request(user, secret, origin).await
        } else if origin.door == crate::session::Door::Webdav && crate::app_password::looks_like_app_password(secret) {
            self.authenticate_app_password(user, secret, origin).await
        } else {
            self.authenticate_password(user, secret, origin).await
        }
    }

    pub async fn authenticate_request(&self, user: &str, secret: &str, origin: Origin) -> Result<Session> {
        let account_key = user.trim().to_lowercase();
        let ip = ip_key(origin.ip);
        let attempt = self.attempt(&account_key, &ip, origin).await?;
        let hash = crypto::secret_hash(secret);
        let now = self.now().as_millis();
        let found = self
            .db
            .read(move |conn| {
                Ok(upload_requests::table
                    .filter(upload_requests::secret_hash.eq(hash))
                    .select((
                        upload_requests::id,
                        upload_requests::recipient_email,
                        upload_requests::recipient_name,
                        upload_requests::expires_at,
                    ))
                    .first::<(String, String, String, i64)>(conn)
                    .optional()?)
            })
            .await?;
        match found {
            Some((id, email, name, expires_at)) if crate::request::user_name(&id) == account_key => {
                self.succeeded(attempt).await?;
                if now >= expires_at {
                    return Err(Error::Expired);
                }
                let session = Session { actor: Actor::RequestLink { request_id: id, email, name }, origin };
                self.ensure_outsider_draft(&session).await?;
                Ok(session)
            }
            _ => Err(self.fail(attempt, origin).await),
        }
    }

    /// Re-check that an account behind a session may still act (not disabled since sign-in).
    pub(crate) fn check_live(conn: &mut AnyConnection, session: &Session) -> Result<()> {
        if let Some(id) = session.account_id() {
            // get_result, not first: SQLite re-prepares a statement whose
            // LIMIT is a bound parameter on every run, and this one runs
            // with every request of every door.
            let disabled: bool = accounts::table.find(id).select(accounts::disabled).get_result(conn)?;
            if disabled {
                return Err(Error::Forbidden("this account is disabled"));
            }
        }
        Ok(())
    }

    pub(crate) async fn admit(&self, account: AccountRow, origin: Origin, how: &str) -> Result<Session> {
        admissible(&account)?;
        let session = account.session(origin)?;
        let event = self.event(&origin, "signed-in").actor(&account.email).detail(how);
        self.db.write(move |conn| event.record(conn)).await?;
        Ok(session)
    }

    /// Admit one sign-in try, or refuse it when the account or the address
    /// has failed too often. The try counts as a failure from this moment
    /// (its row is written under a lock on the account and on the address,
    /// so concurrent tries, on any node, never go past the limits) until
    /// [`Gateway::succeeded`] takes it back.
    pub(crate) async fn attempt(&self, account_key: &str, ip: &str, origin: Origin) -> Result<Attempt> {
        let rules = &self.settings.rules;
        let (per_account, per_ip) =
            (i64::from(rules.account_failures_per_hour), i64::from(rules.ip_failures_per_30min));
        let now = self.now();
        let hour_ago = now.minus(Duration::from_secs(3600)).as_millis();
        let half_hour_ago = now.minus(Duration::from_secs(1800)).as_millis();
        let attempt = Attempt { id: self.random.id()?, ip: ip.to_owned() };
        let (account, ip, id, door) = (account_key.to_owned(), ip.to_owned(), attempt.id.clone(), origin.door.as_str());
        self.db
            .write(move |conn| {
                // Always the account first, then the address: no two tries wait on each other in a circle.
                crate::db::lock_for_transaction(conn, &format!("sign-in account {account}"))?;
                crate::db::lock_for_transaction(conn, &format!("sign-in address {ip}"))?;
                let a: i64 = auth_failures::table
                    .filter(auth_failures::account_key.eq(&account))
                    .filter(auth_failures::at.ge(hour_ago))
                    .count()
                    .get_result(conn)?;
                let i: i64 = auth_failures::table
                    .filter(auth_failures::ip_key.eq(&ip))
                    .filter(auth_failures::at.ge(half_hour_ago))
                    .count()
                    .get_result(conn)?;
                if a >= per_account || i >= per_ip {
                    return Err(Error::RateLimited);
                }
                diesel::insert_into(auth_failures::table)
                    .values((
                        auth_failures::id.eq(id),
                        auth_failures::at.eq(now.as_millis()),
                        auth_failures::account_key.eq(&account),
                        auth_failures::ip_key.eq(&ip),
                        auth_failures::door.eq(door),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
        Ok(attempt)
    }

    /// The try succeeded: it is no failure after all.
    pub(crate) async fn succeeded(&self, attempt: Attempt) -> Result<()> {
        self.db
            .write(move |conn| {
                diesel::delete(auth_failures::table.find(&attempt.id)).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// The try failed, and stays counted: wait a delay that grows with the
    /// address's recent failures, and give the error to return.
    pub(crate) async fn fail(&self, attempt: Attempt, origin: Origin) -> Error {
        let ip_k = attempt.ip.clone();
        let recorded = self
            .db
            .read(move |conn| {
                Ok(auth_failures::table.filter(auth_failures::ip_key.eq(&ip_k)).count().get_result::<i64>(conn)?)
            })
            .await;
        let recent = match recorded {
            Ok(n) => n,
            Err(e) => return e,
        };
        let factor = u32::try_from(recent.clamp(1, 10)).unwrap_or(10);
        let delay = self.settings.rules.auth_failure_delay * factor;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        tracing::info!(door = origin.door.as_str(), ip = %attempt.ip, "sign-in failed");
        Error::BadCredentials
    }

    /// Drop failure records older than the longest window they count in.
    pub(crate) async fn prune_failures(&self, now: crate::clock::Timestamp) -> Result<usize> {
        let cutoff = now.minus(Duration::from_secs(3600)).as_millis();
        self.db
            .write(move |conn| {
                Ok(diesel::delete(auth_failures::table.filter(auth_failures::at.lt(cutoff))).execute(conn)?)
            })
            .await
    }

    /// A new password is long enough and not easy to guess: zxcvbn's
    /// estimate (its lists of common passwords, words, names and patterns,
    /// with `about`, the account's own address and name, and Dutch words
    /// people use as passwords) must reach "safely unguessable" (score 3).
    pub(crate) fn check_password_rules(&self, password: &str, about: &[&str]) -> Result<()> {
        let n = password.chars().count();
        let min = self.settings.rules.min_password_chars;
        if n < min {
            return Err(Error::Field(FieldRefusal::TooShort { field: Field::Password, min_chars: min }));
        }
        if n > 256 {
            return Err(Error::Field(FieldRefusal::TooLong { field: Field::Password, max_chars: 256 }));
        }
        let mut words: Vec<&str> = about
            .iter()
            .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
            .filter(|w| w.chars().count() >= 3)
            .collect();
        words.extend_from_slice(DUTCH_PASSWORD_WORDS);
        if zxcvbn::zxcvbn(password, &words).score() < zxcvbn::Score::Three {
            return Err(Error::Field(FieldRefusal::Guessable { field: Field::Password }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap_or(IpAddr::from([0u8; 4]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(ip_key(Some(a)), ip_key(Some(b)));
        assert_ne!(ip_key(Some(a)), ip_key(Some(c)));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(ip_key(Some(mapped)), "v4:192.0.2.7");
    }

    #[test]
    fn openssh_lines_parse_and_fingerprint_like_ssh_keygen() {
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfWXcNN5sSgezFkRHV7ksMZT56/q77jLE5vACLXu4UU jan@example";
        let key = SshPublicKey::parse_openssh(line).map_err(|e| e.to_string());
        let summary = key.as_ref().map(|k| (k.algorithm.as_str(), k.comment.as_str(), k.fingerprint()));
        // `ssh-keygen -lf` prints this fingerprint for the key above.
        let expected = ("ssh-ed25519", "jan@example", "SHA256:150KoWI9b3Cq7b0B6f3SK/FhQriQosQ4QsE3UvNapAI".to_owned());
        assert_eq!(summary, Ok(expected));
        let wrong_type = "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIAfWXcNN5sSgezFkRHV7ksMZT56/q77jLE5vACLXu4UU";
        assert!(SshPublicKey::parse_openssh(wrong_type).is_err());
        assert!(SshPublicKey::parse_openssh("ssh-ed25519 !!!").is_err());
        assert!(SshPublicKey::parse_openssh("").is_err());
    }
}
