//! Staff on the web: sessions that any node can serve and that end when
//! they should, and the overview of sent and received messages.

use std::time::Duration;

use gateway::home::{MessageQuery, PAGE_SIZE, Side};
use gateway::{Door, Error, Origin, Role, TransferState};

use crate::bed::{Bed, PASSWORD, TestResult, pdf};

fn web() -> Origin {
    Origin::new(Door::Web, Some("192.0.2.9".parse().expect("an address")))
}

#[tokio::test]
async fn a_staff_session_ends_on_sign_out_idle_time_its_age_and_a_disabled_account() -> TestResult {
    let bed = Bed::new().await?;
    bed.staff("jan@minvws.nl").await?;
    let wrong = bed.gw.sign_in_staff("jan@minvws.nl", "not the password", web()).await;
    assert!(matches!(wrong, Err(Error::BadCredentials)), "{wrong:?}");

    let signed = bed.gw.sign_in_staff("Jan@MinVWS.nl", PASSWORD, web()).await?;
    assert_eq!(signed.token.expose().len(), 43, "256 random bits");
    let session = bed.gw.staff_session(signed.token.expose(), web()).await?;
    assert_eq!(session.email(), "jan@minvws.nl");
    assert!(matches!(bed.gw.staff_session("not-a-token", web()).await, Err(Error::NotFound)));

    // Busy for 12 hours, a request every 20 minutes: then it ends all the same.
    for _ in 0..35 {
        bed.advance(Duration::from_secs(20 * 60));
        bed.gw.staff_session(signed.token.expose(), web()).await?;
    }
    bed.advance(Duration::from_secs(20 * 60));
    assert!(matches!(bed.gw.staff_session(signed.token.expose(), web()).await, Err(Error::NotFound)), "12 hours");

    // Idle for 30 minutes.
    let idle = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?;
    bed.advance(Duration::from_secs(29 * 60));
    bed.gw.staff_session(idle.token.expose(), web()).await?;
    bed.advance(Duration::from_secs(30 * 60));
    assert!(matches!(bed.gw.staff_session(idle.token.expose(), web()).await, Err(Error::NotFound)), "idle");

    // Signing out ends that session only.
    let one = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?;
    let other = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?;
    bed.gw.sign_out_staff(one.token.expose(), web()).await?;
    assert!(matches!(bed.gw.staff_session(one.token.expose(), web()).await, Err(Error::NotFound)));
    bed.gw.staff_session(other.token.expose(), web()).await?;
    bed.gw.sign_out_staff("unknown", web()).await?;

    // A disabled account's sessions end with it.
    bed.gw.disable_account(&gateway::Admin::console(), "jan@minvws.nl").await?;
    assert!(matches!(bed.gw.staff_session(other.token.expose(), web()).await, Err(Error::NotFound)));

    // A partner works over SFTP only.
    bed.account("partner@example.org", Role::Partner).await?;
    let partner = bed.gw.sign_in_staff("partner@example.org", PASSWORD, web()).await;
    assert!(matches!(partner, Err(Error::Forbidden(_))), "{partner:?}");
    assert_eq!(bed.rows("staff_sessions")?, 0, "every ended session is gone");
    Ok(())
}

#[tokio::test]
async fn the_overview_pages_searches_and_tells_what_was_downloaded() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let doc = pdf("x");
    let mut sent = Vec::new();
    for n in 0..(PAGE_SIZE + 2) {
        let id = bed.draft(&jan, &format!("m{n}"), "Kees <kees@minvws.nl>", None, &[("a.pdf", &doc)]).await?;
        let subject = if n == 3 { "Jaarverslag 100%" } else { "Dossier" };
        let env = gateway::Envelope { subject: subject.into(), ..bed.gw.envelope(&jan, &id).await? };
        bed.gw.set_envelope(&jan, &id, env).await?;
        bed.gw.send(&jan, &id).await?;
        sent.push(id);
        bed.advance(Duration::from_secs(60));
    }
    let draft = bed.draft(&jan, "later", "piet@example.org", Some("0612345678"), &[]).await?;

    let query = |side, search: &str, page| MessageQuery { side, search: search.into(), page };
    let first = bed.gw.messages(&jan, query(Side::Sent, "", 1)).await?;
    assert_eq!((first.total, first.pages, first.lines.len()), (u64::from(PAGE_SIZE) + 3, 2, PAGE_SIZE as usize));
    assert_eq!(first.lines[0].id, draft, "newest first: the draft made last");
    assert_eq!(first.lines[0].state, TransferState::Draft);
    assert_eq!(first.lines[1].id, sent[sent.len() - 1]);
    assert_eq!(first.lines[1].counterpart, "Kees <kees@minvws.nl>");
    let second = bed.gw.messages(&jan, query(Side::Sent, "", 2)).await?;
    assert_eq!(second.lines.len(), 3);
    assert_eq!(second.lines[2].id, sent[0], "the oldest last");
    let past = bed.gw.messages(&jan, query(Side::Sent, "", 99)).await?;
    assert_eq!(past.page, 2, "a page past the end is the last one");

    // Search: words anywhere in who, subject or reference; % is a character.
    let found = bed.gw.messages(&jan, query(Side::Sent, "jaarverslag 100%", 1)).await?;
    assert_eq!(found.lines.iter().map(|l| &l.id).collect::<Vec<_>>(), [&sent[3]]);
    assert_eq!(bed.gw.messages(&jan, query(Side::Sent, "100_", 1)).await?.total, 0);
    assert_eq!(bed.gw.messages(&jan, query(Side::Sent, "PIET", 1)).await?.total, 1, "case does not matter");

    // Received: only what was sent, from whom; downloaded once read.
    let inbox = bed.gw.messages(&kees, query(Side::Received, "jan@minvws", 1)).await?;
    assert_eq!(inbox.total, u64::from(PAGE_SIZE) + 2);
    assert!(inbox.lines.iter().all(|l| l.downloaded_at.is_none() && l.counterpart.ends_with("<jan@minvws.nl>")));
    bed.gw.read_document(&kees, &sent[3], "a.pdf", None).await?.read_all().await?;
    let read = bed.gw.messages(&jan, query(Side::Sent, "jaarverslag", 1)).await?;
    assert!(read.lines[0].downloaded_at.is_some(), "the sender sees it was downloaded");
    assert_eq!(bed.gw.messages(&jan, query(Side::Received, "", 1)).await?.total, 0, "jan received nothing");
    assert!(bed.gw.messages(&kees, query(Side::Sent, "", 1)).await?.lines.is_empty());
    Ok(())
}

