//! The outbox: every mail and SMS the service sends is first a row, written in
//! the same transaction as the event that causes it, so that no message is
//! lost and none is sent for something that did not happen. The parameters
//! (which hold link secrets and codes) are sealed, and wiped once delivered.

use diesel::prelude::*;
use serde_json::{Map, Value};

use crate::db::AnyConnection;
use crate::db::schema::outbox;
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::{Gateway, Language, Timestamp};

/// By which channel a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Email.
    Mail,
    /// SMS.
    Sms,
}

impl Channel {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Mail => "mail",
            Channel::Sms => "sms",
        }
    }

    fn parse(s: &str) -> Result<Channel> {
        match s {
            "mail" => Ok(Channel::Mail),
            "sms" => Ok(Channel::Sms),
            other => Err(Error::Internal(format!("unknown channel {other}"))),
        }
    }
}

/// A message to be sent: which template, to whom, in which language, with what.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub channel: Channel,
    pub template: &'static str,
    pub language: Language,
    pub recipient: String,
    pub params: Map<String, Value>,
    pub transfer_id: Option<String>,
    pub caused_by: Option<String>,
}

impl Outgoing {
    pub fn mail(template: &'static str, language: Language, to: &str) -> Outgoing {
        Outgoing {
            channel: Channel::Mail,
            template,
            language,
            recipient: to.to_owned(),
            params: Map::new(),
            transfer_id: None,
            caused_by: None,
        }
    }

    pub fn sms(template: &'static str, language: Language, to: &str) -> Outgoing {
        Outgoing { channel: Channel::Sms, ..Outgoing::mail(template, language, to) }
    }

    pub fn param(mut self, key: &str, value: impl Into<Value>) -> Outgoing {
        self.params.insert(key.to_owned(), value.into());
        self
    }

    pub fn transfer(mut self, id: &str) -> Outgoing {
        self.transfer_id = Some(id.to_owned());
        self
    }

    pub fn caused_by(mut self, account_id: Option<&str>) -> Outgoing {
        self.caused_by = account_id.map(str::to_owned);
        self
    }
}

/// A queued message, opened for delivery.
#[derive(Debug, Clone)]
pub struct QueuedMessage {
    /// Stable id (the Message-ID is made from it, so a retry is recognisable).
    pub id: String,
    /// Mail or SMS.
    pub channel: Channel,
    /// Which template renders it.
    pub template: String,
    /// In which language.
    pub language: Language,
    /// The address or number.
    pub recipient: String,
    /// The template's parameters (may hold a link secret or a code).
    pub params: Map<String, Value>,
    /// The transfer it is about.
    pub transfer_id: Option<String>,
    /// How many deliveries were tried.
    pub attempts: i32,
    /// When it was queued.
    pub created_at: Timestamp,
}

impl Gateway {
    pub(crate) fn enqueue(&self, conn: &mut AnyConnection, msg: Outgoing) -> Result<()> {
        let id = self.random.id()?;
        let payload = serde_json::to_string(&msg.params).map_err(|e| Error::internal("cannot encode a message", e))?;
        let sealed = self.keys.seal_text(&payload, &format!("outbox:{id}"), self.random.as_ref())?;
        let now = self.now().as_millis();
        diesel::insert_into(outbox::table)
            .values((
                outbox::id.eq(&id),
                outbox::created_at.eq(now),
                outbox::channel.eq(msg.channel.as_str()),
                outbox::template.eq(msg.template),
                outbox::language.eq(msg.language.as_str()),
                outbox::recipient.eq(&msg.recipient),
                outbox::payload_sealed.eq(Some(sealed)),
                outbox::transfer_id.eq(msg.transfer_id),
                outbox::caused_by.eq(msg.caused_by),
                outbox::state.eq("pending"),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Messages due for delivery now, oldest first, opened.
    pub async fn due_messages(&self, limit: i64) -> Result<Vec<QueuedMessage>> {
        let now = self.now().as_millis();
        type Row = (String, String, String, String, String, Option<Vec<u8>>, Option<String>, i32, i64);
        let rows: Vec<Row> = self
            .db
            .read(move |conn| {
                Ok(outbox::table
                    .filter(outbox::state.eq("pending"))
                    .filter(outbox::next_attempt_at.le(now))
                    .order(outbox::created_at)
                    .limit(limit)
                    .select((
                        outbox::id,
                        outbox::channel,
                        outbox::template,
                        outbox::language,
                        outbox::recipient,
                        outbox::payload_sealed,
                        outbox::transfer_id,
                        outbox::attempts,
                        outbox::created_at,
                    ))
                    .load(conn)?)
            })
            .await?;
        rows.into_iter()
            .map(|(id, channel, template, language, recipient, sealed, transfer_id, attempts, created_at)| {
                let sealed = sealed.ok_or_else(|| Error::Internal(format!("queued message {id} has no payload")))?;
                let payload = self.keys.open_text(&sealed, &format!("outbox:{id}"))?;
                let params = serde_json::from_str(&payload).map_err(|e| Error::internal("bad queued payload", e))?;
                Ok(QueuedMessage {
                    channel: Channel::parse(&channel)?,
                    language: Language::parse(&language)?,
                    id,
                    template,
                    recipient,
                    params,
                    transfer_id,
                    attempts,
                    created_at: Timestamp::from_millis(created_at),
                })
            })
            .collect()
    }

    /// Record that a message was accepted by the mail server or SMS provider,
    /// and wipe its sealed parameters.
    pub async fn mark_delivered(&self, id: &str) -> Result<()> {
        let (id, now) = (id.to_owned(), self.now().as_millis());
        self.db
            .write(move |conn| {
                diesel::update(outbox::table.find(&id))
                    .set((
                        outbox::state.eq("sent"),
                        outbox::sent_at.eq(now),
                        outbox::payload_sealed.eq(None::<Vec<u8>>),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }
}
