//! The folder view every door shows (`gateway::tree`): the kinds of name in
//! a draft, renames, `message.txt` as written, and who sees which folders.

use gateway::tree::{Node, Overwrite, Place, Tree, TreePath, Writer};
use gateway::upload::UploadMode;
use gateway::{Error, Language, Session};

use crate::bed::{Bed, TestResult, pdf};

fn at(path: &str) -> Place {
    TreePath::parse(path).place().unwrap_or_else(|| panic!("{path} names no place"))
}

/// Write a whole file through the tree, as a door does.
async fn put(tree: &Tree, path: &str, bytes: &[u8]) -> gateway::Result<()> {
    match tree.write(&at(path), UploadMode::Replace).await? {
        Writer::File(upload) => {
            let mut upload = *upload;
            upload.write(bytes).await?;
            upload.finish().await.map(|_| ())
        }
        Writer::Envelope(mut text) => {
            text.write(bytes)?;
            text.finish().await
        }
    }
}

/// Read a whole file through the tree.
async fn get(tree: &Tree, path: &str) -> gateway::Result<Vec<u8>> {
    match tree.node(&at(path)).await? {
        Node::File(t, d) => tree.read(&t, &d, None).await?.read_all().await,
        Node::Envelope(_, bytes) | Node::Report(_, bytes) => Ok(bytes.to_vec()),
        other => panic!("{path} is not a file: {other:?}"),
    }
}

async fn names(tree: &Tree, path: &str) -> gateway::Result<Vec<String>> {
    Ok(tree.list(&at(path)).await?.into_iter().map(|e| e.name).collect())
}

const ENVELOPE: &str =
    "To: Piet <piet@example.org>\r\nPhone: 06 12345678\r\nSubject: Dossier é\r\n\r\nHier zijn ze.\r\n";

async fn jan_with_draft(bed: &Bed) -> Result<(Session, Tree), Box<dyn std::error::Error>> {
    let jan = bed.staff("jan@minvws.nl").await?;
    let tree = Tree::new(&bed.gw, &jan);
    tree.mkdir(&at("/outbox/d")).await?;
    put(&tree, "/outbox/d/message.txt", ENVELOPE.as_bytes()).await?;
    Ok((jan, tree))
}

#[tokio::test]
async fn message_txt_reads_back_as_written_and_a_bad_one_is_kept_and_refused_at_send() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    assert_eq!(get(&tree, "/outbox/d/message.txt").await?, ENVELOPE.as_bytes(), "byte for byte");
    let env = bed.gw.envelope(tree.session(), &tree.message(gateway::Folder::Outbox, "d").await?.id).await?;
    assert_eq!(env.phone.map(|p| p.as_e164().to_owned()).as_deref(), Some("+31612345678"), "parsed from the bytes");

    let bad = b"To: a@example.org, b@example.org\n";
    put(&tree, "/outbox/d/message.txt", bad).await?;
    assert_eq!(get(&tree, "/outbox/d/message.txt").await?, bad, "kept as written");
    put(&tree, "/outbox/d/a.pdf", &pdf("one")).await?;
    let refused = tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await;
    assert!(matches!(&refused, Err(Error::NotReady(why)) if why.contains("one recipient")), "{refused:?}");
    let shown = String::from_utf8(get(&tree, "/outbox/d/message.txt").await?)?;
    assert!(shown.starts_with("# NOT SENT: message.txt: one recipient"), "{shown}");
    assert!(shown.ends_with("To: a@example.org, b@example.org\n"), "the client's bytes follow: {shown}");

    assert!(put(&tree, "/outbox/d/message.txt", &[0xff, 0xfe, 0]).await.is_err(), "not UTF-8");
    assert!(put(&tree, "/outbox/d/message.txt", &vec![b'a'; 64 * 1024 + 1]).await.is_err(), "over 64 KiB");
    tree.remove(&at("/outbox/d/message.txt")).await?;
    assert_eq!(get(&tree, "/outbox/d/message.txt").await?, b"", "removing empties it");

    // rclone writes it under a temporary name and renames it into place.
    put(&tree, "/outbox/d/message.txt.0acf7cd7.partial", ENVELOPE.as_bytes()).await?;
    tree.rename(&at("/outbox/d/message.txt.0acf7cd7.partial"), &at("/outbox/d/message.txt"), Overwrite::Yes).await?;
    assert_eq!(get(&tree, "/outbox/d/message.txt").await?, ENVELOPE.as_bytes());
    assert_eq!(names(&tree, "/outbox/d").await?, ["message.txt", "a.pdf"], "the temporary name is gone");
    Ok(())
}

