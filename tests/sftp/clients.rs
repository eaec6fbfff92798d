//! How real SFTP clients upload by default, each ending in a draft that holds
//! exactly the bytes sent and is sent: both rclones (Debian's writes in
//! place, the current one through `name.XXXXXX.partial`) and WinSCP's
//! transfer to `name.filepart`, cut off and resumed (replayed with paramiko).

use serde_json::json;

use crate::door::{Koerier, TestResult, pdf, text};
use crate::rclone::{self, Rclone, Release, Remote};

/// `rclone copy` of a folder into a draft, read back, `rclone moveto` into
/// /sent: the recipient gets the mail and the SMS.
fn rclone_round_trip(release: Release) -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let rclone = Rclone::new(release, Remote::sftp(k.port, &jan.email, &jan.password))?;
    let work = tempfile::tempdir()?;
    rclone::copy_check_and_send(&rclone, work.path(), "dossier")?;
    assert!(rclone::recipient_told(&k.path().join("data")), "piet gets the mail and the SMS code");
    k.stop()
}

#[test]
fn debian_rclone_copies_a_folder_into_a_draft_over_sftp_and_sends_it() -> TestResult {
    rclone_round_trip(Release::Debian)
}

#[test]
fn current_rclone_copies_a_folder_into_a_draft_over_sftp_and_sends_it() -> TestResult {
    rclone_round_trip(Release::Current)
}

/// A PDF of about 300 KB: over WinSCP's 100 KB threshold, so it goes through a
/// `.filepart`, and several 64 KiB chunks long.
fn big_pdf() -> Vec<u8> {
    let mut doc = pdf("winscp");
    doc.extend((0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    doc
}

/// WinSCP's default upload of a file over 100 KB: "transfer to temporary
/// filename" writes `report.pdf.filepart`, sets its times, then renames it to
/// `report.pdf`; a transfer cut off is resumed by reopening the `.filepart`
/// and appending from its size. WinSCP documentation: "Resume transfer"
/// (winscp.net/eng/docs/resume), Preferences > Endurance
/// (docs/ui_pref_resume: SFTP only), and TransferResumeSupport
/// (docs/library_transferresumesupport: by default "all files above 100 KB").
#[test]
fn winscp_uploads_through_a_filepart_resumes_it_after_a_cut_and_renames_it() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let doc = big_pdf();
    std::fs::write(w.join("report.pdf"), &doc)?;
    let out = k.sftp_batch(&jan, w, "mkdir outbox/w\n")?;
    assert!(out.status.success(), "{}", text(&out));

    let seen = k.paramiko(
        "client.py",
        json!({"user": jan.email, "password": jan.password, "action": "winscp-upload",
               "dir": "/outbox/w", "name": "report.pdf", "file": w.join("report.pdf"), "cut_at": 200_000}),
    )?;
    let resumed_from = seen["resumed_from"].as_u64().ok_or(format!("no resume offset: {seen}"))?;
    assert!(resumed_from % 65_536 == 0 && resumed_from <= 200_000, "what was safely stored before the cut: {seen}");
    let listing = seen["listing"].as_object().ok_or(format!("no listing: {seen}"))?;
    assert_eq!(listing.get("report.pdf"), Some(&json!(doc.len())), "report.pdf with its full size: {seen}");
    assert!(!listing.keys().any(|n| n.ends_with(".filepart")), "no .filepart left: {seen}");
    assert_eq!(seen["sha256"], crate::sha256_hex(&doc)?, "report.pdf reads back whole: {seen}");

    std::fs::write(w.join("message.txt"), rclone::MESSAGE)?;
    let out = k.sftp_batch(&jan, w, "put message.txt outbox/w/message.txt\nrename outbox/w sent/w\nls sent\n")?;
    assert!(out.status.success() && text(&out).contains("sent/w"), "the draft sends: {}", text(&out));
    assert!(rclone::recipient_told(&k.path().join("data")), "piet gets the mail and the SMS code");
    k.stop()
}
