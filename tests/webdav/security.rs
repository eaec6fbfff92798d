//! Hostile requests: traversal payloads over every method and in the
//! `Destination` header (none may reach another caller's tree or the disk),
//! and XML bodies with entities (refused at once).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::Command;

use crate::server::{self, JAN, KEES, PASSWORD, Server, TestResult, pdf};

const METHODS: [&str; 10] =
    ["GET", "PUT", "DELETE", "MKCOL", "PROPFIND", "PROPPATCH", "COPY", "MOVE", "LOCK", "UNLOCK"];

/// Ways to write "go up a level" and path tricks (security target P1).
const UPS: [&str; 16] = [
    "..",
    "%2e%2e",
    "%2E%2E",
    "%252e%252e",
    ".%2e",
    "%2e.",
    "..%2f..",
    "..%5c..",
    "%c0%ae%c0%ae",
    "..%00",
    "%2e%2e%2f%2e%2e",
    "..;",
    "...",
    "%e2%88%95..",
    "..%252f..",
    ".",
];

/// Where the payloads try to get to.
const TARGETS: [&str; 7] =
    ["canary.txt", "secret/s.pdf", "outbox/secret/s.pdf", "data/koerier.db", "etc/passwd", "data/keys/master.key", ""];

fn payload_paths() -> Vec<String> {
    let mut out = BTreeSet::new();
    for up in UPS {
        for target in TARGETS {
            out.insert(format!("/dav/outbox/mine/{up}/{up}/{up}/{up}/{target}"));
            out.insert(format!("/dav/{up}/{up}/{up}/{target}"));
            out.insert(format!("/dav/outbox/{up}/{target}"));
        }
        out.insert(format!("/dav/outbox/mine/{up}%5c{up}%5csecret%5cs.pdf"));
    }
    for extra in
        ["//dav//outbox//secret//s.pdf", "/dav/outbox/secret/s.pdf", "/dav/inbox/secret/s.pdf", "/dav/sent/secret/"]
    {
        out.insert(extra.to_owned());
    }
    out.into_iter().collect()
}

fn destinations(port: u16) -> Vec<String> {
    vec![
        "https://evil.example/dav/outbox/mine/x.pdf".into(),
        format!("https://{KEES}@127.0.0.1:{port}/dav/outbox/secret/x.pdf"),
        format!("https://127.0.0.1:{port}/dav/../../canary.txt"),
        format!("https://127.0.0.1:{port}/dav/%2e%2e/%2e%2e/x"),
        "/dav/outbox/mine/../../../x.pdf".into(),
        "/dav/outbox/secret/x.pdf".into(),
        "/etc/x.pdf".into(),
        "/dav/outbox/mine/..%5c..%5cx.pdf".into(),
        "/dav/%252e%252e/x.pdf".into(),
    ]
}

#[test]
fn a_thousand_traversal_payloads_escape_nowhere() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    std::fs::write(s.dir.path().join("canary.txt"), "CANARY-ON-DISK")?;
    let secret = pdf("CANARY-OF-KEES");
    let secret_file = s.dir.path().join("secret.pdf");
    std::fs::write(&secret_file, &secret)?;
    let secret_path = secret_file.to_string_lossy().into_owned();
    assert_eq!(s.curl(KEES, "MKCOL", "/dav/outbox/secret/", &[])?.0, 201);
    assert_eq!(s.curl(KEES, "PUT", "/dav/outbox/secret/s.pdf", &["-T", &secret_path])?.0, 201);
    assert_eq!(s.curl(JAN, "MKCOL", "/dav/outbox/mine/", &[])?.0, 201);
    let top_before: BTreeSet<_> =
        std::fs::read_dir(s.dir.path())?.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();

    let out_dir = tempfile::tempdir()?;
    let mut config = String::new();
    let mut n = 0usize;
    let paths = payload_paths();
    let dests = destinations(s.port);
    for (i, path) in paths.iter().enumerate() {
        for method in METHODS {
            if n > 0 {
                config.push_str("next\n");
            }
            writeln!(config, "url = \"{}\"", s.url(path))?;
            writeln!(config, "request = \"{method}\"\ninsecure\npath-as-is\nsilent\nuser = \"{JAN}:{PASSWORD}\"")?;
            writeln!(config, "output = \"{}/r{n}\"\nwrite-out = \"%{{http_code}}\\n\"", out_dir.path().display())?;
            match method {
                "PUT" | "PROPPATCH" | "LOCK" => writeln!(config, "data-binary = \"x\"")?,
                "COPY" | "MOVE" => writeln!(config, "header = \"Destination: {}\"", dests[i % dests.len()])?,
                _ => {}
            }
            n += 1;
        }
    }
    // Every method with every Destination, from a path that exists.
    for dest in &dests {
        for method in ["COPY", "MOVE"] {
            config.push_str("next\n");
            writeln!(config, "url = \"{}\"", s.url("/dav/outbox/mine/"))?;
            writeln!(config, "request = \"{method}\"\ninsecure\npath-as-is\nsilent\nuser = \"{JAN}:{PASSWORD}\"")?;
            writeln!(config, "output = \"{}/r{n}\"\nwrite-out = \"%{{http_code}}\\n\"", out_dir.path().display())?;
            writeln!(config, "header = \"Destination: {dest}\"")?;
            n += 1;
        }
    }
    assert!(n >= 1000, "{n} payloads");
    let config_file = out_dir.path().join("requests.curl");
    std::fs::write(&config_file, config)?;
    let out = Command::new("curl").arg("-K").arg(&config_file).output()?;
    let statuses: Vec<u16> =
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert_eq!(statuses.len(), n, "every payload got an answer: {}", String::from_utf8_lossy(&out.stderr));

    // 0 escapes: no answer carries a canary or a system file, nothing was
    // written beside the data folder, and Kees's draft is as it was.
    for entry in std::fs::read_dir(out_dir.path())? {
        let body = std::fs::read(entry?.path())?;
        let body = String::from_utf8_lossy(&body);
        for canary in ["CANARY-ON-DISK", "CANARY-OF-KEES", "root:x:0"] {
            assert!(!body.contains(canary), "a payload reached {canary}");
        }
    }
    let top_after: BTreeSet<_> =
        std::fs::read_dir(s.dir.path())?.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(top_before, top_after, "nothing was created outside the data folder");
    assert_eq!(s.curl(KEES, "GET", "/dav/outbox/secret/s.pdf", &[])?, (200, secret));
    let (_, listing) = s.curl(KEES, "PROPFIND", "/dav/outbox/secret/", &["-H", "Depth: 1"])?;
    let listing = String::from_utf8_lossy(&listing);
    assert_eq!(listing.matches("<D:href>").count(), 3, "the draft, message.txt and s.pdf only: {listing}");
    let (_, mine) = s.curl(JAN, "PROPFIND", "/dav/outbox/", &["-H", "Depth: 1"])?;
    assert!(!String::from_utf8_lossy(&mine).contains("secret"));
    Ok(())
}

