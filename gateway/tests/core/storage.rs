//! Documents at rest: encrypted, tamper-evident, resumable, crash-safe, and
//! gone after expiry with the metadata kept.

use std::time::Duration;

use gateway::Error;
use gateway::store::{BlobId, DocumentKey, Store};
use gateway::upload::UploadMode;

use crate::bed::{Bed, TestResult, pdf};

const MARKER: &[u8] = b"KOERIER-PLAINTEXT-MARKER-7d1f";

fn marked(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    while v.len() < len {
        v.extend_from_slice(MARKER);
        v.push(b'\n');
    }
    v.truncate(len);
    v
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn no_plaintext_reaches_the_data_folder_or_the_database() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "secret").await?;
    let text = format!("To: piet@example.org\nPhone: 0612345678\n\n{}", String::from_utf8_lossy(MARKER));
    bed.gw.write_message_txt(&jan, &draft.id, &text).await?;
    let mut total = 0;
    for (i, len) in [(0, 60 << 20), (1, 40 << 20), (2, 100), (3, 65_536)] {
        let doc = marked(len);
        let mut up = bed.gw.begin_upload(&jan, &draft.id, &format!("doc{i}.pdf"), UploadMode::New).await?;
        for piece in doc.chunks(1 << 20) {
            up.write(piece).await?;
        }
        up.finish().await?;
        total += len;
    }
    assert!(total >= 100 << 20);
    bed.gw.send(&jan, &draft.id).await?;
    let other = bed.gw.create_draft(&jan, "unfinished").await?;
    let mut half = bed.gw.begin_upload(&jan, &other.id, "unfinished.pdf", UploadMode::New).await?;
    half.write(&marked(300_000)).await?;
    half.suspend().await?;

    let mut scanned = 0;
    for file in bed.files() {
        let bytes = std::fs::read(&file)?;
        scanned += bytes.len();
        assert!(!contains(&bytes, MARKER), "plaintext in {}", file.display());
    }
    assert!(scanned > 100 << 20, "the documents were there to scan ({scanned} bytes)");
    if bed.database_url.starts_with("postgres://") {
        let dump = std::process::Command::new("pg_dump").arg("--data-only").arg(&bed.database_url).output()?;
        assert!(dump.status.success(), "pg_dump: {}", String::from_utf8_lossy(&dump.stderr));
        assert!(dump.stdout.len() > 1000, "the dump holds the rows");
        assert!(!contains(&dump.stdout, MARKER), "plaintext in the PostgreSQL database");
    }
    Ok(())
}

#[tokio::test]
async fn a_small_document_is_kept_sealed_in_its_row() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "small").await?;
    let mut small = pdf("small enough for its row");
    small.resize(gateway::store::INLINE_MAX as usize, b' ');
    bed.put(&jan, &draft.id, "small.pdf", &small).await?;
    let mut big = pdf("a byte more");
    big.resize(gateway::store::INLINE_MAX as usize + 1, b' ');
    bed.put(&jan, &draft.id, "big.pdf", &big).await?;
    assert_eq!(bed.rows("documents WHERE inline_blob IS NOT NULL")?, 1, "the small one in its row");
    assert_eq!(bed.blob_files().len(), 1, "the other one a file, and no staging file left");

    assert_eq!(bed.gw.read_document(&jan, &draft.id, "small.pdf", None).await?.read_all().await?, small);
    let part = bed.gw.read_document(&jan, &draft.id, "small.pdf", Some(5..2000)).await?.read_all().await?;
    assert_eq!(part, small[5..2000]);
    assert_eq!(bed.gw.read_document(&jan, &draft.id, "big.pdf", None).await?.read_all().await?, big);
    Ok(())
}

