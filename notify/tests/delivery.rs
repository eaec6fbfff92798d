//! Delivery against real peers: an SMTP server process (aiosmtpd) and an HTTP
//! SMS gateway process, driven through the core and the deliverer with the
//! clock standing still, so retries happen exactly when the test moves it.
//! On the backend named by `KOERIER_TEST_DATABASE`, like the core's tests.

#[path = "../../tests/peers/mod.rs"]
mod peers;
#[path = "../../tests/ports/mod.rs"]
mod ports;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use gateway::address::{Mailbox, PhoneNumber};
use gateway::link::LinkStatus;
use gateway::outbox::{Channel, QueuedMessage};
use gateway::upload::UploadMode;
use gateway::{
    Admin, Envelope, Error, Gateway, Language, ManualClock, MasterKey, NewAccount, Origin, Role, Rules, Session,
    Settings, SystemRandom, Timestamp, TransferId,
};
use notify::templates::{LANGUAGES, MAIL_TEMPLATES};
use notify::{Branding, Delivered, MailSettings, Notifier, NotifySettings, SmsSettings};
use peers::{SmsPeer, SmtpPeer, free_port, part};
use serde_json::{Map, Value, json};

type TestResult = Result<(), peers::Error>;

const START: i64 = 1_795_424_400_000;
const BASE: &str = "https://koerier.example.org";
const TEXT: &str = "THE ACCOMPANYING TEXT stays on the download page";

struct Bed {
    gw: Gateway,
    clock: ManualClock,
    dir: tempfile::TempDir,
}

fn database_for(dir: &std::path::Path) -> Result<String, peers::Error> {
    let target = std::env::var("KOERIER_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into());
    if target == "sqlite" {
        return Ok(dir.join("koerier.db").to_string_lossy().into_owned());
    }
    let name = format!("koerier_notify_{}", dir.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
        .to_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
    let mut admin = diesel::PgConnection::establish(&target)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    let (base, _) = target.rsplit_once('/').ok_or("a postgres URL ends in /database")?;
    Ok(format!("{base}/{name}"))
}

impl Bed {
    async fn new() -> Result<Bed, peers::Error> {
        let dir = tempfile::tempdir()?;
        let clock = ManualClock::new(Timestamp::from_millis(START));
        let master = MasterKey::from_base64("S29lcmllciB0ZXN0IG1hc3RlciBrZXkgMzIgYnl0ZXM=")?;
        let rules = Rules { auth_failure_delay: Duration::ZERO, ..Rules::default() };
        let settings = Settings {
            data_dir: dir.path().to_owned(),
            database_url: database_for(dir.path())?,
            rules,
            limits: Default::default(),
            keys: Default::default(),
            store: None,
        };
        let gw = Gateway::open(settings, master, Arc::new(clock.clone()), Arc::new(SystemRandom)).await?;
        gw.add_domain(&Admin::console(), "minvws.nl").await?;
        Ok(Bed { gw, clock, dir })
    }

    fn settings(&self, smtp_url: Option<String>, sms: SmsSettings) -> NotifySettings {
        NotifySettings {
            data_dir: self.dir.path().to_owned(),
            public_url: BASE.into(),
            sftp_listen: std::net::SocketAddr::from(([0, 0, 0, 0], 2222)),
            mail: MailSettings { smtp_url, from: None },
            sms,
            branding: Branding {
                service_name: "Veilig Verzenden".into(),
                helpdesk_phone: "070 123 45 67".into(),
                organisation: "Inspectie Gezondheidszorg en Jeugd".into(),
                ..Branding::default()
            },
            zone: gateway::LocalZone::default(),
            templates_dir: None,
        }
    }

    fn notifier(&self, smtp_url: Option<String>, sms: SmsSettings) -> Result<Notifier, peers::Error> {
        Ok(Notifier::new(self.gw.clone(), self.settings(smtp_url, sms))?)
    }

    async fn staff(&self, email: &str) -> Result<Session, peers::Error> {
        let password = "correct horse battery staple";
        let new = NewAccount {
            email: email.into(),
            display_name: "Jan Jansen".into(),
            role: Role::Staff,
            password: password.into(),
        };
        self.gw.create_account(&Admin::console(), new).await?;
        Ok(self.gw.authenticate_password(email, password, Origin::cli()).await?)
    }

    /// Send one document to `to` (with a phone number) in `language`.
    async fn send(
        &self,
        s: &Session,
        name: &str,
        to: &str,
        phone: &str,
        language: Language,
    ) -> Result<TransferId, peers::Error> {
        let draft = self.gw.create_draft(s, name).await?;
        let env = Envelope {
            to: Some(Mailbox::parse(to)?),
            phone: Some(PhoneNumber::parse(phone)?),
            subject: format!("Dossier {name}"),
            reference: "REF-7".into(),
            language,
            text: TEXT.into(),
        };
        self.gw.set_envelope(s, &draft.id, env).await?;
        let mut upload = self.gw.begin_upload(s, &draft.id, "a.pdf", UploadMode::New).await?;
        upload.write(b"%PDF-1.4\n% doc\n%%EOF\n").await?;
        upload.finish().await?;
        self.gw.send(s, &draft.id).await?;
        Ok(draft.id)
    }

    fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }

    /// The SMS files: (file name, content).
    fn sms_files(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(self.dir.path().join("sms"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap_or_default())
            })
            .collect();
        out.sort();
        out
    }
}

