//! The outbox: every mail and SMS the service sends is first a row, written in
//! the same transaction as the event that causes it, so that no message is
//! lost and none is sent for something that did not happen. The parameters
//! (which hold link secrets and codes) are sealed, and wiped once delivered.
//!
//! Delivery itself lives outside the core (the `notify` crate); the core keeps
//! the books: which rows are due, under one lease so one node delivers at a
//! time; a failed attempt is retried after 30 s, doubling up to an hour; a
//! message that still fails a day after it was queued (or after
//! [`MAX_ATTEMPTS`], or at once when refused for good) is marked failed, the
//! staff member who caused it is told, and the transfer's report shows it.
//!
//! The caps against spam and SMS pumping are checked here too, when a message
//! is queued, so every cause of a message is capped the same way and a capped
//! request is refused with [`Error::RateLimited`] in the transaction of its
//! cause: nothing is dropped silently.

use std::time::Duration;

use diesel::prelude::*;
use serde_json::{Map, Value};

use crate::address::PhoneNumber;
use crate::db::AnyConnection;
use crate::db::schema::{accounts, outbox, transfers};
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::session::Origin;
use crate::{Door, Gateway, Language, Timestamp, TransferId};

/// The wait after the first failed attempt; it doubles with each failure.
pub const FIRST_RETRY: Duration = Duration::from_secs(30);
/// The longest wait between two attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(3600);
/// A message still undelivered this long after it was queued is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// A message that failed this often is given up, however young.
pub const MAX_ATTEMPTS: i32 = 30;

/// How long the outbox lease lasts unless renewed. A deliverer renews it
/// before each message and gives one message at most 20 s, so it never lapses
/// mid-send; after a crash another node takes over within this time.
pub const OUTBOX_LEASE: Duration = Duration::from_secs(45);

/// The template of the mail that tells staff a message of theirs failed.
pub const DELIVERY_FAILED: &str = "delivery-failed";

/// Mails that go to someone who did not ask for them: capped per sender and
/// per address (SPEC section 6, against spam).
const CAPPED_MAILS: &[&str] = &["upload-request", "account-verification", "delivery-email-check", "password-reset"];

const DAY: Duration = Duration::from_secs(24 * 3600);

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
    pub transfer_id: Option<TransferId>,
    /// How many deliveries were tried.
    pub attempts: i32,
    /// When it was queued.
    pub created_at: Timestamp,
}

/// Why a delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth another try later: a server down, a timeout, a temporary refusal.
    Transient(String),
    /// Will never work (an address refused for good): give up at once.
    Permanent(String),
}

impl Failure {
    fn reason(&self) -> &str {
        match self {
            Failure::Transient(r) | Failure::Permanent(r) => r,
        }
    }
}

/// What became of a message after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// It is tried again from this moment.
    At(Timestamp),
    /// It was given up: marked failed, the sender told, the report shows it.
    GaveUp,
}

/// Where a queued message stands, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// Failed attempts so far.
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it is tried next (while pending).
    pub next_attempt_at: Timestamp,
}

/// The wait after the n-th failed attempt: 30 s, doubling, at most an hour.
pub fn backoff(failures: i32) -> Duration {
    let doublings = u32::try_from(failures.saturating_sub(1)).unwrap_or(0).min(16);
    FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY)
}

/// A recipient as shown in a report or a mail to staff: an address as it is,
/// a phone number masked.
fn shown_recipient(channel: &str, recipient: &str) -> String {
    match channel {
        "sms" => PhoneNumber::parse(recipient).map(|p| p.masked()).unwrap_or_else(|_| "a mobile number".into()),
        _ => recipient.to_owned(),
    }
}

type DueRow = (String, String, String, String, String, Option<Vec<u8>>, Option<String>, i32, i64);

/// The bookkeeping columns of a row that failed an attempt.
#[derive(Debug, Queryable)]
struct AttemptRow {
    channel: String,
    template: String,
    recipient: String,
    transfer_id: Option<String>,
    caused_by: Option<String>,
    state: String,
    attempts: i32,
    created_at: i64,
}

