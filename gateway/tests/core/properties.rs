//! Dead properties (what a WebDAV client keeps with PROPPATCH): kept in the
//! database on the node they describe, read and changed only as the message
//! allows, bounded, and gone with their document or message.

use gateway::properties::{
    DeadProperty, MAX_PER_NODE, MAX_PER_OWNER, MAX_VALUE_BYTES, PropertyChange, PropertyNode, PropertyOutcome,
};
use gateway::upload::UploadMode;
use gateway::{Error, Folder, Role};

use crate::bed::{Bed, TestResult, pdf};

fn prop(name: &str, value: &str) -> DeadProperty {
    DeadProperty {
        namespace: "urn:example:props".into(),
        name: name.into(),
        value: format!("<x:{name} xmlns:x=\"urn:example:props\">{value}</x:{name}>").into_bytes(),
    }
}

fn set(name: &str, value: &str) -> PropertyChange {
    PropertyChange::Set(prop(name, value))
}

fn remove(name: &str) -> PropertyChange {
    PropertyChange::Remove { namespace: "urn:example:props".into(), name: name.into() }
}

fn doc(name: &str) -> PropertyNode {
    PropertyNode::Document(name.into())
}

/// The names and values of a node's properties, in order.
fn shown(props: &[DeadProperty]) -> Vec<(String, String)> {
    props.iter().map(|p| (p.name.clone(), String::from_utf8_lossy(&p.value).into_owned())).collect()
}

#[tokio::test]
async fn dead_properties_are_set_read_replaced_and_removed_and_outlive_a_restart() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed.draft(&jan, "x", "piet@example.org", Some("0612345678"), &[("a.pdf", &pdf("a"))]).await?;

    let done =
        bed.gw.patch_dead_properties(&jan, &id, &doc("a.pdf"), vec![set("colour", "blue"), set("size", "L")]).await?;
    assert_eq!(done, vec![PropertyOutcome::Done; 2]);
    bed.gw.patch_dead_properties(&jan, &id, &PropertyNode::Folder, vec![set("colour", "red")]).await?;
    bed.gw.patch_dead_properties(&jan, &id, &PropertyNode::Envelope, vec![set("colour", "green")]).await?;

    let on_doc = bed.gw.dead_properties(&jan, &id, &doc("a.pdf")).await?;
    assert_eq!(on_doc, vec![prop("colour", "blue"), prop("size", "L")]);
    assert_eq!(bed.gw.dead_properties(&jan, &id, &PropertyNode::Folder).await?, vec![prop("colour", "red")]);
    assert_eq!(bed.gw.dead_properties(&jan, &id, &PropertyNode::Envelope).await?, vec![prop("colour", "green")]);
    assert!(bed.gw.dead_properties(&jan, &id, &doc("other.pdf")).await?.is_empty(), "no such document, none");

    // Replaced and removed, in the order given; removing what is not there is no error.
    let changes = vec![set("colour", "navy"), remove("size"), remove("never-set")];
    assert_eq!(bed.gw.patch_dead_properties(&jan, &id, &doc("a.pdf"), changes).await?, vec![PropertyOutcome::Done; 3]);
    assert_eq!(shown(&bed.gw.dead_properties(&jan, &id, &doc("a.pdf")).await?), shown(&[prop("colour", "navy")]));

    // A property without a namespace is another property than one with.
    let bare =
        DeadProperty { namespace: String::new(), name: "colour".into(), value: b"<colour>grey</colour>".to_vec() };
    bed.gw.patch_dead_properties(&jan, &id, &doc("a.pdf"), vec![PropertyChange::Set(bare.clone())]).await?;
    assert_eq!(bed.gw.dead_properties(&jan, &id, &doc("a.pdf")).await?, vec![bare, prop("colour", "navy")]);

    // Kept in the database: another node (a restarted core) reads them.
    let other_node = bed.restart().await?;
    assert_eq!(other_node.dead_properties(&jan, &id, &PropertyNode::Folder).await?, vec![prop("colour", "red")]);
    assert_eq!(other_node.dead_properties(&jan, &id, &doc("a.pdf")).await?.len(), 2);

    // Only a complete document has a place for them.
    let refused = bed.gw.patch_dead_properties(&jan, &id, &doc("missing.pdf"), vec![set("colour", "x")]).await;
    assert!(matches!(refused, Err(Error::NotFound)), "{refused:?}");
    Ok(())
}

