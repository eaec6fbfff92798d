//! Who may see what: every operation checks the caller, and a transfer the
//! caller may not see is "not found", never a hint that it exists.

use gateway::address::Mailbox;
use gateway::upload::UploadMode;
use gateway::{Error, Folder, Language, Origin, Role};

use crate::bed::{Bed, PASSWORD, TestResult, pdf};

#[tokio::test]
async fn staff_cannot_see_or_touch_each_others_drafts() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let id = bed.draft(&jan, "private", "piet@example.org", Some("0612345678"), &[("a.pdf", &pdf("a"))]).await?;
    assert!(bed.gw.list(&kees, Folder::Outbox).await?.is_empty());
    assert!(matches!(bed.gw.transfer(&kees, &id).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.documents(&kees, &id).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.message_txt(&kees, &id).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.read_document(&kees, &id, "a.pdf", None).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.begin_upload(&kees, &id, "b.pdf", UploadMode::New).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.remove_document(&kees, &id, "a.pdf").await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.write_message_txt(&kees, &id, "To: k@example.org\n").await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.send(&kees, &id).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.report(&kees, &id).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.discard_draft(&kees, &id).await, Err(Error::NotFound)));
    assert_eq!(bed.gw.list(&jan, Folder::Outbox).await?.len(), 1, "the owner still has it");
    Ok(())
}

#[tokio::test]
async fn an_upload_by_draft_name_reaches_only_the_callers_own_draft() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let id = bed.draft(&jan, "dossier", "piet@example.org", Some("0612345678"), &[]).await?;
    // A colleague's draft of that name is not there for kees; his own is.
    let theirs = bed.gw.begin_upload_in_draft(&kees, "dossier", "b.pdf", UploadMode::New).await;
    assert!(matches!(theirs, Err(Error::NotFound)), "{theirs:?}");
    let mut up = bed.gw.begin_upload_in_draft(&jan, "dossier", "b.pdf", UploadMode::New).await?;
    up.write(&pdf("b")).await?;
    up.finish().await?;
    let names: Vec<String> = bed.gw.documents(&jan, &id).await?.into_iter().map(|d| d.name).collect();
    assert_eq!(names, ["b.pdf"]);
    // Looked up by path in one round: the owner finds it, a colleague nothing.
    let (found, docs) = bed.gw.find_documents_named(&jan, Folder::Outbox, "dossier", "b.pdf").await?;
    assert_eq!((found.id.as_str(), docs.len()), (id.as_str(), 1));
    let theirs = bed.gw.find_documents_named(&kees, Folder::Outbox, "dossier", "b.pdf").await;
    assert!(matches!(theirs, Err(Error::NotFound)), "{theirs:?}");
    // Once sent, the name no longer names a draft.
    bed.gw.send(&jan, &id).await?;
    let sent = bed.gw.begin_upload_in_draft(&jan, "dossier", "c.pdf", UploadMode::New).await;
    assert!(matches!(sent, Err(Error::NotFound)), "{sent:?}");
    Ok(())
}

#[tokio::test]
async fn a_partner_sees_only_its_own() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let lab = bed.account("push@lab.example.com", Role::Partner).await?;
    let other = bed.account("push@other.example.com", Role::Partner).await?;
    let staff_draft = bed.draft(&jan, "mine", "kees@minvws.nl", None, &[("a.pdf", &pdf("a"))]).await?;
    let lab_draft = bed.draft(&lab, "batch", "jan@minvws.nl", None, &[("r.pdf", &pdf("r"))]).await?;
    assert!(matches!(bed.gw.transfer(&lab, &staff_draft).await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.transfer(&other, &lab_draft).await, Err(Error::NotFound)));
    assert!(bed.gw.list(&other, Folder::Outbox).await?.is_empty());
    assert_eq!(bed.gw.list(&lab, Folder::Outbox).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_received_message_is_read_only_and_its_reads_are_downloads() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let id = bed.draft(&jan, "for-kees", "Kees <kees@minvws.nl>", None, &[("a.pdf", &pdf("for kees"))]).await?;
    bed.gw.send(&jan, &id).await?;
    let inbox = bed.gw.list(&kees, Folder::Inbox).await?;
    assert_eq!(inbox.len(), 1);
    assert!(matches!(bed.gw.begin_upload(&kees, &id, "x.pdf", UploadMode::New).await, Err(Error::Forbidden(_))));
    assert!(matches!(bed.gw.begin_upload(&jan, &id, "x.pdf", UploadMode::New).await, Err(Error::Conflict(_))));
    let bytes = bed.gw.read_document(&kees, &id, "a.pdf", None).await?.read_all().await?;
    assert_eq!(bytes, pdf("for kees"));
    let tail = bed.gw.read_document(&kees, &id, "a.pdf", Some(5..10)).await?.read_all().await?;
    assert_eq!(tail, pdf("for kees")[5..10].to_vec());
    let report = bed.gw.report(&jan, &id).await?;
    assert_eq!(report.downloads.len(), 1, "a resumed tail is not a second download");
    assert_eq!(report.downloads[0].who, "kees@minvws.nl");
    assert_eq!(report.downloads[0].proof, "account");
    let received = bed.gw.report(&kees, &id).await?;
    assert_eq!(received.downloads.len(), 1, "a colleague reads the report of a message sent to them");
    Ok(())
}