#[tokio::test]
async fn of_two_connections_writing_one_document_the_second_to_finish_is_refused() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "twice").await?;
    let mut first = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::New).await?;
    first.write(&pdf("from the first connection")).await?;
    let mut second = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::Resume).await?;
    assert_eq!(second.offset(), 0, "nothing of the first is stored yet");
    second.write(&pdf("from the second connection")).await?;
    second.finish().await?;
    let late = first.finish().await;
    assert!(matches!(late, Err(Error::NotFound)), "{late:?}");
    let read = bed.gw.read_document(&jan, &draft.id, "a.pdf", None).await?.read_all().await?;
    assert_eq!(read, pdf("from the second connection"));
    assert_eq!(bed.gw.documents(&jan, &draft.id).await?.len(), 1);
    Ok(())
}

async fn stored_blob(bed: &Bed) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let blobs: Vec<_> = bed.blob_files().into_iter().filter(|p| !p.to_string_lossy().contains("staging")).collect();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    Ok(blobs[0].clone())
}

#[tokio::test]
async fn a_flipped_byte_or_a_truncation_makes_the_read_fail() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "tamper").await?;
    let content = marked(200_000);
    bed.put(&jan, &draft.id, "a.pdf", &content).await?;
    assert_eq!(bed.gw.read_document(&jan, &draft.id, "a.pdf", None).await?.read_all().await?, content);
    let blob = stored_blob(&bed).await?;
    let original = std::fs::read(&blob)?;

    let mut flipped = original.clone();
    flipped[original.len() / 2] ^= 0x01;
    std::fs::write(&blob, &flipped)?;
    let read = async { bed.gw.read_document(&jan, &draft.id, "a.pdf", None).await?.read_all().await };
    assert!(matches!(read.await, Err(Error::Corrupt)));

    std::fs::write(&blob, &original[..original.len() - 1])?;
    let read = async { bed.gw.read_document(&jan, &draft.id, "a.pdf", None).await?.read_all().await };
    assert!(read.await.is_err(), "a truncated blob must not read");

    std::fs::write(&blob, &original)?;
    assert_eq!(bed.gw.read_document(&jan, &draft.id, "a.pdf", None).await?.read_all().await?, content);
    Ok(())
}

#[tokio::test]
async fn an_upload_resumes_at_the_stored_offset() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "resume").await?;
    let content = marked(500_000);
    let mut up = bed.gw.begin_upload(&jan, &draft.id, "big.pdf", UploadMode::New).await?;
    up.write(&content[..200_000]).await?;
    let offset = up.suspend().await?;
    assert_eq!(offset, 196_608, "three whole chunks of 64 KiB are kept");
    let listed = bed.gw.documents(&jan, &draft.id).await?;
    assert_eq!((listed[0].state.as_str(), listed[0].size), ("uploading", 196_608));
    assert!(matches!(bed.gw.read_document(&jan, &draft.id, "big.pdf", None).await, Err(Error::Conflict(_))));

    let mut again = bed.gw.begin_upload(&jan, &draft.id, "big.pdf", UploadMode::Resume).await?;
    assert_eq!(again.offset(), offset);
    let gap = again.write_at(offset + 10, b"x").await;
    assert!(matches!(gap, Err(Error::Invalid(_))), "a gap is refused: {gap:?}");
    again.write_at(150_000, &content[150_000..]).await?;
    let doc = again.finish().await?;
    assert_eq!(doc.size, 500_000);
    let expected = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &content);
    assert_eq!(doc.sha256, Some(data_encoding::HEXLOWER.encode(expected.as_ref())));
    assert_eq!(bed.gw.documents(&jan, &draft.id).await?, vec![doc], "what finish answers is what the row holds");
    assert_eq!(bed.gw.read_document(&jan, &draft.id, "big.pdf", None).await?.read_all().await?, content);
    Ok(())
}

