//! Public deliveries (flow C): anyone may deliver documents to an address of
//! the organisation (a staff member, or a functional mailbox such as the
//! reporting desk) after proving their own address. The start is a row and
//! a mail with a link; the link, once opened, is the proof and opens the
//! draft (see [`crate::outsider`]). A start holds no document and no draft.

use diesel::prelude::*;

use crate::account::is_affiliated;
use crate::address::Mailbox;
use crate::auth::ip_key;
use crate::crypto::secret_hash;
use crate::db::schema::deliveries;
use crate::error::{Error, Result};
use crate::outbox::Outgoing;
use crate::random::RandomExt;
use crate::session::Origin;
use crate::{Gateway, Language, Timestamp};

/// What someone starting a delivery fills in.
#[derive(Debug, Clone)]
pub struct DeliveryStart {
    /// Their own name and address; the address is proven by the mail.
    pub sender: Mailbox,
    /// Whom the documents are for: an address of the organisation.
    pub contact: Mailbox,
    /// The language of the pages and mails they get.
    pub language: Language,
}

impl Gateway {
    /// Start a delivery: the mail with the link that proves the sender's
    /// address goes out in the same step. Refused when the contact is not an
    /// address of the organisation, and past the daily caps (starts from one
    /// network address; mails to one address, [`crate::Rules`]).
    pub async fn start_delivery(&self, start: DeliveryStart, origin: Origin) -> Result<Timestamp> {
        let id = self.random.id()?;
        let secret = self.random.secret()?;
        let now = self.now();
        let expires_at = now.plus(self.settings.rules.delivery_valid);
        let day_ago = now.minus(std::time::Duration::from_secs(24 * 3600)).as_millis();
        let per_ip = i64::from(self.settings.rules.deliveries_per_ip_per_day);
        let ip = ip_key(origin.ip);
        let this = self.clone();
        let event = self
            .event(&origin, "delivery-started")
            .actor(&start.sender.email.normalized())
            .detail(&format!("to {}", start.contact.email.normalized()));
        self.db
            .write(move |conn| {
                if !is_affiliated(conn, &start.contact.email)? {
                    return Err(Error::Invalid(format!(
                        "{} is not an address of the organisation; deliveries go to its staff or its contact points",
                        start.contact.email.normalized()
                    )));
                }
                crate::db::lock_for_transaction(conn, &format!("delivery starts {ip}"))?;
                let started: i64 = deliveries::table
                    .filter(deliveries::ip.eq(&ip))
                    .filter(deliveries::created_at.gt(day_ago))
                    .count()
                    .get_result(conn)?;
                if started >= per_ip {
                    tracing::warn!(cap = per_ip, "an address reached the daily cap of delivery starts");
                    return Err(Error::RateLimited);
                }
                let sender = start.sender.email.normalized();
                let contact = start.contact.email.normalized();
                diesel::insert_into(deliveries::table)
                    .values((
                        deliveries::id.eq(&id),
                        deliveries::secret_hash.eq(secret_hash(&secret)),
                        deliveries::sender_name.eq(start.sender.name.clone().unwrap_or_default()),
                        deliveries::sender_email.eq(&sender),
                        deliveries::contact_name.eq(start.contact.name.clone().unwrap_or_default()),
                        deliveries::contact_email.eq(&contact),
                        deliveries::language.eq(start.language.as_str()),
                        deliveries::ip.eq(&ip),
                        deliveries::created_at.eq(now.as_millis()),
                        deliveries::expires_at.eq(expires_at.as_millis()),
                    ))
                    .execute(conn)?;
                this.enqueue(
                    conn,
                    Outgoing::mail("delivery-email-check", start.language, &sender)
                        .param("delivery_secret", secret.as_str())
                        .param("contact_name", start.contact.name.clone().unwrap_or_default())
                        .param("contact_email", contact.as_str())
                        .param("expires_at", expires_at.rfc3339()),
                )?;
                event.record(conn)?;
                Ok(expires_at)
            })
            .await
    }
}
