//! The request sequences real WebDAV clients send when they copy a file into a
//! draft or save one there, replayed request by request with curl (each test
//! names its source). Every sequence ends with the draft holding exactly the
//! new bytes — GET returns them, a Depth 1 PROPFIND lists exactly the expected
//! names, no temporary file or litter — and the draft sending.

use crate::rclone;
use crate::server::{self, Error, JAN, KEES, Server, TestResult, pdf};

/// Windows' WebClient sets these on every file it writes (namespace
/// `urn:schemas-microsoft-com:`); a 207 with a 200 per property is what it needs.
const WIN32_PROPS: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><D:propertyupdate xmlns:D=\"DAV:\" \
     xmlns:Z=\"urn:schemas-microsoft-com:\"><D:set><D:prop>\
     <Z:Win32CreationTime>Mon, 12 Jan 2026 09:30:00 GMT</Z:Win32CreationTime>\
     <Z:Win32LastAccessTime>Mon, 12 Jan 2026 09:30:00 GMT</Z:Win32LastAccessTime>\
     <Z:Win32LastModifiedTime>Mon, 12 Jan 2026 09:30:00 GMT</Z:Win32LastModifiedTime>\
     <Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>";

/// A write lock as Explorer, Finder and Office ask for it: exclusive, with an owner.
const LOCKINFO: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><D:lockinfo xmlns:D=\"DAV:\">\
     <D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>\
     <D:owner><D:href>JAN-PC\\jan</D:href></D:owner></D:lockinfo>";

/// A message to a colleague: the draft then shows in Kees's inbox, where what
/// was sent can be read back.
const TO_KEES: &str = "To: Kees <kees@minvws.nl>\nSubject: saved from an application\n\nHierbij.\n";

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

/// A name as a path segment: everything but unreserved characters escaped
/// (`#` of LibreOffice's lock file, `$` of Office's owner file, accents).
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The name a percent-encoded path segment stands for.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    text(&out)
}

/// The text of every `<…href>` element of a multistatus answer.
fn hrefs(body: &str) -> Vec<&str> {
    body.split("href>").skip(1).step_by(2).filter_map(|rest| rest.split('<').next()).collect()
}

/// The `If` header that submits a lock token.
fn submit(token: &str) -> String {
    format!("If: (<{token}>)")
}

/// One of Jan's drafts, and the requests a client sends into it.
struct Draft<'a> {
    s: &'a Server,
    name: &'static str,
}