fn smtp_dir(bed: &Bed) -> PathBuf {
    bed.dir.path().join("smtp-server")
}

/// The parameters every template might use, with recognisable values.
fn sample_params(template: &str) -> Map<String, Value> {
    let mut p = json!({
        "sender_name": "Jan Jansen", "sender_email": "jan@minvws.nl", "subject": "Dossier 12",
        "reference": "REF-7", "expires_at": "2026-11-28T09:00:00Z", "at": "2026-11-24T10:00:00Z",
        "name": "dossier-12", "recipient": "piet@example.org", "document": "rapport.pdf",
        "reason": "the upload window of 1h closed", "requester_name": "Jan Jansen",
        "requester_email": "jan@minvws.nl", "user_name": "request-abc", "text": "Graag uw jaarverslag.",
        "display_name": "Kees", "contact_name": "Meldpunt", "contact_email": "meldpunt@minvws.nl",
        "template": "transfer-notice", "channel": "mail", "code": "123456",
        "link_secret": "LINKSECRET", "request_secret": "REQSECRET", "report_secret": "REPSECRET",
        "verification_secret": "VERSECRET", "delivery_secret": "DELSECRET", "reset_secret": "RESSECRET",
    });
    if template == "transfer-notice" {
        p["masked_phone"] = json!("+31 ••••••••78");
    }
    p.as_object().cloned().unwrap_or_default()
}

fn queued(id: &str, channel: Channel, template: &str, language: Language, to: &str) -> QueuedMessage {
    QueuedMessage {
        id: id.into(),
        channel,
        template: template.into(),
        language,
        recipient: to.into(),
        params: sample_params(template),
        transfer_id: None,
        attempts: 0,
        created_at: Timestamp::from_millis(START),
    }
}

/// The link a template must carry, if any.
fn expected_link(template: &str) -> Option<String> {
    let path = match template {
        "transfer-notice" | "request-answered" => "l/LINKSECRET",
        "upload-request" => "r/REQSECRET",
        "delivery-confirmation" => "report/REPSECRET",
        "account-verification" => "verify/VERSECRET",
        "password-reset" => "reset/RESSECRET",
        "delivery-email-check" => "d/DELSECRET",
        _ => return None,
    };
    Some(format!("{BASE}/{path}"))
}

