//! Mail: composed with lettre as multipart/alternative (plain text and HTML)
//! with a Message-ID made from the outbox id, so that a message delivered
//! again after a crash is recognisably the same message; sent over SMTP
//! (STARTTLS, implicit TLS, authentication; rustls with aws-lc-rs) or, on the
//! embedded default, written as `<data>/mail/<id>.eml`.

use std::path::PathBuf;
use std::time::Duration;

use gateway::outbox::Failure;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{Address, AsyncTransport, Message, Tokio1Executor};

use crate::error::{NotifyError, Result};
use crate::files;
use crate::settings::{NotifySettings, is_loopback};
use crate::templates::RenderedMail;

/// How long one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one whole delivery may take: the outbox lease outlives it.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// Where mail goes.
pub(crate) enum Mailer {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Files in a folder.
    Files(PathBuf),
}

impl Mailer {
    pub(crate) fn new(settings: &NotifySettings) -> Result<Mailer> {
        let Some(url) = &settings.mail.smtp_url else {
            return Ok(Mailer::Files(settings.data_dir.join("mail")));
        };
        // Building spawns the connection pool's task on the running runtime.
        Ok(Mailer::Smtp(smtp_builder(url)?.build()))
    }

    /// Hand one message over. `Ok` means the server accepted it (or the file
    /// is on disk); anything else is worth another try later.
    pub(crate) async fn send(&self, id: &str, message: Message) -> Result<(), Failure> {
        match self {
            Mailer::Files(dir) => {
                let name = files::file_name(id, "eml")?;
                files::write_atomically(dir.clone(), name, message.formatted()).await
            }
            Mailer::Smtp(transport) => match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
                Ok(Ok(_)) => Ok(()),
                // A refusal for good (5xx) is still retried until the message
                // is given up: a server that refuses every message for a
                // mistake of the operator's loses nothing once it is fixed.
                Ok(Err(e)) => Err(Failure::Transient(format!("the mail server: {e}"))),
                Err(_) => Err(Failure::Transient("the mail server did not answer in time".into())),
            },
        }
    }
}

/// Check the SMTP URL without connecting (and without a runtime).
pub(crate) fn check(settings: &NotifySettings) -> Result<()> {
    match &settings.mail.smtp_url {
        Some(url) => smtp_builder(url).map(|_| ()),
        None => Ok(()),
    }
}

fn smtp_builder(url: &str) -> Result<lettre::transport::smtp::AsyncSmtpTransportBuilder> {
    check_smtp_url(url)?;
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| NotifyError::Setting(format!("smtp_url: {e}")))?
        .timeout(Some(SMTP_TIMEOUT)))
}

/// Credentials never cross the network in clear: plain `smtp://` (without
/// `?tls=`) with a password only to this machine.
fn check_smtp_url(url: &str) -> Result<()> {
    let bad = |why: &str| Err(NotifyError::Setting(format!("smtp_url: {why}")));
    let Some((scheme, rest)) = url.split_once("://") else { return bad("not a URL") };
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a.split('/').next().unwrap_or_default(), q),
        None => (rest.split('/').next().unwrap_or_default(), ""),
    };
    let (credentials, host) = authority.rsplit_once('@').map_or((None, authority), |(c, h)| (Some(c), h));
    let tls = query.split('&').any(|p| p == "tls=required" || p == "tls=opportunistic");
    match scheme {
        "smtps" => Ok(()),
        "smtp" if tls => Ok(()),
        "smtp" if credentials.is_some() && !is_loopback(host) => {
            bad("a password goes only over TLS: use smtps:// or add ?tls=required")
        }
        "smtp" => Ok(()),
        _ => bad("use smtp:// or smtps://"),
    }
}

/// The From of every mail: the setting, or `<service> <noreply@host>`.
pub(crate) fn sender(settings: &NotifySettings, host: &str) -> Result<Mailbox> {
    if let Some(from) = &settings.mail.from {
        return from.parse().map_err(|e| NotifyError::Setting(format!("mail_from {from:?}: {e}")));
    }
    let address = Address::new("noreply", host)
        .or_else(|_| Address::new("noreply", "localhost"))
        .map_err(|e| NotifyError::Setting(format!("mail_from: {e}")))?;
    Ok(Mailbox::new(Some(settings.branding.service_name.clone()), address))
}

/// How the parts' bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transfer {
    /// UTF-8 as it is (`8bit`): an `.eml` a person can read and grep, and
    /// what every current mail server takes (8BITMIME).
    Readable,
    /// Quoted-printable or base64, for a server without 8BITMIME.
    AsciiOnly,
}