fn timed_propfind(s: &Server, body: &str) -> Result<(u16, f64), server::Error> {
    let out = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-u", &format!("{JAN}:{PASSWORD}"), "-X", "PROPFIND", "-H", "Depth: 0"])
        .args(["--data-binary", body, "-w", "%{http_code} %{time_pretransfer} %{time_starttransfer}"])
        .arg(s.url("/dav/outbox/"))
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let parts: Vec<&str> = text.split_whitespace().collect();
    let number = |i: usize| parts.get(i).and_then(|p| p.parse::<f64>().ok()).unwrap_or(f64::MAX);
    Ok((parts.first().and_then(|p| p.parse().ok()).unwrap_or(0), number(2) - number(1)))
}

#[test]
fn xml_with_entities_or_too_large_is_refused_at_once() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    // Sign in once so the timing below is the XML check alone.
    assert_eq!(s.curl(JAN, "PROPFIND", "/dav/outbox/", &["-H", "Depth: 0"])?.0, 207);
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&x;</D:displayname></D:prop></D:propfind>"#;
    let mut laughs = String::from(r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY l0 "lol">"#);
    for i in 1..10 {
        let _ = write!(laughs, "<!ENTITY l{i} \"{}\">", format!("&l{};", i - 1).repeat(10));
    }
    laughs
        .push_str(r#"]><D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&l9;</D:displayname></D:prop></D:propfind>"#);
    for (what, body) in [("XXE", xxe.to_owned()), ("billion laughs", laughs)] {
        let (status, seconds) = timed_propfind(&s, &body)?;
        assert_eq!(status, 400, "{what}");
        eprintln!("{what}: refused with {status} in {:.1} ms", seconds * 1000.0);
        // The target is 50 ms; the bound here leaves room for a loaded test machine.
        assert!(seconds < 0.5, "{what} took {seconds} s");
    }
    let big = format!(
        r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><!-- {} --><D:allprop/></D:propfind>"#,
        "x".repeat(70_000)
    );
    assert_eq!(timed_propfind(&s, &big)?.0, 413);
    Ok(())
}

/// A path whose `..` climbs above `/dav/` names nothing: 404 with the
/// reason, never a 502. XML in another encoding than UTF-8 (UTF-16 would
/// hide a DOCTYPE from a byte check) is refused with the reason, as a
/// DOCTYPE in UTF-8 is.
#[test]
fn a_path_above_dav_and_xml_not_in_utf8_are_refused_with_the_reason() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    for path in ["/dav/../x", "/dav/%2e%2e/x", "/dav/outbox/../../etc/passwd", "/dav/outbox/%2e%2e/%2E%2E/dav/outbox/"]
    {
        let out = Command::new("curl")
            .args(["-sk", "--path-as-is", "-u", &format!("{JAN}:{PASSWORD}"), "-X", "PROPFIND", "-H", "Depth: 0"])
            .args(["-w", "\n%{http_code}"])
            .arg(format!("{}{path}", s.base()))
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or_default();
        assert_eq!(status, "404", "{path}: {text}");
        assert!(body.contains("leads out of /dav/"), "{path}: {body}");
    }
    let xxe = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE p [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
               <D:propfind xmlns:D=\"DAV:\"><D:prop><D:displayname>&x;</D:displayname></D:prop></D:propfind>";
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(xxe.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let body = tempfile::NamedTempFile::new()?;
    std::fs::write(body.path(), utf16)?;
    let upload = format!("@{}", body.path().display());
    let (status, answer) = s.curl(JAN, "PROPFIND", "/dav/outbox/", &["-H", "Depth: 0", "--data-binary", &upload])?;
    assert_eq!(status, 415);
    assert!(String::from_utf8_lossy(&answer).contains("UTF-8"), "{}", String::from_utf8_lossy(&answer));
    Ok(())
}
