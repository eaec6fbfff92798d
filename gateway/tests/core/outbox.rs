//! The outbox's books: one deliverer at a time under the lease; failed
//! attempts back off from 30 s doubling to an hour; a message given up tells
//! its sender and shows in the report; caps on SMS and unsolicited mail refuse
//! clearly and queue nothing.

use std::sync::Arc;
use std::time::Duration;

use gateway::address::Mailbox;
use gateway::outbox::{Failure, MAX_RETRY, Retry, backoff};
use gateway::{Clock, Error, Language, Rules};

use crate::bed::{Bed, TestResult, pdf, test_rules};

async fn send_to(bed: &Bed, jan: &gateway::Session, name: &str, to: &str, phone: &str) -> gateway::Result<()> {
    let id = bed
        .draft(jan, name, to, Some(phone), &[("a.pdf", &pdf(name))])
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    bed.gw.send(jan, &id).await.map(|_| ())
}

#[tokio::test]
async fn failures_back_off_doubling_to_an_hour_then_give_up_and_tell_the_sender() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    send_to(&bed, &jan, "dossier", "Piet <piet@example.org>", "0612345678").await?;
    let notice = bed.queued("transfer-notice").await?.remove(0);
    let mut waits = Vec::new();
    let gave_up = loop {
        let before = bed.gw.delivery_status(&notice.id).await?;
        match bed.gw.record_failure(&notice.id, Failure::Transient("connection refused".into())).await? {
            Retry::At(at) => {
                let status = bed.gw.delivery_status(&notice.id).await?;
                assert_eq!(status.attempts, before.attempts + 1);
                assert_eq!(status.last_error.as_deref(), Some("connection refused"));
                let wait = at.as_millis() - bed.clock.now().as_millis();
                waits.push(wait / 1000);
                assert!(bed.gw.due_messages(100).await?.iter().all(|m| m.id != notice.id), "not due before its time");
                bed.advance(Duration::from_millis(u64::try_from(wait)?));
                assert!(bed.gw.due_messages(100).await?.iter().any(|m| m.id == notice.id), "due at its time");
            }
            Retry::GaveUp => break bed.gw.delivery_status(&notice.id).await?,
        }
    };
    assert_eq!(&waits[..8], &[30, 60, 120, 240, 480, 960, 1920, 3600]);
    assert!(waits.iter().all(|w| *w <= MAX_RETRY.as_secs() as i64));
    assert_eq!(gave_up.state, "failed");
    assert!(waits.len() < 40, "given up within a day: {} tries", waits.len() + 1);
    let told = bed.queued("delivery-failed").await?;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].recipient, "jan@minvws.nl");
    assert_eq!(told[0].params.get("recipient").and_then(|v| v.as_str()), Some("piet@example.org"));
    assert_eq!(told[0].params.get("reason").and_then(|v| v.as_str()), Some("connection refused"));
    let report = bed.gw.report(&jan, notice.transfer_id.as_ref().ok_or("no transfer")?).await?;
    let failed = report.events.iter().find(|e| e.kind == "delivery-failed").ok_or("no event in the report")?;
    assert!(failed.detail.as_deref().unwrap_or_default().contains("transfer-notice by mail to piet@example.org"));
    Ok(())
}

#[tokio::test]
async fn a_permanent_failure_gives_up_at_once_and_a_failed_warning_tells_no_one() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    send_to(&bed, &jan, "dossier", "piet@example.org", "0612345678").await?;
    let sms = bed.queued("sms-code").await?.remove(0);
    assert_eq!(bed.gw.record_failure(&sms.id, Failure::Permanent("number unknown".into())).await?, Retry::GaveUp);
    let told = bed.queued("delivery-failed").await?;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].params.get("recipient").and_then(|v| v.as_str()), Some("+31 ••••••••78"), "masked");
    assert_eq!(bed.gw.record_failure(&told[0].id, Failure::Permanent("no".into())).await?, Retry::GaveUp);
    assert_eq!(bed.queued("delivery-failed").await?.len(), 0, "no mail about a failed failure mail");
    assert!(matches!(bed.gw.record_failure(&sms.id, Failure::Transient("x".into())).await, Err(Error::Conflict(_))));
    Ok(())
}