/// One mail, ready to send. An address that cannot be a recipient will never
/// become one: that failure is permanent.
pub(crate) fn compose(
    id: &str,
    host: &str,
    from: &Mailbox,
    to: &str,
    rendered: &RenderedMail,
    transfer: Transfer,
) -> Result<Message, Failure> {
    let address: Address = to.parse().map_err(|e| Failure::Permanent(format!("{to:?} is not an address: {e}")))?;
    let parts = MultiPart::alternative()
        .singlepart(part(ContentType::TEXT_PLAIN, &rendered.text, transfer))
        .singlepart(part(ContentType::TEXT_HTML, &rendered.html, transfer));
    Message::builder()
        .message_id(Some(message_id(id, host)))
        .from(from.clone())
        .to(Mailbox::new(None, address))
        .subject(rendered.subject.clone())
        .multipart(parts)
        .map_err(|e| Failure::Permanent(format!("the mail cannot be composed: {e}")))
}

fn part(content_type: ContentType, content: &str, transfer: Transfer) -> SinglePart {
    // RFC 5322 allows lines of 998 octets; lettre's own choice stops 8bit at
    // 76 and would encode nearly every mail. A longer line still gets encoded.
    let fits = content.lines().all(|l| l.len() < 998);
    let body = match transfer {
        Transfer::Readable if fits => {
            let crlf = content.replace("\r\n", "\n").replace('\n', "\r\n");
            let encoding =
                if crlf.is_ascii() { ContentTransferEncoding::SevenBit } else { ContentTransferEncoding::EightBit };
            Body::dangerous_pre_encoded(crlf.into_bytes(), encoding)
        }
        Transfer::Readable | Transfer::AsciiOnly => Body::new(content.to_owned()),
    };
    SinglePart::builder().header(content_type).body(body)
}

/// Whether a failure says the server wants the parts in ASCII.
pub(crate) fn wants_ascii(failure: &Failure) -> bool {
    matches!(failure, Failure::Transient(reason) if reason.contains("8BITMIME"))
}

/// `<outbox-id@host>`: the same for every delivery of one message.
pub fn message_id(id: &str, host: &str) -> String {
    format!("<{id}@{host}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_travel_only_over_tls() {
        assert!(check_smtp_url("smtps://u:p@mail.example.org").is_ok());
        assert!(check_smtp_url("smtp://u:p@mail.example.org:587?tls=required").is_ok());
        assert!(check_smtp_url("smtp://mail.example.org:25").is_ok(), "a relay without a password");
        assert!(check_smtp_url("smtp://u:p@127.0.0.1:2525").is_ok(), "this machine");
        assert!(check_smtp_url("smtp://u:p@mail.example.org:587").is_err());
        assert!(check_smtp_url("http://mail.example.org").is_err());
    }

    #[test]
    fn a_mail_is_multipart_with_its_stable_message_id() -> Result<(), Box<dyn std::error::Error>> {
        let from: Mailbox = "Koerier <noreply@koerier.example.org>".parse()?;
        let rendered = RenderedMail { subject: "Hallo".into(), text: "tekst\n".into(), html: "<p>html</p>".into() };
        let message =
            compose("abc123", "koerier.example.org", &from, "piet@example.org", &rendered, Transfer::Readable)
                .map_err(|e| format!("{e:?}"))?;
        let text = String::from_utf8(message.formatted())?;
        assert!(text.contains("Message-ID: <abc123@koerier.example.org>"), "{text}");
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain") && text.contains("text/html"));
        let long = format!("naar +31 ••••••••78 {}\n", "https://koerier.example.org/l/".repeat(4));
        let rendered = RenderedMail { subject: "Code".into(), text: long.clone(), html: "<p>x</p>".into() };
        let readable = compose("a", "h", &from, "piet@example.org", &rendered, Transfer::Readable)
            .map_err(|e| format!("{e:?}"))?;
        assert!(String::from_utf8(readable.formatted())?.contains(long.trim_end()), "8bit keeps the text as it is");
        let ascii = compose("a", "h", &from, "piet@example.org", &rendered, Transfer::AsciiOnly)
            .map_err(|e| format!("{e:?}"))?;
        assert!(ascii.formatted().is_ascii());
        let bad = compose("x", "h", &from, "not an address", &rendered, Transfer::Readable);
        assert!(matches!(bad, Err(Failure::Permanent(_))));
        Ok(())
    }
}