impl Gateway {
    pub(crate) fn enqueue(&self, conn: &mut AnyConnection, mut msg: Outgoing) -> Result<()> {
        // A message about a transfer is caused by its owner unless the cause
        // says otherwise: that is whom the caps count against and who hears
        // of a failure.
        if msg.caused_by.is_none()
            && let Some(transfer) = &msg.transfer_id
        {
            msg.caused_by = transfers::table
                .find(transfer)
                .select(transfers::owner_id)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten();
        }
        self.check_caps(conn, &msg)?;
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

    /// The caps of the last 24 hours: SMS per sender; request and
    /// verification mails per sender and per address. Counted over the rows
    /// themselves (kept after delivery), so every node sees the same count,
    /// under a lock on the sender and on the address until the row is
    /// written, so that concurrent requests never pass a cap.
    fn check_caps(&self, conn: &mut AnyConnection, msg: &Outgoing) -> Result<()> {
        let rules = &self.settings.rules;
        let since = self.now().minus(DAY).as_millis();
        let recent = outbox::created_at.gt(since);
        let capped_mail = msg.channel == Channel::Mail && CAPPED_MAILS.contains(&msg.template);
        if !capped_mail && msg.channel != Channel::Sms {
            return Ok(());
        }
        // Always the sender first, then the address.
        if let Some(sender) = &msg.caused_by {
            crate::db::lock_for_transaction(conn, &format!("cap sender {sender}"))?;
        }
        if capped_mail {
            crate::db::lock_for_transaction(conn, &format!("cap address {}", msg.recipient))?;
        }
        if let Some(sender) = &msg.caused_by {
            let (count, cap): (i64, u32) = match msg.channel {
                Channel::Sms => (
                    outbox::table
                        .filter(outbox::caused_by.eq(sender))
                        .filter(outbox::channel.eq(Channel::Sms.as_str()))
                        .filter(recent)
                        .count()
                        .get_result(conn)?,
                    rules.sms_per_sender_per_day,
                ),
                Channel::Mail if capped_mail => (
                    outbox::table
                        .filter(outbox::caused_by.eq(sender))
                        .filter(outbox::template.eq(msg.template))
                        .filter(recent)
                        .count()
                        .get_result(conn)?,
                    rules.mails_per_sender_per_day,
                ),
                Channel::Mail => (0, u32::MAX),
            };
            if count >= i64::from(cap) {
                tracing::warn!(template = msg.template, cap, "a sender reached the daily cap of messages");
                return Err(Error::RateLimited);
            }
        }
        if capped_mail {
            let count: i64 = outbox::table
                .filter(outbox::recipient.eq(&msg.recipient))
                .filter(outbox::template.eq(msg.template))
                .filter(recent)
                .count()
                .get_result(conn)?;
            if count >= i64::from(rules.mails_per_address_per_day) {
                tracing::warn!(template = msg.template, "an address reached the daily cap of mails");
                return Err(Error::RateLimited);
            }
        }
        Ok(())
    }

    /// Take, or keep, the outbox lease: true while this node is the one that
    /// delivers. A deliverer renews it before each message.
    pub async fn hold_outbox_lease(&self) -> Result<bool> {
        self.take_lease("outbox", OUTBOX_LEASE).await
    }

    /// Let go of the outbox lease, so that another process can deliver at
    /// once instead of waiting for the lease to lapse.
    pub async fn release_outbox_lease(&self) -> Result<()> {
        self.release_lease("outbox").await
    }

    /// The messages due now, oldest first, when this node holds the outbox
    /// lease (`None`: another node is delivering). A row whose parameters
    /// cannot be opened is given up at once instead of blocking the queue.
    pub async fn claim_due_messages(&self, limit: i64) -> Result<Option<Vec<QueuedMessage>>> {
        if !self.hold_outbox_lease().await? {
            return Ok(None);
        }
        let mut due = Vec::new();
        for row in self.load_due(limit).await? {
            match row {
                Ok(msg) => due.push(msg),
                Err((id, e)) => {
                    tracing::error!(id, error = %e, "a queued message cannot be opened; giving it up");
                    self.record_failure(&id, Failure::Permanent(format!("its parameters cannot be opened: {e}")))
                        .await?;
                }
            }
        }
        Ok(Some(due))
    }

    /// Messages due for delivery now, oldest first, opened.
    pub async fn due_messages(&self, limit: i64) -> Result<Vec<QueuedMessage>> {
        self.load_due(limit).await?.into_iter().map(|r| r.map_err(|(_, e)| e)).collect()
    }

    async fn load_due(&self, limit: i64) -> Result<Vec<std::result::Result<QueuedMessage, (String, Error)>>> {
        let now = self.now().as_millis();
        let rows: Vec<DueRow> = self
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
        Ok(rows.into_iter().map(|row| self.open_row(row)).collect())
    }

    fn open_row(&self, row: DueRow) -> std::result::Result<QueuedMessage, (String, Error)> {
        let (id, channel, template, language, recipient, sealed, transfer_id, attempts, created_at) = row;
        let opened = (|| {
            let sealed = sealed.ok_or_else(|| Error::Internal(format!("queued message {id} has no payload")))?;
            let payload = self.keys.open_text(&sealed, &format!("outbox:{id}"))?;
            let params = serde_json::from_str(&payload).map_err(|e| Error::internal("bad queued payload", e))?;
            Ok::<_, Error>((Channel::parse(&channel)?, Language::parse(&language)?, params))
        })();
        match opened {
            Ok((channel, language, params)) => Ok(QueuedMessage {
                id,
                channel,
                template,
                language,
                recipient,
                params,
                transfer_id: transfer_id.map(TransferId::new),
                attempts,
                created_at: Timestamp::from_millis(created_at),
            }),
            Err(e) => Err((id, e)),
        }
    }

    /// Record that a message was accepted by the mail server or SMS provider,
    /// and wipe its sealed parameters. The transfer's report shows it. A
    /// message no longer pending is left as it is.
    pub async fn mark_delivered(&self, id: &str) -> Result<()> {
        let (id, now, this) = (id.to_owned(), self.now().as_millis(), self.clone());
        self.db
            .write(move |conn| {
                let row: Option<(String, String, String, Option<String>)> = outbox::table
                    .find(&id)
                    .filter(outbox::state.eq("pending"))
                    .select((outbox::channel, outbox::template, outbox::recipient, outbox::transfer_id))
                    .first(conn)
                    .optional()?;
                let Some((channel, template, recipient, transfer_id)) = row else { return Ok(()) };
                diesel::update(outbox::table.find(&id))
                    .set((
                        outbox::state.eq("sent"),
                        outbox::sent_at.eq(now),
                        outbox::payload_sealed.eq(None::<Vec<u8>>),
                    ))
                    .execute(conn)?;
                if let Some(transfer) = transfer_id {
                    let detail = format!("{template} by {channel} to {}", shown_recipient(&channel, &recipient));
                    this.event(&Origin::new(Door::System, None), "message-sent")
                        .transfer(&transfer)
                        .detail(&detail)
                        .record(conn)?;
                }
                Ok(())
            })
            .await
    }

    /// Record a failed attempt: try again after the backoff, or give the
    /// message up (see the module's documentation for when).
    pub async fn record_failure(&self, id: &str, failure: Failure) -> Result<Retry> {
        let (id, now, this) = (id.to_owned(), self.now(), self.clone());
        let reason: String = failure.reason().chars().take(500).collect();
        self.db
            .write(move |conn| {
                let row: AttemptRow = outbox::table
                    .find(&id)
                    .select((
                        outbox::channel,
                        outbox::template,
                        outbox::recipient,
                        outbox::transfer_id,
                        outbox::caused_by,
                        outbox::state,
                        outbox::attempts,
                        outbox::created_at,
                    ))
                    .first(conn)?;
                if row.state != "pending" {
                    return Err(Error::Conflict(format!("message {id} is {} already", row.state)));
                }
                let attempts = row.attempts + 1;
                let too_old = now.minus(GIVE_UP_AFTER).as_millis() >= row.created_at;
                let give_up = matches!(failure, Failure::Permanent(_)) || attempts >= MAX_ATTEMPTS || too_old;
                if !give_up {
                    let at = now.plus(backoff(attempts));
                    diesel::update(outbox::table.find(&id))
                        .set((
                            outbox::attempts.eq(attempts),
                            outbox::last_error.eq(&reason),
                            outbox::next_attempt_at.eq(at.as_millis()),
                        ))
                        .execute(conn)?;
                    return Ok(Retry::At(at));
                }
                diesel::update(outbox::table.find(&id))
                    .set((
                        outbox::state.eq("failed"),
                        outbox::attempts.eq(attempts),
                        outbox::last_error.eq(&reason),
                        outbox::payload_sealed.eq(None::<Vec<u8>>),
                    ))
                    .execute(conn)?;
                this.report_failure(conn, &row, &reason)?;
                Ok(Retry::GaveUp)
            })
            .await
    }

    /// A given-up message shows in its transfer's report, and the staff
    /// member who caused it gets a mail (never a mail about such a mail).
    fn report_failure(&self, conn: &mut AnyConnection, row: &AttemptRow, reason: &str) -> Result<()> {
        let shown = shown_recipient(&row.channel, &row.recipient);
        let (subject, name, owner) = match &row.transfer_id {
            Some(transfer) => {
                let (subject, name, owner): (String, String, Option<String>) = transfers::table
                    .find(transfer)
                    .select((transfers::subject, transfers::name, transfers::owner_id))
                    .first(conn)?;
                let detail = format!("{} by {} to {shown}: {reason}", row.template, row.channel);
                self.event(&Origin::new(Door::System, None), "delivery-failed")
                    .transfer(transfer)
                    .detail(&detail)
                    .record(conn)?;
                (subject, name, owner)
            }
            None => (String::new(), String::new(), None),
        };
        if row.template == DELIVERY_FAILED {
            return Ok(());
        }
        let Some(account) = row.caused_by.clone().or(owner) else { return Ok(()) };
        let found: Option<(String, String)> =
            accounts::table.find(&account).select((accounts::email, accounts::language)).first(conn).optional()?;
        let Some((email, language)) = found else { return Ok(()) };
        let mut mail = Outgoing::mail(DELIVERY_FAILED, Language::parse(&language).unwrap_or_default(), &email)
            .param("recipient", shown)
            .param("template", row.template.as_str())
            .param("channel", row.channel.as_str())
            .param("reason", reason)
            .param("subject", subject)
            .param("name", name)
            .caused_by(Some(&account));
        if let Some(transfer) = &row.transfer_id {
            mail = mail.transfer(transfer);
        }
        self.enqueue(conn, mail)
    }

    /// Where one queued message stands.
    pub async fn delivery_status(&self, id: &str) -> Result<DeliveryStatus> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let (state, attempts, last_error, next): (String, i32, Option<String>, i64) = outbox::table
                    .find(&id)
                    .select((outbox::state, outbox::attempts, outbox::last_error, outbox::next_attempt_at))
                    .first(conn)?;
                Ok(DeliveryStatus { state, attempts, last_error, next_attempt_at: Timestamp::from_millis(next) })
            })
            .await
    }

    /// How many messages are pending, sent and failed.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        self.db
            .read(|conn| {
                let rows: Vec<(String, i64)> = outbox::table
                    .group_by(outbox::state)
                    .select((outbox::state, diesel::dsl::count_star()))
                    .load(conn)?;
                let of = |s: &str| rows.iter().find(|(state, _)| state == s).map_or(0, |(_, n)| *n);
                Ok(OutboxCounts { pending: of("pending"), sent: of("sent"), failed: of("failed") })
            })
            .await
    }
}

/// The outbox at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting for delivery (including retries).
    pub pending: i64,
    /// Accepted by the mail server or SMS provider.
    pub sent: i64,
    /// Given up.
    pub failed: i64,
}