impl<'a> Draft<'a> {
    /// MKCOL `/dav/outbox/<name>/`.
    fn make(s: &'a Server, name: &'static str) -> Result<Draft<'a>, Error> {
        let draft = Draft { s, name };
        draft.expect("MKCOL", "", &[], &[201])?;
        Ok(draft)
    }

    fn path(&self, file: &str) -> String {
        let file: Vec<String> = file.split('/').map(encode).collect();
        format!("/dav/outbox/{}/{}", self.name, file.join("/"))
    }

    /// One request about `file` in the draft (`""`: the draft itself).
    fn request(&self, method: &str, file: &str, args: &[&str]) -> Result<(u16, Vec<u8>), Error> {
        self.s.curl(JAN, method, &self.path(file), args)
    }

    /// A request that must answer one of `want`; the body, or an error that
    /// says which step of the sequence failed and what the server answered.
    fn expect(&self, method: &str, file: &str, args: &[&str], want: &[u16]) -> Result<String, Error> {
        let (status, body) = self.request(method, file, args)?;
        if !want.contains(&status) {
            return Err(format!("{method} {file}: {status} (wanted {want:?}): {}", text(&body)).into());
        }
        Ok(text(&body))
    }

    /// PUT these bytes (0 bytes too: Content-Length 0), with extra headers.
    fn put(&self, file: &str, bytes: &[u8], headers: &[&str]) -> Result<String, Error> {
        let body = tempfile::NamedTempFile::new()?;
        std::fs::write(body.path(), bytes)?;
        let body = body.path().to_string_lossy().into_owned();
        let mut args = vec!["-T", body.as_str()];
        for header in headers {
            args.extend(["-H", header]);
        }
        self.expect("PUT", file, &args, &[200, 201, 204])
    }

    /// An exclusive write LOCK; its token.
    fn lock(&self, file: &str) -> Result<String, Error> {
        let headers = ["Content-Type: text/xml; charset=\"utf-8\"", "Timeout: Second-3600", "Depth: 0"];
        let mut args: Vec<&str> = headers.iter().flat_map(|h| ["-H", h]).collect();
        args.extend(["--data-binary", LOCKINFO]);
        let body = self.expect("LOCK", file, &args, &[200, 201])?;
        let token = body
            .split_once("locktoken>")
            .and_then(|(_, rest)| hrefs(rest).first().map(|t| t.trim().to_owned()))
            .ok_or(format!("LOCK {file}: no lock token in {body}"))?;
        // Who holds it, as DAV:owner (the answer binds D to DAV:): where
        // Office and Explorer read the name they show.
        assert!(body.contains(r"<D:owner") && body.contains(r"JAN-PC\jan</D:href>"), "LOCK {file}: {body}");
        Ok(token)
    }

    fn unlock(&self, file: &str, token: &str) -> Result<(), Error> {
        self.expect("UNLOCK", file, &["-H", &format!("Lock-Token: <{token}>")], &[200, 204])?;
        Ok(())
    }

    /// WebClient's PROPPATCH of the Win32 times and attributes: a 207 with
    /// every property 200.
    fn set_win32_props(&self, file: &str, token: &str) -> Result<(), Error> {
        let submitted = submit(token);
        let args = ["-H", "Content-Type: text/xml; charset=\"utf-8\"", "-H", &submitted, "--data-binary", WIN32_PROPS];
        let body = self.expect("PROPPATCH", file, &args, &[207])?;
        let statuses: Vec<&str> = body.split("HTTP/1.1 ").skip(1).map(|s| s.get(..3).unwrap_or(s)).collect();
        if statuses.is_empty() || statuses.iter().any(|s| *s != "200") {
            return Err(format!("PROPPATCH {file}: every Win32 property 200, got {statuses:?}: {body}").into());
        }
        Ok(())
    }

    /// MOVE within the draft (Overwrite: T, the default), submitting a lock
    /// token of the source when it is locked.
    fn rename(&self, from: &str, to: &str, token: Option<&str>) -> Result<(), Error> {
        let destination = format!("Destination: {}", self.s.url(&self.path(to)));
        let mut args = vec!["-H", destination.as_str()];
        let submitted = token.map(submit);
        if let Some(header) = &submitted {
            args.extend(["-H", header]);
        }
        self.expect("MOVE", from, &args, &[201, 204])?;
        Ok(())
    }

    fn delete(&self, file: &str, token: Option<&str>) -> Result<(), Error> {
        let submitted = token.map(submit);
        let args: Vec<&str> = submitted.iter().flat_map(|h| ["-H", h.as_str()]).collect();
        self.expect("DELETE", file, &args, &[200, 204])?;
        Ok(())
    }

    fn get(&self, file: &str) -> Result<Vec<u8>, Error> {
        let (status, body) = self.request("GET", file, &[])?;
        if status != 200 {
            return Err(format!("GET {file}: {status}: {}", text(&body)).into());
        }
        Ok(body)
    }

    /// The names a Depth 1 PROPFIND lists in the draft, sorted.
    fn names(&self) -> Result<Vec<String>, Error> {
        let body = self.expect("PROPFIND", "", &["-H", "Depth: 1"], &[207])?;
        let own = self.path("");
        let mut names: Vec<String> = hrefs(&body)
            .into_iter()
            .filter(|h| h.trim_end_matches('/') != own.trim_end_matches('/'))
            .map(|h| decode(h.trim_end_matches('/').rsplit('/').next().unwrap_or_default()))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The draft holds `file` with exactly `bytes`, and lists exactly `names`.
    fn holds(&self, file: &str, bytes: &[u8], names: &[&str]) -> TestResult {
        assert_eq!(text(&self.get(file)?), text(bytes), "{file} reads back as the client wrote it last");
        assert_eq!(self.names()?, names, "the draft lists exactly these names, no temporary file or litter");
        Ok(())
    }

    /// PUT message.txt and MOVE the draft into /sent.
    fn send(&self, message: &str) -> Result<(), Error> {
        self.put("message.txt", message.as_bytes(), &[])?;
        let destination = format!("Destination: {}", self.s.url(&format!("/dav/sent/{}/", self.name)));
        self.expect("MOVE", "", &["-H", &destination], &[201, 204])?;
        Ok(())
    }

    /// Send to Kees, who then reads `file` with exactly `bytes` in his inbox.
    fn send_to_kees(&self, file: &str, bytes: &[u8]) -> TestResult {
        self.send(TO_KEES)?;
        let (status, body) = self.s.curl(KEES, "GET", &format!("/dav/inbox/{}/{}", self.name, encode(file)), &[])?;
        assert_eq!((status, text(&body)), (200, text(bytes)), "Kees receives {file} with the new bytes");
        Ok(())
    }
}

