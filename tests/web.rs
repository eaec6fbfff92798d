//! The web front end to end: the real binary serving HTTPS, `koerier send`
//! to an external recipient, the link from the real `.eml`, the code from the
//! real SMS file, and real clients (curl; headless Chromium through
//! Playwright in `tests/browser/`).

#[path = "binary/browser.rs"]
mod browser;
#[path = "binary/mail.rs"]
mod mail;
mod ports;
#[path = "web/server.rs"]
mod server;
#[path = "binary/sms.rs"]
mod sms;

use std::process::Command;
use std::time::{Duration, Instant};

use server::{Browser, Server, TestResult, header, need, sha256};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// A document large enough for ranges over several 64 KiB chunks.
fn big_text() -> Vec<u8> {
    (0..200_000u32).flat_map(|i| format!("{i:06}\n").into_bytes()).collect()
}

fn served_with_documents() -> Result<(Server, server::Sent), server::Error> {
    let mut s = Server::new(&[])?;
    std::fs::write(s.path().join("report.pdf"), PDF)?;
    std::fs::write(s.path().join("lijst van stukken.txt"), big_text())?;
    let sent = s.send("en", &["report.pdf", "lijst van stukken.txt"], &[])?;
    s.start()?;
    Ok((s, sent))
}

#[test]
fn the_link_code_and_downloads_with_curl() -> TestResult {
    let (s, sent) = served_with_documents()?;
    let b = Browser::new(s.path(), "piet");

    // Opening the link shows the code form with the secure headers.
    let (status, head, page) = b.request(&[&sent.link])?;
    assert_eq!(status, 200, "{head}");
    let text = String::from_utf8_lossy(&page);
    assert!(text.contains("Enter your code") && text.contains("+31 ••••••••78"), "{text}");
    assert_eq!(header(&head, "strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&head, "referrer-policy"), Some("no-referrer"));
    let csp = header(&head, "content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
    let cookie = header(&head, "set-cookie").unwrap_or_default();
    assert!(cookie.starts_with("__Host-") && cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict") && !cookie.contains("Max-Age"), "{cookie}");
    let csrf = Browser::csrf(&page)?;

    // A POST without the CSRF token, or with another one, is refused and evaluates nothing.
    let before = s.state()?;
    let (status, _, _) = b.request(&["-d", "code=123456", &format!("{}/code", sent.link)])?;
    assert_eq!(status, 403);
    let forged = format!("csrf={}&code=123456", "0".repeat(64));
    let (status, _, _) = b.request(&["-d", &forged, &format!("{}/code", sent.link)])?;
    assert_eq!(status, 403);
    let stranger = Browser::new(s.path(), "stranger");
    let (status, _, _) = stranger.request(&["-d", &format!("csrf={csrf}&code=1"), &format!("{}/code", sent.link)])?;
    assert_eq!(status, 403, "a token without its cookie");
    assert_eq!(s.state()?, before, "refused POSTs change nothing");

    // The right code gives the download page.
    let code = s.latest_code()?;
    let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}&code={code}"), &format!("{}/code", sent.link)])?;
    assert_eq!(status, 303, "{head}");
    let session = head.lines().filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).collect::<Vec<_>>();
    assert!(session.iter().any(|c| c.contains("__Host-koerier-session=") && c.contains("HttpOnly")), "{session:?}");
    let (status, _, page) = b.request(&[&sent.link])?;
    let text = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(text.contains("Your files") && text.contains("Hierbij de stukken."), "{text}");
    let pdf_sha = sha256(&s.path().join("report.pdf"))?;
    assert!(text.contains(&pdf_sha) && text.contains("lijst van stukken.txt"), "{text}");

    // Each document downloads intact, as an attachment with its name and type.
    let out = s.path().join("got.pdf");
    let (status, head, _) = b.request(&["-o", &out.to_string_lossy(), &format!("{}/d/report.pdf", sent.link)])?;
    assert_eq!(status, 200);
    assert_eq!(sha256(&out)?, pdf_sha);
    assert_eq!(header(&head, "content-type"), Some("application/pdf"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    let disposition = header(&head, "content-disposition").unwrap_or_default();
    assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''report.pdf"));
    let downloads = s.number("SELECT count(*) FROM downloads")?;
    assert_eq!(downloads, 1, "the download is recorded");
    assert_eq!(s.number("SELECT count(*) FROM downloads WHERE door = 'web' AND ip = '127.0.0.1'")?, 1);

    // HEAD: the headers only, and no download recorded.
    let url = format!("{}/d/lijst%20van%20stukken.txt", sent.link);
    let (status, head, body) = b.request(&["-I", "-o", "/dev/null", &url])?;
    let big = big_text();
    assert_eq!((status, body.len()), (200, 0));
    assert_eq!(header(&head, "content-length"), Some(big.len().to_string().as_str()));
    assert_eq!(header(&head, "accept-ranges"), Some("bytes"));
    assert!(header(&head, "content-disposition").unwrap_or_default().contains("lijst%20van%20stukken.txt"));
    assert_eq!(s.number("SELECT count(*) FROM downloads")?, downloads);

    // Range with `curl -r`: 206, Content-Range, the exact bytes; a resumed tail too.
    let (status, head, body) = b.request(&["-r", "100000-299999", &url])?;
    assert_eq!(status, 206, "{head}");
    assert_eq!(header(&head, "content-range"), Some(format!("bytes 100000-299999/{}", big.len()).as_str()));
    assert_eq!(body, big[100_000..300_000]);
    let (status, _, body) = b.request(&["-r", "-7", &url])?;
    assert_eq!((status, body.as_slice()), (206, &big[big.len() - 7..]));
    let (status, head, _) = b.request(&["-r", "99999999-", &url])?;
    assert_eq!(status, 416);
    assert_eq!(header(&head, "content-range"), Some(format!("bytes */{}", big.len()).as_str()));
    let part = s.path().join("part.txt");
    std::fs::write(&part, &big[..123_457])?;
    let (status, _, _) = b.request(&["-C", "-", "-o", &part.to_string_lossy(), &url])?;
    assert_eq!(status, 206);
    assert_eq!(std::fs::read(&part)?, big, "resumed to the whole document");

    // Download all: one zip with both documents.
    let zip = s.path().join("all.zip");
    let (status, head, _) = b.request(&["-o", &zip.to_string_lossy(), &format!("{}/all.zip?lang=en", sent.link)])?;
    assert_eq!((status, header(&head, "content-type")), (200, Some("application/zip")));
    assert!(header(&head, "content-disposition").is_some_and(|d| d.contains("documents.zip")), "{head}");
    let (_, head, _) = b.request(&["-I", &format!("{}/all.zip?lang=nl", sent.link)])?;
    assert!(header(&head, "content-disposition").is_some_and(|d| d.contains("documenten.zip")), "in Dutch: {head}");
    let listing = Command::new("unzip").arg("-Z1").arg(&zip).output()?;
    assert_eq!(String::from_utf8(listing.stdout)?, "lijst van stukken.txt\nreport.pdf\n");
    let tested = Command::new("unzip").arg("-tq").arg(&zip).output()?;
    assert!(tested.status.success(), "{}", String::from_utf8_lossy(&tested.stdout));

    // Without the session, a download sends the reader to the link page.
    let (status, head, _) = stranger.request(&[&format!("{}/d/report.pdf", sent.link)])?;
    assert_eq!(status, 303, "{head}");

    // The page names the sender and until when; "Downloaden" in Dutch.
    let (_, _, page) = b.request(&[&format!("{}?lang=nl", sent.link)])?;
    let text = String::from_utf8_lossy(&page);
    assert!(text.contains("Jan Jansen &lt;jan@minvws.nl&gt;") && text.contains("Beschikbaar tot"), "{text}");
    assert!(text.contains(">Downloaden</a>"), "{text}");

    // Metrics count requests and downloads; the probes answer.
    let (_, _, metrics) = b.request(&[&s.url("/metrics")])?;
    let metrics = String::from_utf8(metrics)?;
    assert!(metrics.contains("koerier_web_requests_total") && metrics.contains("koerier_outbox_pending"));
    assert!(!metrics.contains("koerier_web_downloads_total 0\n"), "{metrics}");
    assert_eq!(b.request(&[&s.url("/readyz")])?.0, 200);
    Ok(())
}

/// A folder sent to someone outside (`koerier send` with a folder, as the
/// drive sends one): the download page offers it as `Bijlagen.zip`, made as
/// it is read from the documents opened with the link's key, whole, from
/// the middle, and inside "download all"; its download is recorded.
/// Redirect after every POST: a wrong code and a new code are answered
/// with a redirect to the link, whose page says so once; reloading it counts
/// no second try and sends no second SMS.
#[test]
fn the_result_of_a_code_form_shows_once_and_a_reload_repeats_nothing() -> TestResult {
    let (s, sent) = served_with_documents()?;
    let b = Browser::new(s.path(), "piet");
    let (_, _, page) = b.request(&[&sent.link])?;
    let csrf = Browser::csrf(&page)?;
    let failed = "SELECT count(*) FROM audit_events WHERE kind = 'code-failed'";

    let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}&code=000000"), &format!("{}/code", sent.link)])?;
    assert_eq!(status, 303);
    assert!(header(&head, "location").is_some_and(|l| l.ends_with("#code")), "{head}");
    for shown in [true, false] {
        let (status, _, page) = b.request(&[&sent.link])?;
        assert_eq!(status, 200);
        assert_eq!(String::from_utf8_lossy(&page).contains("This code is not right"), shown);
        assert_eq!(s.number(failed)?, 1, "one wrong try, however often the page is loaded");
    }

    let sms = s.sms_count();
    let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}"), &format!("{}/new-code", sent.link)])?;
    assert!(status == 303 && header(&head, "location").is_some_and(|l| l.ends_with("#code")), "{head}");
    for shown in [true, false] {
        let (_, _, page) = b.request(&[&sent.link])?;
        assert_eq!(String::from_utf8_lossy(&page).contains("A new code was sent to"), shown);
    }
    assert!(wait_for(|| s.sms_count() == sms + 1), "one new code");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(s.sms_count(), sms + 1, "and only one");
    Ok(())
}

/// `/metrics` is the operator's: with a token set, only a request that
/// carries it reads the figures; anyone else finds no such page.
#[test]
fn metrics_answer_only_the_bearer_of_the_token() -> TestResult {
    let mut s = Server::new(&[("KOERIER_METRICS_TOKEN", "a-long-metrics-token-0123456789")])?;
    s.start()?;
    let b = Browser::new(s.path(), "prometheus");
    assert_eq!(b.request(&[&s.url("/metrics")])?.0, 404);
    assert_eq!(b.request(&["-H", "Authorization: Bearer wrong", &s.url("/metrics")])?.0, 404);
    let (status, _, body) =
        b.request(&["-H", "Authorization: Bearer a-long-metrics-token-0123456789", &s.url("/metrics")])?;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("koerier_web_requests_total"));
    Ok(())
}

fn wait_for(mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_folder_reaches_the_recipient_as_one_zip() -> TestResult {
    let mut s = Server::new(&[])?;
    let folder = s.path().join("Bijlagen");
    std::fs::create_dir_all(folder.join("2026"))?;
    std::fs::write(folder.join("scan.dat"), b"any type inside a folder\n")?;
    std::fs::write(folder.join("2026/notes"), big_text())?;
    std::fs::write(s.path().join("report.pdf"), PDF)?;
    let sent = s.send("en", &["Bijlagen", "report.pdf"], &[])?;
    s.start()?;
    let b = Browser::new(s.path(), "piet");
    let (_, _, page) = b.request(&[&sent.link])?;
    let csrf = Browser::csrf(&page)?;
    let code = s.latest_code()?;
    let (status, _, _) = b.request(&["-d", &format!("csrf={csrf}&code={code}"), &format!("{}/code", sent.link)])?;
    assert_eq!(status, 303);
    let (_, _, page) = b.request(&[&sent.link])?;
    let text = String::from_utf8_lossy(&page);
    assert!(text.contains("Bijlagen.zip") && !text.contains("scan.dat"), "{text}");

    let zip = s.path().join("got.zip");
    let url = format!("{}/d/Bijlagen.zip", sent.link);
    let (status, head, _) = b.request(&["-o", &zip.to_string_lossy(), &url])?;
    assert_eq!((status, header(&head, "content-type")), (200, Some("application/zip")));
    let listing = Command::new("unzip").arg("-Z1").arg(&zip).output()?;
    assert_eq!(
        String::from_utf8(listing.stdout)?,
        "Bijlagen/\nBijlagen/2026/\nBijlagen/2026/notes\nBijlagen/scan.dat\n"
    );
    let tested = Command::new("unzip").arg("-tq").arg(&zip).output()?;
    assert!(tested.status.success(), "{}", String::from_utf8_lossy(&tested.stdout));
    // Every entry, folders too, is dated when it was sent, not 1980: the
    // MS-DOS date of each local header (signature PK\x03\x04, date at 12).
    let bytes = std::fs::read(&zip)?;
    let headers: Vec<usize> =
        bytes.windows(4).enumerate().filter(|(_, w)| *w == b"PK\x03\x04").map(|(i, _)| i).collect();
    assert_eq!(headers.len(), 4, "four entries");
    for at in headers {
        let date = u16::from_le_bytes([bytes[at + 12], bytes[at + 13]]);
        assert!((date >> 9) + 1980 >= 2026, "entry at {at} dated {}", (date >> 9) + 1980);
    }
    let notes = Command::new("unzip").arg("-p").arg(&zip).arg("Bijlagen/2026/notes").output()?;
    assert!(notes.stdout == big_text(), "a file inside reads back byte for byte");
    let whole = std::fs::read(&zip)?;
    assert_eq!(header(&head, "content-length"), Some(whole.len().to_string().as_str()));
    let (status, _, tail) = b.request(&["-r", "5000-", &url])?;
    assert_eq!((status, tail.as_slice()), (206, &whole[5000..]), "a download resumes in the middle");
    let recorded = "SELECT count(*) FROM downloads JOIN documents ON documents.id = downloads.document_id \
                    WHERE documents.kind = 'folder'";
    assert_eq!(s.number(recorded)?, 1, "the zip's download is recorded once (a resumed tail is not)");

    let all = s.path().join("all.zip");
    let (status, _, _) = b.request(&["-o", &all.to_string_lossy(), &format!("{}/all.zip", sent.link)])?;
    assert_eq!(status, 200);
    let listing = Command::new("unzip").arg("-Z1").arg(&all).output()?;
    assert_eq!(
        String::from_utf8(listing.stdout)?,
        "Bijlagen/\nBijlagen/2026/\nBijlagen/2026/notes\nBijlagen/scan.dat\nreport.pdf\n"
    );
    let tested = Command::new("unzip").arg("-tq").arg(&all).output()?;
    assert!(tested.status.success(), "{}", String::from_utf8_lossy(&tested.stdout));
    Ok(())
}

#[test]
fn opening_a_link_a_thousand_times_writes_nothing_and_sends_nothing() -> TestResult {
    let (s, sent) = served_with_documents()?;
    let sms = s.sms_count();
    let before = s.state()?;
    let list = s.path().join("urls.txt");
    let config: String = (0..900).map(|_| format!("url = \"{}\"\noutput = \"/dev/null\"\n", sent.link)).collect();
    std::fs::write(&list, config)?;
    let heads: String = (0..100).map(|_| format!("url = \"{}\"\noutput = \"/dev/null\"\n", sent.link)).collect();
    std::fs::write(s.path().join("heads.txt"), heads)?;
    let out = s.curl(&["-w", "%{http_code}\n", "-K", &list.to_string_lossy()])?;
    let gets = String::from_utf8(out.stdout)?;
    let out = s.curl(&["-I", "-w", "%{http_code}\n", "-K", &list.to_string_lossy().replace("urls", "heads")])?;
    let heads = String::from_utf8(out.stdout)?;
    assert_eq!(gets.lines().filter(|c| *c == "200").count(), 900, "{gets}");
    assert_eq!(heads.lines().filter(|c| *c == "200").count(), 100, "{heads}");
    assert_eq!(s.state()?, before, "no database write");
    assert_eq!(s.sms_count(), sms, "no SMS");
    Ok(())
}

#[test]
fn ten_thousand_guesses_lock_the_link_and_alert_the_sender() -> TestResult {
    let (s, sent) = served_with_documents()?;
    let code = s.latest_code()?;
    let b = Browser::new(s.path(), "guesser");
    let (_, _, page) = b.request(&[&sent.link])?;
    let csrf = Browser::csrf(&page)?;
    let jar = b.jar.to_string_lossy().into_owned();
    let mut config = String::new();
    for guess in (0..10_000u32).map(|i| format!("{:06}", (i * 7919 + 1) % 1_000_000)).filter(|g| *g != code) {
        config.push_str(&format!(
            "url = \"{}/code\"\ndata = \"csrf={csrf}&code={guess}\"\noutput = \"/dev/null\"\n\
             insecure\ncookie = \"{jar}\"\nwrite-out = \"%{{http_code}} %{{redirect_url}}\\n\"\nnext\n",
            sent.link
        ));
    }
    let list = s.path().join("guesses.txt");
    std::fs::write(&list, config)?;
    let started = Instant::now();
    let out = s.curl(&["-K", &list.to_string_lossy()])?;
    let codes = String::from_utf8(out.stdout)?;
    assert!(codes.lines().count() >= 9_999, "every guess answered: {}", codes.lines().count());
    // Every answer sends the browser back to the link (to the code form, or,
    // once locked, to the page that says so), and no guess opened a session.
    let other = codes.lines().find(|c| !c.starts_with("303 "));
    assert_eq!(other, None, "every guess is answered with a redirect");
    assert_eq!(s.number("SELECT count(*) FROM web_sessions")?, 0, "no guess succeeds");
    assert!(started.elapsed() < Duration::from_secs(120));
    assert_eq!(s.number("SELECT count(*) FROM audit_events WHERE kind = 'code-failed'")?, 15, "at most 15 evaluated");
    assert_eq!(s.number("SELECT max(failures_total) FROM links")?, 15);
    assert_eq!(s.number("SELECT count(*) FROM links WHERE locked_at IS NOT NULL")?, 1, "the link locked");
    // Even the right code does not open a locked link.
    let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}&code={code}"), &format!("{}/code", sent.link)])?;
    assert_eq!(status, 303);
    assert!(header(&head, "location").is_some_and(|l| !l.contains('#')), "back to the link, which says why: {head}");
    assert!(header(&head, "set-cookie").is_none_or(|c| !c.contains("koerier-session")), "no session: {head}");
    let (status, _, page) = b.request(&[&sent.link])?;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&page).contains("The sender has been told"));
    // The sender hears of it by mail.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alerts =
            s.mails()?.into_iter().filter(|m| m.contains("To: jan@minvws.nl") && m.contains("Link locked")).count();
        if alerts == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no lockout mail to the sender");
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

