//! A recipient's session on the web front. Redeeming a link (code or
//! sign-in) opens one; the browser holds a random 256-bit token, the database
//! only its SHA-256, bound to the link. Every request presents the token and
//! the link secret (in the page's address) again, so the session works on
//! any node and the link secret is never stored. A session ends after
//! [`WEB_SESSION_IDLE`] without a request, when the link locks, or when the
//! message expires.

use std::time::Duration;

use diesel::prelude::*;

use crate::Gateway;
use crate::crypto::secret_hash;
use crate::db::AnyConnection;
use crate::db::schema::{links, web_sessions};
use crate::download::{Proof, check_readable};
use crate::error::{Error, Result};
use crate::link::RecipientGrant;
use crate::random::RandomExt;
use crate::transfer::load;

/// How long a web session lives without a request.
pub const WEB_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

/// A touch more often than this is not written again (fewer writes per page).
const TOUCH_EVERY_MS: i64 = 60_000;

/// The token of a web session: for a cookie, never for a log line.
pub struct WebSessionToken(pub(crate) zeroize::Zeroizing<String>);

impl WebSessionToken {
    /// The value to hand to the browser.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebSessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebSessionToken(***)")
    }
}

/// The recipient link behind a secret: (id, transfer, locked).
fn recipient_link(conn: &mut AnyConnection, secret: &str) -> Result<(String, String, bool)> {
    let found: Option<(String, String, String, Option<i64>)> = links::table
        .filter(links::secret_hash.eq(secret_hash(secret)))
        .select((links::id, links::transfer_id, links::purpose, links::locked_at))
        .first(conn)
        .optional()?;
    match found {
        Some((id, transfer, purpose, locked)) if purpose == "recipient" => Ok((id, transfer, locked.is_some())),
        _ => Err(Error::NotFound),
    }
}

fn idle_ms() -> i64 {
    i64::try_from(WEB_SESSION_IDLE.as_millis()).unwrap_or(i64::MAX)
}

impl Gateway {
    /// Open a web session for a link just redeemed with `grant`.
    pub async fn open_web_session(&self, secret: &str, grant: &RecipientGrant) -> Result<WebSessionToken> {
        let token = zeroize::Zeroizing::new(self.random.secret()?);
        let (secret, hash, grant) = (secret.to_owned(), secret_hash(&token), grant.clone());
        let now = self.now().as_millis();
        self.db
            .write(move |conn| {
                let (link_id, transfer_id, locked) = recipient_link(conn, &secret)?;
                if transfer_id != grant.transfer_id().as_str() || locked {
                    return Err(Error::NotFound);
                }
                diesel::delete(web_sessions::table.filter(web_sessions::last_seen_at.lt(now - idle_ms())))
                    .execute(conn)?;
                diesel::insert_into(web_sessions::table)
                    .values((
                        web_sessions::token_hash.eq(hash),
                        web_sessions::link_id.eq(link_id),
                        web_sessions::who.eq(grant.who()),
                        web_sessions::proof.eq(grant.proof().as_str()),
                        web_sessions::created_at.eq(now),
                        web_sessions::last_seen_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
        Ok(WebSessionToken(token))
    }

    /// The grant of a live web session for this link. `NotFound` for an
    /// unknown, idle or other link's session; `Locked`, `Expired` or
    /// `Aborted` when the link or message no longer opens.
    pub async fn resume_web_session(&self, secret: &str, token: &str) -> Result<RecipientGrant> {
        let (secret_owned, hash) = (secret.to_owned(), secret_hash(token));
        let now = self.now();
        let (transfer_id, who, proof) = self
            .db
            .write(move |conn| {
                let row: Option<(String, String, String, i64)> = web_sessions::table
                    .find(&hash)
                    .select((web_sessions::link_id, web_sessions::who, web_sessions::proof, web_sessions::last_seen_at))
                    .get_result(conn)
                    .optional()?;
                let (link_id, who, proof, seen) = row.ok_or(Error::NotFound)?;
                let (id, transfer_id, locked) = recipient_link(conn, &secret_owned)?;
                if id != link_id {
                    return Err(Error::NotFound);
                }
                let at = now.as_millis();
                if at - seen >= idle_ms() || locked {
                    // Ended for good: the refusal is returned from a
                    // transaction that commits, so the row is really gone.
                    diesel::delete(web_sessions::table.find(&hash)).execute(conn)?;
                    return Ok(Err(if locked { Error::Locked } else { Error::NotFound }));
                }
                check_readable(&load(conn, &transfer_id)?, now)?;
                if at - seen >= TOUCH_EVERY_MS {
                    diesel::update(web_sessions::table.find(&hash))
                        .set(web_sessions::last_seen_at.eq(at))
                        .execute(conn)?;
                }
                Ok(Ok((transfer_id, who, Proof::parse(&proof)?)))
            })
            .await??;
        Ok(RecipientGrant::new(transfer_id, secret, who, proof))
    }

    /// End a web session (signing out); unknown tokens are ignored.
    pub async fn end_web_session(&self, token: &str) -> Result<()> {
        let hash = secret_hash(token);
        self.db
            .write(move |conn| {
                diesel::delete(web_sessions::table.find(&hash)).execute(conn)?;
                Ok(())
            })
            .await
    }
}
