//! The WebDAV door end to end: the real binary, TLS, Basic authentication and
//! the virtual tree, driven by curl, litmus, rclone and cadaver, and the
//! request sequences of Explorer, Finder and the office applications replayed.

#[path = "webdav/clients.rs"]
mod clients;
#[path = "webdav/litmus.rs"]
mod litmus;
mod ports;
#[path = "webdav/props.rs"]
mod props;
mod rclone;
#[path = "webdav/replay.rs"]
mod replay;
#[path = "webdav/security.rs"]
mod security;
#[path = "webdav/server.rs"]
mod server;

use std::time::Duration;

use server::{JAN, KEES, Server, TestResult, pdf};

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn wait_for(mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    check()
}

#[test]
fn curl_composes_refuses_sends_by_move_and_reads_the_inbox() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let doc = tempfile::NamedTempFile::new()?;
    std::fs::write(doc.path(), pdf("the first version"))?;
    let doc_path = doc.path().to_string_lossy().into_owned();

    // Unauthenticated: a Basic challenge.
    let out = std::process::Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-D", "-", "-X", "PROPFIND", &s.url("/dav/")])
        .output()?;
    let head = text(&out.stdout);
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("www-authenticate: basic realm=\"koerier\", charset=\"utf-8\""),
        "{head}"
    );
    let (status, _) = s.curl_as("jan@minvws.nl:wrong", "PROPFIND", "/dav/", &["-H", "Depth: 0"])?;
    assert_eq!(status, 401);

    // OPTIONS: class 2 and what Windows looks for.
    let out = std::process::Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-D", "-", "-u", &format!("{JAN}:{}", server::PASSWORD), "-X", "OPTIONS"])
        .arg(s.url("/dav/"))
        .output()?;
    let head = text(&out.stdout).to_ascii_lowercase();
    assert!(head.contains("ms-author-via: dav") && head.contains("dav: 1,2"), "{head}");

    // MKCOL = a draft; PUT a document and message.txt.
    assert_eq!(s.curl(JAN, "MKCOL", "/dav/outbox/x/", &[])?.0, 201);
    assert_eq!(s.curl(JAN, "PUT", "/dav/outbox/x/brief.pdf", &["-T", &doc_path])?.0, 201);
    let message = "To: Piet <piet@example.org>\nPhone: 06 12345678\nSubject: Dossier 12\n\nHierbij.\n";
    assert!(matches!(s.curl(JAN, "PUT", "/dav/outbox/x/message.txt", &["--data-binary", message])?.0, 201 | 204));

    // The drive (its root) shows what the drafts hold (RFC 4331), message.txt not counted.
    let quota = r#"<?xml version="1.0"?><propfind xmlns="DAV:"><prop><quota-used-bytes/></prop></propfind>"#;
    let (status, body) = s.curl(JAN, "PROPFIND", "/dav/", &["-H", "Depth: 0", "--data-binary", quota])?;
    let used = format!("quota-used-bytes>{}<", pdf("the first version").len());
    assert_eq!(status, 207);
    assert!(text(&body).contains(&used), "{used} in {}", text(&body));

    // Refusals carry the rule.
    let (status, body) = s.curl(JAN, "PUT", "/dav/outbox/x/evil.exe", &["--data-binary", "MZ"])?;
    assert_eq!(status, 403);
    assert!(text(&body).contains("zip"), "{}", text(&body));
    // A folder in a draft is made, and goes again (it would be sent as folder.zip).
    assert_eq!(s.curl(JAN, "MKCOL", "/dav/outbox/x/folder/", &[])?.0, 201);
    assert_eq!(s.curl(JAN, "DELETE", "/dav/outbox/x/folder/", &[])?.0, 204);
    // Litter is kept aside, never refused: Finder gives up a whole copy on a refusal.
    let (status, body) = s.curl(JAN, "PUT", "/dav/outbox/x/.DS_Store", &["--data-binary", "x"])?;
    assert_eq!(status, 201, "{}", text(&body));
    let (status, body) =
        s.curl(JAN, "PUT", "/dav/outbox/x/b.pdf", &["--data-binary", "x", "-H", "Content-Range: bytes 0-0/1"])?;
    assert_eq!(status, 501, "{}", text(&body));
    assert!(!text(&body).is_empty());
    let (status, _) = s.curl(JAN, "PROPFIND", "/dav/outbox/", &["-H", "Depth: infinity"])?;
    assert_eq!(status, 403);

    // An interrupted PUT over an existing document leaves it whole.
    let (status, _) = s.curl(
        JAN,
        "PUT",
        "/dav/outbox/x/brief.pdf",
        &["--data-binary", "%PDF-1.4 cut", "-H", "Content-Length: 100000", "--max-time", "2"],
    )?;
    assert_ne!(status / 100, 2);
    std::thread::sleep(Duration::from_millis(300));
    let (status, body) = s.curl(JAN, "GET", "/dav/outbox/x/brief.pdf", &[])?;
    assert_eq!((status, body), (200, pdf("the first version")));

    // Range GET.
    let (status, body) = s.curl(JAN, "GET", "/dav/outbox/x/brief.pdf", &["-H", "Range: bytes=2-4"])?;
    assert_eq!((status, text(&body)), (206, "DF-".to_owned()));

    // A draft that cannot go: the MOVE fails with the reason, also on top of message.txt.
    assert_eq!(s.curl(JAN, "MKCOL", "/dav/outbox/empty/", &[])?.0, 201);
    let dest = s.url("/dav/sent/empty/");
    let (status, body) = s.curl(JAN, "MOVE", "/dav/outbox/empty/", &["-H", &format!("Destination: {dest}")])?;
    assert_eq!(status, 409, "{}", text(&body));
    assert!(text(&body).contains("no documents"), "{}", text(&body));
    let (_, envelope) = s.curl(JAN, "GET", "/dav/outbox/empty/message.txt", &[])?;
    assert!(text(&envelope).starts_with('#') && text(&envelope).contains("no documents"), "{}", text(&envelope));

    // MOVE into /sent sends: a mail and an SMS.
    let dest = s.url("/dav/sent/x/");
    let (status, body) = s.curl(JAN, "MOVE", "/dav/outbox/x/", &["-H", &format!("Destination: {dest}")])?;
    assert!(matches!(status, 201 | 204), "{status} {}", text(&body));
    assert!(wait_for(|| !s.files_in("mail", "eml").is_empty()), "a mail in <data>/mail");
    assert!(wait_for(|| !s.files_in("sms", "txt").is_empty()), "an SMS in <data>/sms");
    let (status, listing) = s.curl(JAN, "PROPFIND", "/dav/sent/x/", &["-H", "Depth: 1"])?;
    assert_eq!(status, 207);
    assert!(text(&listing).contains("report.pdf") && text(&listing).contains("brief.pdf"));
    let (status, report) = s.curl(JAN, "GET", "/dav/sent/x/report.pdf", &[])?;
    assert_eq!(status, 200);
    assert!(report.starts_with(b"%PDF"));
    let (status, body) = s.curl(JAN, "PUT", "/dav/sent/x/more.pdf", &["-T", &doc_path])?;
    assert_eq!(status, 403);
    assert!(text(&body).contains("read-only"), "{}", text(&body));

    // To a colleague: it shows in their inbox, and downloads.
    assert_eq!(s.curl(JAN, "MKCOL", "/dav/outbox/intern/", &[])?.0, 201);
    assert_eq!(s.curl(JAN, "PUT", "/dav/outbox/intern/a.pdf", &["-T", &doc_path])?.0, 201);
    let message = format!("To: Kees <{KEES}>\nSubject: intern\n\ntekst\n");
    s.curl(JAN, "PUT", "/dav/outbox/intern/message.txt", &["--data-binary", &message])?;
    let dest = s.url("/dav/sent/intern/");
    let (status, body) = s.curl(JAN, "MOVE", "/dav/outbox/intern/", &["-H", &format!("Destination: {dest}")])?;
    assert!(matches!(status, 201 | 204), "{status} {}", text(&body));
    let (status, body) = s.curl(KEES, "GET", "/dav/inbox/intern/a.pdf", &[])?;
    assert_eq!((status, body), (200, pdf("the first version")));
    let (status, _) = s.curl(KEES, "GET", "/dav/sent/x/brief.pdf", &[])?;
    assert_eq!(status, 404, "another's message does not exist for Kees");

    // An app password opens WebDAV.
    let made = s.cli(&["account", "app-password", "--email", JAN, "--label", "laptop"])?;
    let secret = made.lines().find_map(|l| l.split(": ").nth(1)).ok_or("no app password printed")?;
    let (status, _) = s.curl_as(&format!("{JAN}:{secret}"), "PROPFIND", "/dav/outbox/", &["-H", "Depth: 1"])?;
    assert_eq!(status, 207);
    Ok(())
}