/// A zip whose entries are stored (not compressed): the container of docx,
/// xlsx and odt. OpenDocument wants `mimetype` first and stored, which this is.
fn zip(entries: &[(&str, &str)]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        !data.iter().fold(!0u32, |crc, &b| {
            (0..8).fold(crc ^ u32::from(b), |c, _| if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 })
        })
    }
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let (name, data) = (name.as_bytes(), data.as_bytes());
        let offset = out.len() as u32;
        // Version 2.0, no flags, stored, 1980-01-01 00:00, CRC, sizes, name length, no extra field.
        let mut fields = [20u16.to_le_bytes(), [0, 0], [0, 0], [0, 0], 0x21u16.to_le_bytes()].concat();
        fields.extend(crc32(data).to_le_bytes());
        fields.extend((data.len() as u32).to_le_bytes());
        fields.extend((data.len() as u32).to_le_bytes());
        fields.extend((name.len() as u16).to_le_bytes());
        fields.extend([0, 0]);
        out.extend([&b"PK\x03\x04"[..], &fields, name, data].concat());
        // The central directory's entry: "made by" 2.0, the same fields, no
        // comment, disk 0, no attributes, where the local header is.
        central.extend(
            [&b"PK\x01\x02"[..], &20u16.to_le_bytes(), &fields, &[0; 10], &offset.to_le_bytes(), name].concat(),
        );
    }
    let (count, at) = ((entries.len() as u16).to_le_bytes(), (out.len() as u32).to_le_bytes());
    let size = (central.len() as u32).to_le_bytes();
    out.extend([&central[..], b"PK\x05\x06", &[0; 4], &count, &count, &size, &at, &[0, 0]].concat());
    out
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
     <Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>";

/// A minimal Word document holding `words`.
fn docx(words: &str) -> Vec<u8> {
    let document = format!(
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body><w:p><w:r><w:t>{words}</w:t></w:r></w:p></w:body></w:document>"
    );
    zip(&[("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", &document)])
}

/// A minimal Excel workbook whose sheet is named `sheet`.
fn xlsx(sheet: &str) -> Vec<u8> {
    let workbook = format!(
        "<?xml version=\"1.0\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
         <sheets><sheet name=\"{sheet}\" sheetId=\"1\"/></sheets></workbook>"
    );
    zip(&[("[Content_Types].xml", CONTENT_TYPES), ("xl/workbook.xml", &workbook)])
}

/// A minimal OpenDocument text holding `words`.
fn odt(words: &str) -> Vec<u8> {
    let content = format!(
        "<?xml version=\"1.0\"?><office:document-content \
         xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\"><office:body><office:text>\
         <text:p>{words}</text:p></office:text></office:body></office:document-content>"
    );
    zip(&[("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", &content)])
}

/// Explorer copying a file into a mapped drive (mar10/wsgidav#112): PROPFIND
/// of the new name (404), an empty PUT, LOCK, PROPPATCH of the Win32
/// properties (a bare 403 there breaks the copy, emersion/go-webdav#189), HEAD,
/// the body under the lock, PROPPATCH again, UNLOCK. Any 403 shows as error
/// 0x8007003A, never its reason (INGInious#728).
#[test]
fn windows_explorer_copies_a_file_in_through_an_empty_put_and_a_lock() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "explorer")?;
    let doc = pdf("copied in by Explorer");
    d.expect("PROPFIND", "brief.pdf", &["-H", "Depth: 0"], &[404])?;
    d.put("brief.pdf", b"", &[])?;
    let token = d.lock("brief.pdf")?;
    let discovery =
        "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\"><D:prop><D:lockdiscovery/></D:prop></D:propfind>";
    let found = d.expect("PROPFIND", "brief.pdf", &["-H", "Depth: 0", "--data-binary", discovery], &[207])?;
    assert!(found.contains("<D:owner") && found.contains(r"JAN-PC\jan</D:href>"), "the lock's owner: {found}");
    d.set_win32_props("brief.pdf", &token)?;
    d.expect("HEAD", "brief.pdf", &["-I"], &[200])?;
    d.put("brief.pdf", &doc, &[&submit(&token)])?;
    d.set_win32_props("brief.pdf", &token)?;
    d.unlock("brief.pdf", &token)?;
    d.holds("brief.pdf", &doc, &["brief.pdf", "message.txt"])?;
    d.send_to_kees("brief.pdf", &doc)
}