#[tokio::test]
async fn dead_properties_are_bounded_per_value_per_node_and_per_tree() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed.draft(&jan, "x", "piet@example.org", Some("0612345678"), &[("a.pdf", &pdf("a"))]).await?;
    let node = doc("a.pdf");

    // A value too large: 507 for it, and nothing of the same request is made.
    let big = "v".repeat(MAX_VALUE_BYTES);
    let outcomes = bed.gw.patch_dead_properties(&jan, &id, &node, vec![set("small", "1"), set("big", &big)]).await?;
    assert_eq!(outcomes, vec![PropertyOutcome::NotMade, PropertyOutcome::TooLarge]);
    assert!(bed.gw.dead_properties(&jan, &id, &node).await?.is_empty(), "all or none");

    // A node holds MAX_PER_NODE; replacing one takes no room, a new one does.
    let full: Vec<PropertyChange> = (0..MAX_PER_NODE).map(|i| set(&format!("p{i}"), "x")).collect();
    assert!(bed.gw.patch_dead_properties(&jan, &id, &node, full).await?.iter().all(|o| *o == PropertyOutcome::Done));
    let again = bed.gw.patch_dead_properties(&jan, &id, &node, vec![set("p0", "y")]).await?;
    assert_eq!(again, vec![PropertyOutcome::Done]);
    let over = bed.gw.patch_dead_properties(&jan, &id, &node, vec![set("one-more", "x")]).await?;
    assert_eq!(over, vec![PropertyOutcome::NoRoom]);
    assert_eq!(bed.gw.dead_properties(&jan, &id, &node).await?.len(), MAX_PER_NODE);
    let swap = bed.gw.patch_dead_properties(&jan, &id, &node, vec![remove("p1"), set("one-more", "x")]).await?;
    assert_eq!(swap, vec![PropertyOutcome::Done; 2], "room made in the same request");

    // One caller's tree holds MAX_PER_OWNER over all its messages.
    let per_node = i64::try_from(MAX_PER_NODE)?;
    let mut held = per_node;
    let mut n = 0;
    while held < MAX_PER_OWNER {
        let draft = bed.gw.create_draft(&jan, &format!("fill-{n}")).await?;
        n += 1;
        for node in [PropertyNode::Folder, PropertyNode::Envelope] {
            let take = (MAX_PER_OWNER - held).min(per_node);
            let changes = (0..take).map(|i| set(&format!("p{i}"), "x")).collect();
            let made = bed.gw.patch_dead_properties(&jan, &draft.id, &node, changes).await?;
            assert!(made.iter().all(|o| *o == PropertyOutcome::Done), "{held} held: {made:?}");
            held += take;
        }
    }
    let last = bed.gw.create_draft(&jan, "last").await?;
    let full = bed.gw.patch_dead_properties(&jan, &last.id, &PropertyNode::Folder, vec![set("p", "x")]).await?;
    assert_eq!(full, vec![PropertyOutcome::NoRoom], "the tree holds {MAX_PER_OWNER}");
    // Another account's tree is counted apart.
    let kees = bed.staff("kees@minvws.nl").await?;
    let his = bed.gw.create_draft(&kees, "his").await?;
    let made = bed.gw.patch_dead_properties(&kees, &his.id, &PropertyNode::Folder, vec![set("p", "x")]).await?;
    assert_eq!(made, vec![PropertyOutcome::Done]);
    // A copy that would not fit is refused whole.
    bed.put(&jan, &last.id, "b.pdf", &pdf("b")).await?;
    let copy = bed.gw.copy_dead_properties(&jan, &id, "a.pdf", &last.id, "b.pdf").await;
    assert!(matches!(copy, Err(Error::Forbidden(_))), "{copy:?}");
    assert!(bed.gw.dead_properties(&jan, &last.id, &doc("b.pdf")).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn nobody_reads_or_changes_the_dead_properties_of_anothers_tree() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let lab = bed.account("push@lab.example.com", Role::Partner).await?;
    let id = bed.draft(&jan, "for-kees", "Kees <kees@minvws.nl>", None, &[("a.pdf", &pdf("a"))]).await?;
    bed.gw.patch_dead_properties(&jan, &id, &doc("a.pdf"), vec![set("colour", "blue")]).await?;
    bed.gw.patch_dead_properties(&jan, &id, &PropertyNode::Folder, vec![set("colour", "red")]).await?;

    for (who, session) in [("a colleague", &kees), ("a partner", &lab)] {
        for node in [PropertyNode::Folder, PropertyNode::Envelope, doc("a.pdf")] {
            let read = bed.gw.dead_properties(session, &id, &node).await;
            assert!(matches!(read, Err(Error::NotFound)), "{who} reads {node:?}: {read:?}");
            let write = bed.gw.patch_dead_properties(session, &id, &node, vec![set("colour", "x")]).await;
            assert!(matches!(write, Err(Error::NotFound)), "{who} writes {node:?}: {write:?}");
        }
        let copy = bed.gw.copy_dead_properties(session, &id, "a.pdf", &id, "a.pdf").await;
        assert!(matches!(copy, Err(Error::NotFound)), "{who} copies: {copy:?}");
    }

    // Sent to Kees: in his inbox he sees none of the sender's, and may set none.
    bed.gw.send(&jan, &id).await?;
    assert_eq!(bed.gw.list(&kees, Folder::Inbox).await?.len(), 1);
    assert!(bed.gw.dead_properties(&kees, &id, &doc("a.pdf")).await?.is_empty());
    assert!(bed.gw.dead_properties(&kees, &id, &PropertyNode::Folder).await?.is_empty());
    let write = bed.gw.patch_dead_properties(&kees, &id, &doc("a.pdf"), vec![set("colour", "x")]).await;
    assert!(matches!(write, Err(Error::Forbidden(_))), "{write:?}");

    // A request link: only its own answer.
    let request = bed
        .gw
        .create_upload_request(
            &jan,
            &gateway::address::Mailbox::parse("Piet <piet@example.org>")?,
            "your file",
            gateway::Language::En,
        )
        .await?;
    let secret = bed.param("upload-request", "request_secret").await?;
    let piet = bed.gw.authenticate_request(&request.user_name, &secret, gateway::Origin::cli()).await?;
    let answer = bed.gw.list(&piet, Folder::Outbox).await?.remove(0);
    bed.put(&piet, &answer.id, "answer.pdf", &pdf("answer")).await?;
    let made = bed.gw.patch_dead_properties(&piet, &answer.id, &doc("answer.pdf"), vec![set("c", "x")]).await?;
    assert_eq!(made, vec![PropertyOutcome::Done]);
    assert!(matches!(bed.gw.dead_properties(&piet, &id, &PropertyNode::Folder).await, Err(Error::NotFound)));
    let write = bed.gw.patch_dead_properties(&piet, &id, &PropertyNode::Folder, vec![set("c", "x")]).await;
    assert!(matches!(write, Err(Error::NotFound)), "{write:?}");
    let read = bed.gw.dead_properties(&jan, &answer.id, &doc("answer.pdf")).await;
    assert!(matches!(read, Err(Error::NotFound)), "the requester sees the draft only once it is sent: {read:?}");
    Ok(())
}