#[tokio::test]
async fn staff_register_prove_their_address_within_a_day_and_reset_a_password_once() -> TestResult {
    use gateway::registration::Registration;
    let bed = Bed::new().await?;
    let new = |email: &str| Registration {
        email: email.into(),
        display_name: "Jan Jansen".into(),
        password: PASSWORD.into(),
        language: gateway::Language::Nl,
    };
    let outside = bed.gw.register(new("jan@example.org"), web()).await;
    assert!(matches!(outside, Err(Error::Forbidden(_))), "{outside:?}");
    let short = Registration { password: "kort".into(), ..new("jan@minvws.nl") };
    assert!(matches!(bed.gw.register(short, web()).await, Err(Error::Field(_))));

    // Someone else registers Jan's address first; Jan registers after:
    // only Jan's (the newest) link proves the address, with his password.
    let other = Registration { password: "someone else's password".into(), ..new("jan@minvws.nl") };
    bed.gw.register(other, web()).await?;
    let earlier = bed.param("account-verification", "verification_secret").await?;
    bed.gw.register(new("Jan@minvws.nl"), web()).await?;
    let secret = bed.param("account-verification", "verification_secret").await?;
    assert_ne!(earlier, secret);
    assert!(matches!(bed.gw.verify_account(&earlier, web()).await, Err(Error::NotFound)), "the earlier link is void");
    let before = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await;
    assert!(matches!(before, Err(Error::Forbidden(_))), "not before the address is proven: {before:?}");
    assert_eq!(bed.gw.verify_account(&secret, web()).await?, "jan@minvws.nl");
    assert!(matches!(bed.gw.verify_account(&secret, web()).await, Err(Error::NotFound)), "once");
    let first = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?;
    // Registering again with a proven address sends nothing and changes nothing.
    let mails = bed.queued("account-verification").await?.len();
    bed.gw.register(Registration { password: "another long password 1".into(), ..new("jan@minvws.nl") }, web()).await?;
    assert_eq!(bed.queued("account-verification").await?.len(), mails);
    bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?;

    // A verification link is good for a day.
    bed.gw.register(new("kees@minvws.nl"), web()).await?;
    let late = bed.param("account-verification", "verification_secret").await?;
    bed.advance(Duration::from_secs(24 * 3600));
    assert!(matches!(bed.gw.verify_account(&late, web()).await, Err(Error::Expired)));

    // Forgot password: the same answer for any address, a mail only to Jan.
    bed.gw.request_password_reset("nobody@minvws.nl", gateway::Language::En, web()).await?;
    bed.gw.request_password_reset("kees@minvws.nl", gateway::Language::En, web()).await?;
    assert!(bed.queued("password-reset").await?.is_empty(), "no mail to an unknown or unproven address");
    bed.gw.request_password_reset("jan@minvws.nl", gateway::Language::En, web()).await?;
    let reset = bed.param("password-reset", "reset_secret").await?;
    bed.gw.password_reset_open(&reset).await?;
    assert!(matches!(bed.gw.reset_password(&reset, "kort", web()).await, Err(Error::Field(_))));
    bed.gw.reset_password(&reset, "a new and long password", web()).await?;
    assert!(matches!(bed.gw.reset_password(&reset, "yet another long one", web()).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.staff_session(first.token.expose(), web()).await, Err(Error::NotFound)), "ended");
    let old = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await;
    assert!(matches!(old, Err(Error::BadCredentials)), "{old:?}");
    bed.gw.sign_in_staff("jan@minvws.nl", "a new and long password", web()).await?;
    bed.gw.request_password_reset("jan@minvws.nl", gateway::Language::En, web()).await?;
    let stale = bed.param("password-reset", "reset_secret").await?;
    bed.advance(Duration::from_secs(31 * 60));
    assert!(matches!(bed.gw.password_reset_open(&stale).await, Err(Error::Expired)));
    Ok(())
}