/// Finder copying a file in (ModeShape#841, pydio-core#581): its AppleDouble
/// `._name` first (refusing it aborts the whole copy with error -36,
/// macfuse#519, rclone#7503), an empty PUT, LOCK, the body under the lock —
/// chunked, its length announced in `X-Expected-Entity-Length` — UNLOCK, and
/// the folder's `.DS_Store`. The litter reads back by exact path, is not
/// listed and is not sent.
#[test]
fn macos_finder_copies_a_file_in_with_its_appledouble_and_ds_store() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "finder")?;
    let doc = pdf("copied in by Finder");
    // An AppleDouble header (magic 00 05 16 07, version 2) padded to Finder's 4096 bytes.
    let mut appledouble = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ".to_vec();
    appledouble.resize(4096, 0);
    let ds_store = b"\x00\x00\x00\x01Bud1\x00\x00\x10\x00".to_vec();

    d.put("._brief.pdf", &appledouble, &[])?;
    d.expect("PROPFIND", "._brief.pdf", &["-H", "Depth: 0"], &[207])?;
    let side = d.lock("._brief.pdf")?;
    d.put("brief.pdf", b"", &[])?;
    let token = d.lock("brief.pdf")?;
    let length = format!("X-Expected-Entity-Length: {}", doc.len());
    d.put("brief.pdf", &doc, &[&submit(&token), "Transfer-Encoding: chunked", &length])?;
    d.unlock("brief.pdf", &token)?;
    d.unlock("._brief.pdf", &side)?;
    d.put(".DS_Store", &ds_store, &[])?;

    assert_eq!(d.get("._brief.pdf")?, appledouble, "the AppleDouble file reads back by its exact path");
    assert_eq!(d.get(".DS_Store")?, ds_store, ".DS_Store reads back by its exact path");
    d.holds("brief.pdf", &doc, &["brief.pdf", "message.txt"])?;
    d.send_to_kees("brief.pdf", &doc)?;
    for litter in ["._brief.pdf", ".DS_Store"] {
        let (status, _) = s.curl(KEES, "GET", &format!("/dav/inbox/finder/{}", encode(litter)), &[])?;
        assert_eq!(status, 404, "{litter} is not sent");
    }
    let (_, listing) = s.curl(KEES, "PROPFIND", "/dav/inbox/finder/", &["-H", "Depth: 1"])?;
    let received: Vec<String> = hrefs(&text(&listing)).iter().map(|h| decode(h)).collect();
    assert!(received.iter().any(|h| h.ends_with("/brief.pdf")), "Kees receives brief.pdf: {received:?}");
    assert!(!received.iter().any(|h| h.contains("._") || h.contains(".DS_Store")), "and no litter: {received:?}");
    Ok(())
}

/// Word saving a document opened from the share (MS KB 211632 and 102888):
/// the owner file `~$report.docx`, the new version written to `~WRD0000.tmp`,
/// the original moved aside to `~WRL0001.tmp`, the temporary moved onto the
/// name, the aside deleted, the owner file unlocked and deleted.
#[test]
fn word_saves_an_existing_document_through_temporary_files() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "word")?;
    d.put("report.docx", &docx("the first draft"), &[])?;
    let saved = docx("the version Word saved");
    // The owner file: the length of the user's name, the name, padding to 162 bytes.
    let mut owner = b"\x03Jan".to_vec();
    owner.resize(162, b' ');

    d.put("~$report.docx", &owner, &[])?;
    let token = d.lock("~$report.docx")?;
    d.put("~WRD0000.tmp", &saved, &[])?;
    d.rename("report.docx", "~WRL0001.tmp", None)?;
    d.rename("~WRD0000.tmp", "report.docx", None)?;
    d.delete("~WRL0001.tmp", None)?;
    d.unlock("~$report.docx", &token)?;
    d.delete("~$report.docx", None)?;

    d.holds("report.docx", &saved, &["message.txt", "report.docx"])?;
    d.send_to_kees("report.docx", &saved)
}

