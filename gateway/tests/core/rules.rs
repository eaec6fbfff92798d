//! The rules of SPEC section 3, through the facade: the upload window, the size
//! cap, names, one recipient, the mobile number, who may register and request.

use std::time::Duration;

use gateway::address::Mailbox;
use gateway::upload::UploadMode;
use gateway::{Error, Folder, Language, NewAccount, Role, Rules, TransferState};

use crate::bed::{Bed, PASSWORD, TestResult, pdf, test_rules};

#[tokio::test]
async fn window_accepts_at_59_59_refuses_at_60_00_then_aborts_and_deletes() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "window").await?;
    bed.put(&jan, &draft.id, "first.pdf", &pdf("first byte starts the hour")).await?;
    bed.advance(Duration::from_millis(3_599_000));
    bed.put(&jan, &draft.id, "at-59-59.pdf", &pdf("still inside")).await?;
    bed.advance(Duration::from_secs(1));
    let late = bed.put(&jan, &draft.id, "at-60-00.pdf", &pdf("too late")).await;
    assert!(matches!(late, Err(Error::WindowClosed { .. })), "{late:?}");
    let send = bed.gw.send(&jan, &draft.id).await;
    assert!(matches!(send, Err(Error::WindowClosed { .. })), "{send:?}");
    assert_eq!(bed.stored()?, 2, "the two accepted documents are stored until the abort");

    let report = bed.gw.run_lifecycle().await?.ok_or("the lease was free")?;
    assert_eq!(report.aborted, 1);
    assert!(bed.gw.list(&jan, Folder::Outbox).await?.is_empty(), "an aborted draft leaves the outbox");
    assert_eq!(bed.stored()?, 0, "what was uploaded is deleted: {:?}", bed.blob_files());
    let notice = bed.queued("window-aborted").await?;
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].recipient, "jan@minvws.nl");
    Ok(())
}

#[tokio::test]
async fn an_upload_in_progress_is_cut_off_when_the_window_closes() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "cut").await?;
    let mut upload = bed.gw.begin_upload(&jan, &draft.id, "big.pdf", UploadMode::New).await?;
    upload.write(&pdf("start")).await?;
    bed.advance(Duration::from_secs(3600));
    let more = upload.write(b"more bytes").await;
    assert!(matches!(more, Err(Error::WindowClosed { .. })), "{more:?}");
    assert!(matches!(upload.finish().await, Err(Error::WindowClosed { .. })));
    Ok(())
}

#[tokio::test]
async fn the_size_cap_counts_the_whole_message() -> TestResult {
    let bed = Bed::with_rules(Rules { max_message_bytes: 100_000, ..test_rules() }).await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "big").await?;
    let mut first = pdf("x");
    first.resize(60_000, b' ');
    bed.put(&jan, &draft.id, "a.pdf", &first).await?;
    let mut second = bed.gw.begin_upload(&jan, &draft.id, "b.pdf", UploadMode::New).await?;
    second.write(&first[..40_000]).await?;
    let over = second.write(b"one byte too many").await;
    assert!(matches!(over, Err(Error::TooLarge { limit: 100_000 })), "{over:?}");
    Ok(())
}

#[tokio::test]
async fn a_document_being_replaced_does_not_count_against_the_cap() -> TestResult {
    let bed = Bed::with_rules(Rules { max_message_bytes: 100_000, ..test_rules() }).await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "again").await?;
    let mut first = pdf("x");
    first.resize(60_000, b' ');
    bed.put(&jan, &draft.id, "a.pdf", &first).await?;
    let mut other = pdf("y");
    other.resize(30_000, b' ');
    bed.put(&jan, &draft.id, "b.pdf", &other).await?;
    // 60,000 replaced by 70,000 beside 30,000: exactly the cap.
    let mut second = pdf("x2");
    second.resize(70_000, b' ');
    let mut upload = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::Replace).await?;
    upload.write(&second).await?;
    let over = upload.write(b"!").await;
    assert!(matches!(over, Err(Error::TooLarge { limit: 100_000 })), "{over:?}");
    let mut upload = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::Replace).await?;
    upload.write(&second).await?;
    let replaced = upload.finish().await?;
    let docs = bed.gw.documents(&jan, &draft.id).await?;
    let complete: Vec<u64> =
        docs.iter().filter(|d| d.state == gateway::upload::DocumentState::Complete).map(|d| d.size).collect();
    assert_eq!((complete.len(), complete.iter().sum::<u64>()), (2, 100_000));
    assert!(docs.contains(&replaced), "what finish answers is what the row holds: {replaced:?} in {docs:?}");
    // The new version holds the name now: a new document of that name is a duplicate.
    let duplicate = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::New).await;
    assert!(matches!(duplicate, Err(Error::Name(_))), "{duplicate:?}");
    assert_eq!(bed.gw.outbox_bytes(&jan).await?, 100_000, "what the drive shows used");
    Ok(())
}

