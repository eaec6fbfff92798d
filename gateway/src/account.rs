//! Accounts, affiliated domains and SSH keys: who may sign in, and who counts
//! as "inside the organisation".

use diesel::prelude::*;

use crate::address::EmailAddress;
use crate::credential::hash_password;
use crate::db::schema::{accounts, domains, ssh_keys};
use crate::error::{Error, Field, FieldRefusal, Result};
use crate::random::RandomExt;
pub use crate::session::Role;
use crate::session::{Actor, Origin, Session};
use crate::{Gateway, Language};

/// The right to administer: held by the operator's console or an admin's session.
#[derive(Debug, Clone)]
pub struct Admin {
    pub(crate) actor: String,
    pub(crate) origin: Origin,
}

impl Admin {
    /// The operator at the server's command line.
    pub fn console() -> Admin {
        Admin { actor: "operator".into(), origin: Origin::cli() }
    }
}

impl Session {
    /// The admin capability, if this session's account is an admin.
    pub fn admin(&self) -> Option<Admin> {
        match &self.actor {
            Actor::Account { email, role: Role::Admin, .. } => {
                Some(Admin { actor: email.clone(), origin: self.origin })
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub verified: bool,
    pub disabled: bool,
    pub language: String,
    pub created_at: i64,
}

/// An account as the operator sees it.
#[derive(Debug, Clone)]
pub struct AccountInfo {
    /// The sign-in address.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// What it may do.
    pub role: Role,
    /// Whether the address was verified.
    pub verified: bool,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Number of SSH keys.
    pub ssh_keys: usize,
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The sign-in address.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// What it may do.
    pub role: Role,
    /// The password (checked against the rules).
    pub password: String,
}

impl AccountRow {
    pub(crate) fn role(&self) -> Result<Role> {
        Role::parse(&self.role)
    }

    pub(crate) fn session(&self, origin: Origin) -> Result<Session> {
        Ok(Session {
            actor: Actor::Account {
                id: self.id.clone(),
                email: self.email.clone(),
                name: self.display_name.clone(),
                role: self.role()?,
            },
            origin,
        })
    }
}

/// A display name as typed: trimmed, 1 to 200 printable characters.
pub(crate) fn display_name(typed: &str) -> Result<String> {
    let name = typed.trim();
    if name.is_empty() {
        return Err(Error::Field(FieldRefusal::TooShort { field: Field::DisplayName, min_chars: 1 }));
    }
    if name.chars().count() > 200 {
        return Err(Error::Field(FieldRefusal::TooLong { field: Field::DisplayName, max_chars: 200 }));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Field(FieldRefusal::ControlCharacter { field: Field::DisplayName }));
    }
    Ok(name.to_owned())
}

/// Register a public key for an account, unless any account has it already.
pub(crate) fn insert_ssh_key(
    conn: &mut crate::db::AnyConnection,
    id: &str,
    account_id: &str,
    key: &crate::credential::SshPublicKey,
    label: &str,
    now: i64,
) -> Result<()> {
    let taken = ssh_keys::table.filter(ssh_keys::key_blob.eq(&key.blob)).count().get_result::<i64>(conn)?;
    if taken > 0 {
        return Err(Error::Conflict("this key is already registered".into()));
    }
    diesel::insert_into(ssh_keys::table)
        .values((
            ssh_keys::id.eq(id),
            ssh_keys::account_id.eq(account_id),
            ssh_keys::algorithm.eq(&key.algorithm),
            ssh_keys::key_blob.eq(&key.blob),
            ssh_keys::fingerprint.eq(key.fingerprint()),
            ssh_keys::comment.eq(label),
            ssh_keys::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn find_by_email(conn: &mut crate::db::AnyConnection, email: &str) -> Result<Option<AccountRow>> {
    Ok(accounts::table.filter(accounts::email.eq(email)).select(AccountRow::as_select()).first(conn).optional()?)
}

/// Whether an address belongs to one of the affiliated domains (or a subdomain).
pub(crate) fn is_affiliated(conn: &mut crate::db::AnyConnection, email: &EmailAddress) -> Result<bool> {
    let all: Vec<String> = domains::table.select(domains::domain).load(conn)?;
    Ok(all.iter().any(|d| email.is_in_domain(d)))
}

fn normalize_domain(domain: &str) -> Result<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    EmailAddress::parse(&format!("x@{d}")).map_err(|_| Error::Invalid(format!("{domain:?} is not a domain name")))?;
    Ok(d)
}

impl Gateway {
    /// Affiliate a domain: its addresses may register and count as staff recipients.
    pub async fn add_domain(&self, admin: &Admin, domain: &str) -> Result<()> {
        let d = normalize_domain(domain)?;
        let now = self.now().as_millis();
        let event = self.event(&admin.origin, "domain-added").actor(&admin.actor).detail(&d);
        self.db
            .write(move |conn| {
                let exists = domains::table.find(&d).count().get_result::<i64>(conn)? > 0;
                if exists {
                    return Err(Error::Conflict(format!("{d} is already affiliated")));
                }
                diesel::insert_into(domains::table)
                    .values((domains::domain.eq(&d), domains::created_at.eq(now)))
                    .execute(conn)?;
                event.record(conn)
            })
            .await
    }

    /// The affiliated domains.
    pub async fn list_domains(&self) -> Result<Vec<String>> {
        self.db.read(|conn| Ok(domains::table.select(domains::domain).order(domains::domain).load(conn)?)).await
    }

    /// Stop affiliating a domain.
    pub async fn remove_domain(&self, admin: &Admin, domain: &str) -> Result<()> {
        let d = normalize_domain(domain)?;
        let event = self.event(&admin.origin, "domain-removed").actor(&admin.actor).detail(&d);
        self.db
            .write(move |conn| {
                let n = diesel::delete(domains::table.find(&d)).execute(conn)?;
                if n == 0 {
                    return Err(Error::NotFound);
                }
                event.record(conn)
            })
            .await
    }

    /// Create an account. Staff and admins need an address at an affiliated domain.
    pub async fn create_account(&self, admin: &Admin, new: NewAccount) -> Result<AccountInfo> {
        let email = EmailAddress::parse(&new.email).map_err(|e| Error::Invalid(e.to_string()))?;
        let name = display_name(&new.display_name)?;
        self.check_password_rules(&new.password, &[&new.email, &new.display_name])?;
        let hash = hash_password(&self.hashing, new.password).await?;
        let row = AccountRow {
            id: self.random.id()?,
            email: email.normalized(),
            display_name: name,
            role: new.role.as_str().into(),
            password_hash: Some(hash),
            verified: true,
            disabled: false,
            language: Language::Nl.as_str().into(),
            created_at: self.now().as_millis(),
        };
        let event = self.event(&admin.origin, "account-created").actor(&admin.actor).detail(&row.email);
        let role = new.role;
        self.db
            .write(move |conn| {
                if find_by_email(conn, &row.email)?.is_some() {
                    return Err(Error::Conflict(format!("an account for {} already exists", row.email)));
                }
                if role != Role::Partner && !is_affiliated(conn, &email)? {
                    return Err(Error::Forbidden(
                        "staff accounts need an address at an affiliated domain (koerier domain add)",
                    ));
                }
                diesel::insert_into(accounts::table).values(&row).execute(conn)?;
                event.record(conn)?;
                Ok(AccountInfo {
                    email: row.email,
                    display_name: row.display_name,
                    role,
                    verified: row.verified,
                    disabled: row.disabled,
                    ssh_keys: 0,
                })
            })
            .await
    }

    /// Every account, by address.
    pub async fn list_accounts(&self, _admin: &Admin) -> Result<Vec<AccountInfo>> {
        self.db
            .read(|conn| {
                let rows: Vec<AccountRow> =
                    accounts::table.order(accounts::email).select(AccountRow::as_select()).load(conn)?;
                let keys: Vec<String> = ssh_keys::table.select(ssh_keys::account_id).load(conn)?;
                rows.into_iter()
                    .map(|r| {
                        Ok(AccountInfo {
                            ssh_keys: keys.iter().filter(|k| **k == r.id).count(),
                            role: r.role()?,
                            email: r.email,
                            display_name: r.display_name,
                            verified: r.verified,
                            disabled: r.disabled,
                        })
                    })
                    .collect()
            })
            .await
    }

    /// Disable an account: every door refuses it from its next request on.
    pub async fn disable_account(&self, admin: &Admin, email: &str) -> Result<()> {
        self.set_disabled(admin, email, true).await
    }

    /// Enable a disabled account again.
    pub async fn enable_account(&self, admin: &Admin, email: &str) -> Result<()> {
        self.set_disabled(admin, email, false).await
    }

    async fn set_disabled(&self, admin: &Admin, email: &str, disabled: bool) -> Result<()> {
        let email = EmailAddress::parse(email).map_err(|e| Error::Invalid(e.to_string()))?.normalized();
        if disabled && email == admin.actor {
            return Err(Error::Conflict("an admin cannot disable their own account".into()));
        }
        let kind = if disabled { "account-disabled" } else { "account-enabled" };
        let event = self.event(&admin.origin, kind).actor(&admin.actor).detail(&email);
        self.db
            .write(move |conn| {
                let n = diesel::update(accounts::table.filter(accounts::email.eq(&email)))
                    .set(accounts::disabled.eq(disabled))
                    .execute(conn)?;
                if n == 0 {
                    return Err(Error::NotFound);
                }
                event.record(conn)
            })
            .await
    }

    /// Change what an account may do. Staff and admins need an address of
    /// the organisation; an admin keeps their own role.
    pub async fn set_role(&self, admin: &Admin, email: &str, role: Role) -> Result<()> {
        let parsed = EmailAddress::parse(email).map_err(|e| Error::Invalid(e.to_string()))?;
        let email = parsed.normalized();
        if email == admin.actor {
            return Err(Error::Conflict("an admin cannot change their own role".into()));
        }
        let event =
            self.event(&admin.origin, "role-changed").actor(&admin.actor).detail(&format!("{email} {}", role.as_str()));
        self.db
            .write(move |conn| {
                if role != Role::Partner && !is_affiliated(conn, &parsed)? {
                    return Err(Error::Forbidden("staff and admins need an address at an affiliated domain"));
                }
                let n = diesel::update(accounts::table.filter(accounts::email.eq(&email)))
                    .set(accounts::role.eq(role.as_str()))
                    .execute(conn)?;
                if n == 0 {
                    return Err(Error::NotFound);
                }
                event.record(conn)
            })
            .await
    }

    /// Add an SSH public key (one OpenSSH `authorized_keys` line) to an account.
    /// Returns the key's SHA-256 fingerprint.
    pub async fn add_ssh_key(&self, admin: &Admin, email: &str, line: &str) -> Result<String> {
        let key = crate::credential::SshPublicKey::parse_openssh(line)?;
        let email = EmailAddress::parse(email).map_err(|e| Error::Invalid(e.to_string()))?.normalized();
        let (id, now) = (self.random.id()?, self.now().as_millis());
        let fingerprint = key.fingerprint();
        let event =
            self.event(&admin.origin, "ssh-key-added").actor(&admin.actor).detail(&format!("{email} {fingerprint}"));
        self.db
            .write(move |conn| {
                let account = find_by_email(conn, &email)?.ok_or(Error::NotFound)?;
                insert_ssh_key(conn, &id, &account.id, &key, &key.comment, now)?;
                event.record(conn)?;
                Ok(key.fingerprint())
            })
            .await
    }
}

impl Gateway {
    /// Act as an account from the server's own command line (`koerier send`):
    /// the operator's console may, and the account must be enabled.
    pub async fn console_session(&self, _admin: &Admin, email: &str) -> Result<Session> {
        let email = EmailAddress::parse(email).map_err(|e| Error::Invalid(e.to_string()))?.normalized();
        let account = self.db.read(move |conn| find_by_email(conn, &email)).await?.ok_or(Error::NotFound)?;
        if account.disabled {
            return Err(Error::Forbidden("this account is disabled"));
        }
        account.session(Origin::cli())
    }
}
