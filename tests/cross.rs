//! Across the doors: a message composed through one door and redeemed on the
//! web by its external recipient, with real clients at every step (OpenSSH
//! `sftp`, curl as the recipient's browser) against one `koerier serve`. The
//! documents arrive byte for byte, so every door reads and writes the same
//! core. The server and the SFTP clients are `tests/sftp/`'s; the mail, the
//! SMS and the browser are read and played as in `tests/web.rs`.

#[path = "binary/browser.rs"]
mod browser;
#[path = "sftp/mod.rs"]
mod door;
#[path = "binary/mail.rs"]
mod mail;
#[path = "binary/sms.rs"]
mod sms;

use std::path::Path;
use std::time::Duration;

use browser::{Browser, sha256};
use door::{Error, Koerier, TestResult, need, pdf, text, wait_until};

/// The envelope of the drafts: an external recipient, so a link and a code.
const MESSAGE: &str = "To: Piet Pieters <piet@example.org>\nPhone: 06 12345678\nSubject: Dossier 12\n\
                       Reference: K-12\nLanguage: en\n\nHere are the documents.\n";

/// A PDF of about 3 MB whose bytes do not repeat: many 64 KiB chunks.
fn big_pdf(marker: &str) -> Vec<u8> {
    let mut big = pdf(marker);
    big.extend((0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    big
}

/// The recipient's side: the link from the real mail to Piet, the code from
/// the real SMS to his number, the code posted with the page's CSRF token,
/// then `name` downloaded over HTTPS into `to`.
fn piet_redeems_and_downloads(k: &Koerier, name: &str, to: &Path) -> Result<String, Error> {
    let prefix = k.url("/l/");
    let link_in_mail = || -> Option<String> {
        let mails = mail::mails(&k.path().join("data/mail")).ok()?;
        let notice = mails.iter().find(|m| mail::header(m, "To") == Some("piet@example.org"))?;
        mail::secret_after(notice, &prefix)
    };
    let delivered =
        wait_until(Duration::from_secs(30), || link_in_mail().is_some() && sms::count(&k.path().join("data/sms")) > 0);
    assert!(delivered, "a mail with the link and an SMS for Piet: {:?}", mail::mails(&k.path().join("data/mail")));
    let link = format!("{prefix}{}", link_in_mail().ok_or("no link")?);
    let (code, number) = sms::latest_code(&k.path().join("data/sms"))?;
    assert_eq!(number, "+31612345678", "the code goes to the number in message.txt");

    let piet = Browser::new(k.path(), "piet");
    piet.redeem(&link, &code)?;
    let (status, _, page) = piet.request(&[&link])?;
    let page = String::from_utf8_lossy(&page).into_owned();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Here are the documents.") && page.contains(name), "the download page: {page}");
    let status = piet.download(&link, name, to)?;
    assert_eq!(status, 200, "the download of {name}");
    Ok(page)
}

#[test]
fn a_draft_made_over_openssh_sftp_is_redeemed_on_the_web_with_the_code() -> TestResult {
    need("sha256sum")?;
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    std::fs::write(w.join("dossier-12.pdf"), big_pdf("over sftp, to the web"))?;
    std::fs::write(w.join("message.txt"), MESSAGE)?;

    let out = k.sftp_batch(
        &jan,
        w,
        "mkdir outbox/x\nput dossier-12.pdf outbox/x/\nput message.txt outbox/x/message.txt\n\
         rename outbox/x sent/x\nls sent/x\n",
    )?;
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("sent/x/dossier-12.pdf"), "sent: {said}");

    let got = w.join("got.pdf");
    let page = piet_redeems_and_downloads(&k, "dossier-12.pdf", &got)?;
    let original = sha256(&w.join("dossier-12.pdf"))?;
    assert_eq!(sha256(&got)?, original, "the document arrives intact");
    assert!(page.contains(&original), "the download page shows the SHA-256 the sender put in");
    k.stop()
}
