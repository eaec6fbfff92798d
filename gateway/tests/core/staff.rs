//! Staff on the web: sessions that any node can serve and that end when
//! they should, and the overview of sent and received messages.

use std::time::Duration;

use gateway::home::{MessageQuery, PAGE_SIZE, Side};
use gateway::second_factor::SignInStep;
use gateway::staff_session::StaffSignIn;
use gateway::{Door, Error, Origin, Role, TransferState};

use crate::bed::{Bed, PASSWORD, TestResult, pdf};

/// The session of a sign-in that needed no second step.
fn done(step: SignInStep) -> Result<StaffSignIn, String> {
    match step {
        SignInStep::Done(signed) => Ok(signed),
        SignInStep::CodeNeeded(_) => Err("a code was asked for".into()),
    }
}

fn web() -> Origin {
    Origin::new(Door::Web, Some("192.0.2.9".parse().expect("an address")))
}

#[tokio::test]
async fn a_staff_session_ends_on_sign_out_idle_time_its_age_and_a_disabled_account() -> TestResult {
    let bed = Bed::new().await?;
    bed.staff("jan@minvws.nl").await?;
    let wrong = bed.gw.sign_in_staff("jan@minvws.nl", "not the password", web()).await;
    assert!(matches!(wrong, Err(Error::BadCredentials)), "{wrong:?}");

    let signed = done(bed.gw.sign_in_staff("Jan@MinVWS.nl", PASSWORD, web()).await?)?;
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
    let idle = done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;
    bed.advance(Duration::from_secs(29 * 60));
    bed.gw.staff_session(idle.token.expose(), web()).await?;
    bed.advance(Duration::from_secs(30 * 60));
    assert!(matches!(bed.gw.staff_session(idle.token.expose(), web()).await, Err(Error::NotFound)), "idle");

    // Signing out ends that session only.
    let one = done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;
    let other = done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;
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
    let first = done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;
    // Registering again with a proven address sends nothing and changes nothing.
    let mails = bed.queued("account-verification").await?.len();
    bed.gw.register(Registration { password: "another long password 1".into(), ..new("jan@minvws.nl") }, web()).await?;
    assert_eq!(bed.queued("account-verification").await?.len(), mails);
    done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;

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
    done(bed.gw.sign_in_staff("jan@minvws.nl", "a new and long password", web()).await?)?;
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
    let here = done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;
    let elsewhere = done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;
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
    done(bed.gw.sign_in_staff("jan@minvws.nl", "a brand new password", web()).await?)?;

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

/// The code an authenticator app shows now for a secret as the setup gives it.
fn app_code(bed: &Bed, secret: &str, offset_steps: i64) -> Result<String, Box<dyn std::error::Error>> {
    let typed: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes: [u8; 20] = data_encoding::BASE32_NOPAD.decode(typed.as_bytes())?.try_into().map_err(|_| "160 bits")?;
    let app = totp_rs::Builder::new().with_secret(totp_rs::Secret::new_stack(bytes)).build()?;
    let seconds = u64::try_from(bed.gw.now().as_millis() / 1000 + offset_steps * 30)?;
    Ok(app.generate(seconds).to_string())
}

#[tokio::test]
async fn the_second_step_asks_a_code_once_per_step_takes_each_recovery_code_once_and_closes_the_password_doors()
-> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let setup = bed.gw.begin_totp(&jan, "Inspectie").await?;
    assert!(setup.uri.starts_with("otpauth://totp/Inspectie:jan%40minvws%2Enl?secret="), "{}", setup.uri);
    assert!(setup.uri.ends_with("&issuer=Inspectie&algorithm=SHA1&digits=6&period=30"));
    assert_eq!(bed.gw.totp_being_set_up(&jan, "Inspectie").await?, Some(setup.clone()), "shown again");
    assert!(!bed.gw.second_factor(&jan).await?.on, "not before a code confirms it");
    done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;

    let wrong = bed.gw.confirm_totp(&jan, "000000").await;
    assert!(matches!(wrong, Err(Error::BadCredentials)), "{wrong:?}");
    let codes = bed.gw.confirm_totp(&jan, &app_code(&bed, &setup.secret, 0)?).await?;
    assert_eq!(codes.0.len(), 10);
    assert!(codes.0.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{codes:?}");
    let state = bed.gw.second_factor(&jan).await?;
    assert_eq!((state.on, state.recovery_left, state.required), (true, 10, false));
    assert!(matches!(bed.gw.begin_totp(&jan, "x").await, Err(Error::Conflict(_))), "on already");
    assert!(format!("{:?}", codes).contains("10 codes") && !format!("{codes:?}").contains(&codes.0[0]));

    // The password alone signs in nowhere now.
    let SignInStep::CodeNeeded(pending) = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await? else {
        return Err("the code was not asked for".into());
    };
    assert!(matches!(bed.gw.staff_session(pending.expose(), web()).await, Err(Error::NotFound)), "half signed in");
    for door in [Door::Webdav, Door::Sftp] {
        let password = bed.gw.authenticate_password("jan@minvws.nl", PASSWORD, Origin::new(door, None)).await;
        assert!(matches!(password, Err(Error::Forbidden(_))), "{door:?}: {password:?}");
    }
    let app = bed.gw.create_app_password(&jan, "laptop").await?;
    bed.gw.authenticate_app_password("jan@minvws.nl", &app.secret, Origin::new(Door::Webdav, None)).await?;

    // The code the sign-in confirmed with is spent; a wrong code counts as a failure.
    let spent = bed.gw.finish_sign_in(pending.expose(), &app_code(&bed, &setup.secret, 0)?, web()).await;
    assert!(matches!(spent, Err(Error::BadCredentials)), "{spent:?}");
    let failures = bed.rows("auth_failures")?;
    assert!(failures >= 1, "counted with the password failures of every door");
    bed.advance(Duration::from_secs(30));
    let next = app_code(&bed, &setup.secret, 0)?;
    let signed = bed.gw.finish_sign_in(pending.expose(), &next, web()).await?;
    bed.gw.staff_session(signed.token.expose(), web()).await?;
    assert_ne!(signed.token.expose(), pending.expose(), "a new token once both steps are passed");
    let SignInStep::CodeNeeded(again) = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await? else {
        return Err("the code was not asked for".into());
    };
    let replay = bed.gw.finish_sign_in(again.expose(), &next, web()).await;
    assert!(matches!(replay, Err(Error::BadCredentials)), "a code works once: {replay:?}");

    // A recovery code, typed loosely, works once.
    let loose = codes.0[3].to_uppercase().replace('-', " ");
    bed.gw.finish_sign_in(again.expose(), &loose, web()).await?;
    let SignInStep::CodeNeeded(third) = bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await? else {
        return Err("the code was not asked for".into());
    };
    assert!(matches!(bed.gw.finish_sign_in(third.expose(), &codes.0[3], web()).await, Err(Error::BadCredentials)));
    assert_eq!(bed.gw.second_factor(&jan).await?.recovery_left, 9);
    // The code step is for five minutes.
    bed.advance(Duration::from_secs(5 * 60 + 1));
    let late = bed.gw.finish_sign_in(third.expose(), &app_code(&bed, &setup.secret, 0)?, web()).await;
    assert!(matches!(late, Err(Error::NotFound)), "{late:?}");

    // New recovery codes replace the old; switching off takes the password.
    let renewed = bed.gw.renew_recovery_codes(&jan, PASSWORD).await?;
    assert!(renewed.0.iter().all(|c| !codes.0.contains(c)));
    assert_eq!(bed.gw.second_factor(&jan).await?.recovery_left, 10);
    assert!(matches!(bed.gw.disable_totp(&jan, "not it").await, Err(Error::BadCredentials)));
    bed.gw.disable_totp(&jan, PASSWORD).await?;
    assert_eq!(bed.rows("recovery_codes")?, 0);
    done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;
    bed.gw.authenticate_password("jan@minvws.nl", PASSWORD, Origin::new(Door::Webdav, None)).await?;
    Ok(())
}

#[tokio::test]
async fn when_the_admin_requires_the_second_step_a_staff_member_without_it_opens_only_its_setup() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    bed.gw.require_second_factor(&gateway::Admin::console(), true).await?;
    assert!(bed.gw.second_factor_required().await?);
    let signed = done(bed.gw.sign_in_staff("jan@minvws.nl", PASSWORD, web()).await?)?;
    let due = bed.gw.staff_session(signed.token.expose(), web()).await;
    assert!(matches!(due, Err(Error::SecondStepDue)), "{due:?}");
    let webdav = bed.gw.authenticate_password("jan@minvws.nl", PASSWORD, Origin::new(Door::Webdav, None)).await;
    assert!(matches!(webdav, Err(Error::Forbidden(_))), "{webdav:?}");
    let session = bed.gw.staff_session_for_second_step(signed.token.expose(), web()).await?;
    let setup = bed.gw.begin_totp(&session, "koerier").await?;
    bed.gw.confirm_totp(&session, &app_code(&bed, &setup.secret, 0)?).await?;
    bed.gw.staff_session(signed.token.expose(), web()).await?;
    let off = bed.gw.disable_totp(&jan, PASSWORD).await;
    assert!(matches!(off, Err(Error::Forbidden(_))), "required: {off:?}");
    bed.gw.require_second_factor(&gateway::Admin::console(), false).await?;
    bed.gw.disable_totp(&jan, PASSWORD).await?;
    Ok(())
}