#[tokio::test]
async fn every_template_in_both_languages_arrives_over_smtp_multipart_and_parses_back() -> TestResult {
    let bed = Bed::new().await?;
    let server = SmtpPeer::start(&smtp_dir(&bed), free_port()?)?;
    let notifier = bed.notifier(Some(server.url()), SmsSettings::default())?;
    let mut sent = Vec::new();
    for lang in LANGUAGES {
        let language = Language::parse(lang)?;
        for template in MAIL_TEMPLATES {
            let id = format!("{lang}{}", template.replace('-', ""));
            notifier
                .send_one(&queued(&id, Channel::Mail, template, language, "piet@example.org"))
                .await
                .map_err(|e| format!("{id}: {e:?}"))?;
            sent.push((id, *lang, *template));
        }
    }
    let mails = server.messages()?;
    assert_eq!(mails.len(), MAIL_TEMPLATES.len() * 2, "each arrived once");
    for (id, lang, template) in sent {
        let wanted = format!("<{id}@koerier.example.org>");
        let mail = mails.iter().find(|m| m["message_id"] == wanted.as_str()).ok_or(format!("{wanted} missing"))?;
        assert_eq!(mail["content_type"], "multipart/alternative", "{id}");
        assert_eq!(mail["rcpt_tos"][0], "piet@example.org");
        assert!(mail["from"].as_str().unwrap_or_default().contains("noreply@koerier.example.org"));
        let (text, html) = (part(mail, "text/plain").unwrap_or_default(), part(mail, "text/html").unwrap_or_default());
        let subject = mail["subject"].as_str().unwrap_or_default();
        assert!(!subject.is_empty() && text.len() > 40 && html.contains(&format!("lang=\"{lang}\"")), "{id}: {mail}");
        for body in [subject, text, html] {
            assert!(!body.contains("{{") && !body.contains("{%"), "{id} left a placeholder: {body}");
        }
        // HTML escapes every value, "/" included; an attribute reads the same.
        let html = html.replace("&#x2f;", "/");
        assert!(text.contains("Veilig Verzenden") && html.contains("070 123 45 67"), "{id}: branding");
        assert!(
            text.contains("Inspectie Gezondheidszorg en Jeugd") && html.contains("Inspectie Gezondheidszorg en Jeugd"),
            "{id}: the organisation in the footer"
        );
        if let Some(link) = expected_link(template) {
            assert!(
                text.contains(&link) && html.contains(&format!("href=\"{link}\"")),
                "{id}: {link} in\n{text}\n{html}"
            );
        }
        if template == "transfer-notice" {
            assert!(text.contains("+31 ••••••••78") && html.contains("+31 ••••••••78"), "{id}: the masked number");
            let open = if lang == "nl" { "Open de bestanden" } else { "Open the files" };
            assert!(text.contains(open), "{id} is in {lang}: {text}");
        }
        if template == "upload-request" {
            assert!(
                text.contains("koerier.example.org, ") && text.contains("2222") && text.contains("request-abc"),
                "{text}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_transfer_to_an_outsider_mails_the_link_and_masked_number_texts_the_code_never_the_text() -> TestResult {
    let bed = Bed::new().await?;
    let server = SmtpPeer::start(&smtp_dir(&bed), free_port()?)?;
    let jan = bed.staff("jan@minvws.nl").await?;
    bed.send(&jan, "one", "Piet <piet@example.org>", "06 12345678", Language::En).await?;
    bed.send(&jan, "two", "Kees <kees@example.org>", "06 87654321", Language::Nl).await?;
    let notifier = bed.notifier(Some(server.url()), SmsSettings::default())?;
    assert_eq!(notifier.deliver_due().await?, Some(Delivered { sent: 6, retrying: 0, failed: 0 }));
    assert_eq!(notifier.deliver_due().await?, Some(Delivered::default()), "nothing twice");
    let mails = server.messages()?;
    assert_eq!(mails.len(), 4, "two notices, two confirmations");
    let sms = bed.sms_files();
    assert_eq!(sms.len(), 2);
    for (to, phone, masked, english) in [
        ("piet@example.org", "+31612345678", "+31 ••••••••78", true),
        ("kees@example.org", "+31687654321", "+31 ••••••••21", false),
    ] {
        let notice = mails.iter().find(|m| m["rcpt_tos"][0] == to).ok_or("no notice")?;
        let text = part(notice, "text/plain").unwrap_or_default();
        let secret = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{BASE}/l/")))
            .ok_or(format!("no link in {text}"))?
            .to_owned();
        assert!(text.contains(masked) && part(notice, "text/html").unwrap_or_default().contains(masked));
        assert_eq!(text.contains("sent you files"), english, "the sender's language decides: {text}");
        let status = bed.gw.link_status(&secret).await?;
        assert!(
            matches!(status, LinkStatus::NeedsCode { ref masked_phone, .. } if masked_phone == masked),
            "{status:?}"
        );
        let (_, content) = sms.iter().find(|(_, c)| c.starts_with(&format!("To: {phone}\n\n"))).ok_or("no SMS")?;
        let code: String = content.chars().filter(char::is_ascii_digit).skip(phone.len() - 1).collect();
        assert_eq!(code.len(), 6, "{content}");
        bed.gw.redeem_with_code(&secret, &code, Origin::cli()).await?;
    }
    for raw in std::fs::read_dir(smtp_dir(&bed))?.flatten() {
        let bytes = std::fs::read(raw.path())?;
        assert!(!String::from_utf8_lossy(&bytes).contains("ACCOMPANYING"), "never the text: {}", raw.path().display());
    }
    assert!(sms.iter().all(|(_, c)| !c.contains("ACCOMPANYING")));
    Ok(())
}

#[tokio::test]
async fn with_the_smtp_server_down_mail_stays_queued_and_arrives_exactly_once_when_it_is_back() -> TestResult {
    let bed = Bed::new().await?;
    let mut server = SmtpPeer::start(&smtp_dir(&bed), free_port()?)?;
    server.stop();
    let jan = bed.staff("jan@minvws.nl").await?;
    bed.send(&jan, "one", "piet@example.org", "0612345678", Language::Nl).await?;
    bed.send(&jan, "two", "kees@example.org", "0612345679", Language::En).await?;
    let mail_ids: Vec<String> =
        bed.gw.due_messages(100).await?.into_iter().filter(|m| m.channel == Channel::Mail).map(|m| m.id).collect();
    assert_eq!(mail_ids.len(), 4);
    let notifier = bed.notifier(Some(server.url()), SmsSettings::default())?;
    assert_eq!(notifier.deliver_due().await?, Some(Delivered { sent: 2, retrying: 4, failed: 0 }), "the SMS go");
    for attempts in 1..=3 {
        for id in &mail_ids {
            let status = bed.gw.delivery_status(id).await?;
            assert_eq!((status.state.as_str(), status.attempts), ("pending", attempts));
            assert!(status.last_error.as_deref().unwrap_or_default().contains("mail server"), "{status:?}");
        }
        assert_eq!(notifier.deliver_due().await?, Some(Delivered::default()), "not before the backoff");
        bed.advance(Duration::from_secs(30 << (attempts - 1)));
        if attempts < 3 {
            assert_eq!(notifier.deliver_due().await?, Some(Delivered { sent: 0, retrying: 4, failed: 0 }));
        }
    }
    assert_eq!(server.count(), 0);
    server.restart()?;
    assert_eq!(notifier.deliver_due().await?, Some(Delivered { sent: 4, retrying: 0, failed: 0 }));
    bed.advance(Duration::from_secs(7200));
    assert_eq!(notifier.deliver_due().await?, Some(Delivered::default()));
    let mails = server.messages()?;
    let mut ids: Vec<String> = mails.iter().map(|m| m["message_id"].as_str().unwrap_or_default().to_owned()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((mails.len(), ids.len()), (4, 4), "each exactly once: {ids:?}");
    for id in &mail_ids {
        assert!(ids.contains(&format!("<{id}@koerier.example.org>")));
        assert_eq!(bed.gw.delivery_status(id).await?.state, "sent");
    }
    Ok(())
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_given_up_and_its_sender_told_by_mail() -> TestResult {
    let bed = Bed::new().await?;
    let mut server = SmtpPeer::start(&smtp_dir(&bed), free_port()?)?;
    server.stop();
    let jan = bed.staff("jan@minvws.nl").await?;
    let transfer = bed.send(&jan, "one", "piet@example.org", "0612345678", Language::En).await?;
    let notifier = bed.notifier(Some(server.url()), SmsSettings::default())?;
    let mut failed = 0;
    for _ in 0..40 {
        failed += notifier.deliver_due().await?.unwrap_or_default().failed;
        bed.advance(Duration::from_secs(3600));
        if failed == 2 {
            break;
        }
    }
    assert_eq!(failed, 2, "the notice and the confirmation, after a day");
    server.restart()?;
    notifier.deliver_due().await?;
    let told = server.messages()?;
    assert_eq!(told.len(), 2, "two delivery-failed mails: {told:?}");
    assert!(told.iter().all(|m| m["rcpt_tos"][0] == "jan@minvws.nl"));
    assert!(told.iter().any(|m| part(m, "text/plain").unwrap_or_default().contains("piet@example.org")));
    let report = bed.gw.report(&jan, &transfer).await?;
    assert_eq!(report.events.iter().filter(|e| e.kind == "delivery-failed").count(), 2);
    Ok(())
}

fn http_sms(peer: &SmsPeer) -> SmsSettings {
    SmsSettings {
        url: Some(peer.url()),
        auth_header: Some("Authorization: Bearer sesame".into()),
        timeout: Duration::from_secs(1),
        ..SmsSettings::default()
    }
}

#[tokio::test]
async fn the_http_sms_gateway_500_timeout_retry_and_no_duplicates() -> TestResult {
    let bed = Bed::new().await?;
    let peer = SmsPeer::start(&bed.dir.path().join("sms-gateway"), "500,hang,200", 3)?;
    let jan = bed.staff("jan@minvws.nl").await?;
    bed.send(&jan, "one", "piet@example.org", "0612345678", Language::Nl).await?;
    let sms_id = bed.gw.due_messages(10).await?.into_iter().find(|m| m.channel == Channel::Sms).ok_or("no SMS")?.id;
    let notifier = bed.notifier(None, http_sms(&peer))?;
    assert_eq!(notifier.deliver_due().await?, Some(Delivered { sent: 2, retrying: 1, failed: 0 }));
    let status = bed.gw.delivery_status(&sms_id).await?;
    assert_eq!(status.attempts, 1);
    assert!(status.last_error.as_deref().unwrap_or_default().contains("500"), "{status:?}");
    bed.advance(Duration::from_secs(30));
    assert_eq!(notifier.deliver_due().await?, Some(Delivered { sent: 0, retrying: 1, failed: 0 }));
    let status = bed.gw.delivery_status(&sms_id).await?;
    assert!(status.last_error.as_deref().unwrap_or_default().contains("in time"), "{status:?}");
    bed.advance(Duration::from_secs(60));
    assert_eq!(notifier.deliver_due().await?, Some(Delivered { sent: 1, retrying: 0, failed: 0 }));
    bed.advance(Duration::from_secs(7200));
    assert_eq!(notifier.deliver_due().await?, Some(Delivered::default()));
    bed.send(&jan, "two", "kees@example.org", "0612345679", Language::En).await?;
    assert_eq!(notifier.deliver_due().await?, Some(Delivered { sent: 3, retrying: 0, failed: 0 }));

    let requests = peer.requests()?;
    assert_eq!(requests.len(), 4, "500, timeout, accepted; then accepted at once");
    let first: Vec<_> = requests.iter().filter(|r| r["idempotency_key"] == sms_id.as_str()).collect();
    assert_eq!(first.len(), 3, "every retry carries the same key");
    let mut accepted: Vec<&str> =
        requests.iter().filter(|r| r["answer"] == "accepted").filter_map(|r| r["idempotency_key"].as_str()).collect();
    let all = accepted.len();
    accepted.dedup();
    assert_eq!((all, accepted.len()), (2, 2), "each SMS accepted once");
    for r in &requests {
        assert_eq!((r["method"].as_str(), r["authorization"].as_str()), (Some("POST"), Some("Bearer sesame")));
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap_or_default())?;
        assert!(body["to"] == "+31612345678" || body["to"] == "+31612345679", "{body}");
        assert_eq!(body["reference"], r["idempotency_key"]);
        let text = body["text"].as_str().unwrap_or_default();
        assert!(text.chars().filter(char::is_ascii_digit).count() == 6, "the code: {text}");
    }
    assert!(bed.sms_files().is_empty(), "the gateway, not files");
    Ok(())
}

#[tokio::test]
async fn a_thousand_requests_for_a_new_code_send_at_most_three_sms_in_the_hour() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    bed.send(&jan, "one", "piet@example.org", "0612345678", Language::Nl).await?;
    let secret = bed
        .gw
        .due_messages(10)
        .await?
        .into_iter()
        .find(|m| m.template == "transfer-notice")
        .and_then(|m| m.params.get("link_secret").and_then(|v| v.as_str()).map(str::to_owned))
        .ok_or("no link")?;
    let notifier = bed.notifier(None, SmsSettings::default())?;
    let mut refused = 0;
    for n in 0..1000 {
        match bed.gw.request_new_code(&secret, Origin::cli()).await {
            Ok(_) => {}
            Err(Error::RateLimited) => refused += 1,
            Err(e) => return Err(e.into()),
        }
        if n % 100 == 0 {
            notifier.deliver_due().await?;
        }
    }
    notifier.deliver_due().await?;
    assert_eq!(refused, 998);
    let sms = bed.sms_files();
    assert_eq!(sms.len(), 3, "one with the send, two new codes: {sms:?}");
    assert!(sms.iter().all(|(_, c)| c.starts_with("To: +31612345678\n\nUw code voor Veilig Verzenden: ")));
    Ok(())
}
