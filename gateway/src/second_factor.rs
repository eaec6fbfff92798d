//! A second sign-in step on the web: a time-based one-time code (TOTP,
//! RFC 6238: HMAC-SHA-1, six digits, 30-second steps, one step of skew,
//! what every authenticator app reads from its QR code) and ten recovery
//! codes for a lost phone. A staff member switches it on in the settings;
//! the admin can require it of everyone, and then a staff member without it
//! can open nothing but the page that sets it up.
//!
//! The shared secret is sealed with the master key; a code is taken once
//! (the last step used is kept, so a code seen over a shoulder is spent);
//! recovery codes are kept as keyed tags, each used once; wrong codes count
//! in the one store of sign-in failures every door shares. With the second
//! step on, the account's password alone no longer opens SFTP or WebDAV:
//! those doors take an SSH key or an app password, made in the browser
//! behind both steps.

use diesel::prelude::*;
use totp_rs::{Builder, Secret, Totp};

use crate::account::{AccountRow, Admin};
use crate::credential::verify_password;
use crate::db::AnyConnection;
use crate::db::schema::{accounts, first_run, recovery_codes, staff_sessions, totp_secrets};
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::session::Origin;
use crate::staff_session::{SECOND_STEP_VALID, StaffSignIn};
use crate::web_session::WebSessionToken;
use crate::{Gateway, Session};

/// How many recovery codes an account gets at a time.
pub const RECOVERY_CODES: usize = 10;

/// The letters of a recovery code: no 0/o, 1/l/i to mistake.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// What the settings page shows of the second step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorState {
    /// Switched on and confirmed with a code.
    pub on: bool,
    /// Recovery codes not used yet.
    pub recovery_left: usize,
    /// The admin requires it of every staff member.
    pub required: bool,
}

/// A secret being set up: what the authenticator app is given, as a QR
/// code of `uri` or typed as `secret`.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSetup {
    /// The secret in base32, grouped by four for typing.
    pub secret: String,
    /// `otpauth://totp/…`, the QR code's content.
    pub uri: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup(…)")
    }
}

/// Fresh recovery codes, to be shown once: only their tags are kept.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCodes(pub Vec<String>);

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes({} codes)", self.0.len())
    }
}

/// How a web sign-in goes on after the password.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Done(StaffSignIn),
    /// The password was right; the code is still to come, within
    /// [`SECOND_STEP_VALID`], with this token.
    CodeNeeded(WebSessionToken),
}

fn totp(secret: [u8; 20]) -> Result<Totp> {
    Builder::new()
        .with_secret(Secret::new_stack(secret))
        .build()
        .map_err(|e| Error::Internal(format!("a TOTP secret was refused: {e:?}")))
}

fn secret_context(account_id: &str) -> String {
    format!("totp:{account_id}")
}

fn recovery_context(account_id: &str) -> String {
    format!("recovery:{account_id}")
}