#[tokio::test]
async fn dead_properties_follow_a_draft_into_sent_and_a_new_version_and_a_copy() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed.draft(&jan, "x", "piet@example.org", Some("0612345678"), &[("a.pdf", &pdf("a"))]).await?;
    bed.gw.patch_dead_properties(&jan, &id, &doc("a.pdf"), vec![set("colour", "blue")]).await?;
    bed.gw.patch_dead_properties(&jan, &id, &PropertyNode::Folder, vec![set("colour", "red")]).await?;
    bed.gw.patch_dead_properties(&jan, &id, &PropertyNode::Envelope, vec![set("colour", "green")]).await?;

    // A new version of the document (a client saving over it) keeps them.
    let mut upload = bed.gw.begin_upload(&jan, &id, "a.pdf", UploadMode::Replace).await?;
    upload.write(&pdf("a, second version")).await?;
    upload.finish().await?;
    assert_eq!(bed.gw.dead_properties(&jan, &id, &doc("a.pdf")).await?, vec![prop("colour", "blue")]);

    // A copy into another draft takes them along; the original keeps its own.
    let other = bed.gw.create_draft(&jan, "y").await?;
    bed.put(&jan, &other.id, "copy.pdf", &pdf("a, second version")).await?;
    bed.gw.patch_dead_properties(&jan, &other.id, &doc("copy.pdf"), vec![set("stale", "x")]).await?;
    bed.gw.copy_dead_properties(&jan, &id, "a.pdf", &other.id, "copy.pdf").await?;
    assert_eq!(bed.gw.dead_properties(&jan, &other.id, &doc("copy.pdf")).await?, vec![prop("colour", "blue")]);
    bed.gw.patch_dead_properties(&jan, &other.id, &doc("copy.pdf"), vec![set("colour", "copied")]).await?;
    assert_eq!(bed.gw.dead_properties(&jan, &id, &doc("a.pdf")).await?, vec![prop("colour", "blue")]);

    // Renamed, then sent: the same message, the same properties, now read-only.
    bed.gw.rename_draft(&jan, &id, "renamed").await?;
    bed.gw.send(&jan, &id).await?;
    let sent = bed.gw.find(&jan, Folder::Sent, "renamed").await?;
    assert_eq!(sent.id, id);
    assert_eq!(bed.gw.dead_properties(&jan, &id, &doc("a.pdf")).await?, vec![prop("colour", "blue")]);
    assert_eq!(bed.gw.dead_properties(&jan, &id, &PropertyNode::Folder).await?, vec![prop("colour", "red")]);
    assert_eq!(bed.gw.dead_properties(&jan, &id, &PropertyNode::Envelope).await?, vec![prop("colour", "green")]);
    let frozen = bed.gw.patch_dead_properties(&jan, &id, &doc("a.pdf"), vec![set("colour", "x")]).await;
    assert!(matches!(frozen, Err(Error::Conflict(_))), "{frozen:?}");
    let frozen = bed.gw.patch_dead_properties(&jan, &id, &PropertyNode::Folder, vec![remove("colour")]).await;
    assert!(matches!(frozen, Err(Error::Conflict(_))), "{frozen:?}");
    assert_eq!(bed.gw.dead_properties(&jan, &id, &PropertyNode::Folder).await?, vec![prop("colour", "red")]);
    Ok(())
}