/// Two senders call their messages the same: in the inbox the one sent
/// first keeps the name and the later one is numbered, so each has a path of
/// its own, and a third arriving changes neither.
#[tokio::test]
async fn messages_of_one_name_in_an_inbox_each_have_a_path_of_their_own() -> TestResult {
    let bed = Bed::new().await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let mut sent = Vec::new();
    for sender in ["jan@minvws.nl", "marie@minvws.nl", "piet@minvws.nl"] {
        let s = bed.staff(sender).await?;
        let id = bed.draft(&s, "dossier", "Kees <kees@minvws.nl>", None, &[("a.pdf", &pdf(sender))]).await?;
        bed.gw.send(&s, &id).await?;
        sent.push(id);
        bed.advance(std::time::Duration::from_secs(1));
        let names: Vec<String> = bed.gw.list(&kees, Folder::Inbox).await?.into_iter().map(|t| t.name).collect();
        let expected: Vec<String> =
            ["dossier", "dossier (2)", "dossier (3)"].iter().take(sent.len()).map(|n| (*n).to_owned()).collect();
        assert_eq!(names, expected);
    }
    for (name, id) in ["dossier", "dossier (2)", "dossier (3)"].iter().zip(&sent) {
        assert_eq!(&bed.gw.find(&kees, Folder::Inbox, name).await?.id, id, "{name}");
    }
    assert!(matches!(bed.gw.find(&kees, Folder::Inbox, "dossier (4)").await, Err(Error::NotFound)));
    assert!(matches!(bed.gw.find(&kees, Folder::Inbox, "dossier (02)").await, Err(Error::NotFound)));
    Ok(())
}

#[tokio::test]
async fn a_disabled_account_is_refused_at_its_next_request() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed.gw.create_draft(&jan, "before").await?.id;
    bed.gw.disable_account(&bed.admin, "jan@minvws.nl").await?;
    assert!(matches!(bed.gw.list(&jan, Folder::Outbox).await, Err(Error::Forbidden(_))));
    assert!(matches!(bed.gw.documents(&jan, &id).await, Err(Error::Forbidden(_))));
    assert!(matches!(bed.gw.create_draft(&jan, "after").await, Err(Error::Forbidden(_))));
    let again = bed.gw.authenticate_password("jan@minvws.nl", PASSWORD, Origin::cli()).await;
    assert!(matches!(again, Err(Error::Forbidden(_))), "{again:?}");
    Ok(())
}

