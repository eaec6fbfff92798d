//! Delivery of koerier's outbox. The core writes every mail and SMS as a row
//! in the transaction of its cause; this crate takes the due rows under the
//! core's lease, renders them in Dutch or English from templates the operator
//! can replace, and hands them to an SMTP server or an SMS gateway (or, on the
//! embedded default, writes them as files), booking each outcome with the core.
//!
//! It depends on the core only; the binary wires it up (`serve` runs it on an
//! interval, `send` runs one round before it exits).

pub mod error;
mod files;
pub mod mail;
pub mod settings;
pub mod sms;
pub mod templates;
mod worker;

pub use error::{NotifyError, Result};
pub use settings::{Branding, MailSettings, NotifySettings, SmsSettings};
pub use sms::{FileSms, HttpSms, SmsProvider};
pub use templates::Templates;
pub use worker::{Delivered, Notifier};

/// Check every setting that can be checked without the network or the
/// database, as the start does: the public URL, the mail and SMS transports,
/// the sender address and the templates (overrides included).
pub fn check_settings(settings: &NotifySettings) -> Result<()> {
    let host = settings.public_host()?;
    mail::sender(settings, &host)?;
    mail::check(settings)?;
    sms::from_settings(settings)?;
    Templates::load(settings.templates_dir.as_deref(), &settings.zone)?;
    Ok(())
}