#[test]
fn an_unknown_link_and_an_expired_link_are_the_same_page() -> TestResult {
    let mut s = Server::new(&[])?;
    std::fs::write(s.path().join("report.pdf"), PDF)?;
    let sent = s.send("nl", &["report.pdf"], &[("KOERIER_RETENTION", "2s")])?;
    s.start()?;
    let b = Browser::new(s.path(), "late");
    let (status, _, _) = b.request(&[&sent.link])?;
    assert_eq!(status, 200, "live at first");
    std::thread::sleep(Duration::from_millis(2500));
    let (expired_status, _, expired) = b.request(&[&sent.link])?;
    let unknown_secret: String = sent.secret.chars().rev().collect();
    let (unknown_status, head, unknown) = b.request(&[&s.url(&format!("/l/{unknown_secret}"))])?;
    assert_eq!((expired_status, unknown_status), (404, 404));
    assert_eq!(expired, unknown, "byte-identical pages");
    assert!(String::from_utf8_lossy(&unknown).contains("Deze link werkt niet"));
    assert!(header(&head, "set-cookie").is_none(), "a dead link sets no cookie");
    let (status, _, nonsense) = b.request(&[&s.url("/l/short")])?;
    assert_eq!((status, nonsense), (404, unknown));
    Ok(())
}

