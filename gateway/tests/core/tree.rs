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
    assert!(matches!(&refused, Err(Error::NotReady(why)) if why.to_string().contains("one recipient")), "{refused:?}");
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
    assert!(matches!(&refused, Err(Error::NotReady(why)) if why.to_string().contains("a.pdf.filepart")), "{refused:?}");
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
    assert!(matches!(&refused, Err(Error::NotReady(why)) if why.to_string().contains("a.pdf is empty")), "{refused:?}");
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

/// SHA-256 of some bytes, hex, as the report gives it.
fn sha(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// The entries of a zip, each as `name sha256`, as Python's zipfile reads
/// it (which checks every CRC-32 too).
fn unzipped(zip: &[u8]) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("x.zip");
    std::fs::write(&path, zip)?;
    let script = "import sys,zipfile,hashlib\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                  print('\\n'.join(n+' '+hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()))";
    let out = std::process::Command::new("python3").arg("-c").arg(script).arg(&path).output()?;
    assert!(out.status.success(), "python3 could not read the zip: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8(out.stdout)?.lines().map(str::to_owned).collect())
}

#[tokio::test]
async fn a_folder_in_a_draft_arrives_as_one_zip_with_every_file_in_the_report() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    put(&tree, "/outbox/d/message.txt", b"To: Kees <kees@minvws.nl>\n").await?;
    tree.mkdir(&at("/outbox/d/New folder")).await?;
    // Explorer's "New folder", then typed over.
    tree.rename(&at("/outbox/d/New folder"), &at("/outbox/d/Bijlagen"), Overwrite::No).await?;
    for folder in ["/outbox/d/Bijlagen/2026", "/outbox/d/Bijlagen/leeg"] {
        tree.mkdir(&at(folder)).await?;
    }
    put(&tree, "/outbox/d/Bijlagen/scan.dat", b"any type inside a folder").await?;
    put(&tree, "/outbox/d/Bijlagen/2026/notes", b"no extension").await?;
    put(&tree, "/outbox/d/Bijlagen/.DS_Store", b"finder").await?;
    put(&tree, "/outbox/d/a.pdf", &pdf("top")).await?;
    assert_eq!(names(&tree, "/outbox/d").await?, ["message.txt", "Bijlagen", "a.pdf"]);
    assert_eq!(names(&tree, "/outbox/d/Bijlagen").await?, ["2026", "leeg", "scan.dat"]);
    assert!(tree.meta(&tree.node(&at("/outbox/d/Bijlagen")).await?).dir);

    let missing = put(&tree, "/outbox/d/Nergens/x.txt", b"x").await;
    assert!(matches!(&missing, Err(Error::Conflict(why)) if why.contains("Nergens")), "{missing:?}");
    let full = tree.rmdir(&at("/outbox/d/Bijlagen")).await;
    assert!(matches!(&full, Err(Error::Conflict(why)) if why.contains("not empty")), "{full:?}");
    let into_itself = tree.rename(&at("/outbox/d/Bijlagen"), &at("/outbox/d/Bijlagen/2026/b"), Overwrite::No).await;
    assert!(matches!(&into_itself, Err(Error::Invalid(_))), "{into_itself:?}");
    let written = tree.write(&at("/outbox/d/Bijlagen"), UploadMode::Replace).await.map(|_| ());
    assert!(matches!(&written, Err(Error::Conflict(why)) if why.contains("is a folder")), "{written:?}");
    tree.rename(&at("/outbox/d/Bijlagen/2026"), &at("/outbox/d/Bijlagen/jaar"), Overwrite::No).await?;
    assert_eq!(get(&tree, "/outbox/d/Bijlagen/jaar/notes").await?, b"no extension", "moved with its folder");
    // A document moved into a folder is a file like the others there.
    put(&tree, "/outbox/d/b.pdf", &pdf("moved in")).await?;
    tree.rename(&at("/outbox/d/b.pdf"), &at("/outbox/d/Bijlagen/b.pdf"), Overwrite::No).await?;

    tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await?;
    assert_eq!(names(&tree, "/sent/d").await?, ["message.txt", "Bijlagen.zip", "a.pdf", "report.pdf"]);
    let node = tree.node(&at("/sent/d/Bijlagen.zip")).await?;
    let zip = get(&tree, "/sent/d/Bijlagen.zip").await?;
    assert_eq!(tree.meta(&node).size, zip.len() as u64, "the size listed is the size read");
    let entry = |name: &str, bytes: &[u8]| format!("{name} {}", sha(bytes));
    assert_eq!(
        unzipped(&zip)?,
        [
            entry("Bijlagen/", b""),
            entry("Bijlagen/b.pdf", &pdf("moved in")),
            entry("Bijlagen/jaar/", b""),
            entry("Bijlagen/jaar/notes", b"no extension"),
            entry("Bijlagen/leeg/", b""),
            entry("Bijlagen/scan.dat", b"any type inside a folder"),
        ],
        "every file at its path, the helper file left out"
    );
    // Any byte can be read on its own: a resumed download.
    let Node::File(t, d) = node else { panic!("the zip is a file") };
    for start in [1, 40, zip.len() as u64 - 30] {
        let tail = tree.read(&t, &d, Some(start..zip.len() as u64)).await?.read_all().await?;
        assert_eq!(tail, zip[start as usize..], "from {start}");
    }

    let report = bed.gw.report(tree.session(), &t.id).await?;
    let listed: Vec<(String, Option<String>)> =
        report.documents.iter().map(|d| (d.name.clone(), d.sha256.clone())).collect();
    let sha = |bytes: &[u8]| Some(sha(bytes));
    assert_eq!(
        listed,
        [
            ("Bijlagen.zip".to_owned(), None),
            ("Bijlagen/b.pdf".into(), sha(&pdf("moved in"))),
            ("Bijlagen/jaar/notes".into(), sha(b"no extension")),
            ("Bijlagen/scan.dat".into(), sha(b"any type inside a folder")),
            ("a.pdf".into(), sha(&pdf("top"))),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_folder_the_operator_refuses_is_refused_with_the_reason() -> TestResult {
    let bed =
        Bed::with_rules(gateway::Rules { folders: gateway::FolderRule::Refuse, ..crate::bed::test_rules() }).await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    let refused = tree.mkdir(&at("/outbox/d/Bijlagen")).await;
    assert!(matches!(&refused, Err(Error::Forbidden(why)) if why.contains("zip file first")), "{refused:?}");
    let inside = put(&tree, "/outbox/d/Bijlagen/a.pdf", &pdf("x")).await;
    assert!(matches!(&inside, Err(Error::Conflict(_))), "{inside:?}");
    Ok(())
}

#[tokio::test]
async fn an_empty_folder_or_one_named_like_a_document_holds_the_send_back() -> TestResult {
    let bed = Bed::new().await?;
    let (_, tree) = jan_with_draft(&bed).await?;
    put(&tree, "/outbox/d/a.pdf", &pdf("top")).await?;
    tree.mkdir(&at("/outbox/d/Leeg")).await?;
    let empty = tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await;
    assert!(
        matches!(&empty, Err(Error::NotReady(why)) if why.to_string().contains("Leeg holds no files")),
        "{empty:?}"
    );
    put(&tree, "/outbox/d/Leeg/x.txt", b"x").await?;
    put(&tree, "/outbox/d/leeg.zip", &zip_named("x")).await?;
    let clash = tree.rename(&at("/outbox/d"), &at("/sent/d"), Overwrite::No).await;
    assert!(matches!(&clash, Err(Error::NotReady(why)) if why.to_string().contains("Leeg.zip")), "{clash:?}");
    Ok(())
}