/// Wrong passwords sixteen at a time from one address, as a script would
/// send them to several nodes: each try is counted before it is judged, so
/// exactly the limit is judged and the rest are refused unjudged; from many
/// addresses, the account's limit holds the same way. A right password
/// leaves nothing counted.
#[tokio::test]
async fn concurrent_sign_in_failures_stop_at_the_limits() -> TestResult {
    let bed = Bed::with_rules(gateway::Rules { account_failures_per_hour: 40, ..crate::bed::test_rules() }).await?;
    bed.staff("jan@minvws.nl").await?;
    let tries = |count: usize, ip: fn(usize) -> String| {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..count {
            let (gw, ip) = (bed.gw.clone(), ip(i));
            set.spawn(async move {
                let origin = Origin::new(gateway::Door::Sftp, ip.parse().ok());
                gw.authenticate_password("jan@minvws.nl", "guess", origin).await.map(|_| ())
            });
        }
        set
    };
    let outcomes = |mut set: tokio::task::JoinSet<gateway::Result<()>>| async move {
        let (mut judged, mut refused) = (0, 0);
        while let Some(outcome) = set.join_next().await {
            match outcome? {
                Err(Error::BadCredentials) => judged += 1,
                Err(Error::RateLimited) => refused += 1,
                other => return Err(format!("unexpected {other:?}").into()),
            }
        }
        Ok::<_, Box<dyn std::error::Error>>((judged, refused))
    };
    for round in 0..4 {
        let (judged, refused) = outcomes(tries(16, |_| "192.0.2.7".into())).await?;
        let expected = if round == 0 { 15 } else { 0 };
        assert_eq!((judged, refused), (expected, 16 - expected), "round {round} from one address");
    }
    let (judged, _) = outcomes(tries(64, |i| format!("198.51.100.{i}"))).await?;
    assert_eq!(judged, 40 - 15, "the account's limit, over all addresses");
    assert_eq!(bed.rows("auth_failures")?, 40);
    let other = bed.staff("kees@minvws.nl").await?;
    assert_eq!(other.email(), "kees@minvws.nl");
    assert_eq!(bed.rows("auth_failures")?, 40, "a sign-in that succeeds is not counted");
    Ok(())
}

#[tokio::test]
async fn failed_sign_ins_are_counted_across_doors_per_address_block() -> TestResult {
    let bed = Bed::new().await?;
    bed.staff("jan@minvws.nl").await?;
    for i in 0..15u16 {
        let ip = format!("2001:db8:1:2::{i:x}").parse()?;
        let door = if i % 2 == 0 { gateway::Door::Sftp } else { gateway::Door::Webdav };
        let wrong = bed.gw.authenticate_password("jan@minvws.nl", "guess", Origin::new(door, Some(ip))).await;
        assert!(matches!(wrong, Err(Error::BadCredentials)), "{wrong:?}");
    }
    let same_block = Origin::new(gateway::Door::Web, Some("2001:db8:1:2:ffff::1".parse()?));
    let banned = bed.gw.authenticate_password("jan@minvws.nl", PASSWORD, same_block).await;
    assert!(matches!(banned, Err(Error::RateLimited)), "{banned:?}");
    let elsewhere = Origin::new(gateway::Door::Web, Some("192.0.2.1".parse()?));
    assert!(bed.gw.authenticate_password("jan@minvws.nl", PASSWORD, elsewhere).await.is_ok());
    let unknown = bed.gw.authenticate_password("nobody@minvws.nl", PASSWORD, elsewhere).await;
    assert!(matches!(unknown, Err(Error::BadCredentials)), "unknown and wrong look the same: {unknown:?}");
    Ok(())
}