#[test]
fn in_chromium_the_recipient_types_the_code_and_downloads() -> TestResult {
    need("node")?;
    need("chromium")?;
    let browser_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !browser_dir.join("node_modules/playwright-core").is_dir() {
        return Err("playwright-core is not installed in tests/browser: run scripts/setup".into());
    }
    let (s, sent) = served_with_documents()?;
    let code = s.latest_code()?;
    let out_dir = s.path().join("browser");
    std::fs::create_dir_all(&out_dir)?;
    let run = Command::new("node")
        .arg(browser_dir.join("recipient.mjs"))
        .args([&sent.link, &code, &out_dir.to_string_lossy().into_owned()])
        .current_dir(&browser_dir)
        .output()?;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout)?;
    let text = |k: &str| report[k].as_str().unwrap_or_default().to_owned();
    assert!(text("codePage").contains("Enter your code"), "{report}");
    assert!(text("downloadPage").contains("Your files") && text("otherPage").contains("Uw bestanden"), "{report}");
    let file = std::path::PathBuf::from(text("file"));
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let original = s.path().join(&name);
    assert!(original.is_file(), "the suggested name {name:?} is a sent document");
    assert_eq!(sha256(&file)?, sha256(&original)?, "SHA-256 intact");
    for lang in ["en", "nl"] {
        let shot = std::path::PathBuf::from(report["screenshots"][lang].as_str().unwrap_or_default());
        let bytes = std::fs::read(&shot)?;
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "a real screenshot in {lang}: {}", bytes.len());
    }
    Ok(())
}