/// Excel saving (nextcloud/server#9790; seafile stopped refusing `.tmp` when
/// applications broke, haiwen/seafile#886): `~$book.xlsx` PUT, LOCK and
/// PROPPATCH, the new version as a hex-named `.tmp` with its own LOCK and
/// PROPPATCH, swapped in for the original, the original and the owner file
/// deleted.
#[test]
fn excel_saves_an_existing_workbook_through_a_hex_named_temporary() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "excel")?;
    d.put("book.xlsx", &xlsx("first"), &[])?;
    let saved = xlsx("saved");

    d.put("~$book.xlsx", &[0x05; 165], &[])?;
    let owner = d.lock("~$book.xlsx")?;
    d.set_win32_props("~$book.xlsx", &owner)?;
    d.put("34429E5E.tmp", &saved, &[])?;
    let temporary = d.lock("34429E5E.tmp")?;
    d.set_win32_props("34429E5E.tmp", &temporary)?;
    d.rename("book.xlsx", "5C1E2A11.tmp", None)?;
    d.rename("34429E5E.tmp", "book.xlsx", Some(&temporary))?;
    d.delete("5C1E2A11.tmp", None)?;
    d.delete("~$book.xlsx", Some(&owner))?;

    d.holds("book.xlsx", &saved, &["book.xlsx", "message.txt"])?;
    d.send_to_kees("book.xlsx", &saved)
}

/// LibreOffice saving natively over WebDAV (nextcloud/server#31595): its lock
/// file `.~lock.notes.odt#`, a LOCK on the document, the new version PUT in
/// place under that lock, UNLOCK, the lock file deleted.
#[test]
fn libreoffice_saves_a_document_in_place_under_a_lock() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "libreoffice")?;
    d.put("notes.odt", &odt("first notes"), &[])?;
    let saved = odt("the notes LibreOffice saved");

    d.put(".~lock.notes.odt#", b",Jan Jansen,jan-pc,12.01.2026 09:30,file:///home/jan/.config/libreoffice/4;\n", &[])?;
    let lockfile = d.lock(".~lock.notes.odt#")?;
    let token = d.lock("notes.odt")?;
    d.put("notes.odt", &saved, &[&submit(&token)])?;
    d.unlock("notes.odt", &token)?;
    d.unlock(".~lock.notes.odt#", &lockfile)?;
    d.delete(".~lock.notes.odt#", None)?;

    d.holds("notes.odt", &saved, &["message.txt", "notes.odt"])?;
    d.send_to_kees("notes.odt", &saved)
}

/// A save Word did not finish leaves `~WRL0003.tmp` behind (MS KB 211632): the
/// draft is not sent while it is there, and both the refusal and message.txt
/// name it, so the user knows what to delete; deleted, the draft goes.
#[test]
fn a_leftover_temporary_file_stops_the_send_and_is_named() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "leftover")?;
    d.put("report.docx", &docx("the saved version"), &[])?;
    d.put("~WRL0003.tmp", &docx("an unfinished save"), &[])?;
    d.put("message.txt", TO_KEES.as_bytes(), &[])?;

    let destination = format!("Destination: {}", s.url("/dav/sent/leftover/"));
    // 409: the message is not ready to be sent (the same answer as without a recipient).
    let refusal = d.expect("MOVE", "", &["-H", &destination], &[409])?;
    assert!(refusal.contains("~WRL0003.tmp"), "the refusal names the temporary file: {refusal}");
    let envelope = text(&d.get("message.txt")?);
    assert!(
        envelope.starts_with("# NOT SENT:") && envelope.contains("~WRL0003.tmp"),
        "message.txt says why: {envelope}"
    );
    // Once the user deletes it, the draft goes.
    d.delete("~WRL0003.tmp", None)?;
    d.send_to_kees("report.docx", &docx("the saved version"))
}