#[tokio::test]
async fn a_request_link_sees_only_its_answer_addressed_to_the_requester() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    bed.draft(&jan, "jans-own", "kees@minvws.nl", None, &[("a.pdf", &pdf("a"))]).await?;
    let request = bed
        .gw
        .create_upload_request(&jan, &Mailbox::parse("Piet <piet@example.org>")?, "your file", Language::En)
        .await?;
    let secret = bed.param("upload-request", "request_secret").await?;
    let wrong = bed.gw.authenticate_request(&request.user_name, "not-the-secret", Origin::cli()).await;
    assert!(matches!(wrong, Err(Error::BadCredentials)));
    let piet = bed.gw.authenticate_request(&request.user_name, &secret, Origin::cli()).await?;
    let outbox = bed.gw.list(&piet, Folder::Outbox).await?;
    assert_eq!(outbox.len(), 1, "only the answer: {outbox:?}");
    assert_eq!(outbox[0].recipient.as_deref(), Some("jan@minvws.nl <jan@minvws.nl>"));
    assert!(matches!(bed.gw.create_draft(&piet, "another").await, Err(Error::Forbidden(_))));
    bed.put(&piet, &outbox[0].id, "answer.pdf", &pdf("the answer")).await?;
    bed.gw.write_message_txt(&piet, &outbox[0].id, "To: eve@example.org\n").await?;
    let redirect = bed.gw.send(&piet, &outbox[0].id).await;
    assert!(
        matches!(redirect, Err(Error::NotReady(ref m)) if m.to_string().contains("the person who asked")),
        "{redirect:?}"
    );
    bed.gw.write_message_txt(&piet, &outbox[0].id, "Subject: the answer\n").await?;
    bed.gw.send(&piet, &outbox[0].id).await?;
    assert_eq!(bed.gw.list(&piet, Folder::Sent).await?.len(), 1);
    let inbox = bed.gw.list(&jan, Folder::Inbox).await?;
    assert_eq!(inbox.len(), 1);
    let got = bed.gw.read_document(&jan, &inbox[0].id, "answer.pdf", None).await?.read_all().await?;
    assert_eq!(got, pdf("the answer"));
    assert_eq!(bed.queued("request-answered").await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_ssh_key_signs_in_only_its_own_account() -> TestResult {
    use gateway::auth::SshPublicKey;
    let bed = Bed::new().await?;
    let lab = bed.account("push@lab.example.com", Role::Partner).await?;
    bed.staff("jan@minvws.nl").await?;
    let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfWXcNN5sSgezFkRHV7ksMZT56/q77jLE5vACLXu4UU lab";
    bed.gw.add_ssh_key(&bed.admin, "push@lab.example.com", line).await?;
    let dup = bed.gw.add_ssh_key(&bed.admin, "jan@minvws.nl", line).await;
    assert!(matches!(dup, Err(Error::Conflict(_))), "one key, one account: {dup:?}");
    let key = SshPublicKey::parse_openssh(line)?;
    assert!(bed.gw.ssh_key_known("push@lab.example.com", &key).await?);
    assert!(!bed.gw.ssh_key_known("jan@minvws.nl", &key).await?);
    let session = bed.gw.authenticate_key("push@lab.example.com", &key, Origin::cli()).await?;
    assert_eq!(session.role(), lab.role());
    let other = SshPublicKey::parse_openssh(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl other",
    )?;
    let refused = bed.gw.authenticate_key("push@lab.example.com", &other, Origin::cli()).await;
    assert!(matches!(refused, Err(Error::BadCredentials)), "{refused:?}");
    let wrong_user = bed.gw.authenticate_key("jan@minvws.nl", &key, Origin::cli()).await;
    assert!(matches!(wrong_user, Err(Error::BadCredentials)), "{wrong_user:?}");
    bed.gw.disable_account(&bed.admin, "push@lab.example.com").await?;
    let disabled = bed.gw.authenticate_key("push@lab.example.com", &key, Origin::cli()).await;
    assert!(matches!(disabled, Err(Error::Forbidden(_))), "{disabled:?}");
    Ok(())
}

#[tokio::test]
async fn a_name_with_a_nul_is_not_found_on_every_backend() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed.draft(&jan, "dossier", "piet@example.org", Some("0612345678"), &[("a.pdf", &pdf("a"))]).await?;
    // A path a client made up: no stored name holds a NUL, and PostgreSQL
    // refuses one in a query, so each lookup answers "not there".
    assert!(matches!(bed.gw.find(&jan, Folder::Outbox, "doss\0ier").await, Err(Error::NotFound)));
    let found = bed.gw.find_documents_named(&jan, Folder::Outbox, "doss\0ier", "a.pdf").await;
    assert!(matches!(found, Err(Error::NotFound)), "{found:?}");
    assert!(bed.gw.documents_named(&jan, &id, "a\0.pdf").await?.is_empty());
    assert!(matches!(bed.gw.read_document(&jan, &id, "a\0.pdf", None).await, Err(Error::NotFound)));
    let upload = bed.gw.begin_upload_in_draft(&jan, "doss\0ier", "b.pdf", UploadMode::New).await;
    assert!(matches!(upload, Err(Error::NotFound)), "{upload:?}");
    let node = gateway::properties::PropertyNode::Document("a\0.pdf".into());
    assert!(bed.gw.dead_properties(&jan, &id, &node).await?.is_empty());
    Ok(())
}
