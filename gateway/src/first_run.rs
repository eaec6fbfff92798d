//! The first run: on a database without an admin, `serve` asks for a
//! one-time setup link ([`Gateway::setup_link_secret`]) and writes it to
//! its log; the page it opens asks for the organisation's name, its
//! affiliated domain(s) and the first admin account, and
//! [`Gateway::complete_setup`] makes them in one step. After that the
//! service is used from a browser alone, and the link opens nothing.

use diesel::prelude::*;

use crate::account::{AccountRow, display_name, find_by_email};
use crate::address::EmailAddress;
use crate::credential::hash_password;
use crate::crypto::secret_hash;
use crate::db::AnyConnection;
use crate::db::schema::{accounts, domains, first_run};
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::session::Origin;
use crate::{Gateway, Language, Role};

/// What the setup page asks for.
#[derive(Debug, Clone)]
pub struct Setup {
    pub organisation: String,
    /// The affiliated domains, such as `minvws.nl`.
    pub domains: Vec<String>,
    pub admin_name: String,
    pub admin_email: String,
    pub admin_password: String,
}

fn has_admin(conn: &mut AnyConnection) -> Result<bool> {
    let n: i64 = accounts::table.filter(accounts::role.eq(Role::Admin.as_str())).count().get_result(conn)?;
    Ok(n > 0)
}

impl Gateway {
    /// A new setup link's secret while no admin exists (each call replaces
    /// the one before); `None` once the service has an admin.
    pub async fn setup_link_secret(&self) -> Result<Option<String>> {
        let secret = self.random.secret()?;
        let hash = secret_hash(&secret);
        let made = self
            .db
            .write(move |conn| {
                if has_admin(conn)? {
                    return Ok(false);
                }
                diesel::delete(first_run::table).execute(conn)?;
                diesel::insert_into(first_run::table)
                    .values((first_run::id.eq(1), first_run::secret_hash.eq(Some(hash))))
                    .execute(conn)?;
                Ok(true)
            })
            .await?;
        Ok(made.then_some(secret))
    }

    /// Whether a setup link still opens its page.
    pub async fn setup_open(&self, secret: &str) -> Result<()> {
        let hash = secret_hash(secret);
        self.db.read(move |conn| live_setup(conn, &hash)).await
    }

    /// Make the organisation: its name, its domains and the first admin
    /// (verified: the operator holds the link from the server's own log).
    pub async fn complete_setup(&self, secret: &str, setup: Setup, origin: Origin) -> Result<()> {
        let organisation = setup.organisation.trim().to_owned();
        if organisation.is_empty() || organisation.chars().count() > 200 || organisation.chars().any(char::is_control) {
            return Err(Error::Invalid("the organisation needs a name of 1 to 200 characters".into()));
        }
        let mut names = Vec::new();
        for domain in setup.domains.iter().map(|d| d.trim().trim_start_matches('@').to_lowercase()) {
            if domain.is_empty() {
                continue;
            }
            EmailAddress::parse(&format!("x@{domain}"))
                .map_err(|_| Error::Invalid(format!("{domain:?} is not a domain name")))?;
            names.push(domain);
        }
        if names.is_empty() {
            return Err(Error::Invalid("at least one domain of the organisation is needed".into()));
        }
        let email = EmailAddress::parse(&setup.admin_email).map_err(|e| Error::Invalid(e.to_string()))?;
        if !names.iter().any(|d| email.is_in_domain(d)) {
            return Err(Error::Invalid("the admin's address must be at one of the organisation's domains".into()));
        }
        let name = display_name(&setup.admin_name)?;
        self.check_password_rules(
            &setup.admin_password,
            &[&setup.admin_email, &setup.admin_name, &setup.organisation],
        )?;
        let hash = hash_password(&self.hashing, setup.admin_password).await?;
        let (id, now, token) = (self.random.id()?, self.now().as_millis(), secret_hash(secret));
        let event = self.event(&origin, "organisation-set-up").actor(&email.normalized()).detail(&organisation);
        self.db
            .write(move |conn| {
                live_setup(conn, &token)?;
                for domain in &names {
                    let known: i64 = domains::table.filter(domains::domain.eq(domain)).count().get_result(conn)?;
                    if known == 0 {
                        diesel::insert_into(domains::table)
                            .values((domains::domain.eq(domain), domains::created_at.eq(now)))
                            .execute(conn)?;
                    }
                }
                if find_by_email(conn, &email.normalized())?.is_some() {
                    return Err(Error::Conflict(format!("an account for {} already exists", email.normalized())));
                }
                let row = AccountRow {
                    id,
                    email: email.normalized(),
                    display_name: name,
                    role: Role::Admin.as_str().into(),
                    password_hash: Some(hash),
                    verified: true,
                    disabled: false,
                    language: Language::Nl.as_str().into(),
                    created_at: now,
                };
                diesel::insert_into(accounts::table).values(&row).execute(conn)?;
                diesel::update(first_run::table.find(1))
                    .set((
                        first_run::secret_hash.eq(None::<Vec<u8>>),
                        first_run::organisation.eq(&organisation),
                        first_run::completed_at.eq(Some(now)),
                    ))
                    .execute(conn)?;
                event.record(conn)
            })
            .await
    }

    /// The organisation's name as the setup gave it (empty before).
    pub async fn organisation(&self) -> Result<String> {
        self.db
            .read(|conn| {
                Ok(first_run::table
                    .select(first_run::organisation)
                    .first::<String>(conn)
                    .optional()?
                    .unwrap_or_default())
            })
            .await
    }
}

/// The setup link works while it is the latest and no admin exists.
fn live_setup(conn: &mut AnyConnection, hash: &[u8]) -> Result<()> {
    let n: i64 = first_run::table.filter(first_run::secret_hash.eq(hash)).count().get_result(conn)?;
    if n == 0 || has_admin(conn)? {
        return Err(Error::NotFound);
    }
    Ok(())
}