#[tokio::test]
async fn one_recipient_per_message() -> TestResult {
    let two = gateway::Envelope::parse("To: a@example.org, b@example.org\n");
    assert!(matches!(two, Err(Error::Invalid(ref m)) if m.contains("one recipient")), "{two:?}");
    let twice = gateway::Envelope::parse("To: a@example.org\nTo: b@example.org\n");
    assert!(matches!(twice, Err(Error::Invalid(ref m)) if m.contains("one recipient")), "{twice:?}");
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "two").await?;
    // Kept as written, and refused when it is sent, with the reason.
    bed.gw.write_message_txt(&jan, &draft.id, "To: a@example.org; b@example.org\n").await?;
    bed.put(&jan, &draft.id, "a.pdf", &pdf("a")).await?;
    let refused = bed.gw.send(&jan, &draft.id).await;
    assert!(matches!(refused, Err(Error::NotReady(ref m)) if m.to_string().contains("one recipient")), "{refused:?}");
    Ok(())
}

#[tokio::test]
async fn an_external_recipient_needs_a_mobile_number_and_the_reason_shows_in_message_txt() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed.draft(&jan, "nophone", "Piet <piet@example.org>", None, &[("a.pdf", &pdf("a"))]).await?;
    let refused = bed.gw.send(&jan, &id).await;
    assert!(matches!(refused, Err(Error::NotReady(ref m)) if m.to_string().contains("mobile")), "{refused:?}");
    let txt = bed.gw.message_txt(&jan, &id).await?;
    assert!(txt.starts_with("# NOT SENT:") && txt.contains("mobile"), "{txt}");
    assert!(bed.gw.due_messages(100).await?.is_empty(), "a refused send queues nothing");

    let landline = bed.gw.write_message_txt(&jan, &id, "To: piet@example.org\nPhone: 070 1234567\n").await;
    assert!(landline.is_ok(), "a landline is a valid number: {landline:?}");
    let refused = bed.gw.send(&jan, &id).await;
    assert!(matches!(refused, Err(Error::NotReady(ref m)) if m.to_string().contains("not a mobile")), "{refused:?}");

    bed.gw.write_message_txt(&jan, &id, "To: Piet <piet@example.org>\nPhone: 06 12345678\n").await?;
    assert!(!bed.gw.message_txt(&jan, &id).await?.contains("NOT SENT"), "editing clears the old reason");
    let receipt = bed.gw.send(&jan, &id).await?;
    assert_eq!(receipt.masked_phone.as_deref(), Some("+31 ••••••••78"));
    let colleague = bed.draft(&jan, "inside", "Kees <kees@minvws.nl>", None, &[("a.pdf", &pdf("a"))]).await?;
    bed.gw.send(&jan, &colleague).await?;
    Ok(())
}

#[tokio::test]
async fn sending_needs_a_recipient_and_complete_documents() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "empty").await?;
    let none = bed.gw.send(&jan, &draft.id).await;
    assert!(matches!(none, Err(Error::NotReady(ref m)) if m.to_string().contains("no documents")), "{none:?}");
    bed.put(&jan, &draft.id, "a.pdf", &pdf("a")).await?;
    let nobody = bed.gw.send(&jan, &draft.id).await;
    assert!(matches!(nobody, Err(Error::NotReady(ref m)) if m.to_string().contains("no recipient")), "{nobody:?}");
    bed.gw.write_message_txt(&jan, &draft.id, "To: kees@minvws.nl\n").await?;
    let mut half = bed.gw.begin_upload(&jan, &draft.id, "half.pdf", UploadMode::New).await?;
    half.write(&pdf("half")).await?;
    half.suspend().await?;
    let unfinished = bed.gw.send(&jan, &draft.id).await;
    assert!(matches!(unfinished, Err(Error::NotReady(ref m)) if m.to_string().contains("half.pdf")), "{unfinished:?}");
    Ok(())
}