/// message.txt reads back exactly as written — CRLF line endings, accents, a
/// phone number as people type it — and PROPFIND reports the size PUT: rclone
/// compares the two after every upload and deletes a file whose sizes differ
/// as "corrupted on transfer".
#[test]
fn message_txt_reads_back_byte_for_byte_with_the_size_written() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "message")?;
    d.put("brief.pdf", &pdf("for piet"), &[])?;
    let message = "To: Piet Pieters <piet@example.org>\r\nPhone: 06 12345678\r\nSubject: Dossier 12, één café\r\n\r\n\
                   Beste Piet,\r\nHierbij de stukken. Groeten, Zoë\r\n";
    d.put("message.txt", message.as_bytes(), &[])?;
    assert_eq!(text(&d.get("message.txt")?), message, "message.txt reads back byte for byte");
    let asked = "<?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"><prop><getcontentlength/></prop></propfind>";
    let body = d.expect("PROPFIND", "message.txt", &["-H", "Depth: 0", "--data-binary", asked], &[207])?;
    let size = body.split_once("getcontentlength>").and_then(|(_, rest)| rest.split('<').next());
    assert_eq!(size, Some(message.len().to_string().as_str()), "PROPFIND reports the size PUT: {body}");

    let destination = format!("Destination: {}", s.url("/dav/sent/message/"));
    d.expect("MOVE", "", &["-H", &destination], &[201, 204])?;
    assert!(rclone::recipient_told(&s.data()), "piet gets the mail and the SMS code");
    Ok(())
}

/// A refused type is refused at the first write, the empty PUT Explorer and
/// Finder start with included, with the reason in the body.
#[test]
fn a_program_is_refused_at_once_with_the_reason() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "refused")?;
    d.put("brief.pdf", &pdf("allowed"), &[])?;
    for bytes in [&b""[..], b"MZ\x90\x00\x03\x00\x00\x00"] {
        let body = tempfile::NamedTempFile::new()?;
        std::fs::write(body.path(), bytes)?;
        let (status, said) = d.request("PUT", "setup.exe", &["-T", &body.path().to_string_lossy()])?;
        let said = text(&said);
        assert_eq!(status, 403, "a {}-byte setup.exe: {said}", bytes.len());
        assert!(said.contains("files of type .exe are not allowed") && said.contains("zip"), "{said}");
    }
    // Windows shows no body: the reason goes in X-MSDAVEXT_ERROR too ([MS-WDV] 2.2.3).
    let headers = tempfile::NamedTempFile::new()?;
    let dump = headers.path().to_string_lossy().into_owned();
    let (status, _) = d.request("PUT", "setup.exe", &["--data-binary", "MZ", "-D", &dump])?;
    let headers = std::fs::read_to_string(headers.path())?.to_ascii_lowercase();
    assert_eq!(status, 403);
    assert!(headers.contains("x-msdavext_error: 403; files%20of%20type%20%2eexe%20are%20not%20allowed"), "{headers}");
    // A LOCK that would make the file (an unmapped URL) is refused as a PUT is, not answered 201.
    let lock = r#"<?xml version="1.0"?><lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype><owner>explorer</owner></lockinfo>"#;
    let (status, said) = d.request("LOCK", "setup.exe", &["-H", "Content-Type: application/xml", "--data", lock])?;
    assert_eq!(status, 403, "{}", text(&said));
    assert!(text(&said).contains("files of type .exe are not allowed"), "{}", text(&said));
    d.holds("brief.pdf", &pdf("allowed"), &["brief.pdf", "message.txt"])?;
    d.send_to_kees("brief.pdf", &pdf("allowed"))
}

/// dav-server deletes an existing destination before a MOVE or COPY onto it
/// (`Overwrite: T`, the default); when the core then refuses, the file that
/// was there must still be there, untouched.
#[test]
fn a_refused_move_or_copy_onto_a_file_leaves_that_file_as_it_was() -> TestResult {
    server::need("curl")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "kept")?;
    d.put("brief.pdf", &pdf("the one to keep"), &[])?;
    d.put("notes.tmp", b"plain text, not a PDF", &[])?;
    for method in ["MOVE", "COPY"] {
        let destination = format!("Destination: {}", s.url(&d.path("brief.pdf")));
        let refusal = d.expect(method, "notes.tmp", &["-H", &destination, "-H", "Overwrite: T"], &[403])?;
        assert!(refusal.contains("brief.pdf"), "{method}: the content check names the file: {refusal}");
        d.holds("brief.pdf", &pdf("the one to keep"), &["brief.pdf", "message.txt", "notes.tmp"])?;
    }
    Ok(())
}