#[tokio::test]
async fn dead_properties_go_with_their_document_and_their_message() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed.draft(&jan, "x", "piet@example.org", Some("0612345678"), &[("a.pdf", &pdf("a"))]).await?;
    bed.put(&jan, &id, "b.pdf", &pdf("b")).await?;
    bed.gw.patch_dead_properties(&jan, &id, &doc("a.pdf"), vec![set("colour", "blue"), set("size", "L")]).await?;
    bed.gw.patch_dead_properties(&jan, &id, &doc("b.pdf"), vec![set("colour", "red")]).await?;
    bed.gw.patch_dead_properties(&jan, &id, &PropertyNode::Folder, vec![set("colour", "green")]).await?;
    assert_eq!(bed.rows("dead_properties")?, 4);

    // The document removed: its properties are gone from the database, and a
    // new document of the same name starts without any.
    bed.gw.remove_document(&jan, &id, "a.pdf").await?;
    assert_eq!(bed.rows("dead_properties")?, 2);
    bed.put(&jan, &id, "a.pdf", &pdf("a again")).await?;
    assert!(bed.gw.dead_properties(&jan, &id, &doc("a.pdf")).await?.is_empty());

    // The draft withdrawn: the rest goes with its documents.
    bed.gw.discard_draft(&jan, &id).await?;
    assert_eq!(bed.rows("dead_properties")?, 0);

    // A message that expires takes its properties along too.
    let sent = bed.draft(&jan, "z", "piet@example.org", Some("0612345678"), &[("c.pdf", &pdf("c"))]).await?;
    bed.gw.patch_dead_properties(&jan, &sent, &doc("c.pdf"), vec![set("colour", "blue")]).await?;
    bed.gw.send(&jan, &sent).await?;
    bed.advance(bed.gw.settings().rules.retention + std::time::Duration::from_secs(1));
    bed.gw.run_lifecycle().await?;
    assert_eq!(bed.rows("dead_properties")?, 0);
    Ok(())
}
