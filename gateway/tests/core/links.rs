//! The recipient's link: opening it changes nothing; the SMS code redeems it;
//! wrong codes void the code and then lock the link and tell the sender; the
//! documents open only with the link.

use std::time::Duration;

use gateway::link::LinkStatus;
use gateway::{Error, Origin, TransferId};

use crate::bed::{Bed, TestResult, pdf};

async fn sent_to_piet(bed: &Bed) -> Result<(gateway::Session, TransferId, String), Box<dyn std::error::Error>> {
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed
        .draft(&jan, "for-piet", "Piet <piet@example.org>", Some("+31 6 12345678"), &[("a.pdf", &pdf("for piet"))])
        .await?;
    bed.gw.send(&jan, &id).await?;
    Ok((jan, id, bed.param("transfer-notice", "link_secret").await?))
}

#[tokio::test]
async fn the_notice_has_the_link_and_masked_number_but_never_the_text() -> TestResult {
    let bed = Bed::new().await?;
    let (_, _, secret) = sent_to_piet(&bed).await?;
    assert!(secret.len() >= 43, "256-bit secrets");
    let notice = bed.queued("transfer-notice").await?;
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].recipient, "piet@example.org");
    assert_eq!(notice[0].params.get("masked_phone").and_then(|v| v.as_str()), Some("+31 ••••••••78"));
    let all = serde_json::to_string(&notice[0].params)?;
    assert!(!all.contains("accompanying"), "the accompanying text is never in the mail: {all}");
    let sms = bed.queued("sms-code").await?;
    assert_eq!((sms.len(), sms[0].recipient.as_str()), (1, "+31612345678"));
    Ok(())
}

#[tokio::test]
async fn opening_a_link_writes_nothing_and_sends_nothing() -> TestResult {
    let bed = Bed::new().await?;
    let (jan, id, secret) = sent_to_piet(&bed).await?;
    let queued = bed.gw.due_messages(1000).await?.len();
    let events = bed.gw.report(&jan, &id).await?.events.len();
    for _ in 0..1000 {
        let status = bed.gw.link_status(&secret).await?;
        assert!(matches!(status, LinkStatus::NeedsCode { .. }), "{status:?}");
    }
    assert_eq!(bed.gw.due_messages(1000).await?.len(), queued);
    assert_eq!(bed.gw.report(&jan, &id).await?.events.len(), events);
    assert_eq!(bed.gw.link_status("no-such-link").await?, LinkStatus::Gone);
    Ok(())
}

#[tokio::test]
async fn the_code_redeems_and_the_download_is_recorded() -> TestResult {
    let bed = Bed::new().await?;
    let (jan, id, secret) = sent_to_piet(&bed).await?;
    let code = bed.param("sms-code", "code").await?;
    assert_eq!(code.len(), 6);
    let ip = Some("198.51.100.7".parse()?);
    let grant = bed.gw.redeem_with_code(&secret, &code, Origin::new(gateway::Door::Web, ip)).await?;
    let view = bed.gw.recipient_view(&grant).await?;
    let (env, docs) = (view.envelope, view.documents);
    assert_eq!(env.text, "the accompanying text");
    assert!(view.sender.ends_with("<jan@minvws.nl>") && view.expires_at.is_some(), "{}", view.sender);
    assert_eq!(docs.len(), 1);
    let bytes =
        bed.gw.read_as_recipient(&grant, "a.pdf", None, Origin::new(gateway::Door::Web, ip)).await?.read_all().await?;
    assert_eq!(bytes, pdf("for piet"));
    let report = bed.gw.report(&jan, &id).await?;
    assert_eq!(report.downloads.len(), 1);
    let d = &report.downloads[0];
    assert_eq!((d.who.as_str(), d.proof.as_str(), d.door.as_str()), ("piet@example.org", "sms-code", "web"));
    assert_eq!(d.ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(bed.queued("download-receipt").await?.len(), 1);
    let reuse = bed.gw.redeem_with_code(&secret, &code, Origin::cli()).await;
    assert!(matches!(reuse, Err(Error::BadCredentials)), "a code is used once: {reuse:?}");
    Ok(())
}

#[tokio::test]
async fn documents_for_an_external_recipient_open_only_with_the_link() -> TestResult {
    let bed = Bed::new().await?;
    let (jan, id, _) = sent_to_piet(&bed).await?;
    let refused = bed.gw.read_document(&jan, &id, "a.pdf", None).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "not even the sender: {refused:?}");
    let wrong = bed.gw.redeem_with_code("a-wrong-secret-of-the-right-length-000000000", "000000", Origin::cli()).await;
    assert!(matches!(wrong, Err(Error::NotFound)), "{wrong:?}");
    Ok(())
}

