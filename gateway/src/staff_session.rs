//! A staff member's session on the web front. Signing in with the account's
//! password (failures counted in the one store every door shares) opens one;
//! the browser holds a random 256-bit token, the database only its SHA-256,
//! so any node serves it. A session ends on signing out, after
//! [`STAFF_SESSION_IDLE`] without a request, [`STAFF_SESSION_MAX`] after it
//! began, and at once when the account is disabled or its password changes.

use std::time::Duration;

use diesel::prelude::*;

use crate::account::AccountRow;
use crate::crypto::secret_hash;
use crate::db::schema::{accounts, staff_sessions};
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::session::{Origin, Session};
use crate::web_session::WebSessionToken;
use crate::{Gateway, Role};

/// How long a staff session lives without a request.
pub const STAFF_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

/// How long a staff session lives at most, however busy.
pub const STAFF_SESSION_MAX: Duration = Duration::from_secs(12 * 3600);

/// A touch more often than this is not written again (fewer writes per page).
const TOUCH_EVERY_MS: i64 = 60_000;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A signed-in staff member: the token for the browser's cookie and the
/// session every call of the core takes.
#[derive(Debug)]
pub struct StaffSignIn {
    pub token: WebSessionToken,
    pub session: Session,
}

impl Gateway {
    /// Sign in on the web with an account's address and password. Partner
    /// accounts work unattended over SFTP and have no web pages.
    pub async fn sign_in_staff(&self, email: &str, password: &str, origin: Origin) -> Result<StaffSignIn> {
        let session = self.authenticate_password(email, password, origin).await?;
        let Some(account_id) = session.account_id().map(str::to_owned) else {
            return Err(Error::Forbidden("only staff sign in here"));
        };
        if session.role() == Some(Role::Partner) {
            return Err(Error::Forbidden("a partner account works over SFTP only"));
        }
        let token = zeroize::Zeroizing::new(self.random.secret()?);
        let (hash, now) = (secret_hash(&token), self.now().as_millis());
        self.db
            .write(move |conn| {
                // Sessions gone idle are swept as new ones begin.
                let idle = now - millis(STAFF_SESSION_IDLE);
                diesel::delete(staff_sessions::table.filter(staff_sessions::last_seen_at.lt(idle))).execute(conn)?;
                diesel::insert_into(staff_sessions::table)
                    .values((
                        staff_sessions::token_hash.eq(hash),
                        staff_sessions::account_id.eq(&account_id),
                        staff_sessions::created_at.eq(now),
                        staff_sessions::last_seen_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
        Ok(StaffSignIn { token: WebSessionToken(token), session })
    }

    /// The session behind a token, for a request from `origin`. `NotFound`
    /// for an unknown, idle, too old or ended session, and for a disabled
    /// account (its sessions end with it).
    pub async fn staff_session(&self, token: &str, origin: Origin) -> Result<Session> {
        let (hash, at) = (secret_hash(token), self.now().as_millis());
        let account = self
            .db
            .write(move |conn| {
                let row: Option<(i64, i64, AccountRow)> = staff_sessions::table
                    .inner_join(accounts::table)
                    .filter(staff_sessions::token_hash.eq(&hash))
                    .select((staff_sessions::created_at, staff_sessions::last_seen_at, AccountRow::as_select()))
                    .get_result(conn)
                    .optional()?;
                let (created, seen, account) = row.ok_or(Error::NotFound)?;
                let over = at - seen >= millis(STAFF_SESSION_IDLE) || at - created >= millis(STAFF_SESSION_MAX);
                if over || account.disabled {
                    // Ended for good: gone, in a transaction that commits.
                    diesel::delete(staff_sessions::table.find(&hash)).execute(conn)?;
                    return Ok(None);
                }
                if at - seen >= TOUCH_EVERY_MS {
                    diesel::update(staff_sessions::table.find(&hash))
                        .set(staff_sessions::last_seen_at.eq(at))
                        .execute(conn)?;
                }
                Ok(Some(account))
            })
            .await?;
        account.ok_or(Error::NotFound)?.session(origin)
    }

    /// Sign out: the token no longer opens anything; unknown tokens are ignored.
    pub async fn sign_out_staff(&self, token: &str, origin: Origin) -> Result<()> {
        let hash = secret_hash(token);
        let event = self.event(&origin, "signed-out");
        self.db
            .write(move |conn| {
                let account: Option<String> = staff_sessions::table
                    .inner_join(accounts::table)
                    .filter(staff_sessions::token_hash.eq(&hash))
                    .select(accounts::email)
                    .get_result(conn)
                    .optional()?;
                diesel::delete(staff_sessions::table.find(&hash)).execute(conn)?;
                match account {
                    Some(email) => event.actor(&email).record(conn),
                    None => Ok(()),
                }
            })
            .await
    }
}
