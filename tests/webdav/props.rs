//! Dead properties over WebDAV, with curl: set with PROPPATCH, kept by the
//! core in the database (so a restart keeps them), read back with PROPFIND,
//! bounded, refused on the fixed folders and in `/sent`, private to their
//! tree, and along with their document through a MOVE and a send.

use crate::server::{JAN, KEES, Server, TestResult, pdf};

const NS: &str = "urn:example:koerier";

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn proppatch(name: &str, value: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"{NS}\">\
         <D:set><D:prop><Z:{name}>{value}</Z:{name}></D:prop></D:set></D:propertyupdate>"
    )
}

fn propfind(name: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\" xmlns:Z=\"{NS}\">\
         <D:prop><Z:{name}/></D:prop></D:propfind>"
    )
}

const ALLPROP: &str =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>";

/// One request with an XML body: the status and the body as text.
fn xml(
    s: &Server,
    user: &str,
    method: &str,
    path: &str,
    depth: &str,
    body: &str,
) -> Result<(u16, String), crate::server::Error> {
    let (status, out) = s.curl(
        user,
        method,
        path,
        &[
            "-H",
            "Content-Type: application/xml; charset=utf-8",
            "-H",
            &format!("Depth: {depth}"),
            "--data-binary",
            body,
        ],
    )?;
    Ok((status, text(&out)))
}

/// Whether a multistatus answer gives this status for a property.
fn has_status(body: &str, status: u16) -> bool {
    body.contains(&format!("HTTP/1.1 {status}"))
}

#[test]
fn dead_properties_are_kept_across_a_restart_and_follow_their_document() -> TestResult {
    crate::server::need("curl")?;
    let mut s = Server::start(&[])?;
    assert_eq!(s.curl(JAN, "MKCOL", "/dav/outbox/x/", &[])?.0, 201);
    let doc = tempfile::NamedTempFile::new()?;
    std::fs::write(doc.path(), pdf("brief"))?;
    let doc_path = doc.path().to_string_lossy().into_owned();
    assert_eq!(s.curl(JAN, "PUT", "/dav/outbox/x/brief.pdf", &["-T", &doc_path])?.0, 201);

    // Set on a document, the message's folder and its message.txt.
    let (status, body) = xml(&s, JAN, "PROPPATCH", "/dav/outbox/x/brief.pdf", "0", &proppatch("colour", "blue"))?;
    assert_eq!(status, 207, "{body}");
    assert!(has_status(&body, 200) && !has_status(&body, 403), "{body}");
    let (status, body) = xml(&s, JAN, "PROPPATCH", "/dav/outbox/x/", "0", &proppatch("colour", "red"))?;
    assert!(status == 207 && has_status(&body, 200), "{status} {body}");
    let (status, body) = xml(&s, JAN, "PROPPATCH", "/dav/outbox/x/message.txt", "0", &proppatch("colour", "green"))?;
    assert!(status == 207 && has_status(&body, 200), "{status} {body}");

    // Without a namespace, and beyond the Basic Multilingual Plane.
    let odd = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>\
         <plain xmlns=\"\">kale waarde</plain><Z:script xmlns:Z=\"{NS}\">\u{10348}\u{20AC}</Z:script>\
         </D:prop></D:set></D:propertyupdate>"
    );
    let (status, body) = xml(&s, JAN, "PROPPATCH", "/dav/outbox/x/brief.pdf", "0", &odd)?;
    assert!(status == 207 && has_status(&body, 200) && !has_status(&body, 424), "{status} {body}");

    // Bounded: a value over 4 KiB is 507 for that property.
    let (status, body) =
        xml(&s, JAN, "PROPPATCH", "/dav/outbox/x/brief.pdf", "0", &proppatch("big", &"v".repeat(5000)))?;
    assert!(status == 207 && has_status(&body, 507), "{status} {body}");
    // The fixed folders keep none: 403 for each.
    for fixed in ["/dav/", "/dav/outbox/", "/dav/sent/", "/dav/inbox/"] {
        let (status, body) = xml(&s, JAN, "PROPPATCH", fixed, "0", &proppatch("colour", "x"))?;
        assert!(status == 207 && has_status(&body, 403) && !has_status(&body, 200), "{fixed}: {status} {body}");
    }

    // Kept by the core, not the process: a restart changes nothing.
    s.restart()?;
    let (status, body) = xml(&s, JAN, "PROPFIND", "/dav/outbox/x/brief.pdf", "0", &propfind("colour"))?;
    assert_eq!(status, 207, "{body}");
    assert!(body.contains(">blue<") && has_status(&body, 200), "{body}");
    let (status, body) = xml(&s, JAN, "PROPFIND", "/dav/outbox/x/", "1", ALLPROP)?;
    assert_eq!(status, 207, "{body}");
    for value in [">blue<", ">red<", ">green<", ">kale waarde<", ">\u{10348}\u{20AC}<"] {
        assert!(body.contains(value), "{value} in the listing: {body}");
    }
    assert!(!body.contains("vvvv"), "the refused value was not kept: {body}");

    // Another account's tree: the path does not exist there.
    let (status, body) = xml(&s, KEES, "PROPFIND", "/dav/outbox/x/brief.pdf", "0", &propfind("colour"))?;
    assert_eq!(status, 404, "{body}");
    let (status, body) = xml(&s, KEES, "PROPPATCH", "/dav/outbox/x/brief.pdf", "0", &proppatch("colour", "x"))?;
    assert_eq!(status, 404, "{body}");

    // A MOVE of the document within the draft takes them along.
    let dest = s.url("/dav/outbox/x/renamed.pdf");
    let (status, _) = s.curl(JAN, "MOVE", "/dav/outbox/x/brief.pdf", &["-H", &format!("Destination: {dest}")])?;
    assert!(matches!(status, 201 | 204), "{status}");
    let (_, body) = xml(&s, JAN, "PROPFIND", "/dav/outbox/x/renamed.pdf", "0", &propfind("colour"))?;
    assert!(body.contains(">blue<"), "{body}");

    // Sent by a MOVE into /sent: the same message, the same properties, read-only now.
    let message = format!("To: Kees <{KEES}>\nSubject: props\n\ntekst\n");
    s.curl(JAN, "PUT", "/dav/outbox/x/message.txt", &["--data-binary", &message])?;
    let dest = s.url("/dav/sent/x/");
    let (status, body) = s.curl(JAN, "MOVE", "/dav/outbox/x/", &["-H", &format!("Destination: {dest}")])?;
    assert!(matches!(status, 201 | 204), "{status} {}", text(&body));
    let (_, body) = xml(&s, JAN, "PROPFIND", "/dav/sent/x/renamed.pdf", "0", &propfind("colour"))?;
    assert!(body.contains(">blue<"), "{body}");
    let (status, body) = xml(&s, JAN, "PROPPATCH", "/dav/sent/x/renamed.pdf", "0", &proppatch("colour", "x"))?;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("can no longer change"), "the core's reason: {body}");

    // The recipient sees the message in the inbox, without the sender's properties.
    let (status, body) = xml(&s, KEES, "PROPFIND", "/dav/inbox/x/", "1", ALLPROP)?;
    assert_eq!(status, 207, "{body}");
    assert!(body.contains("renamed.pdf") && !body.contains(">blue<") && !body.contains(">red<"), "{body}");
    let (status, body) = xml(&s, KEES, "PROPPATCH", "/dav/inbox/x/renamed.pdf", "0", &proppatch("colour", "x"))?;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("read-only"), "the core's reason: {body}");
    Ok(())
}
