//! The deliverer: takes what is due from the outbox under the core's lease
//! (one node at a time), renders it in the row's language, hands it to the
//! mail server or SMS provider, and books the outcome with the core in the
//! step that knows it: accepted → sent; refused or unreachable → the core's
//! backoff, and in the end the sender is told.
//!
//! Exactly once: a row is marked sent right after it was accepted; a crash in
//! between sends it again, as the same `.eml`/`.txt` file (replaced, not
//! added) or with the same Message-ID (recognisable by the receiving side).

use std::time::Duration;

use gateway::Gateway;
use gateway::outbox::{Channel, Failure, QueuedMessage, Retry};
use lettre::message::Mailbox;
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::error::Result;
use crate::mail::{self, Mailer, Transfer};
use crate::settings::NotifySettings;
use crate::sms::{self, SmsProvider};
use crate::templates::Templates;

/// How many rows one claim takes.
const BATCH: i64 = 50;

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Accepted by the server or provider (or written to a file).
    pub sent: usize,
    /// Failed this time; tried again later.
    pub retrying: usize,
    /// Given up; the sender is told.
    pub failed: usize,
}

/// Delivers the outbox.
pub struct Notifier {
    gateway: Gateway,
    settings: NotifySettings,
    host: String,
    from: Mailbox,
    mailer: Mailer,
    sms: Box<dyn SmsProvider>,
    templates: Templates,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Notifier {
    /// Check the settings, load the templates and make the transports.
    pub fn new(gateway: Gateway, settings: NotifySettings) -> Result<Notifier> {
        // rustls needs one process-wide provider when a library does not name
        // one; aws-lc-rs is the one the whole binary uses. Already installed
        // is fine.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let host = settings.public_host()?;
        let from = mail::sender(&settings, &host)?;
        let mailer = Mailer::new(&settings)?;
        let sms = sms::from_settings(&settings)?;
        let templates = Templates::load(settings.templates_dir.as_deref(), &settings.zone)?;
        Ok(Notifier { gateway, settings, host, from, mailer, sms, templates })
    }

    /// Send SMS through another provider than the settings name.
    pub fn with_sms_provider(mut self, provider: Box<dyn SmsProvider>) -> Notifier {
        self.sms = provider;
        self
    }

    /// Deliver everything due now. `None` when another node holds the outbox
    /// lease and delivers instead.
    pub async fn deliver_due(&self) -> Result<Option<Delivered>> {
        let mut done = Delivered::default();
        let mut claimed_once = false;
        loop {
            let Some(batch) = self.gateway.claim_due_messages(BATCH).await? else {
                return Ok(claimed_once.then_some(done));
            };
            claimed_once = true;
            let full = i64::try_from(batch.len()).unwrap_or(i64::MAX) >= BATCH;
            for msg in &batch {
                // The lease is renewed before each message, so no other node
                // can take over while this one is sending.
                if !self.gateway.hold_outbox_lease().await? {
                    return Ok(Some(done));
                }
                self.deliver_one(msg, &mut done).await?;
            }
            if !full {
                return Ok(Some(done));
            }
        }
    }

    /// Deliver on an interval until `stop` turns true, then let go of the lease.
    pub async fn run(&self, interval: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            match self.deliver_due().await {
                Ok(Some(d)) if d != Delivered::default() => tracing::info!(?d, "outbox delivered"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox delivery failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
        if let Err(e) = self.gateway.release_outbox_lease().await {
            tracing::warn!(error = %e, "could not release the outbox lease");
        }
    }

    /// Let go of the outbox lease (after a one-off delivery).
    pub async fn release(&self) -> Result<()> {
        Ok(self.gateway.release_outbox_lease().await?)
    }

    async fn deliver_one(&self, msg: &QueuedMessage, done: &mut Delivered) -> Result<()> {
        match self.attempt(msg).await {
            Ok(()) => {
                self.confirm(&msg.id).await?;
                done.sent += 1;
            }
            Err(failure) => {
                tracing::warn!(id = %msg.id, template = %msg.template, attempts = msg.attempts + 1, ?failure, "a message was not delivered");
                match self.gateway.record_failure(&msg.id, failure).await? {
                    Retry::At(_) => done.retrying += 1,
                    Retry::GaveUp => done.failed += 1,
                }
            }
        }
        Ok(())
    }

    /// Render and hand over one message without booking the outcome: for a
    /// preview of the templates, or a check of the transports.
    pub async fn send_one(&self, msg: &QueuedMessage) -> Result<(), Failure> {
        self.attempt(msg).await
    }

    /// Render and hand over one message.
    async fn attempt(&self, msg: &QueuedMessage) -> Result<(), Failure> {
        let language = msg.language.as_str();
        let ctx = self.context(msg);
        // A template that does not render is the operator's to fix: retried.
        let rendering = |e: crate::error::NotifyError| Failure::Transient(e.to_string());
        match msg.channel {
            Channel::Mail => {
                let rendered = self.templates.render_mail(language, &msg.template, &ctx).map_err(rendering)?;
                let compose =
                    |transfer| mail::compose(&msg.id, &self.host, &self.from, &msg.recipient, &rendered, transfer);
                match self.mailer.send(&msg.id, compose(Transfer::Readable)?).await {
                    Err(failure) if mail::wants_ascii(&failure) => {
                        self.mailer.send(&msg.id, compose(Transfer::AsciiOnly)?).await
                    }
                    outcome => outcome,
                }
            }
            Channel::Sms => {
                let text = self.templates.render_sms(language, &msg.template, &ctx).map_err(rendering)?;
                self.sms.send(&msg.id, &msg.recipient, &text).await
            }
        }
    }

    /// Mark a message sent. Tried a few times: each failure here means the
    /// message goes out once more later.
    async fn confirm(&self, id: &str) -> Result<()> {
        let mut pause = Duration::from_millis(200);
        for _ in 0..3 {
            match self.gateway.mark_delivered(id).await {
                Ok(()) => return Ok(()),
                Err(e) => tracing::warn!(id, error = %e, "could not mark a delivered message sent; trying again"),
            }
            tokio::time::sleep(pause).await;
            pause *= 4;
        }
        Ok(self.gateway.mark_delivered(id).await?)
    }

    /// The template's values: the row's parameters with its secrets turned
    /// into links, the branding, and where the doors are.
    fn context(&self, msg: &QueuedMessage) -> Map<String, Value> {
        let mut ctx = msg.params.clone();
        let base = self.settings.link_base();
        for (secret, link, path) in [
            ("link_secret", "link", "l"),
            ("request_secret", "request_link", "r"),
            ("report_secret", "report_link", "report"),
            ("verification_secret", "verification_link", "verify"),
            ("reset_secret", "reset_link", "reset"),
            ("delivery_secret", "delivery_link", "d"),
        ] {
            if let Some(Value::String(s)) = ctx.remove(secret) {
                ctx.insert(link.into(), Value::from(format!("{base}/{path}/{s}")));
            }
        }
        let b = &self.settings.branding;
        let mut put = |k: &str, v: Value| {
            ctx.entry(k.to_owned()).or_insert(v);
        };
        put("service", Value::from(b.service_name.as_str()));
        put("organisation", Value::from(b.organisation.as_str()));
        put("helpdesk_phone", Value::from(b.helpdesk_phone.as_str()));
        put("contact_name", Value::from(b.contact_name.as_str()));
        put("contact_email", Value::from(b.contact_email.as_str()));
        put("logo_url", b.logo_url.as_deref().map_or(Value::Null, Value::from));
        put("public_url", Value::from(base));
        put("to", Value::from(msg.recipient.as_str()));
        let sftp = self.settings.sftp_listen;
        let sftp_host = if sftp.ip().is_unspecified() { self.host.clone() } else { sftp.ip().to_string() };
        put("sftp_host", Value::from(sftp_host));
        put("sftp_port", Value::from(sftp.port()));
        ctx
    }
}