/// The recipient's pages by keyboard alone in Chromium, on a phone and on a
/// desktop, with axe-core on each state (WCAG 2.1 A and AA): the code form,
/// a wrong code, the download page; every control shows its focus.
#[test]
fn in_chromium_the_recipient_pages_pass_axe_and_work_by_keyboard() -> TestResult {
    let mut s = Server::new(&[])?;
    std::fs::write(s.path().join("report.pdf"), PDF)?;
    // A message of its own each round: a code opens one session.
    let mut rounds = Vec::new();
    for lang in ["nl", "en"] {
        let sent = s.send(lang, &["report.pdf"], &[])?;
        rounds.push((sent, s.latest_code()?));
    }
    s.start()?;
    let out = s.path().join("axe");
    std::fs::create_dir_all(&out)?;
    for ((sent, code), (viewport, lang, label, continue_, heading)) in rounds.into_iter().zip([
        ("phone", "nl", "Code uit de sms", "Doorgaan", "Uw bestanden"),
        ("desktop", "en", "Code from the text message", "Continue", "Your files"),
    ]) {
        let seen = browser::browse(
            &serde_json::json!({"viewport": viewport, "out": out, "steps": [
                {"goto": format!("{}?lang={lang}", sent.link)}, {"axe": "code"}, {"walk": 20, "name": "code"},
                {"tabTo": label}, {"type": "000000"}, {"tabTo": continue_}, {"key": "Enter"},
                {"waitSelector": "p.error"}, {"axe": "wrong-code"}, {"shot": format!("wrong-code-{viewport}")},
                {"tabTo": label}, {"type": code}, {"tabTo": continue_}, {"key": "Enter"},
                {"waitText": heading}, {"axe": "download"}, {"walk": 30, "name": "download"},
                {"text": "download"}, {"shot": format!("download-{viewport}")},
            ]}),
            s.path(),
        )?;
        for walk in ["code", "download"] {
            let reached = seen["walks"][walk].as_array().cloned().unwrap_or_default();
            assert!(reached.len() > 3 && reached.iter().all(|r| r["outlined"] == true), "{walk}: {reached:?}");
        }
        let download = seen["walks"]["download"].as_array().cloned().unwrap_or_default();
        assert!(download.iter().any(|r| r["name"].as_str().unwrap_or_default().contains("report.pdf")), "{download:?}");
        assert!(seen["texts"]["download"].as_str().unwrap_or_default().contains("Jan Jansen"), "{seen}");
    }
    Ok(())
}