/// The entries of a zip, each as `name sha256`, as Python's zipfile reads
/// it (which checks every CRC-32 too).
fn unzipped(zip: &[u8]) -> Result<Vec<String>, Error> {
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), zip)?;
    let script = "import sys,zipfile,hashlib\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                  print('\\n'.join(n+' '+hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()))";
    let out = Server::run(std::process::Command::new("python3").arg("-c").arg(script).arg(file.path()))?;
    Ok(String::from_utf8(out.stdout)?.lines().map(str::to_owned).collect())
}

fn sha256(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Explorer's "New folder" in a draft (MKCOL `New folder`, then MOVE to the
/// name typed, Overwrite: F; docker-nginx-webdav-nononsense#14), its Win32
/// attributes set, and a folder with a subfolder dragged into it, each file
/// copied in as Explorer copies one (mar10/wsgidav#112), `Thumbs.db` beside
/// them. The colleague receives the folder as `Bijlagen.zip`, every file at
/// its path, and the report lists each with its size and SHA-256.
#[test]
fn windows_explorer_makes_a_new_folder_and_drags_a_folder_in_which_arrives_as_a_zip() -> TestResult {
    server::need("curl")?;
    server::need("python3")?;
    let s = Server::start(&[])?;
    let d = Draft::make(&s, "folder")?;
    d.expect("PROPFIND", "New folder", &["-H", "Depth: 0"], &[404])?;
    d.expect("MKCOL", "New folder", &[], &[201])?;
    d.expect("PROPFIND", "New folder", &["-H", "Depth: 0"], &[207])?;
    let destination = format!("Destination: {}", s.url(&d.path("Bijlagen")));
    d.expect("MOVE", "New folder", &["-H", &destination, "-H", "Overwrite: F"], &[201])?;
    let props = ["-H", "Content-Type: text/xml; charset=\"utf-8\"", "--data-binary", WIN32_PROPS];
    d.expect("PROPPATCH", "Bijlagen", &props, &[207])?;
    d.expect("MKCOL", "Bijlagen/2026", &[], &[201])?;
    let files: [(&str, Vec<u8>); 3] = [
        ("Bijlagen/brief.pdf", pdf("in a folder")),
        ("Bijlagen/scan.dat", b"any type inside a folder".to_vec()),
        ("Bijlagen/2026/notes", b"no extension either".to_vec()),
    ];
    for (file, bytes) in &files {
        d.expect("PROPFIND", file, &["-H", "Depth: 0"], &[404])?;
        d.put(file, b"", &[])?;
        let token = d.lock(file)?;
        d.set_win32_props(file, &token)?;
        d.put(file, bytes, &[&submit(&token)])?;
        d.unlock(file, &token)?;
        assert_eq!(&d.get(file)?, bytes, "{file} reads back as written");
    }
    d.put("Bijlagen/Thumbs.db", b"thumbnails", &[])?;
    assert_eq!(d.names()?, ["Bijlagen", "message.txt"]);

    d.send(TO_KEES)?;
    let (status, zip) = s.curl(KEES, "GET", "/dav/inbox/folder/Bijlagen.zip", &[])?;
    assert_eq!(status, 200, "{}", text(&zip));
    let mut expected: Vec<String> =
        ["Bijlagen/", "Bijlagen/2026/"].iter().map(|f| format!("{f} {}", sha256(b""))).collect();
    expected.extend(files.iter().map(|(f, b)| format!("{f} {}", sha256(b))));
    expected.sort();
    assert_eq!(unzipped(&zip)?, expected, "every file at its path, Thumbs.db left out");
    let (status, tail) = s.curl(KEES, "GET", "/dav/inbox/folder/Bijlagen.zip", &["-H", "Range: bytes=100-"])?;
    assert_eq!((status, tail.as_slice()), (206, &zip[100..]), "a download resumes in the middle");

    let (status, report) = s.curl(JAN, "GET", "/dav/sent/folder/report.pdf", &[])?;
    assert_eq!(status, 200);
    let path = s.dir.path().join("folder-report.pdf");
    std::fs::write(&path, report)?;
    let verified = s.cli(&["report", "verify", &path.to_string_lossy()])?;
    for (file, bytes) in &files {
        let line = format!("{file} {} bytes sha256 {}", bytes.len(), sha256(bytes));
        assert!(verified.contains(&line), "the report lists {line}: {verified}");
    }
    assert!(verified.contains("Bijlagen.zip"), "{verified}");
    Ok(())
}