#[tokio::test]
async fn an_interrupted_write_is_invisible_and_the_next_start_sweeps_orphans() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "crash").await?;
    {
        let mut up = bed.gw.begin_upload(&jan, &draft.id, "cut.pdf", UploadMode::New).await?;
        // A batch of 1 MiB is sealed into the staging file, the rest is
        // still in memory when the upload is
        up.write(&marked(1_200_000)).await?;
        // dropped here, as when a connection or the process dies mid-write
    }
    assert!(matches!(bed.gw.read_document(&jan, &draft.id, "cut.pdf", None).await, Err(Error::Conflict(_))));
    assert_eq!(bed.gw.outbox_bytes(&jan).await?, 0, "not counted as a document");

    // A blob staged by a process that died before its database row was written.
    let store = Store::open_local(bed.dir.path(), 0)?;
    let orphan = BlobId::generate()?;
    let mut w = store.stage(&orphan, &DocumentKey::generate()?).await?;
    w.write(&[7u8; 70_000]).await?;
    w.suspend().await?;
    assert_eq!(bed.blob_files().len(), 2, "the interrupted upload and the orphan");

    let restarted = bed.restart().await?;
    restarted.run_lifecycle().await?;
    assert_eq!(bed.blob_files().len(), 1, "the orphan is swept, the resumable upload kept");
    let mut resumed = restarted.begin_upload(&jan, &draft.id, "cut.pdf", UploadMode::Resume).await?;
    let offset = resumed.offset();
    assert_eq!(offset, 1 << 20, "resumes after the sealed batch");
    let content = marked(1_200_000);
    resumed.write_at(offset, &content[usize::try_from(offset)?..]).await?;
    resumed.suspend().await?;

    bed.advance(Duration::from_secs(3600));
    restarted.run_lifecycle().await?;
    assert!(bed.blob_files().is_empty(), "after the window the unfinished upload goes too");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_finished_while_the_sweep_runs_are_never_taken() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "busy").await?;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sweeper = tokio::spawn({
        let (gw, done) = (bed.gw.clone(), done.clone());
        async move {
            let mut runs = 0u32;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                gw.run_lifecycle().await?;
                runs += 1;
            }
            Ok::<u32, gateway::Error>(runs)
        }
    });
    for i in 0..300 {
        let mut up = bed.gw.begin_upload(&jan, &draft.id, &format!("d{i}.pdf"), UploadMode::New).await?;
        up.write(&marked(3_000 + i)).await?;
        up.finish().await?;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs = sweeper.await??;
    assert!(runs > 10, "the sweep ran alongside the uploads ({runs} runs)");
    for i in 0..300 {
        let read = bed.gw.read_document(&jan, &draft.id, &format!("d{i}.pdf"), None).await?.read_all().await?;
        assert_eq!(read, marked(3_000 + i), "d{i}.pdf");
    }
    Ok(())
}

#[tokio::test]
async fn removing_a_document_takes_its_unfinished_replacement_too() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "replaced").await?;
    bed.put(&jan, &draft.id, "a.pdf", &pdf("first")).await?;
    let mut replacement = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::Replace).await?;
    replacement.write(&marked(100_000)).await?;
    replacement.suspend().await?;
    assert_eq!(bed.gw.documents_named(&jan, &draft.id, "a.pdf").await?.len(), 2, "the document and its replacement");
    assert_eq!(bed.stored()?, 2);

    bed.gw.remove_document(&jan, &draft.id, "a.pdf").await?;
    assert!(bed.gw.documents(&jan, &draft.id).await?.is_empty());
    assert_eq!(bed.stored()?, 0, "neither the blob nor the staged replacement is left");
    assert!(matches!(bed.gw.remove_document(&jan, &draft.id, "a.pdf").await, Err(Error::NotFound)));
    Ok(())
}

#[tokio::test]
async fn expiry_refuses_access_at_once_and_the_purge_keeps_the_metadata() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let id = bed.draft(&jan, "expiring", "kees@minvws.nl", None, &[("a.pdf", &pdf("a")), ("b.txt", b"bee\n")]).await?;
    bed.gw.send(&jan, &id).await?;
    let before = bed.gw.report(&jan, &id).await?;
    bed.advance(Duration::from_secs(5 * 86400 - 1));
    assert!(bed.gw.read_document(&kees, &id, "a.pdf", None).await.is_ok(), "one second before expiry");
    bed.advance(Duration::from_secs(1));
    let refused = bed.gw.read_document(&kees, &id, "a.pdf", None).await;
    assert!(matches!(refused, Err(Error::Expired)), "refused from the instant, before any purge: {refused:?}");
    assert_eq!(bed.stored()?, 2, "the purge has not run yet");

    let report = bed.gw.run_lifecycle().await?.ok_or("lease")?;
    assert_eq!(report.expired, 1);
    assert_eq!(bed.stored()?, 0, "no blob of the transfer remains, in a file or in a row");
    let after = bed.gw.report(&jan, &id).await?;
    assert_eq!(after.documents.len(), 2);
    for (old, new) in before.documents.iter().zip(&after.documents) {
        assert_eq!((&old.name, old.size, &old.sha256), (&new.name, new.size, &new.sha256));
        assert_eq!(new.state, gateway::upload::DocumentState::Deleted);
        assert!(new.deleted_at.is_some(), "the report records when");
    }
    assert!(after.events.iter().any(|e| e.kind == "transfer-expired"));
    assert!(matches!(bed.gw.read_document(&kees, &id, "a.pdf", None).await, Err(Error::Expired)));
    Ok(())
}

