//! Reports: the PDF names everything that happened to a message in the
//! reader's language, prints names in any of our scripts, breaks long tables
//! over pages; the signed proof verifies and any change breaks it; only the
//! sender, an admin or the holder of a report link reads a report.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use diesel::RunQueryDsl;
use gateway::outbox::Failure;
use gateway::report::proof::{self, ProofError, Statement};
use gateway::report::{Direction, Period};
use gateway::{Door, Error, Folder, Language, Origin, Role, Session, Timestamp, TransferId};

use crate::bed::{Bed, START, TestResult, pdf};

type Boxed<T> = Result<T, Box<dyn std::error::Error>>;

/// The text of a PDF (or of its pages `first..=last`), as `pdftotext` reads it.
fn pdf_text(dir: &Path, bytes: &[u8], pages: Option<(usize, usize)>) -> Boxed<String> {
    let file = dir.join(format!("report-{}.pdf", std::process::id()));
    std::fs::write(&file, bytes)?;
    let mut command = Command::new("pdftotext");
    if let Some((first, last)) = pages {
        command.args(["-f", &first.to_string(), "-l", &last.to_string()]);
    }
    let out = command.arg("-enc").arg("UTF-8").arg(&file).arg("-").output()?;
    if !out.status.success() {
        return Err(format!("pdftotext failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// How many pages `pdfinfo` counts.
fn page_count(dir: &Path, bytes: &[u8]) -> Boxed<usize> {
    let file = dir.join("count.pdf");
    std::fs::write(&file, bytes)?;
    let out = Command::new("pdfinfo").arg(&file).output()?;
    let info = String::from_utf8(out.stdout)?;
    let pages = info.lines().find_map(|l| l.strip_prefix("Pages:")).ok_or("pdfinfo shows no page count")?;
    Ok(pages.trim().parse()?)
}

/// Send two documents to an outsider, who enters a wrong code, then the
/// right one, and downloads one; one notification is delivered and one given up.
async fn collected(bed: &Bed) -> Boxed<(Session, TransferId)> {
    let jan = bed.staff("jan@minvws.nl").await?;
    let docs: [(&str, &[u8]); 2] = [("contract.pdf", &pdf("contract")), ("notes.txt", b"plain notes\n")];
    let id = bed.draft(&jan, "dossier-12", "Piet Puk <piet@example.org>", Some("0612345678"), &docs).await?;
    bed.gw.send(&jan, &id).await?;
    let secret = bed.param("transfer-notice", "link_secret").await?;
    let code = bed.param("sms-code", "code").await?;
    let web = Origin::new(Door::Web, Some("192.0.2.7".parse()?));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(matches!(bed.gw.redeem_with_code(&secret, wrong, web).await, Err(Error::BadCredentials)));
    bed.advance(Duration::from_secs(60));
    let grant = bed.gw.redeem_with_code(&secret, &code, web).await?;
    bed.gw.read_as_recipient(&grant, "contract.pdf", None, web).await?.read_all().await?;
    let notice = bed.queued("transfer-notice").await?.pop().ok_or("no notice")?;
    bed.gw.mark_delivered(&notice.id).await?;
    let sms = bed.queued("sms-code").await?.pop().ok_or("no sms")?;
    bed.gw.record_failure(&sms.id, Failure::Permanent("number unknown".into())).await?;
    Ok((jan, id))
}

#[tokio::test]
async fn the_pdf_names_every_field_in_both_languages() -> TestResult {
    let bed = Bed::new().await?;
    let (jan, id) = collected(&bed).await?;
    let data = bed.gw.report(&jan, &id).await?;
    let contract = data.documents.iter().find(|d| d.name == "contract.pdf").ok_or("no contract")?;
    let sha = contract.sha256.clone().ok_or("no checksum")?;
    let sent = "2026-11-23 09:00:00 UTC";
    let expires = "2026-11-28 09:00:00 UTC";
    let printed = "2026-11-23 09:01:00 UTC";
    let common = [
        "jan@minvws.nl",
        "Piet Puk <piet@example.org>",
        "+31 ••••••••78",
        "Dossier 12",
        "REF-7",
        "dossier-12",
        sent,
        expires,
        printed,
        "contract.pdf",
        "notes.txt",
        &sha,
        "192.0.2.7",
        "number unknown",
    ];
    let words: [(Language, &[&str]); 2] = [
        (
            Language::En,
            &[
                "Delivery report",
                "Sender",
                "Recipient",
                "Subject",
                "Reference",
                "Sent through",
                "command line",
                "Available until",
                "Content check",
                "matches",
                "Key destroyed",
                "Downloads (1)",
                "Proved by",
                "SMS code",
                "web",
                "IP address",
                "Recipient's identity",
                "Wrong codes",
                "1 (2026-11-23 09:00:00",
                "Lockouts",
                "Notifications",
                "1 delivered, 1 given up",
                "Deletion",
                "The documents will be deleted at",
                "wrong code",
                "notification not delivered",
                "Printed",
                "page 1 of",
            ],
        ),
        (
            Language::Nl,
            &[
                "Verzendrapport",
                "Afzender",
                "Ontvanger",
                "Onderwerp",
                "Kenmerk",
                "Verstuurd via",
                "opdrachtregel",
                "Beschikbaar tot",
                "Inhoudscontrole",
                "klopt",
                "Sleutel vernietigd",
                "Downloads (1)",
                "Bewezen met",
                "sms-code",
                "IP-adres",
                "Identiteit ontvanger",
                "Foute codes",
                "Blokkades",
                "Meldingen",
                "1 afgeleverd, 1 opgegeven",
                "Verwijdering",
                "De documenten worden verwijderd op",
                "foute code",
                "melding niet afgeleverd",
                "Afgedrukt",
                "pagina 1 van",
            ],
        ),
    ];
    for (language, own) in words {
        let bytes = bed.gw.report_pdf(&data, language).await?;
        let text = pdf_text(bed.dir.path(), &bytes, None)?;
        for word in common.iter().chain(own) {
            assert!(text.contains(word), "{language:?}: {word:?} missing from\n{text}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn names_in_greek_cyrillic_and_with_dutch_diacritics_come_back_intact() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let names = ["Συμβόλαιο υπογεγραμμένο.pdf", "Договор о поставке.pdf", "Één café-rapport, ĳverig geëxporteerd.pdf"];
    let docs: Vec<(&str, Vec<u8>)> = names.iter().map(|n| (*n, pdf(n))).collect();
    let docs: Vec<(&str, &[u8])> = docs.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let id = bed.draft(&jan, "scripts", "Ἀθηνᾶ Παππᾶ <athina@example.org>", Some("0612345678"), &docs).await?;
    bed.gw.send(&jan, &id).await?;
    let data = bed.gw.report(&jan, &id).await?;
    let bytes = bed.gw.report_pdf(&data, Language::Nl).await?;
    let text = pdf_text(bed.dir.path(), &bytes, None)?;
    for name in names.iter().chain(&["Ἀθηνᾶ Παππᾶ <athina@example.org>"]) {
        assert!(text.contains(name), "{name:?} missing from\n{text}");
    }
    Ok(())
}

#[tokio::test]
async fn a_500_document_report_is_paged_with_headers_and_stays_small() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let id = bed.gw.create_draft(&jan, "many").await?.id;
    let single = bed.draft(&jan, "one", "kees@minvws.nl", None, &[("only.pdf", &pdf("only"))]).await?;
    bed.gw.send(&jan, &single).await?;
    let envelope = bed.gw.envelope(&jan, &single).await?;
    bed.gw.set_envelope(&jan, &id, envelope).await?;
    for i in 0..500 {
        bed.put(&jan, &id, &format!("bijlage-{i:03} van het dossier.pdf"), &pdf(&i.to_string())).await?;
    }
    bed.gw.send(&jan, &id).await?;
    let one = bed.gw.report_pdf(&bed.gw.report(&jan, &single).await?, Language::En).await?;
    let data = bed.gw.report(&jan, &id).await?;
    let many = bed.gw.report_pdf(&data, Language::En).await?;
    eprintln!("report sizes: 1 document {} bytes, 500 documents {} bytes", one.len(), many.len());
    assert!(many.len() < 1 << 20, "a 500-document report is {} bytes", many.len());
    assert!(one.len() < 100 << 10, "a 1-document report is {} bytes", one.len());

    let dir = bed.dir.path();
    let pages = page_count(dir, &many)?;
    assert!(pages > 10, "500 documents on {pages} pages");
    let whole = pdf_text(dir, &many, None)?;
    for d in &data.documents {
        assert!(whole.contains(&d.name), "{} missing", d.name);
        assert!(whole.contains(d.sha256.as_deref().ok_or("no checksum")?), "checksum of {} missing", d.name);
    }
    let mut with_header = 0;
    for page in 2..=pages {
        let text = pdf_text(dir, &many, Some((page, page)))?;
        assert!(text.contains(&format!("page {page} of {pages}")), "page {page} has no number:\n{text}");
        assert!(text.contains("Delivery report · many"), "page {page} has no running header");
        if data.documents.iter().any(|d| d.sha256.as_deref().is_some_and(|sha| text.contains(sha))) {
            assert!(text.contains("Name and SHA-256") && text.contains("Content check"), "no header on {page}");
            with_header += 1;
        }
    }
    assert!(with_header >= 10, "the documents table spans {with_header} continuation pages");
    let file = dir.join("render.pdf");
    std::fs::write(&file, &many)?;
    let rendered = Command::new("pdftoppm").args(["-r", "40", "-png"]).arg(&file).arg(dir.join("page")).status()?;
    assert!(rendered.success(), "pdftoppm renders the report");
    let pngs = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("page") && e.metadata().is_ok_and(|m| m.len() > 500))
        .count();
    assert_eq!(pngs, pages, "every page renders");
    Ok(())
}

#[tokio::test]
async fn a_proof_verifies_and_any_changed_byte_or_checksum_fails() -> TestResult {
    let bed = Bed::new().await?;
    let (jan, id) = collected(&bed).await?;
    let data = bed.gw.report(&jan, &id).await?;
    let key = bed.gw.report_key();
    let signed = bed.gw.report_proof(&data)?;
    let bytes = signed.as_bytes().to_vec();
    let verified = proof::verify(&bytes, Some(&key.fingerprint))?;
    assert_eq!(verified.fingerprint, key.fingerprint);
    let Statement::Message(statement) = &verified.statement else { return Err("not a message report".into()) };
    assert_eq!(statement.documents.len(), 2);
    assert_eq!(statement.downloads.len(), 1);
    assert!(verified.summary().iter().any(|l| l.contains("piet@example.org")));

    for i in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[i] ^= 0x01;
        assert!(proof::verify(&changed, None).is_err(), "a change at byte {i} went unnoticed");
    }
    let sha = data.documents[0].sha256.clone().ok_or("no checksum")?;
    let flipped = sha.replacen(&sha[..1], if sha.starts_with('0') { "1" } else { "0" }, 1);
    let forged = String::from_utf8(bytes.clone())?.replace(&sha, &flipped);
    assert_eq!(proof::verify(forged.as_bytes(), None), Err(ProofError::BadSignature));
    let other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(matches!(proof::verify(&bytes, Some(other)), Err(ProofError::OtherKey { .. })));

    let pdf = bed.gw.report_pdf(&data, Language::En).await?;
    assert_eq!(proof::verify(&pdf, Some(&key.fingerprint))?.statement, verified.statement, "the PDF carries it");
    assert_eq!(bed.restart().await?.report_key(), key, "the signing key is kept across restarts");
    Ok(())
}

#[tokio::test]
async fn after_expiry_the_report_keeps_every_checksum_and_states_the_deletion() -> TestResult {
    let bed = Bed::new().await?;
    let (jan, id) = collected(&bed).await?;
    bed.advance(Duration::from_secs(5 * 24 * 3600));
    bed.gw.run_lifecycle().await?.ok_or("the lease was free")?;
    let data = bed.gw.report(&jan, &id).await?;
    assert_eq!(data.documents.len(), 2);
    let deleted = Timestamp::from_millis(START + 60_000 + 5 * 24 * 3_600_000);
    for d in &data.documents {
        assert_eq!(d.deleted_at, Some(deleted), "{} has its deletion time", d.name);
        assert!(d.sha256.is_some(), "{} keeps its checksum", d.name);
    }
    let text = pdf_text(bed.dir.path(), &bed.gw.report_pdf(&data, Language::En).await?, None)?;
    assert!(text.contains("The keys of the documents were destroyed at 2026-11-28 09:01:00 UTC"), "{text}");
    assert!(text.contains("Expired at") && text.contains("expired, keys destroyed"), "{text}");
    for d in &data.documents {
        assert!(text.contains(d.sha256.as_deref().unwrap_or("?")), "{text}");
    }
    let Statement::Message(m) = proof::verify(bed.gw.report_proof(&data)?.as_bytes(), None)?.statement else {
        return Err("not a message report".into());
    };
    assert!(m.documents.iter().all(|d| d.deleted_at.as_deref() == Some("2026-11-28T09:01:00.000Z")));
    Ok(())
}

/// Turn a draft into a public delivery, as the public upload page will make
/// them, so that sending it makes a report link.
async fn make_public_delivery(bed: &Bed, id: &str) -> Boxed<()> {
    let db = gateway::db::Db::connect(&bed.database_url)?;
    let id = id.to_owned();
    db.write(move |conn| {
        diesel::sql_query(format!("UPDATE transfers SET kind = 'public-delivery' WHERE id = '{id}'"))
            .execute(conn)
            .map_err(gateway::Error::from)
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn only_the_parties_an_admin_or_the_report_link_read_a_report() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    let boss = bed.account("boss@minvws.nl", Role::Admin).await?;
    let id = bed.draft(&jan, "for-kees", "kees@minvws.nl", None, &[("a.pdf", &pdf("a"))]).await?;
    bed.gw.send(&jan, &id).await?;
    assert_eq!(bed.gw.report(&jan, &id).await?.transfer.id, id);
    let received = bed.gw.report(&kees, &id).await?;
    assert_eq!(
        (received.transfer.id.as_str(), received.transfer.folder),
        (id.as_str(), Folder::Inbox),
        "a colleague reads the report of what they received"
    );
    let piet = bed.staff("piet@minvws.nl").await?;
    assert!(matches!(bed.gw.report(&piet, &id).await, Err(Error::NotFound)), "a stranger learns nothing");
    assert_eq!(bed.gw.report(&boss, &id).await?.transfer.id, id, "an admin reads any report");
    assert_eq!(bed.gw.report_as_admin(&bed.admin, &id).await?.transfer.id, id);

    let delivery = bed.draft(&jan, "delivery", "kees@minvws.nl", None, &[("b.pdf", &pdf("b"))]).await?;
    make_public_delivery(&bed, delivery.as_str()).await?;
    bed.gw.send(&jan, &delivery).await?;
    let report_secret = bed.param("delivery-confirmation", "report_secret").await?;
    assert_eq!(bed.gw.report_by_link(&report_secret).await?.transfer.id, delivery);
    let recipient_secret = bed.param("transfer-notice", "link_secret").await?;
    assert!(matches!(bed.gw.report_by_link(&recipient_secret).await, Err(Error::NotFound)), "a recipient link");
    assert!(matches!(bed.gw.report_by_link("guessed").await, Err(Error::NotFound)));
    bed.advance(Duration::from_secs(6 * 24 * 3600));
    bed.gw.run_lifecycle().await?;
    assert_eq!(bed.gw.report_by_link(&report_secret).await?.documents.len(), 1, "also after expiry");

    let all = Period::new(Timestamp::from_millis(0), Timestamp::from_millis(START + 1_000_000_000))?;
    assert!(bed.gw.overview(&piet, all).await?.entries.is_empty(), "an overview shows only one's own");
    assert_eq!(bed.gw.overview_as_admin(&bed.admin, "jan@minvws.nl", all).await?.entries.len(), 2);
    Ok(())
}

#[tokio::test]
async fn an_overview_lists_what_was_sent_and_received_in_the_period_over_pages() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;
    for i in 0..40 {
        let id = bed.draft(&jan, &format!("zending-{i:02}"), "kees@minvws.nl", None, &[("a.pdf", &pdf("a"))]).await?;
        bed.gw.send(&jan, &id).await?;
        bed.advance(Duration::from_secs(3600));
    }
    let back = bed.draft(&kees, "antwoord", "jan@minvws.nl", None, &[("b.pdf", &pdf("b"))]).await?;
    bed.gw.send(&kees, &back).await?;
    let from = Timestamp::from_millis(START + 3_600_000);
    let period = Period::new(from, Timestamp::from_millis(START + 100 * 3_600_000))?;
    let overview = bed.gw.overview(&jan, period).await?;
    assert_eq!(overview.entries.len(), 40, "39 sent in the period and one received");
    assert!(!overview.entries.iter().any(|e| e.name == "zending-00"), "before the period");
    assert_eq!(overview.entries.iter().filter(|e| e.direction == Direction::Received).count(), 1);
    assert_eq!(bed.gw.list(&jan, Folder::Sent).await?.len(), 40);

    let dir = bed.dir.path();
    let pdf = bed.gw.overview_pdf(&overview, Language::En).await?;
    let pages = page_count(dir, &pdf)?;
    assert!(pages >= 2, "40 messages on {pages} pages");
    for page in 1..=pages {
        let text = pdf_text(dir, &pdf, Some((page, page)))?;
        assert!(text.contains("With") && text.contains("Subject") && text.contains("Downloads"), "page {page}");
    }
    let text = pdf_text(dir, &pdf, None)?;
    for name in ["zending-01", "zending-39", "antwoord", "received", "Dossier 12", "Period", "Printed"] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    let nl = pdf_text(dir, &bed.gw.overview_pdf(&overview, Language::Nl).await?, None)?;
    assert!(nl.contains("Overzicht van berichten") && nl.contains("ontvangen") && nl.contains("Onderwerp"), "{nl}");
    let Statement::Overview(statement) = proof::verify(&pdf, None)?.statement else {
        return Err("not an overview".into());
    };
    assert_eq!(statement.messages.len(), 40);
    Ok(())
}