#[tokio::test]
async fn a_request_is_listed_for_its_maker_and_once_withdrawn_its_link_opens_nothing() -> TestResult {
    use gateway::address::Mailbox;
    use gateway::request::RequestState;
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let piet = Mailbox::parse("Piet Puk <piet@example.org>")?;
    let made = bed.gw.create_upload_request(&jan, &piet, "Graag uw stukken", gateway::Language::Nl).await?;
    let secret = bed.param("upload-request", "request_secret").await?;
    bed.advance(Duration::from_secs(60));
    bed.gw.create_upload_request(&jan, &Mailbox::parse("lisa@example.org")?, "", gateway::Language::En).await?;
    let listed = bed.gw.requests(&jan).await?;
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[0].to.as_str(), listed[1].to.as_str()), ("lisa@example.org", "Piet Puk <piet@example.org>"));
    assert!(listed.iter().all(|r| r.state == RequestState::Open));
    assert!(bed.gw.requests(&kees).await?.is_empty(), "Kees made none");
    assert!(matches!(bed.gw.withdraw_request(&kees, &made.id).await, Err(Error::NotFound)), "not Kees's to withdraw");

    bed.gw.open_outsider_link(&secret, web()).await?;
    bed.gw.withdraw_request(&jan, &made.id).await?;
    assert_eq!(bed.gw.requests(&jan).await?[1].state, RequestState::Withdrawn);
    assert!(matches!(bed.gw.open_outsider_link(&secret, web()).await, Err(Error::Expired)));
    let sftp = bed.gw.authenticate_request(&made.user_name, &secret, web()).await;
    assert!(matches!(sftp, Err(Error::Expired)), "{sftp:?}");
    assert!(matches!(bed.gw.withdraw_request(&jan, &made.id).await, Err(Error::Conflict(_))), "once");
    bed.advance(Duration::from_secs(15 * 24 * 3600));
    assert_eq!(bed.gw.requests(&jan).await?[0].state, RequestState::Expired);
    Ok(())
}

#[tokio::test]
async fn a_staff_member_keeps_their_own_name_password_and_keys() -> TestResult {
    let bed = Bed::new().await?;
    bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let here = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?;
    let elsewhere = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?;
    let jan = here.session.clone();

    bed.gw.set_display_name(&jan, "  Jan de Wit ").await?;
    let again = bed.gw.staff_session(here.token.expose(), web()).await?;
    assert_eq!(again.display_name(), "Jan de Wit");
    assert!(matches!(bed.gw.set_display_name(&jan, " ").await, Err(Error::Field(_))));

    let wrong = bed.gw.change_password(&jan, "not it", "a brand new password", here.token.expose()).await;
    assert!(matches!(wrong, Err(Error::BadCredentials)), "{wrong:?}");
    bed.gw.change_password(&jan, PASSWORD, "a brand new password", here.token.expose()).await?;
    bed.gw.staff_session(here.token.expose(), web()).await?;
    assert!(matches!(bed.gw.staff_session(elsewhere.token.expose(), web()).await, Err(Error::NotFound)), "ended");
    bed.gw.sign_in_staff("jan@minvws.nl", "a brand new password", web()).await?;

    let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl jan@laptop";
    let fingerprint = bed.gw.add_own_ssh_key(&jan, line, "").await?;
    assert!(fingerprint.starts_with("SHA256:"));
    assert!(matches!(bed.gw.add_own_ssh_key(&kees, line, "mine").await, Err(Error::Conflict(_))), "one owner per key");
    let keys = bed.gw.own_ssh_keys(&jan).await?;
    assert_eq!(
        (keys.len(), keys[0].label.as_str(), keys[0].fingerprint.as_str()),
        (1, "jan@laptop", fingerprint.as_str())
    );
    assert!(bed.gw.own_ssh_keys(&kees).await?.is_empty());
    assert!(matches!(bed.gw.remove_own_ssh_key(&kees, &keys[0].id).await, Err(Error::NotFound)), "not Kees's");
    assert!(matches!(bed.gw.add_own_ssh_key(&jan, "not a key", "x").await, Err(Error::Invalid(_))));
    bed.gw.remove_own_ssh_key(&jan, &keys[0].id).await?;
    assert!(bed.gw.own_ssh_keys(&jan).await?.is_empty());
    Ok(())
}