/// Two processes on one database (an operator's command beside `serve`):
/// their writes wait for each other, none fails because the other wrote
/// between its read and its write.
#[tokio::test]
async fn two_gateways_on_one_database_write_side_by_side() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let other = bed.restart().await?;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..40 {
        let gw = if i % 2 == 0 { bed.gw.clone() } else { other.clone() };
        let jan = jan.clone();
        set.spawn(async move { gw.create_draft(&jan, &format!("draft {i}")).await.map(|_| ()) });
    }
    let mut failed = Vec::new();
    while let Some(outcome) = set.join_next().await {
        if let Err(e) = outcome? {
            failed.push(e.to_string());
        }
    }
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(bed.gw.list(&jan, gateway::Folder::Outbox).await?.len(), 40);
    Ok(())
}

/// The lifecycle lease is held only while the jobs run: a node that stops
/// (or is killed) between two rounds leaves nothing to wait for, and one
/// node's round never overlaps another's.
#[tokio::test]
async fn the_lifecycle_jobs_lease_is_held_only_while_they_run() -> TestResult {
    let bed = Bed::new().await?;
    let other = bed.restart().await?;
    bed.gw.run_lifecycle().await?.ok_or("the lease was free")?;
    // Were the first node killed now, the other would not wait for it.
    other.run_lifecycle().await?.ok_or("free again after the first node's round")?;
    bed.gw.run_lifecycle().await?.ok_or("and back")?;
    Ok(())
}

/// A draft withdrawn on one connection while another uploads into it (and
/// swept, its staged bytes deleted, from the data folder or the object
/// store): the upload ends saying the message was withdrawn, not with a
/// store failure, and nothing of it stays.
#[tokio::test]
async fn an_upload_into_a_draft_withdrawn_meanwhile_ends_saying_so() -> TestResult {
    for bed in [Bed::new().await?, Bed::on_object_store().await?] {
        let jan = bed.staff("jan@minvws.nl").await?;
        let draft = bed.gw.create_draft(&jan, "withdrawn").await?;
        let mut upload = bed.gw.begin_upload(&jan, &draft.id, "big.pdf", UploadMode::New).await?;
        let mut body = pdf("withdrawn while uploading");
        body.resize(20 << 20, b'x');
        upload.write(&body[..10 << 20]).await?;
        assert_eq!(bed.in_store().await?, 1, "the upload is staged (object store: {})", bed.store.is_some());
        bed.gw.discard_draft(&jan, &draft.id).await?;
        bed.gw.run_lifecycle().await?.ok_or("the lease was free")?;
        let written = upload.write(&body[10 << 20..]).await;
        let ended = match written {
            Ok(()) => upload.finish().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match ended {
            Err(Error::Aborted(reason)) => assert!(reason.contains("withdrawn"), "{reason}"),
            other => panic!("the upload ends saying the draft was withdrawn: {other:?}"),
        }
        bed.gw.run_lifecycle().await?.ok_or("the lease was free")?;
        assert_eq!(bed.stored()?, 0, "no document keeps sealed bytes");
        assert_eq!(bed.in_store().await?, 0, "nothing stays in the store (object store: {})", bed.store.is_some());
    }
    Ok(())
}
