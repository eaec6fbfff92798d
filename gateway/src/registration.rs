//! Staff accounts made by their owners: registering with an address of an
//! affiliated domain, which a mailed link proves within
//! [`crate::Rules::verification_valid`] (24 hours); and a forgotten password
//! replaced through a mailed link that works once, for
//! [`PASSWORD_RESET_VALID`]. Only each link's SHA-256 is kept (in
//! `account_tokens`). Neither answer tells whether an address has an
//! account: the same words, and a mail only to its owner.

use std::time::Duration;

use diesel::prelude::*;

use crate::account::{AccountRow, display_name, find_by_email, is_affiliated};
use crate::address::EmailAddress;
use crate::credential::hash_password;
use crate::crypto::secret_hash;
use crate::db::AnyConnection;
use crate::db::schema::{account_tokens, accounts, staff_sessions};
use crate::error::{Error, Result};
use crate::outbox::Outgoing;
use crate::random::RandomExt;
use crate::session::Origin;
use crate::{Gateway, Language, Role, Timestamp};

/// How long a password reset link works.
pub const PASSWORD_RESET_VALID: Duration = Duration::from_secs(30 * 60);

/// What a new staff member fills in.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub display_name: String,
    pub password: String,
    /// The language of the mail, and of the account.
    pub language: Language,
}

/// Why a token is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Verify,
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
        }
    }
}

impl Gateway {
    /// Register: an unverified staff account and the mail whose link
    /// proves the address. Returns until when the link works. An address
    /// that already has a verified account gets no mail and the same answer.
    pub async fn register(&self, new: Registration, origin: Origin) -> Result<Timestamp> {
        let email = EmailAddress::parse(&new.email).map_err(|e| Error::Invalid(e.to_string()))?;
        let name = display_name(&new.display_name)?;
        self.check_password_rules(&new.password, &[&new.email, &new.display_name])?;
        let hash = hash_password(&self.hashing, new.password).await?;
        let (id, secret) = (self.random.id()?, self.random.secret()?);
        let token_id = self.random.id()?;
        let now = self.now();
        let expires_at = now.plus(self.settings.rules.verification_valid);
        let normalized = email.normalized();
        let event = self.event(&origin, "account-registered").actor(&normalized);
        let this = self.clone();
        self.db
            .write(move |conn| {
                if !is_affiliated(conn, &email)? {
                    return Err(Error::Forbidden("only addresses of the organisation can register"));
                }
                let account_id = match find_by_email(conn, &normalized)? {
                    Some(existing) if existing.verified => return Ok(expires_at),
                    // Registered before and never proven: the new details count,
                    // and only the newest link proves them (an earlier one,
                    // perhaps someone else's, no longer sets a password).
                    Some(existing) => {
                        diesel::update(
                            account_tokens::table
                                .filter(account_tokens::account_id.eq(&existing.id))
                                .filter(account_tokens::purpose.eq(Purpose::Verify.as_str()))
                                .filter(account_tokens::used_at.is_null()),
                        )
                        .set(account_tokens::used_at.eq(Some(now.as_millis())))
                        .execute(conn)?;
                        diesel::update(accounts::table.find(&existing.id))
                            .set((
                                accounts::display_name.eq(&name),
                                accounts::password_hash.eq(Some(&hash)),
                                accounts::language.eq(new.language.as_str()),
                            ))
                            .execute(conn)?;
                        existing.id
                    }
                    None => {
                        let row = AccountRow {
                            id: id.clone(),
                            email: normalized.clone(),
                            display_name: name.clone(),
                            role: Role::Staff.as_str().into(),
                            password_hash: Some(hash),
                            verified: false,
                            disabled: false,
                            language: new.language.as_str().into(),
                            created_at: now.as_millis(),
                        };
                        diesel::insert_into(accounts::table).values(&row).execute(conn)?;
                        id
                    }
                };
                insert_token(conn, &token_id, &account_id, Purpose::Verify, &secret, now, expires_at)?;
                this.enqueue(
                    conn,
                    Outgoing::mail("account-verification", new.language, &normalized)
                        .param("display_name", name.as_str())
                        .param("verification_secret", secret.as_str())
                        .param("expires_at", expires_at.rfc3339()),
                )?;
                event.record(conn)?;
                Ok(expires_at)
            })
            .await
    }

    /// The verification link: the account may sign in from now on. Returns
    /// its address. `Expired` past its time, `NotFound` for an unknown or
    /// used link.
    pub async fn verify_account(&self, secret: &str, origin: Origin) -> Result<String> {
        let (hash, now) = (secret_hash(secret), self.now().as_millis());
        let event = self.event(&origin, "account-verified");
        self.db
            .write(move |conn| {
                let account = take_token(conn, &hash, Purpose::Verify, now)?;
                diesel::update(accounts::table.find(&account.id)).set(accounts::verified.eq(true)).execute(conn)?;
                event.actor(&account.email).record(conn)?;
                Ok(account.email)
            })
            .await
    }