/// A typed recovery code as it is tagged: lower case, without spaces or dashes.
fn normalised_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// A typed TOTP code: six digits, spaces allowed (apps show "123 456").
fn typed_digits(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// What the app is given for a secret in base32.
fn setup(encoded: &str, issuer: &str, email: &str) -> TotpSetup {
    let issuer = issuer.replace(':', " ");
    let uri = format!(
        "otpauth://totp/{}:{}?secret={encoded}&issuer={}&algorithm=SHA1&digits=6&period=30",
        percent(&issuer),
        percent(email),
        percent(&issuer),
    );
    let groups: Vec<&str> = encoded.as_bytes().chunks(4).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    TotpSetup { secret: groups.join(" "), uri }
}

fn percent(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Whether the admin requires the second step.
pub(crate) fn required(conn: &mut AnyConnection) -> Result<bool> {
    Ok(first_run::table.select(first_run::require_second_factor).first::<bool>(conn).optional()?.unwrap_or(false))
}

/// Whether an account signs in with the second step.
pub(crate) fn is_on(conn: &mut AnyConnection, account_id: &str) -> Result<bool> {
    let n: i64 = totp_secrets::table
        .filter(totp_secrets::account_id.eq(account_id))
        .filter(totp_secrets::confirmed_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Whether an account must set up the second step before anything else.
pub(crate) fn due(conn: &mut AnyConnection, account_id: &str) -> Result<bool> {
    Ok(required(conn)? && !is_on(conn, account_id)?)
}

impl Gateway {
    /// The second step of the caller's account, for the settings page.
    pub async fn second_factor(&self, session: &Session) -> Result<SecondFactorState> {
        let id = Gateway::own_id(session)?;
        self.db
            .read(move |conn| {
                let left: i64 =
                    recovery_codes::table.filter(recovery_codes::account_id.eq(&id)).count().get_result(conn)?;
                Ok(SecondFactorState {
                    on: is_on(conn, &id)?,
                    recovery_left: usize::try_from(left).unwrap_or(0),
                    required: required(conn)?,
                })
            })
            .await
    }

    /// Start setting up the second step with a new secret (replacing one
    /// not confirmed yet); the app lists it under `issuer` (the service's
    /// or organisation's name). `Conflict` when the step is on already.
    pub async fn begin_totp(&self, session: &Session, issuer: &str) -> Result<TotpSetup> {
        let id = Gateway::own_id(session)?;
        let mut bytes = zeroize::Zeroizing::new([0u8; 20]);
        self.random.fill(bytes.as_mut())?;
        let encoded = zeroize::Zeroizing::new(data_encoding::BASE32_NOPAD.encode(bytes.as_ref()));
        let sealed = self.keys.seal_text(&encoded, &secret_context(&id), &*self.random)?;
        let (key, s, now) = (id.clone(), session.clone(), self.now().as_millis());
        let event = self.event(&session.origin, "second-factor-setup-begun").actor(session.email());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                if is_on(conn, &key)? {
                    return Err(Error::Conflict("the second sign-in step is on already".into()));
                }
                diesel::delete(totp_secrets::table.find(&key)).execute(conn)?;
                diesel::insert_into(totp_secrets::table)
                    .values((
                        totp_secrets::account_id.eq(&key),
                        totp_secrets::secret_sealed.eq(&sealed),
                        totp_secrets::created_at.eq(now),
                    ))
                    .execute(conn)?;
                event.record(conn)
            })
            .await?;
        Ok(setup(&encoded, issuer, session.email()))
    }

    /// The secret being set up (begun, not confirmed yet), if any.
    pub async fn totp_being_set_up(&self, session: &Session, issuer: &str) -> Result<Option<TotpSetup>> {
        let id = Gateway::own_id(session)?;
        let key = id.clone();
        let sealed: Option<Vec<u8>> = self
            .db
            .read(move |conn| {
                Ok(totp_secrets::table
                    .find(&key)
                    .filter(totp_secrets::confirmed_at.is_null())
                    .select(totp_secrets::secret_sealed)
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        let Some(sealed) = sealed else { return Ok(None) };
        let encoded = zeroize::Zeroizing::new(self.keys.open_text(&sealed, &secret_context(&id))?);
        Ok(Some(setup(&encoded, issuer, session.email())))
    }

    /// Switch the second step on with a code the app shows for the secret
    /// being set up; gives the recovery codes, to be shown once.
    pub async fn confirm_totp(&self, session: &Session, code: &str) -> Result<RecoveryCodes> {
        let id = Gateway::own_id(session)?;
        let key = id.clone();
        let sealed: Option<(Vec<u8>, Option<i64>)> = self
            .db
            .read(move |conn| {
                Ok(totp_secrets::table
                    .find(&key)
                    .select((totp_secrets::secret_sealed, totp_secrets::confirmed_at))
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        let sealed = match sealed {
            Some((_, Some(_))) => return Err(Error::Conflict("the second sign-in step is on already".into())),
            Some((sealed, None)) => sealed,
            None => return Err(Error::NotFound),
        };
        let step = self.code_step(&id, &sealed, code)?.ok_or(Error::BadCredentials)?;
        let codes = self.new_recovery_codes()?;
        let tags: Vec<Vec<u8>> = codes.0.iter().map(|c| self.recovery_tag(&id, c)).collect();
        let (s, now) = (session.clone(), self.now().as_millis());
        let event = self.event(&session.origin, "second-factor-on").actor(session.email());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                diesel::update(totp_secrets::table.find(&id))
                    .set((totp_secrets::confirmed_at.eq(Some(now)), totp_secrets::last_step.eq(step)))
                    .execute(conn)?;
                replace_recovery_codes(conn, &id, &tags)?;
                event.record(conn)
            })
            .await?;
        Ok(codes)
    }

    /// Switch the second step off, given the account's password. Refused
    /// while the admin requires it.
    pub async fn disable_totp(&self, session: &Session, password: &str) -> Result<()> {
        let id = Gateway::own_id(session)?;
        self.own_password_matches(&id, password).await?;
        let s = session.clone();
        let event = self.event(&session.origin, "second-factor-off").actor(session.email());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                if required(conn)? {
                    return Err(Error::Forbidden("the organisation requires the second sign-in step"));
                }
                diesel::delete(totp_secrets::table.find(&id)).execute(conn)?;
                diesel::delete(recovery_codes::table.filter(recovery_codes::account_id.eq(&id))).execute(conn)?;
                event.record(conn)
            })
            .await
    }

    /// New recovery codes, given the account's password; the old ones stop working.
    pub async fn renew_recovery_codes(&self, session: &Session, password: &str) -> Result<RecoveryCodes> {
        let id = Gateway::own_id(session)?;
        self.own_password_matches(&id, password).await?;
        let codes = self.new_recovery_codes()?;
        let tags: Vec<Vec<u8>> = codes.0.iter().map(|c| self.recovery_tag(&id, c)).collect();
        let s = session.clone();
        let event = self.event(&session.origin, "recovery-codes-renewed").actor(session.email());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                if !is_on(conn, &id)? {
                    return Err(Error::Conflict("the second sign-in step is off".into()));
                }
                replace_recovery_codes(conn, &id, &tags)?;
                event.record(conn)
            })
            .await?;
        Ok(codes)
    }

    /// Whether the admin requires the second step of every staff member.
    pub async fn second_factor_required(&self) -> Result<bool> {
        self.db.read(required).await
    }

    /// The admin requires the second step of every staff member, or not.
    pub async fn require_second_factor(&self, admin: &Admin, require: bool) -> Result<()> {
        let kind = if require { "second-factor-required" } else { "second-factor-optional" };
        let event = self.event(&admin.origin, kind).actor(&admin.actor);
        self.db
            .write(move |conn| {
                let n =
                    diesel::update(first_run::table).set(first_run::require_second_factor.eq(require)).execute(conn)?;
                if n == 0 {
                    // An organisation made from the command line has no row yet.
                    diesel::insert_into(first_run::table)
                        .values((first_run::id.eq(1), first_run::require_second_factor.eq(require)))
                        .execute(conn)?;
                }
                event.record(conn)
            })
            .await
    }

    /// The second step of a web sign-in: the code from the app, or a
    /// recovery code, for the token [`SignInStep::CodeNeeded`] gave.
    /// `NotFound` when the token is unknown or older than
    /// [`SECOND_STEP_VALID`]; a wrong code counts as a sign-in failure.
    pub async fn finish_sign_in(&self, token: &str, code: &str, origin: Origin) -> Result<StaffSignIn> {
        let hash = crate::crypto::secret_hash(token);
        let oldest = self.now().as_millis() - i64::try_from(SECOND_STEP_VALID.as_millis()).unwrap_or(i64::MAX);
        let key = hash.clone();
        let pending: Option<(AccountRow, Option<Vec<u8>>)> = self
            .db
            .read(move |conn| {
                Ok(staff_sessions::table
                    .inner_join(accounts::table)
                    .left_join(totp_secrets::table.on(totp_secrets::account_id.eq(accounts::id)))
                    .filter(staff_sessions::token_hash.eq(&key))
                    .filter(staff_sessions::awaiting_code.eq(true))
                    .filter(staff_sessions::created_at.ge(oldest))
                    .select((AccountRow::as_select(), totp_secrets::secret_sealed.nullable()))
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        let (account, sealed) = pending.ok_or(Error::NotFound)?;
        let attempt = self.attempt(&account.email, &crate::auth::ip_key(origin.ip), origin).await?;
        let how = match sealed.as_deref().map(|s| self.code_step(&account.id, s, code)).transpose()?.flatten() {
            Some(step) if self.take_step(&account.id, step).await? => "password+totp",
            _ if self.take_recovery_code(&account.id, code).await? => "password+recovery-code",
            _ => return Err(self.fail(attempt, origin).await),
        };
        self.succeeded(attempt).await?;
        self.db
            .write(move |conn| {
                diesel::delete(staff_sessions::table.find(&hash)).execute(conn)?;
                Ok(())
            })
            .await?;
        let session = self.admit(account, origin, how).await?;
        self.open_staff_session(session).await
    }

    /// The time step a code matches for a sealed secret, if it does.
    fn code_step(&self, account_id: &str, sealed: &[u8], code: &str) -> Result<Option<i64>> {
        let Some(digits) = typed_digits(code) else { return Ok(None) };
        let secret = self.keys.open_text(sealed, &secret_context(account_id))?;
        let bytes: [u8; 20] = data_encoding::BASE32_NOPAD
            .decode(secret.as_bytes())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::Internal("a stored TOTP secret is not 160 bits of base32".into()))?;
        let seconds = u64::try_from(self.now().as_millis() / 1000).unwrap_or(0);
        Ok(totp(bytes)?.check(&digits, seconds).and_then(|step| i64::try_from(step).ok()))
    }

    /// Take a time step for a sign-in: only when it is later than the last
    /// one taken, so each code works once (in one statement, so two
    /// sign-ins racing with the same code cannot both have it).
    async fn take_step(&self, account_id: &str, step: i64) -> Result<bool> {
        let id = account_id.to_owned();
        self.db
            .write(move |conn| {
                let n = diesel::update(
                    totp_secrets::table
                        .filter(totp_secrets::account_id.eq(&id))
                        .filter(totp_secrets::confirmed_at.is_not_null())
                        .filter(totp_secrets::last_step.lt(step)),
                )
                .set(totp_secrets::last_step.eq(step))
                .execute(conn)?;
                Ok(n == 1)
            })
            .await
    }

    /// Use up a recovery code, if it is one of the account's.
    async fn take_recovery_code(&self, account_id: &str, code: &str) -> Result<bool> {
        let tag = self.recovery_tag(account_id, code);
        let id = account_id.to_owned();
        self.db
            .write(move |conn| {
                let n = diesel::delete(
                    recovery_codes::table
                        .filter(recovery_codes::account_id.eq(&id))
                        .filter(recovery_codes::code_tag.eq(&tag)),
                )
                .execute(conn)?;
                Ok(n == 1)
            })
            .await
    }

    fn recovery_tag(&self, account_id: &str, code: &str) -> Vec<u8> {
        self.keys.code_tag(&recovery_context(account_id), &normalised_recovery(code))
    }

    /// Ten codes of ten letters (50 bits each), shown as `abcde-fghjk`.
    fn new_recovery_codes(&self) -> Result<RecoveryCodes> {
        let alphabet_len = u32::try_from(RECOVERY_ALPHABET.len()).unwrap_or(1);
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let mut code = String::with_capacity(11);
            for i in 0..10 {
                if i == 5 {
                    code.push('-');
                }
                let pick = usize::try_from(self.random.below(alphabet_len)?).unwrap_or(0);
                code.push(char::from(RECOVERY_ALPHABET[pick % RECOVERY_ALPHABET.len()]));
            }
            codes.push(code);
        }
        Ok(RecoveryCodes(codes))
    }

    async fn own_password_matches(&self, account_id: &str, password: &str) -> Result<()> {
        let key = account_id.to_owned();
        let stored = self
            .db
            .read(move |conn| Ok(accounts::table.find(&key).select(accounts::password_hash).get_result(conn)?))
            .await?;
        match verify_password(&self.hashing, password, stored).await? {
            true => Ok(()),
            false => Err(Error::BadCredentials),
        }
    }
}

fn replace_recovery_codes(conn: &mut AnyConnection, account_id: &str, tags: &[Vec<u8>]) -> Result<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::account_id.eq(account_id))).execute(conn)?;
    for tag in tags {
        diesel::insert_into(recovery_codes::table)
            .values((recovery_codes::account_id.eq(account_id), recovery_codes::code_tag.eq(tag)))
            .execute(conn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vectors_hold_for_six_digits() -> Result<()> {
        // RFC 6238 appendix B, SHA-1, the secret "12345678901234567890";
        // six digits are the last six of the eight the RFC lists.
        let t = totp(*b"12345678901234567890")?;
        for (time, eight) in [(59, "94287082"), (1_111_111_109, "07081804"), (2_000_000_000, "69279037")] {
            assert_eq!(t.check(&eight[2..], time), Some(time / 30), "at {time}");
        }
        assert_eq!(t.check("000000", 59), None);
        Ok(())
    }

    #[test]
    fn typed_codes_are_read_as_people_type_them() {
        assert_eq!(typed_digits(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(typed_digits("12345"), None);
        assert_eq!(typed_digits("12345a"), None);
        assert_eq!(normalised_recovery("ABCDE-fghjk "), "abcdefghjk");
    }
}