#[tokio::test]
async fn staff_accounts_only_at_affiliated_domains() -> TestResult {
    let bed = Bed::new().await?;
    let outsider = NewAccount {
        email: "eve@example.org".into(),
        display_name: "Eve".into(),
        role: Role::Staff,
        password: PASSWORD.into(),
    };
    let refused = bed.gw.create_account(&bed.admin, outsider.clone()).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let sub = NewAccount { email: "ann@zorg.minvws.nl".into(), ..outsider.clone() };
    assert!(bed.gw.create_account(&bed.admin, sub).await.is_ok(), "subdomains belong to the domain");
    let lookalike = NewAccount { email: "bob@evilminvws.nl".into(), ..outsider.clone() };
    assert!(bed.gw.create_account(&bed.admin, lookalike).await.is_err());
    let partner = NewAccount { role: Role::Partner, ..outsider };
    assert!(bed.gw.create_account(&bed.admin, partner).await.is_ok(), "partners are outside by nature");
    Ok(())
}

#[tokio::test]
async fn requests_go_only_outside_the_organisation() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let inside = bed.gw.create_upload_request(&jan, &Mailbox::parse("kees@minvws.nl")?, "", Language::Nl).await;
    assert!(matches!(inside, Err(Error::Forbidden(_))), "{inside:?}");
    let outside =
        bed.gw.create_upload_request(&jan, &Mailbox::parse("Piet <piet@example.org>")?, "please", Language::En).await?;
    assert!(outside.user_name.starts_with("request-"));
    assert_eq!(bed.param("upload-request", "user_name").await?, outside.user_name);
    Ok(())
}

#[tokio::test]
async fn partners_deliver_to_staff_only() -> TestResult {
    let bed = Bed::new().await?;
    bed.staff("jan@minvws.nl").await?;
    let partner = bed.account("push@lab.example.com", Role::Partner).await?;
    let outward = bed.draft(&partner, "out", "x@example.org", Some("0612345678"), &[("r.pdf", &pdf("r"))]).await?;
    let refused = bed.gw.send(&partner, &outward).await;
    assert!(matches!(refused, Err(Error::NotReady(ref m)) if m.to_string().contains("staff")), "{refused:?}");
    let inward = bed.draft(&partner, "in", "jan@minvws.nl", None, &[("r.pdf", &pdf("r"))]).await?;
    bed.gw.send(&partner, &inward).await?;
    let jan = bed.gw.authenticate_password("jan@minvws.nl", PASSWORD, gateway::Origin::cli()).await?;
    let inbox = bed.gw.list(&jan, Folder::Inbox).await?;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].state, TransferState::Sent);
    assert_eq!(inbox[0].kind, gateway::TransferKind::PartnerPush);
    Ok(())
}

#[tokio::test]
async fn a_document_must_be_what_its_extension_says() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "content").await?;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.resize(512, 0);
    let refused = bed.put(&jan, &draft.id, "invoice.pdf", &exe).await;
    assert!(
        matches!(refused, Err(Error::ContentMismatch { detected, .. }) if detected.contains("Windows program")),
        "{refused:?}"
    );
    assert!(bed.gw.documents(&jan, &draft.id).await?.is_empty(), "a refused document is not kept");
    assert_eq!(bed.stored()?, 0, "nor its bytes");
    let ok = bed.put(&jan, &draft.id, "invoice.pdf", &pdf("real")).await?;
    assert_eq!(ok.content_check.as_deref(), Some("matches"));
    Ok(())
}

#[tokio::test]
async fn a_resumed_upload_is_checked_on_the_bytes_stored_before_the_break() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "resumed").await?;
    // A program named .pdf, its head sent in a first connection that broke.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.resize(200_000, 0);
    let mut first = bed.gw.begin_upload(&jan, &draft.id, "invoice.pdf", UploadMode::New).await?;
    first.write(&exe[..150_000]).await?;
    let offset = first.suspend().await?;
    assert!(offset > 0, "whole chunks were kept");
    // The second connection sends only the tail: the head must be read back.
    let mut second = bed.gw.begin_upload(&jan, &draft.id, "invoice.pdf", UploadMode::Resume).await?;
    assert_eq!(second.offset(), offset);
    second.write_at(offset, &exe[usize::try_from(offset)?..]).await?;
    let refused = second.finish().await;
    assert!(
        matches!(refused, Err(Error::ContentMismatch { detected, .. }) if detected.contains("Windows program")),
        "{refused:?}"
    );
    assert!(bed.gw.documents(&jan, &draft.id).await?.is_empty(), "a refused document is not kept");
    Ok(())
}