#[test]
fn a_colleague_signs_in_instead_of_a_code_and_nobody_else_does() -> TestResult {
    let mut s = Server::new(&[])?;
    for (email, name) in [("kees@minvws.nl", "Kees"), ("marie@minvws.nl", "Marie")] {
        let mut create = s
            .command(&["account", "create", "--email", email, "--name", name, "--password-stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()?;
        if let Some(mut stdin) = create.stdin.take() {
            std::io::Write::write_all(&mut stdin, format!("the password of {name}\n").as_bytes())?;
        }
        assert!(create.wait()?.success(), "account {email}");
    }
    std::fs::write(s.path().join("report.pdf"), PDF)?;
    // Given a mobile number too: a colleague still signs in, and no code is sent.
    s.ok(&[
        "send",
        "--from",
        "jan@minvws.nl",
        "--to",
        "Kees <kees@minvws.nl>",
        "--phone",
        "06 12345678",
        "--language",
        "en",
        "report.pdf",
    ])?;
    let prefix = s.url("/l/");
    let mails = s.mails()?;
    let notice = mails.iter().find(|m| m.contains("kees@minvws.nl") && m.contains(&prefix)).ok_or("no link mail")?;
    let secret = mail::secret_after(notice, &prefix).ok_or("no link")?;
    let link = format!("{prefix}{secret}");
    let sms_before = s.sms_count();
    s.start()?;

    // No code for a colleague: the link page asks them to sign in.
    let b = Browser::new(s.path(), "kees");
    let (status, _, page) = b.request(&[&link])?;
    let text = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(text.contains("Sign in to open the files") && !text.contains("Enter your code"), "{text}");
    assert_eq!(s.sms_count(), sms_before, "a colleague gets no SMS");
    let csrf = Browser::csrf(&page)?;
    let sign_in = format!("{link}/sign-in");

    // A wrong password, and another colleague with the right one, are refused alike.
    let wrong = format!("csrf={csrf}&email=kees%40minvws.nl&password=not+it");
    let (status, head, _) = b.request(&["-d", &wrong, &sign_in])?;
    assert_eq!((status, header(&head, "location")), (303, Some(format!("/l/{secret}#email").as_str())));
    let (status, _, page) = b.request(&[&link])?;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("The email address or password is not right"));
    let (_, _, page) = b.request(&[&link])?;
    assert!(!String::from_utf8_lossy(&page).contains("is not right"), "shown once, not on a reload");
    let m = Browser::new(s.path(), "marie");
    let (_, _, page) = m.request(&[&link])?;
    let marie_csrf = Browser::csrf(&page)?;
    let other = format!("csrf={marie_csrf}&email=marie%40minvws.nl&password=the+password+of+Marie");
    let (status, head, _) = m.request(&["-d", &other, &sign_in])?;
    assert!(status == 303 && header(&head, "location").is_some_and(|l| l.ends_with("#email")), "{head}");
    assert_eq!(m.request(&[&format!("{link}/d/report.pdf")])?.0, 303, "marie has no session for this link");

    // The recipient's own password opens the download page; the download is theirs.
    let right = format!("csrf={csrf}&email=kees%40minvws.nl&password=the+password+of+Kees");
    let (status, head, _) = b.request(&["-d", &right, &sign_in])?;
    assert_eq!(status, 303, "{head}");
    let out = s.path().join("got.pdf");
    let (status, _, _) = b.request(&["-o", &out.to_string_lossy(), &format!("{link}/d/report.pdf")])?;
    assert_eq!(status, 200);
    assert_eq!(sha256(&out)?, sha256(&s.path().join("report.pdf"))?);
    assert_eq!(s.number("SELECT count(*) FROM downloads WHERE who = 'kees@minvws.nl' AND door = 'web'")?, 1);
    Ok(())
}

/// TLS as the NCSC guidelines allow it: 1.3, and 1.2 for older clients with
/// ECDHE and an AEAD only; no TLS 1.1, no CBC, no RSA key exchange (curl on
/// OpenSSL, as an older WebDAV client would connect).
#[test]
fn tls_1_2_is_offered_with_ecdhe_and_an_aead_and_nothing_weaker() -> TestResult {
    let mut s = Server::new(&[])?;
    s.start()?;
    let url = s.url("/healthz");
    // The status, and the protocol curl reports ("SSL connection using TLSv1.2 / …").
    let answer = |args: &[&str]| -> Result<String, server::Error> {
        let mut all = vec!["-v", "-s", "-o", "/dev/null", "-w", "%{http_code}"];
        all.extend_from_slice(args);
        all.push(&url);
        let out = s.curl(&all)?;
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        let using = said.lines().find_map(|l| l.split_once("SSL connection using ").map(|(_, u)| u.to_owned()));
        Ok(format!("{} {}", String::from_utf8(out.stdout)?, using.unwrap_or_default()))
    };
    assert!(answer(&[])?.starts_with("200 TLSv1.3"));
    assert!(answer(&["--tlsv1.2", "--tls-max", "1.2"])?.starts_with("200 TLSv1.2 / ECDHE-"));
    let gcm = answer(&["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"])?;
    assert!(gcm.starts_with("200 TLSv1.2 / ECDHE-ECDSA-AES128-GCM-SHA256"), "{gcm}");
    for weaker in [
        vec!["--tlsv1.1", "--tls-max", "1.1"],
        vec!["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA"],
        vec!["--tls-max", "1.2", "--ciphers", "AES128-GCM-SHA256"],
    ] {
        let got = answer(&weaker)?;
        assert!(got.starts_with("000"), "{weaker:?} must not connect: {got}");
    }
    Ok(())
}