#[tokio::test]
async fn wrong_codes_void_the_code_then_lock_the_link_and_alert_the_sender() -> TestResult {
    let bed = Bed::new().await?;
    let (_, _, secret) = sent_to_piet(&bed).await?;
    let real = bed.param("sms-code", "code").await?;
    let wrong = if real == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert!(matches!(bed.gw.redeem_with_code(&secret, wrong, Origin::cli()).await, Err(Error::BadCredentials)));
    }
    let void = bed.gw.redeem_with_code(&secret, &real, Origin::cli()).await;
    assert!(matches!(void, Err(Error::BadCredentials)), "five wrong tries void the code: {void:?}");
    let mut evaluated = 6;
    let mut outcome = Ok(());
    for _ in 0..10_000 {
        match bed.gw.redeem_with_code(&secret, wrong, Origin::cli()).await {
            Err(Error::BadCredentials) => evaluated += 1,
            Err(Error::Locked) => {
                evaluated += 1;
                break;
            }
            other => {
                outcome = Err(format!("unexpected {other:?}"));
                break;
            }
        }
    }
    outcome?;
    assert_eq!(evaluated, 15, "the fifteenth wrong try locks");
    assert!(matches!(bed.gw.redeem_with_code(&secret, &real, Origin::cli()).await, Err(Error::Locked)));
    assert!(matches!(bed.gw.link_status(&secret).await?, LinkStatus::Locked { .. }));
    let alert = bed.queued("lockout-alert").await?;
    assert_eq!((alert.len(), alert[0].recipient.as_str()), (1, "jan@minvws.nl"));
    Ok(())
}

/// Guesses at one link sixteen at a time, as a script would send them to
/// several nodes: each is counted in turn, so exactly the limit are
/// evaluated, and the link locks once, with one alert.
#[tokio::test]
async fn concurrent_guesses_are_counted_one_by_one_and_lock_once() -> TestResult {
    let bed = Bed::new().await?;
    let (jan, id, secret) = sent_to_piet(&bed).await?;
    let real = bed.param("sms-code", "code").await?;
    let wrong = if real == "000000" { "111111" } else { "000000" };
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (gw, secret) = (bed.gw.clone(), secret.clone());
        guesses.spawn(async move { gw.redeem_with_code(&secret, wrong, Origin::cli()).await.map(|_| ()) });
    }
    let mut locked = 0;
    while let Some(outcome) = guesses.join_next().await {
        match outcome? {
            Err(Error::BadCredentials) => {}
            Err(Error::Locked) => locked += 1,
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
    let events = bed.gw.report(&jan, &id).await?.events;
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
    assert_eq!(count("code-failed"), 15, "exactly the limit is evaluated");
    assert_eq!(count("link-locked"), 1, "the link locks once");
    assert_eq!(locked, 64 - 14, "the fifteenth locks, and every guess after it finds it locked");
    assert_eq!(bed.queued("lockout-alert").await?.len(), 1, "one alert");
    Ok(())
}

#[tokio::test]
async fn codes_expire_and_new_ones_are_limited_per_hour() -> TestResult {
    let bed = Bed::new().await?;
    let (_, _, secret) = sent_to_piet(&bed).await?;
    let first = bed.param("sms-code", "code").await?;
    bed.advance(Duration::from_secs(600));
    assert!(bed.gw.redeem_with_code(&secret, &first, Origin::cli()).await.is_err(), "ten minutes is the limit");
    // A second apart, so the queue's order tells which code is the newest.
    bed.gw.request_new_code(&secret, Origin::cli()).await?;
    bed.advance(Duration::from_secs(1));
    bed.gw.request_new_code(&secret, Origin::cli()).await?;
    bed.advance(Duration::from_secs(1));
    let mut refused = 0;
    for _ in 0..1000 {
        if matches!(bed.gw.request_new_code(&secret, Origin::cli()).await, Err(Error::RateLimited)) {
            refused += 1;
        }
    }
    assert_eq!(refused, 1000);
    assert_eq!(bed.queued("sms-code").await?.len(), 3, "at most 3 SMS per link per hour");
    let newest = bed.param("sms-code", "code").await?;
    assert!(bed.gw.redeem_with_code(&secret, &newest, Origin::cli()).await.is_ok());
    bed.advance(Duration::from_secs(3600));
    assert!(bed.gw.request_new_code(&secret, Origin::cli()).await.is_ok(), "a new hour, a new code");
    Ok(())
}

#[tokio::test]
async fn a_web_session_is_bound_to_its_link_and_ends_after_thirty_idle_minutes() -> TestResult {
    let bed = Bed::new().await?;
    let (_, _, secret) = sent_to_piet(&bed).await?;
    let code = bed.param("sms-code", "code").await?;
    let grant = bed.gw.redeem_with_code(&secret, &code, Origin::cli()).await?;
    let token = bed.gw.open_web_session(&secret, &grant).await?;
    assert!(!format!("{token:?}").contains(token.expose()), "the token never prints");
    let resumed = bed.gw.resume_web_session(&secret, token.expose()).await?;
    assert_eq!(resumed.transfer_id(), grant.transfer_id());
    let docs = bed.gw.recipient_view(&resumed).await?.documents;
    let read = bed.gw.read_as_recipient(&resumed, &docs[0].name, None, Origin::cli()).await?.read_all().await?;
    assert_eq!(read, pdf("for piet"), "the rebuilt grant opens the documents");
    let other = "b".repeat(43);
    assert!(matches!(bed.gw.resume_web_session(&other, token.expose()).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.resume_web_session(&secret, "not-a-token").await, Err(Error::NotFound)));
    bed.advance(Duration::from_secs(29 * 60));
    bed.gw.resume_web_session(&secret, token.expose()).await?;
    bed.advance(Duration::from_secs(30 * 60));
    assert!(matches!(bed.gw.resume_web_session(&secret, token.expose()).await, Err(Error::NotFound)), "idle");
    Ok(())
}