#[tokio::test]
async fn a_new_password_that_is_easy_to_guess_is_refused_with_the_reason() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    for guessable in ["password1234", "qwertyuiop123", "wachtwoord2024!", "minvws123456", "Jansen1234567"] {
        let refused = bed.gw.change_password(&jan, PASSWORD, guessable, "").await;
        assert!(
            matches!(refused, Err(Error::Field(gateway::FieldRefusal::Guessable { .. }))),
            "{guessable}: {refused:?}"
        );
    }
    bed.gw.change_password(&jan, PASSWORD, "paarse olifanten dansen zelden", "").await?;
    Ok(())
}

#[tokio::test]
async fn a_search_of_the_overview_pages_and_takes_every_character_as_it_is() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let doc = pdf("x");
    // A page and one more of budgets; then LIKE's own characters, and a
    // subject and reference that would make a word if they were one text.
    let mut envelopes: Vec<(String, String)> =
        (0..=PAGE_SIZE).map(|n| (format!("Begroting {n}"), format!("B-{n}"))).collect();
    for (subject, reference) in
        [("Jaarverslag 50%", "A_1"), ("Jaarverslag 50 procent", "AB1"), ("Notulen café", "c:\\stukken")]
    {
        envelopes.push((subject.into(), reference.into()));
    }
    let mut sent = Vec::new();
    for (n, (subject, reference)) in envelopes.into_iter().enumerate() {
        let id = bed.draft(&jan, &format!("s{n}"), "Kees <kees@minvws.nl>", None, &[("a.pdf", &doc)]).await?;
        let env = gateway::Envelope { subject, reference, ..bed.gw.envelope(&jan, &id).await? };
        bed.gw.set_envelope(&jan, &id, env).await?;
        bed.gw.send(&jan, &id).await?;
        sent.push(id);
        bed.advance(Duration::from_secs(60));
    }
    let query = |side, search: &str, page| MessageQuery { side, search: search.into(), page };
    let total = async |side, search: &str| bed.gw.messages(&jan, query(side, search, 1)).await.map(|p| p.total);

    // What a search finds pages like the whole overview: newest first, and
    // a page past the end is the last one.
    let first = bed.gw.messages(&jan, query(Side::Sent, "begroting", 1)).await?;
    assert_eq!((first.total, first.pages, first.lines.len()), (u64::from(PAGE_SIZE) + 1, 2, PAGE_SIZE as usize));
    assert_eq!(first.lines[0].id, sent[PAGE_SIZE as usize]);
    assert_eq!(first.lines[1].id, sent[PAGE_SIZE as usize - 1]);
    for asked in [2, 9] {
        let last = bed.gw.messages(&jan, query(Side::Sent, "begroting", asked)).await?;
        assert_eq!(last.page, 2);
        assert_eq!(last.lines.iter().map(|l| &l.id).collect::<Vec<_>>(), [&sent[0]], "the oldest last");
    }

    // Every word, each in who, subject or reference, whatever its case.
    assert_eq!(total(Side::Sent, "BEGROTING b-7").await?, 1);
    assert_eq!(total(Side::Sent, "kees jaarverslag").await?, 2);
    assert_eq!(total(Side::Sent, "procent ab1").await?, 1);
    assert_eq!(total(Side::Sent, "procentab1").await?, 0, "a word is in one text, not across two");
    assert_eq!(total(Side::Sent, "begroting jaarverslag").await?, 0);
    assert_eq!(total(Side::Sent, "café").await?, 1);

    // LIKE's own characters are characters like any other.
    assert_eq!(total(Side::Sent, "50%").await?, 1);
    assert_eq!(total(Side::Sent, "%").await?, 1);
    assert_eq!(total(Side::Sent, "a_1").await?, 1);
    assert_eq!(total(Side::Sent, "_").await?, 1);
    assert_eq!(total(Side::Sent, "c:\\stukken").await?, 1);
    assert_eq!(total(Side::Sent, "\\").await?, 1);

    // The same from the recipient's side, where who is the sender.
    let inbox = |search: &str| query(Side::Received, search, 1);
    assert_eq!(bed.gw.messages(&kees, inbox("JAN@minvws.nl 50%")).await?.total, 1);
    assert_eq!(bed.gw.messages(&kees, inbox("_")).await?.total, 1);
    assert_eq!(bed.gw.messages(&kees, inbox("kees")).await?.total, 0, "not the recipient's own address");
    let all = bed.gw.messages(&kees, inbox("jan")).await?;
    assert_eq!((all.total, all.lines[0].id.clone()), (u64::from(PAGE_SIZE) + 4, sent[sent.len() - 1].clone()));
    Ok(())
}