#[tokio::test]
async fn delivered_messages_are_wiped_and_the_report_shows_them() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    send_to(&bed, &jan, "dossier", "piet@example.org", "0612345678").await?;
    let due = bed.gw.claim_due_messages(100).await?.ok_or("the lease is free")?;
    assert_eq!(due.len(), 3, "notice, SMS, confirmation");
    for m in &due {
        bed.gw.mark_delivered(&m.id).await?;
        bed.gw.mark_delivered(&m.id).await?;
        assert_eq!(bed.gw.delivery_status(&m.id).await?.state, "sent");
    }
    assert!(bed.gw.due_messages(100).await?.is_empty());
    let counts = bed.gw.outbox_counts().await?;
    assert_eq!((counts.pending, counts.sent, counts.failed), (0, 3, 0));
    let report = bed.gw.report(&jan, due[0].transfer_id.as_ref().ok_or("no transfer")?).await?;
    let sent: Vec<_> = report.events.iter().filter(|e| e.kind == "message-sent").collect();
    assert_eq!(sent.len(), 3, "one event per delivered message, never twice");
    assert!(sent.iter().any(|e| e.detail.as_deref() == Some("sms-code by sms to +31 ••••••••78")));
    Ok(())
}

#[tokio::test]
async fn one_node_delivers_at_a_time() -> TestResult {
    let bed = Bed::new().await?;
    let other = bed.restart().await?;
    assert!(bed.gw.claim_due_messages(10).await?.is_some());
    assert!(other.claim_due_messages(10).await?.is_none(), "the lease is held");
    assert!(bed.gw.hold_outbox_lease().await?, "the holder renews");
    bed.gw.release_outbox_lease().await?;
    assert!(other.claim_due_messages(10).await?.is_some(), "released: the other node delivers at once");
    assert!(bed.gw.claim_due_messages(10).await?.is_none());
    bed.advance(gateway::outbox::OUTBOX_LEASE + Duration::from_secs(1));
    assert!(bed.gw.claim_due_messages(10).await?.is_some(), "a lapsed lease is taken over");
    Ok(())
}

#[tokio::test]
async fn the_daily_sms_cap_of_a_sender_refuses_the_send_clearly() -> TestResult {
    let bed = Bed::with_rules(Rules { sms_per_sender_per_day: 2, ..test_rules() }).await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    send_to(&bed, &jan, "one", "a@example.org", "0612345671").await?;
    send_to(&bed, &jan, "two", "b@example.org", "0612345672").await?;
    let queued = bed.gw.due_messages(1000).await?.len();
    let third = send_to(&bed, &jan, "three", "c@example.org", "0612345673").await;
    assert!(matches!(third, Err(Error::RateLimited)), "{third:?}");
    assert_eq!(bed.gw.due_messages(1000).await?.len(), queued, "nothing queued, nothing half-sent");
    let kees = bed.staff("kees@minvws.nl").await?;
    send_to(&bed, &kees, "other", "d@example.org", "0612345674").await?;
    let drafts = bed.gw.list(&jan, gateway::Folder::Outbox).await?;
    assert!(drafts.iter().any(|t| t.name == "three"), "the refused draft is still a draft");
    bed.advance(Duration::from_secs(24 * 3600));
    send_to(&bed, &jan, "four", "e@example.org", "0612345675").await?;
    Ok(())
}

