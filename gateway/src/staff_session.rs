//! A staff member's session on the web front. Signing in with the account's
//! password (failures counted in the one store every door shares), and the
//! code of the second step when the account has it
//! ([`crate::second_factor`]), opens one;
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
use crate::second_factor::{self, SignInStep};
use crate::session::{Origin, Session};
use crate::web_session::WebSessionToken;
use crate::{Gateway, Role};

/// How long a staff session lives without a request.
pub const STAFF_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

/// How long a staff session lives at most, however busy.
pub const STAFF_SESSION_MAX: Duration = Duration::from_secs(12 * 3600);

/// How long the code of the second step may take after the password.
pub const SECOND_STEP_VALID: Duration = Duration::from_secs(5 * 60);

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
    /// Sign in on the web with an account's address and password: signed
    /// in, or (when the account has the second step) a token for
    /// [`Gateway::finish_sign_in`]. Partner accounts work unattended over
    /// SFTP and have no web pages.
    pub async fn sign_in_staff(&self, email: &str, password: &str, origin: Origin) -> Result<SignInStep> {
        let account = self.password_account(email, password, origin).await?;
        if account.role()? == Role::Partner {
            return Err(Error::Forbidden("a partner account works over SFTP only"));
        }
        let id = account.id.clone();
        if self.db.read(move |conn| second_factor::is_on(conn, &id)).await? {
            crate::auth::admissible(&account)?;
            let token = self.new_staff_session(&account.id, true).await?;
            return Ok(SignInStep::CodeNeeded(token));
        }
        let session = self.admit(account, origin, "password").await?;
        Ok(SignInStep::Done(self.open_staff_session(session).await?))
    }

    /// A web session for a staff member who has passed every step.
    pub(crate) async fn open_staff_session(&self, session: Session) -> Result<StaffSignIn> {
        let account_id = session.account_id().ok_or(Error::Forbidden("only staff sign in here"))?;
        let token = self.new_staff_session(account_id, false).await?;
        Ok(StaffSignIn { token, session })
    }

    /// A new row of `staff_sessions` (`awaiting_code`: the password was
    /// right, the second step is to come) and its token.
    async fn new_staff_session(&self, account_id: &str, awaiting_code: bool) -> Result<WebSessionToken> {
        let token = zeroize::Zeroizing::new(self.random.secret()?);
        let (hash, now, account_id) = (secret_hash(&token), self.now().as_millis(), account_id.to_owned());
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
                        staff_sessions::awaiting_code.eq(awaiting_code),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
        Ok(WebSessionToken(token))
    }

    /// The session behind a token, for a request from `origin`. `NotFound`
    /// for an unknown, idle, too old or ended session, and for a disabled
    /// account (its sessions end with it); `SecondStepDue` while the admin
    /// requires a second step the account has not set up.
    pub async fn staff_session(&self, token: &str, origin: Origin) -> Result<Session> {
        self.staff_session_checked(token, origin, true).await
    }

    /// The session behind a token even while its second step is due: for
    /// the page that sets it up, and for signing out.
    pub async fn staff_session_for_second_step(&self, token: &str, origin: Origin) -> Result<Session> {
        self.staff_session_checked(token, origin, false).await
    }

    async fn staff_session_checked(&self, token: &str, origin: Origin, second_step: bool) -> Result<Session> {
        let (hash, at) = (secret_hash(token), self.now().as_millis());
        let account = self
            .db
            .write(move |conn| {
                let row: Option<(i64, i64, AccountRow)> = staff_sessions::table
                    .inner_join(accounts::table)
                    .filter(staff_sessions::token_hash.eq(&hash))
                    .filter(staff_sessions::awaiting_code.eq(false))
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
                if second_step && second_factor::due(conn, &account.id)? {
                    return Err(Error::SecondStepDue);
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