    /// "Forgot password": a mail with a link that sets a new one, to a
    /// verified, enabled account only; the answer is the same for any
    /// address, and past the daily cap of mails to it nothing more is sent.
    pub async fn request_password_reset(&self, email: &str, language: Language, origin: Origin) -> Result<()> {
        let Ok(email) = EmailAddress::parse(email) else { return Ok(()) };
        let normalized = email.normalized();
        let (token_id, secret, now) = (self.random.id()?, self.random.secret()?, self.now());
        let expires_at = now.plus(PASSWORD_RESET_VALID);
        let event = self.event(&origin, "password-reset-asked").actor(&normalized);
        let this = self.clone();
        let asked = self
            .db
            .write(move |conn| {
                let Some(account) = find_by_email(conn, &normalized)? else { return Ok(()) };
                if !account.verified || account.disabled || account.role()? == Role::Partner {
                    return Ok(());
                }
                insert_token(conn, &token_id, &account.id, Purpose::Reset, &secret, now, expires_at)?;
                this.enqueue(
                    conn,
                    Outgoing::mail("password-reset", language, &normalized)
                        .param("display_name", account.display_name.as_str())
                        .param("reset_secret", secret.as_str())
                        .param("expires_at", expires_at.rfc3339()),
                )?;
                event.record(conn)
            })
            .await;
        match asked {
            // The cap of mails to one address: what another address would be told.
            Err(Error::RateLimited) => Ok(()),
            other => other,
        }
    }

    /// Whether a reset link still works (to show its form, or say it does not).
    pub async fn password_reset_open(&self, secret: &str) -> Result<()> {
        let (hash, now) = (secret_hash(secret), self.now().as_millis());
        self.db.read(move |conn| live_token(conn, &hash, Purpose::Reset, now).map(|_| ())).await
    }

    /// Set a new password through a reset link, once: every web session of
    /// the account ends with the old password.
    pub async fn reset_password(&self, secret: &str, password: &str, origin: Origin) -> Result<()> {
        self.check_password_rules(password, &[])?;
        let hash = hash_password(&self.hashing, password.to_owned()).await?;
        let (token, now) = (secret_hash(secret), self.now().as_millis());
        let event = self.event(&origin, "password-reset");
        self.db
            .write(move |conn| {
                let account = take_token(conn, &token, Purpose::Reset, now)?;
                diesel::update(accounts::table.find(&account.id))
                    .set(accounts::password_hash.eq(Some(&hash)))
                    .execute(conn)?;
                diesel::delete(staff_sessions::table.filter(staff_sessions::account_id.eq(&account.id)))
                    .execute(conn)?;
                event.actor(&account.email).record(conn)
            })
            .await
    }
}

fn insert_token(
    conn: &mut AnyConnection,
    id: &str,
    account_id: &str,
    purpose: Purpose,
    secret: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::id.eq(id),
            account_tokens::account_id.eq(account_id),
            account_tokens::purpose.eq(purpose.as_str()),
            account_tokens::secret_hash.eq(secret_hash(secret)),
            account_tokens::created_at.eq(now.as_millis()),
            account_tokens::expires_at.eq(expires_at.as_millis()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account of an unused, unexpired token, and the token's id.
fn live_token(conn: &mut AnyConnection, hash: &[u8], purpose: Purpose, now: i64) -> Result<(String, AccountRow)> {
    let found: Option<(String, i64, Option<i64>, AccountRow)> = account_tokens::table
        .inner_join(accounts::table.on(accounts::id.eq(account_tokens::account_id)))
        .filter(account_tokens::secret_hash.eq(hash))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .select((account_tokens::id, account_tokens::expires_at, account_tokens::used_at, AccountRow::as_select()))
        .get_result(conn)
        .optional()?;
    match found {
        Some((_, _, Some(_), _)) | None => Err(Error::NotFound),
        Some((_, expires, None, _)) if now >= expires => Err(Error::Expired),
        Some((_, _, None, account)) if account.disabled => Err(Error::NotFound),
        Some((id, _, None, account)) => Ok((id, account)),
    }
}

/// Use a token: it works once.
fn take_token(conn: &mut AnyConnection, hash: &[u8], purpose: Purpose, now: i64) -> Result<AccountRow> {
    let (id, account) = live_token(conn, hash, purpose, now)?;
    diesel::update(account_tokens::table.find(&id)).set(account_tokens::used_at.eq(Some(now))).execute(conn)?;
    Ok(account)
}
