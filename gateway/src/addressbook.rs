//! The address book and the message templates of a staff member. One template
//! may be the default; a new draft is pre-filled from it.

use diesel::prelude::*;

use crate::address::{Mailbox, PhoneNumber};
use crate::db::schema::{contacts, templates};
use crate::error::{Error, Field, FieldRefusal, Result};
use crate::random::RandomExt;
use crate::session::Session;
use crate::{Gateway, Language};

/// An entry of the address book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Name and address.
    pub mailbox: String,
    /// The name alone (may be empty).
    pub name: String,
    /// The address alone.
    pub email: String,
    /// Mobile number, when known.
    pub phone: Option<String>,
}

/// A template for new messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Its name.
    pub name: String,
    /// Subject to pre-fill.
    pub subject: String,
    /// Reference to pre-fill.
    pub reference: String,
    /// Accompanying text to pre-fill.
    pub body: String,
    /// Language to pre-fill.
    pub language: Language,
    /// Whether new drafts start from it.
    pub is_default: bool,
}

fn owner(session: &Session) -> Result<String> {
    session.account_id().map(str::to_owned).ok_or(Error::Forbidden("only accounts keep an address book"))
}

impl Gateway {
    /// Add or update a contact.
    pub async fn save_contact(&self, session: &Session, who: &Mailbox, phone: Option<&PhoneNumber>) -> Result<()> {
        let (s, owner, id, now) = (session.clone(), owner(session)?, self.random.id()?, self.now().as_millis());
        let (name, email, phone) =
            (who.name.clone().unwrap_or_default(), who.email.normalized(), phone.map(|p| p.as_e164().to_owned()));
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                diesel::delete(
                    contacts::table.filter(contacts::owner_id.eq(&owner)).filter(contacts::email.eq(&email)),
                )
                .execute(conn)?;
                diesel::insert_into(contacts::table)
                    .values((
                        contacts::id.eq(id),
                        contacts::owner_id.eq(&owner),
                        contacts::name.eq(name),
                        contacts::email.eq(&email),
                        contacts::phone.eq(phone),
                        contacts::created_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// The caller's address book, by name.
    pub async fn contacts(&self, session: &Session) -> Result<Vec<Contact>> {
        let (s, owner) = (session.clone(), owner(session)?);
        self.db
            .read(move |conn| {
                Gateway::check_live(conn, &s)?;
                let rows: Vec<(String, String, Option<String>)> = contacts::table
                    .filter(contacts::owner_id.eq(&owner))
                    .order(contacts::name)
                    .select((contacts::name, contacts::email, contacts::phone))
                    .load(conn)?;
                Ok(rows
                    .into_iter()
                    .map(|(name, email, phone)| Contact {
                        mailbox: if name.is_empty() { email.clone() } else { format!("{name} <{email}>") },
                        name,
                        email,
                        phone,
                    })
                    .collect())
            })
            .await
    }

    /// Save a template; when it is the default, it replaces the previous default.
    pub async fn save_template(&self, session: &Session, t: Template) -> Result<()> {
        if t.name.trim().is_empty() {
            return Err(Error::Field(FieldRefusal::TooShort { field: Field::TemplateName, min_chars: 1 }));
        }
        if t.name.chars().count() > 100 || t.name.chars().any(char::is_control) {
            return Err(Error::Field(FieldRefusal::TooLong { field: Field::TemplateName, max_chars: 100 }));
        }
        // What a template fills in is held to what a message may say.
        let filled = crate::Envelope {
            subject: t.subject.clone(),
            reference: t.reference.clone(),
            text: t.body.clone(),
            language: t.language,
            ..crate::Envelope::default()
        };
        filled.check()?;
        let (s, owner, id, now) = (session.clone(), owner(session)?, self.random.id()?, self.now().as_millis());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                if t.is_default {
                    diesel::update(templates::table.filter(templates::owner_id.eq(&owner)))
                        .set(templates::is_default.eq(false))
                        .execute(conn)?;
                }
                diesel::delete(
                    templates::table.filter(templates::owner_id.eq(&owner)).filter(templates::name.eq(&t.name)),
                )
                .execute(conn)?;
                diesel::insert_into(templates::table)
                    .values((
                        templates::id.eq(id),
                        templates::owner_id.eq(&owner),
                        templates::name.eq(&t.name),
                        templates::subject.eq(&t.subject),
                        templates::reference.eq(&t.reference),
                        templates::body.eq(&t.body),
                        templates::language.eq(t.language.as_str()),
                        templates::is_default.eq(t.is_default),
                        templates::created_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// The caller's templates, by name.
    pub async fn templates(&self, session: &Session) -> Result<Vec<Template>> {
        let (s, owner) = (session.clone(), owner(session)?);
        self.db
            .read(move |conn| {
                Gateway::check_live(conn, &s)?;
                let rows: Vec<(String, String, String, String, String, bool)> = templates::table
                    .filter(templates::owner_id.eq(&owner))
                    .order(templates::name)
                    .select((
                        templates::name,
                        templates::subject,
                        templates::reference,
                        templates::body,
                        templates::language,
                        templates::is_default,
                    ))
                    .load(conn)?;
                rows.into_iter()
                    .map(|(name, subject, reference, body, language, is_default)| {
                        Ok(Template {
                            name,
                            subject,
                            reference,
                            body,
                            language: Language::parse(&language)?,
                            is_default,
                        })
                    })
                    .collect()
            })
            .await
    }

    /// Take an address out of the caller's address book.
    pub async fn remove_contact(&self, session: &Session, email: &str) -> Result<()> {
        let (s, owner, email) = (session.clone(), owner(session)?, email.trim().to_lowercase());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                let gone = diesel::delete(
                    contacts::table.filter(contacts::owner_id.eq(&owner)).filter(contacts::email.eq(&email)),
                )
                .execute(conn)?;
                if gone == 0 { Err(Error::NotFound) } else { Ok(()) }
            })
            .await
    }

    /// Delete one of the caller's templates.
    pub async fn remove_template(&self, session: &Session, name: &str) -> Result<()> {
        let (s, owner, name) = (session.clone(), owner(session)?, name.to_owned());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                let gone = diesel::delete(
                    templates::table.filter(templates::owner_id.eq(&owner)).filter(templates::name.eq(&name)),
                )
                .execute(conn)?;
                if gone == 0 { Err(Error::NotFound) } else { Ok(()) }
            })
            .await
    }
}