/// The operator's `[rules] folders = "refuse"` (here from the environment,
/// as `KOERIER_RULES__FOLDERS`): a folder in a draft is refused with what
/// to do instead.
#[test]
fn folders_refused_by_the_operator_are_refused_with_the_reason() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[("KOERIER_RULES__FOLDERS", "refuse")])?;
    assert_eq!(s.curl(JAN, "MKCOL", "/dav/outbox/x/", &[])?.0, 201);
    let (status, body) = s.curl(JAN, "MKCOL", "/dav/outbox/x/folder/", &[])?;
    assert_eq!(status, 403);
    assert!(text(&body).contains("zip file first"), "{}", text(&body));
    Ok(())
}

#[test]
fn a_lock_past_the_cap_is_refused_with_the_rule_not_as_a_conflict() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    assert_eq!(s.curl(JAN, "MKCOL", "/dav/outbox/locks/", &[])?.0, 201);
    let doc = tempfile::NamedTempFile::new()?;
    std::fs::write(doc.path(), pdf("locked"))?;
    assert_eq!(s.curl(JAN, "PUT", "/dav/outbox/locks/a.pdf", &["-T", &doc.path().to_string_lossy()])?.0, 201);

    // Shared locks on one document never conflict, so only the cap can stop
    // them: every one up to it is granted, the next is refused with the rule.
    let cap = usize::try_from(gateway::lock::MAX_LOCKS_PER_OWNER)?;
    let url = s.url("/dav/outbox/locks/a.pdf");
    let last = tempfile::NamedTempFile::new()?;
    let mut config = String::new();
    for _ in 0..cap {
        config.push_str(&format!("url = \"{url}\"\noutput = \"/dev/null\"\n"));
    }
    config.push_str(&format!("url = \"{url}\"\noutput = \"{}\"\n", last.path().display()));
    let config_file = tempfile::NamedTempFile::new()?;
    std::fs::write(config_file.path(), config)?;
    let lockinfo = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>";
    let out = std::process::Command::new("curl")
        .args(["-sk", "--max-time", "120", "-u", &format!("{JAN}:{}", server::PASSWORD), "-X", "LOCK"])
        .args(["-H", "Content-Type: application/xml", "-H", "Timeout: Second-600", "--data-binary", lockinfo])
        .args(["-w", "%{http_code}\n", "-K"])
        .arg(config_file.path())
        .output()?;
    let codes: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(codes.len(), cap + 1, "{}", text(&out.stderr));
    assert!(codes[..cap].iter().all(|c| c == "200"), "{:?}", &codes[..cap].iter().find(|c| *c != "200"));
    assert_eq!(codes[cap], "403");
    let body = text(&std::fs::read(last.path())?);
    assert!(body.contains("too many locks"), "{body}");
    Ok(())
}