/// Many requests to one address at once, as from several nodes: the cap
/// holds exactly.
#[tokio::test]
async fn concurrent_request_mails_stop_at_the_cap() -> TestResult {
    let bed = Bed::with_rules(Rules { mails_per_address_per_day: 5, ..test_rules() }).await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let piet = Mailbox::parse("Piet <piet@example.org>")?;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (gw, jan, piet) = (bed.gw.clone(), jan.clone(), piet.clone());
        set.spawn(async move { gw.create_upload_request(&jan, &piet, "please", Language::Nl).await.map(|_| ()) });
    }
    let (mut made, mut capped) = (0, 0);
    while let Some(outcome) = set.join_next().await {
        match outcome? {
            Ok(()) => made += 1,
            Err(Error::RateLimited) => capped += 1,
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
    assert_eq!((made, capped), (5, 59));
    assert_eq!(bed.queued("upload-request").await?.len(), 5);
    Ok(())
}

#[tokio::test]
async fn request_mails_are_capped_per_address_and_per_sender() -> TestResult {
    let bed =
        Bed::with_rules(Rules { mails_per_address_per_day: 2, mails_per_sender_per_day: 3, ..test_rules() }).await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let piet = Mailbox::parse("Piet <piet@example.org>")?;
    bed.gw.create_upload_request(&jan, &piet, "please", Language::Nl).await?;
    bed.gw.create_upload_request(&jan, &piet, "please", Language::Nl).await?;
    let third = bed.gw.create_upload_request(&jan, &piet, "please", Language::Nl).await;
    assert!(matches!(third, Err(Error::RateLimited)), "{third:?}");
    let kees = bed.staff("kees@minvws.nl").await?;
    let by_another = bed.gw.create_upload_request(&kees, &piet, "please", Language::Nl).await;
    assert!(matches!(by_another, Err(Error::RateLimited)), "the address is capped, whoever asks");
    bed.gw.create_upload_request(&jan, &Mailbox::parse("ann@example.org")?, "please", Language::Nl).await?;
    let fourth = bed.gw.create_upload_request(&jan, &Mailbox::parse("bob@example.org")?, "x", Language::Nl).await;
    assert!(matches!(fourth, Err(Error::RateLimited)), "the sender is capped: {fourth:?}");
    assert_eq!(bed.queued("upload-request").await?.len(), 3, "each refusal queued nothing");
    bed.advance(Duration::from_secs(24 * 3600 + 1));
    bed.gw.create_upload_request(&jan, &piet, "please", Language::Nl).await?;
    Ok(())
}

#[test]
fn the_backoff_schedule() {
    let secs: Vec<u64> = (1..=10).map(|n| backoff(n).as_secs()).collect();
    assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    assert_eq!(backoff(1000), MAX_RETRY);
}

/// The world's time, as read on a node whose clock is `ahead` fast.
struct FastClock(Duration);

impl gateway::Clock for FastClock {
    fn now(&self) -> gateway::Timestamp {
        gateway::SystemClock.now().plus(self.0)
    }
}

/// The world's time, as read on a node whose clock is this much slow.
struct SlowClock(Duration);

impl gateway::Clock for SlowClock {
    fn now(&self) -> gateway::Timestamp {
        gateway::SystemClock.now().minus(self.0)
    }
}

/// A draft with a document made on `node`: its window starts by that node's clock.
async fn begun_on(
    node: &gateway::Gateway,
    jan: &gateway::Session,
    name: &str,
) -> Result<gateway::TransferId, Box<dyn std::error::Error>> {
    let draft = node.create_draft(jan, name).await?;
    let mut upload = node.begin_upload(jan, &draft.id, "a.pdf", gateway::upload::UploadMode::New).await?;
    upload.write(&pdf(name)).await?;
    upload.finish().await?;
    Ok(draft.id)
}

/// The jobs go by the database's clock, as the leases do: a node whose
/// clock runs six days fast aborts no draft before its hour and expires no
/// message before its five days, and it does abort the draft begun on a
/// node whose clock runs two hours slow, whose hour has passed.
#[tokio::test]
async fn the_jobs_time_windows_and_retention_by_the_database_s_clock() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let steady = bed.node_with(Arc::new(gateway::SystemClock)).await?;
    let slow = bed.node_with(Arc::new(SlowClock(Duration::from_secs(2 * 3600)))).await?;
    let fast = bed.node_with(Arc::new(FastClock(Duration::from_secs(6 * 86_400)))).await?;
    let open = begun_on(&steady, &jan, "open").await?;
    let sent = begun_on(&steady, &jan, "sent").await?;
    let envelope = gateway::Envelope {
        to: Some(Mailbox::parse("Piet <piet@example.org>")?),
        phone: Some(gateway::address::PhoneNumber::parse("0612345678")?),
        subject: "Dossier".into(),
        reference: String::new(),
        language: Language::En,
        text: String::new(),
    };
    steady.set_envelope(&jan, &sent, envelope).await?;
    steady.send(&jan, &sent).await?;
    let overdue = begun_on(&slow, &jan, "overdue").await?;

    let report = fast.run_lifecycle().await?.ok_or("the lease was free")?;
    assert_eq!((report.aborted, report.expired), (1, 0), "{report:?}");
    let outbox: Vec<String> =
        steady.list(&jan, gateway::Folder::Outbox).await?.into_iter().map(|t| t.id.to_string()).collect();
    assert!(outbox.contains(&open.to_string()) && !outbox.contains(&overdue.to_string()), "{outbox:?}");
    let sent_box = steady.list(&jan, gateway::Folder::Sent).await?;
    assert!(sent_box.iter().any(|t| t.id == sent), "the message is not expired");
    Ok(())
}

/// Leases are timed by the database's clock: a node whose own clock runs
/// ten minutes fast sees the lease another node took a moment ago as the
/// live lease it is, and takes it once that node lets go.
#[tokio::test]
async fn a_node_with_a_fast_clock_does_not_take_a_live_lease() -> TestResult {
    let bed = Bed::new().await?;
    let steady = bed.node_with(Arc::new(gateway::SystemClock)).await?;
    let fast = bed.node_with(Arc::new(FastClock(Duration::from_secs(600)))).await?;
    assert!(steady.hold_outbox_lease().await?, "the lease is free");
    assert!(!fast.hold_outbox_lease().await?, "still held by the database's clock");
    assert!(fast.run_lifecycle().await?.is_some(), "another lease is free to it");
    steady.release_outbox_lease().await?;
    assert!(fast.hold_outbox_lease().await?, "let go: taken at once");
    assert!(!steady.hold_outbox_lease().await?, "and now held by the fast node");
    assert!(FastClock(Duration::ZERO).is_world_time());
    Ok(())
}