#[tokio::test]
async fn litter_is_kept_aside_readable_by_its_name_unlisted_and_never_sent() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    let apple_double = [&[0u8, 5, 22, 7][..], &[0; 4092]].concat();
    for (name, bytes) in
        [("._a.pdf", &apple_double[..]), (".DS_Store", b"Bud1"), ("~$a.docx", b"jan"), (".~lock.a.odt#", b"")]
    {
        put(&tree, &format!("/outbox/d/{name}"), bytes).await?;
        assert_eq!(get(&tree, &format!("/outbox/d/{name}")).await?, bytes, "{name} by its exact path");
    }
    put(&tree, "/outbox/d/a.pdf", &pdf("the document")).await?;
    assert_eq!(names(&tree, "/outbox/d").await?, ["message.txt", "a.pdf"]);
    let big = put(&tree, "/outbox/d/Thumbs.db", &vec![0; 1024 * 1024 + 1]).await;
    assert!(matches!(&big, Err(e) if e.code() == "litter-too-large"), "{big:?}");
    tree.remove(&at("/outbox/d/.DS_Store")).await?;

    tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await?;
    assert_eq!(names(&tree, "/sent/d").await?, ["message.txt", "a.pdf", "report.pdf"]);
    assert!(matches!(tree.node(&at("/sent/d/._a.pdf")).await, Err(Error::NotFound)), "dropped at send");
    Ok(())
}

#[tokio::test]
async fn a_temporary_file_is_a_file_to_its_owner_and_blocks_sending_until_renamed() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    let doc = pdf("written under a temporary name");
    put(&tree, "/outbox/d/a.pdf.filepart", &doc).await?;
    put(&tree, "/outbox/d/res", b"no extension at all").await?;
    assert_eq!(names(&tree, "/outbox/d").await?, ["message.txt", "a.pdf.filepart", "res"]);
    assert_eq!(get(&tree, "/outbox/d/res").await?, b"no extension at all");

    let refused = tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await;
    assert!(matches!(&refused, Err(Error::NotReady(why)) if why.contains("a.pdf.filepart")), "{refused:?}");
    let shown = String::from_utf8(get(&tree, "/outbox/d/message.txt").await?)?;
    assert!(shown.starts_with("# NOT SENT: the temporary file a.pdf.filepart"), "{shown}");

    // A temporary file whose bytes are not what the new name promises stays as it was.
    let mismatch = tree.rename(&at("/outbox/d/res"), &at("/outbox/d/res.pdf"), Overwrite::No).await;
    assert!(matches!(mismatch, Err(Error::ContentMismatch { .. })), "{mismatch:?}");
    assert_eq!(get(&tree, "/outbox/d/res").await?, b"no extension at all");
    let exe = tree.rename(&at("/outbox/d/res"), &at("/outbox/d/res.exe"), Overwrite::No).await;
    assert!(matches!(&exe, Err(e) if e.code() == "extension-not-allowed"), "{exe:?}");
    tree.remove(&at("/outbox/d/res")).await?;

    tree.rename(&at("/outbox/d/a.pdf.filepart"), &at("/outbox/d/a.pdf"), Overwrite::No).await?;
    assert_eq!(get(&tree, "/outbox/d/a.pdf").await?, doc);
    tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await?;
    Ok(())
}

/// Word saving `brief.docx` from a share (MS KB 211632): the new version is
/// written as `~WRD0000.tmp`, the original moved aside to `~WRL0001.tmp`,
/// the temporary moved onto the original's name, the aside deleted.
#[tokio::test]
async fn word_saving_in_place_leaves_exactly_the_new_version() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    let (old, new) = (zip_named("old"), zip_named("the new version"));
    put(&tree, "/outbox/d/brief.docx", &old).await?;
    put(&tree, "/outbox/d/~$brief.docx", b"owner").await?;
    put(&tree, "/outbox/d/~WRD0000.tmp", &new).await?;
    tree.rename(&at("/outbox/d/brief.docx"), &at("/outbox/d/~WRL0001.tmp"), Overwrite::No).await?;
    tree.rename(&at("/outbox/d/~WRD0000.tmp"), &at("/outbox/d/brief.docx"), Overwrite::Yes).await?;
    tree.remove(&at("/outbox/d/~WRL0001.tmp")).await?;
    tree.remove(&at("/outbox/d/~$brief.docx")).await?;
    assert_eq!(names(&tree, "/outbox/d").await?, ["message.txt", "brief.docx"]);
    assert_eq!(get(&tree, "/outbox/d/brief.docx").await?, new);
    // A rename onto a taken name without overwrite is a duplicate, whatever the case.
    put(&tree, "/outbox/d/x.tmp", &new).await?;
    let taken = tree.rename(&at("/outbox/d/x.tmp"), &at("/outbox/d/BRIEF.docx"), Overwrite::No).await;
    assert!(matches!(&taken, Err(e) if e.code() == "duplicate-name"), "{taken:?}");
    Ok(())
}

/// A stored zip holding one file: what the content check takes for a docx.
fn zip_named(text: &str) -> Vec<u8> {
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend_from_slice(text.as_bytes());
    zip
}

#[tokio::test]
async fn an_empty_document_is_a_placeholder_that_cannot_be_sent() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    put(&tree, "/outbox/d/a.pdf", b"").await?;
    let refused = tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await;
    assert!(matches!(&refused, Err(Error::NotReady(why)) if why.contains("a.pdf is empty")), "{refused:?}");
    put(&tree, "/outbox/d/a.pdf", &pdf("now with its bytes")).await?;
    tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await?;
    Ok(())
}

#[tokio::test]
async fn files_aside_are_bounded_per_draft() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    for i in 0..gateway::upload::MAX_ASIDE_PER_DRAFT {
        put(&tree, &format!("/outbox/d/t{i}.tmp"), b"x").await?;
    }
    let one_more = put(&tree, "/outbox/d/._more", b"x").await;
    assert!(matches!(&one_more, Err(e) if e.code() == "too-many-aside"), "{one_more:?}");
    put(&tree, "/outbox/d/a.pdf", &pdf("documents still fit")).await?;
    Ok(())
}

#[tokio::test]
async fn the_report_gives_way_to_a_document_of_its_name_and_sent_messages_are_read_only() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    // To a colleague: the sender may read what was sent (to an outsider, only the link opens it).
    put(&tree, "/outbox/d/message.txt", b"To: Kees <kees@minvws.nl>\n").await?;
    put(&tree, "/outbox/d/report.pdf", &pdf("my own report")).await?;
    let renamed = tree.rename(&at("/outbox/d"), &at("/sent/e"), Overwrite::No).await;
    assert!(matches!(&renamed, Err(Error::Forbidden(why)) if why.contains("keep the folder's name")), "{renamed:?}");
    tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await?;
    assert_eq!(names(&tree, "/sent/d").await?, ["message.txt", "report.pdf", "report-koerier.pdf"]);
    assert_eq!(get(&tree, "/sent/d/report.pdf").await?, pdf("my own report"));
    assert!(get(&tree, "/sent/d/report-koerier.pdf").await?.starts_with(b"%PDF"));
    for refused in [
        tree.remove(&at("/sent/d/report.pdf")).await,
        tree.rename(&at("/sent/d/report.pdf"), &at("/sent/d/x.pdf"), Overwrite::No).await,
        tree.write(&at("/sent/d/new.pdf"), UploadMode::New).await.map(|_| ()),
        tree.mkdir(&at("/sent/x")).await,
    ] {
        assert!(matches!(&refused, Err(Error::Forbidden(why)) if why.contains("read-only")), "{refused:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_request_link_sees_its_draft_and_sent_but_no_inbox() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let piet = gateway::address::Mailbox::parse("Piet <piet@example.org>")?;
    let request = bed.gw.create_upload_request(&jan, &piet, "your file", Language::En).await?;
    let secret = bed.param("upload-request", "request_secret").await?;
    let upper = request.user_name.replacen("request-", "REQUEST-", 1);
    let piet = bed.gw.authenticate_request(&upper, &secret, gateway::Origin::cli()).await?;
    let tree = Tree::new(&bed.gw, &piet);
    assert_eq!(names(&tree, "/").await?, ["outbox", "sent"]);
    assert!(matches!(tree.list(&at("/inbox")).await, Err(Error::NotFound)));
    assert_eq!(names(&tree, "/outbox").await?.len(), 1);
    Ok(())
}
