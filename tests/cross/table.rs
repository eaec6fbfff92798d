//! One behaviour table, two doors: every row is a scenario in door-neutral
//! terms (operations on paths of the tree, and the outcome each must have),
//! and the same rows run over SFTP (paramiko, `tests/sftp/table.py`, one
//! process per scenario) and over WebDAV (curl, one request per operation)
//! against one `koerier serve`. The expected outcomes are written once, here,
//! so the doors cannot drift apart: the behaviour is that of
//! `drive-behaviour.md`.
//!
//! Paths name `{d}`, the row's own draft, made anew for each door.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::door::{Error, Koerier, TestResult, User, python, wait_until};
use crate::{dav, mail};

/// One operation, as both doors can do it. A path ending in `/` is a folder.
#[derive(Debug)]
enum Op {
    Mkdir(&'static str),
    /// Write the whole file (over an existing one, replace it).
    Put(&'static str, &'static str),
    Rename(&'static str, &'static str),
    Delete(&'static str),
    Rmdir(&'static str),
    List(&'static str),
    Read(&'static str),
    Stat(&'static str),
    /// An SFTP upload of this many bytes whose connection drops before the
    /// file is closed (SFTP in both rows: WebDAV has no such thing).
    Cut(&'static str, u32),
}

/// Moving the draft into `/sent` sends it.
const SEND: Op = Op::Rename("/outbox/{d}/", "/sent/{d}/");

/// What the door must answer, in door-neutral terms.
#[derive(Debug)]
enum Expect {
    Ok,
    /// Ok, and the folder lists exactly these names (in any order).
    Listing(&'static [&'static str]),
    /// Ok, and the folder lists this name with a size in the range.
    Sized(&'static str, RangeInclusive<u64>),
    /// Ok, and the file reads as exactly these bytes.
    Bytes(&'static str),
    /// Ok, and the file begins with these bytes.
    Starts(&'static str),
    /// Ok, and the file is a text holding each of these.
    Text(&'static [&'static str]),
    /// Ok, and the file is `message.txt` after a failed send: comment lines,
    /// from `# NOT SENT:` naming this reason, then [`MESSAGE`] as the client
    /// wrote it.
    NotSent(&'static str),
    NotFound,
    /// Refused (SFTP permission denied or failure, WebDAV 403 or 409) with a
    /// reason holding these words.
    Refused(&'static str),
    /// Refused as read-only (SFTP permission denied, WebDAV 403, "read-only").
    ReadOnly,
}

/// What a row starts from, made through the door under test.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Given {
    Nothing,
    /// `/outbox/{d}` with [`MESSAGE`] and `a.pdf` ([`PDF_A`]).
    Draft,
    /// That draft sent: `/sent/{d}`.
    Sent,
    /// Nothing, signed in with an upload request's link instead of as Jan.
    RequestLink,
}

struct Row {
    name: &'static str,
    given: Given,
    steps: &'static [(Op, Expect)],
}

/// An envelope to an external recipient, with CRLF and the phone number as
/// a person types it: it must read back as written.
const MESSAGE: &str = "To: Piet Pieters <piet@example.org>\r\nPhone: 06 12345678\r\nSubject: Dossier 12\r\n\
                         Reference: K-12\r\nLanguage: en\r\n\r\nHere are the documents.\r\n";
const PDF_A: &str = "%PDF-1.4\n% a\n%%EOF\n";
const PDF_B: &str = "%PDF-1.4\n% b\n%%EOF\n";
/// The size of [`PDF_A`] and [`PDF_B`] (a report is much larger).
const PDF_LEN: u64 = PDF_A.len() as u64;
const NOT_PDF: &str = "plain text, not a PDF\n";
const LITTER: &str = "\0\0\0\x01Bud1, litter of a file manager";

const DRAFT: &[(Op, Expect)] = &[
    (Op::Mkdir("/outbox/{d}/"), Expect::Ok),
    (Op::Put("/outbox/{d}/message.txt", MESSAGE), Expect::Ok),
    (Op::Put("/outbox/{d}/a.pdf", PDF_A), Expect::Ok),
];
const SENT: &[(Op, Expect)] = &[(SEND, Expect::Ok)];

#[rustfmt::skip]
const TABLE: &[Row] = &[
    Row { name: "mkdir makes a draft with the template", given: Given::Nothing, steps: &[
        (Op::Mkdir("/outbox/{d}/"), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["message.txt"])),
        (Op::Read("/outbox/{d}/message.txt"), Expect::Text(&["To:", "Phone:", "Subject:", "Reference:", "Language:"])),
    ]},
    Row { name: "put a document", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/b.pdf", PDF_B), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "b.pdf", "message.txt"])),
        (Op::Read("/outbox/{d}/b.pdf"), Expect::Bytes(PDF_B)),
    ]},
    Row { name: "message.txt reads back byte for byte", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/message.txt", MESSAGE), Expect::Ok),
        (Op::Read("/outbox/{d}/message.txt"), Expect::Bytes(MESSAGE)),
    ]},
    Row { name: "overwrite a document", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/a.pdf", PDF_B), Expect::Ok),
        (Op::Read("/outbox/{d}/a.pdf"), Expect::Bytes(PDF_B)),
    ]},
    Row { name: "rename a document inside a draft", given: Given::Draft, steps: &[
        (Op::Rename("/outbox/{d}/a.pdf", "/outbox/{d}/b.pdf"), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["b.pdf", "message.txt"])),
        (Op::Read("/outbox/{d}/b.pdf"), Expect::Bytes(PDF_A)),
    ]},
    Row { name: "rename a WinSCP temporary to a document", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/b.pdf.filepart", PDF_B), Expect::Ok),
        (Op::Rename("/outbox/{d}/b.pdf.filepart", "/outbox/{d}/b.pdf"), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "b.pdf", "message.txt"])),
        (Op::Read("/outbox/{d}/b.pdf"), Expect::Bytes(PDF_B)),
    ]},
    Row { name: "rename a temporary without extension to a document", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/res", PDF_B), Expect::Ok),
        (Op::Rename("/outbox/{d}/res", "/outbox/{d}/b.pdf"), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "b.pdf", "message.txt"])),
        (Op::Read("/outbox/{d}/b.pdf"), Expect::Bytes(PDF_B)),
    ]},
    Row { name: "rename a Word temporary to a document", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/~WRL0001.tmp", PDF_B), Expect::Ok),
        (Op::Rename("/outbox/{d}/~WRL0001.tmp", "/outbox/{d}/b.pdf"), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "b.pdf", "message.txt"])),
        (Op::Read("/outbox/{d}/b.pdf"), Expect::Bytes(PDF_B)),
    ]},
    Row { name: "a temporary that is no PDF is not renamed to x.pdf", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/~WRD0002.tmp", NOT_PDF), Expect::Ok),
        (Op::Rename("/outbox/{d}/~WRD0002.tmp", "/outbox/{d}/x.pdf"), Expect::Refused("must be what its name says")),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "message.txt", "~WRD0002.tmp"])),
        (Op::Read("/outbox/{d}/~WRD0002.tmp"), Expect::Bytes(NOT_PDF)),
    ]},
    Row { name: "delete a document", given: Given::Draft, steps: &[
        (Op::Delete("/outbox/{d}/a.pdf"), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["message.txt"])),
        (Op::Read("/outbox/{d}/a.pdf"), Expect::NotFound),
    ]},
    Row { name: "deleting message.txt empties it", given: Given::Draft, steps: &[
        (Op::Delete("/outbox/{d}/message.txt"), Expect::Ok),
        (Op::Read("/outbox/{d}/message.txt"), Expect::Bytes("")),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "message.txt"])),
    ]},
    Row { name: "a listing shows temporaries, hides litter that reads by its path", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/a.pdf.XyZ123.partial", PDF_B), Expect::Ok),
        (Op::Put("/outbox/{d}/.DS_Store", LITTER), Expect::Ok),
        (Op::Put("/outbox/{d}/._a.pdf", LITTER), Expect::Ok),
        (Op::Put("/outbox/{d}/Thumbs.db", LITTER), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "a.pdf.XyZ123.partial", "message.txt"])),
        (Op::Read("/outbox/{d}/.DS_Store"), Expect::Bytes(LITTER)),
        (Op::Read("/outbox/{d}/._a.pdf"), Expect::Bytes(LITTER)),
        (Op::Read("/outbox/{d}/Thumbs.db"), Expect::Bytes(LITTER)),
    ]},
    Row { name: "a refused type is refused at once, with what to do", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/evil.exe", "MZ\0\0"), Expect::Refused("zip")),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "message.txt"])),
    ]},
    Row { name: "an empty document is kept but not sent", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/empty.pdf", ""), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "empty.pdf", "message.txt"])),
        (SEND, Expect::Refused("the document empty.pdf is empty")),
        (Op::Read("/outbox/{d}/message.txt"), Expect::NotSent("the document empty.pdf is empty")),
    ]},
    Row { name: "a leftover temporary blocks sending", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/~WRL0001.tmp", PDF_B), Expect::Ok),
        (SEND, Expect::Refused("~WRL0001.tmp")),
        (Op::Read("/outbox/{d}/message.txt"), Expect::NotSent("~WRL0001.tmp")),
        (Op::Stat("/sent/{d}/"), Expect::NotFound),
    ]},
    Row { name: "moving a draft into /sent sends it", given: Given::Draft, steps: &[
        (SEND, Expect::Ok),
        (Op::Stat("/outbox/{d}/"), Expect::NotFound),
        (Op::List("/sent/{d}/"), Expect::Listing(&["a.pdf", "message.txt", "report.pdf"])),
    ]},
    Row { name: "a draft keeps its name when sent", given: Given::Draft, steps: &[
        (Op::Rename("/outbox/{d}/", "/sent/other-{d}/"), Expect::Refused("keep the folder's name")),
        (Op::Stat("/outbox/{d}/"), Expect::Ok),
        (Op::Stat("/sent/other-{d}/"), Expect::NotFound),
    ]},
    Row { name: "nothing is written under /sent", given: Given::Sent, steps: &[
        (Op::Put("/sent/{d}/b.pdf", PDF_B), Expect::ReadOnly),
        (Op::Put("/sent/{d}/a.pdf", PDF_B), Expect::ReadOnly),
        (Op::Put("/sent/{d}/message.txt", MESSAGE), Expect::ReadOnly),
        (Op::Mkdir("/sent/new-{d}/"), Expect::ReadOnly),
        (Op::List("/sent/{d}/"), Expect::Listing(&["a.pdf", "message.txt", "report.pdf"])),
    ]},
    Row { name: "nothing is deleted under /sent", given: Given::Sent, steps: &[
        (Op::Delete("/sent/{d}/a.pdf"), Expect::ReadOnly),
        (Op::Delete("/sent/{d}/message.txt"), Expect::ReadOnly),
        (Op::Rmdir("/sent/{d}/"), Expect::ReadOnly),
        (Op::List("/sent/{d}/"), Expect::Listing(&["a.pdf", "message.txt", "report.pdf"])),
    ]},
    Row { name: "nothing is renamed under /sent", given: Given::Sent, steps: &[
        (Op::Rename("/sent/{d}/a.pdf", "/sent/{d}/b.pdf"), Expect::ReadOnly),
        (Op::Rename("/sent/{d}/", "/outbox/{d}/"), Expect::ReadOnly),
        (Op::List("/sent/{d}/"), Expect::Listing(&["a.pdf", "message.txt", "report.pdf"])),
    ]},
    Row { name: "a sent message's report reads", given: Given::Sent, steps: &[
        (Op::Read("/sent/{d}/report.pdf"), Expect::Starts("%PDF-")),
    ]},
    Row { name: "a document sent outside opens with the recipient's link only", given: Given::Sent, steps: &[
        (Op::Read("/sent/{d}/a.pdf"), Expect::Refused("recipient's link")),
    ]},
    Row { name: "beside a document named report.pdf the report is report-koerier.pdf", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/report.pdf", PDF_B), Expect::Ok),
        (SEND, Expect::Ok),
        (Op::List("/sent/{d}/"), Expect::Listing(&["a.pdf", "message.txt", "report.pdf", "report-koerier.pdf"])),
        (Op::List("/sent/{d}/"), Expect::Sized("report.pdf", PDF_LEN..=PDF_LEN)),
        (Op::Read("/sent/{d}/report-koerier.pdf"), Expect::Starts("%PDF-")),
    ]},
    Row { name: "a request-link sign-in sees /outbox and /sent only", given: Given::RequestLink, steps: &[
        (Op::List("/"), Expect::Listing(&["outbox", "sent"])),
        (Op::List("/inbox/"), Expect::NotFound),
    ]},
    Row { name: "a name differing only in case is a duplicate", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/A.PDF", PDF_B), Expect::Refused("already called")),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "message.txt"])),
        (Op::Read("/outbox/{d}/a.pdf"), Expect::Bytes(PDF_A)),
    ]},
    Row { name: "a folder in a draft is made, filled, renamed and emptied", given: Given::Draft, steps: &[
        (Op::Mkdir("/outbox/{d}/Nieuw/"), Expect::Ok),
        (Op::Rename("/outbox/{d}/Nieuw/", "/outbox/{d}/Bijlagen/"), Expect::Ok),
        (Op::Put("/outbox/{d}/Bijlagen/scan.dat", NOT_PDF), Expect::Ok),
        (Op::Mkdir("/outbox/{d}/Bijlagen/leeg/"), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["Bijlagen", "a.pdf", "message.txt"])),
        (Op::List("/outbox/{d}/Bijlagen/"), Expect::Listing(&["leeg", "scan.dat"])),
        (Op::Read("/outbox/{d}/Bijlagen/scan.dat"), Expect::Bytes(NOT_PDF)),
        // (A folder with files in it: SFTP's RMDIR refuses, "not empty";
        // WebDAV's DELETE removes it with them, RFC 4918 section 9.6.1.)
        (Op::Delete("/outbox/{d}/Bijlagen/scan.dat"), Expect::Ok),
        (Op::Rmdir("/outbox/{d}/Bijlagen/leeg/"), Expect::Ok),
        (Op::Rmdir("/outbox/{d}/Bijlagen/"), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "message.txt"])),
    ]},
    Row { name: "a file goes only into a folder the draft holds", given: Given::Draft, steps: &[
        (Op::Put("/outbox/{d}/Nergens/scan.dat", NOT_PDF), Expect::Refused("Nergens")),
        (Op::Stat("/outbox/{d}/Nergens/"), Expect::NotFound),
    ]},
    Row { name: "a folder is sent as one zip", given: Given::Draft, steps: &[
        (Op::Mkdir("/outbox/{d}/Bijlagen/"), Expect::Ok),
        (Op::Put("/outbox/{d}/Bijlagen/scan.dat", NOT_PDF), Expect::Ok),
        (SEND, Expect::Ok),
        (Op::List("/sent/{d}/"), Expect::Listing(&["Bijlagen.zip", "a.pdf", "message.txt", "report.pdf"])),
        (Op::Stat("/sent/{d}/Bijlagen/"), Expect::NotFound),
        (Op::Read("/sent/{d}/Bijlagen.zip"), Expect::Refused("recipient's link")),
    ]},
    Row { name: "an unfinished SFTP upload is listed with what was stored", given: Given::Draft, steps: &[
        (Op::Cut("/outbox/{d}/big.pdf", 300_000), Expect::Ok),
        (Op::List("/outbox/{d}/"), Expect::Listing(&["a.pdf", "big.pdf", "message.txt"])),
        (Op::List("/outbox/{d}/"), Expect::Sized("big.pdf", 1..=300_000)),
    ]},
];

/// A door's answer, in door-neutral terms.
enum Answer {
    Ok {
        listing: Vec<(String, u64)>,
        bytes: Vec<u8>,
    },
    NotFound,
    /// SFTP permission denied, WebDAV 403: the reason.
    Denied(String),
    /// SFTP failure, WebDAV 409: the reason.
    Failed(String),
    /// Anything else (a dropped connection, another status).
    Other,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Ok { listing, .. } if !listing.is_empty() => write!(f, "Ok, listing {listing:?}"),
            Answer::Ok { bytes, .. } => {
                write!(f, "Ok, bytes \"{}\"", bytes.escape_ascii().to_string().chars().take(300).collect::<String>())
            }
            Answer::NotFound => write!(f, "NotFound"),
            Answer::Denied(why) => write!(f, "Denied({why:?})"),
            Answer::Failed(why) => write!(f, "Failed({why:?})"),
            Answer::Other => write!(f, "Other"),
        }
    }
}

impl Expect {
    fn holds(&self, answer: &Answer) -> bool {
        let Answer::Ok { listing, bytes } = answer else {
            return match (self, answer) {
                (Expect::NotFound, Answer::NotFound) => true,
                (Expect::Refused(why), Answer::Denied(reason) | Answer::Failed(reason)) => reason.contains(why),
                (Expect::ReadOnly, Answer::Denied(reason)) => reason.contains("read-only"),
                _ => false,
            };
        };
        match self {
            Expect::Ok => true,
            Expect::Listing(names) => {
                let mut listed: Vec<&str> = listing.iter().map(|(n, _)| n.as_str()).collect();
                listed.sort_unstable();
                let mut names = names.to_vec();
                names.sort_unstable();
                listed == names
            }
            Expect::Sized(name, sizes) => listing.iter().any(|(n, size)| n == name && sizes.contains(size)),
            Expect::Bytes(expected) => bytes == expected.as_bytes(),
            Expect::Starts(start) => bytes.starts_with(start.as_bytes()),
            Expect::Text(parts) => parts.iter().all(|p| String::from_utf8_lossy(bytes).contains(p)),
            Expect::NotSent(why) => bytes.strip_suffix(MESSAGE.as_bytes()).is_some_and(|head| {
                let head = String::from_utf8_lossy(head);
                head.starts_with("# NOT SENT: ") && head.contains(why) && head.lines().all(|l| l.starts_with("# "))
            }),
            _ => false,
        }
    }
}

/// The operations a row runs: those of what it is given, then its own.
fn steps(row: &Row) -> Vec<&'static (Op, Expect)> {
    let given: &[&'static [(Op, Expect)]] = match row.given {
        Given::Nothing | Given::RequestLink => &[],
        Given::Draft => &[DRAFT],
        Given::Sent => &[DRAFT, SENT],
    };
    given.iter().copied().flatten().chain(row.steps).collect()
}

#[derive(Debug, Clone, Copy)]
enum Door {
    Sftp,
    WebDav,
}

impl Door {
    /// Run `ops` as `who` on the draft `d`: the neutral answer and the door's
    /// raw one, for each.
    fn run(self, k: &Koerier, who: &User, d: &str, ops: &[&Op]) -> Result<Vec<(Answer, String)>, Error> {
        match self {
            Door::Sftp => over_sftp(k, who, d, ops),
            Door::WebDav => ops.iter().map(|op| over_webdav(k, who, d, op)).collect(),
        }
    }
}

fn over_sftp(k: &Koerier, who: &User, d: &str, ops: &[&Op]) -> Result<Vec<(Answer, String)>, Error> {
    let at = |p: &str| p.replace("{d}", d);
    let ops: Vec<Value> = ops
        .iter()
        .map(|op| match op {
            Op::Mkdir(p) => json!({"op": "mkdir", "path": at(p)}),
            Op::Put(p, bytes) => json!({"op": "put", "path": at(p), "data": bytes.as_bytes()}),
            Op::Rename(from, to) => json!({"op": "rename", "path": at(from), "to": at(to)}),
            Op::Delete(p) => json!({"op": "delete", "path": at(p)}),
            Op::Rmdir(p) => json!({"op": "rmdir", "path": at(p)}),
            Op::List(p) => json!({"op": "list", "path": at(p)}),
            Op::Read(p) => json!({"op": "read", "path": at(p)}),
            Op::Stat(p) => json!({"op": "stat", "path": at(p)}),
            Op::Cut(p, size) => json!({"op": "cut", "path": at(p), "size": size}),
        })
        .collect();
    let said = k.paramiko("table.py", json!({"user": who.email, "password": who.password, "ops": ops}))?;
    let answers = said.as_array().ok_or_else(|| format!("table.py answered {said}"))?;
    Ok(answers.iter().map(|a| (sftp_answer(a), a.to_string())).collect())
}

fn sftp_answer(a: &Value) -> Answer {
    let message = a["message"].as_str().unwrap_or_default().to_owned();
    match a["status"].as_str() {
        Some("ok") => Answer::Ok {
            listing: a["listing"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| (e[0].as_str().unwrap_or_default().to_owned(), e[1].as_u64().unwrap_or_default()))
                .collect(),
            bytes: a["bytes"].as_array().into_iter().flatten().filter_map(|b| b.as_u64()).map(|b| b as u8).collect(),
        },
        Some("no such file") => Answer::NotFound,
        Some("permission denied") => Answer::Denied(message),
        Some("failure") => Answer::Failed(message),
        _ => Answer::Other,
    }
}

fn over_webdav(k: &Koerier, who: &User, d: &str, op: &Op) -> Result<(Answer, String), Error> {
    let at = |p: &str| format!("/dav{}", p.replace("{d}", d));
    let upload = k.path().join("dav-upload");
    let (status, body) = match op {
        Op::Mkdir(p) => dav(k, who, "MKCOL", &at(p), &[])?,
        Op::Put(p, bytes) => {
            std::fs::write(&upload, bytes)?;
            dav(k, who, "PUT", &at(p), &["--data-binary", &format!("@{}", upload.display())])?
        }
        Op::Rename(from, to) => dav(k, who, "MOVE", &at(from), &["-H", &format!("Destination: {}", k.url(&at(to)))])?,
        Op::Delete(p) | Op::Rmdir(p) => dav(k, who, "DELETE", &at(p), &[])?,
        Op::List(p) => dav(k, who, "PROPFIND", &at(p), &["-H", "Depth: 1"])?,
        Op::Read(p) => dav(k, who, "GET", &at(p), &[])?,
        Op::Stat(p) => dav(k, who, "PROPFIND", &at(p), &["-H", "Depth: 0"])?,
        Op::Cut(..) => return over_sftp(k, who, d, &[op])?.pop().ok_or_else(|| "table.py said nothing".into()),
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let raw = format!("{status} {}", text.chars().take(600).collect::<String>());
    let answer = match status {
        200..=299 => Answer::Ok {
            listing: if let Op::List(p) = op { propfind_entries(&text, &at(p)) } else { Vec::new() },
            bytes: body,
        },
        404 => Answer::NotFound,
        403 => Answer::Denied(text),
        409 => Answer::Failed(text),
        _ => Answer::Other,
    };
    Ok((answer, raw))
}

/// The members of the folder `path` in a PROPFIND answer: name and size.
fn propfind_entries(xml: &str, path: &str) -> Vec<(String, u64)> {
    let inside = |s: &str, tag: &str| -> Option<String> {
        let start = s.find(&format!("<D:{tag}>"))? + tag.len() + 4;
        Some(s[start..].split(&format!("</D:{tag}>")).next()?.to_owned())
    };
    xml.split("<D:response>")
        .skip(1)
        .filter_map(|response| {
            let href = percent_decoded(&inside(response, "href")?);
            let href = href.trim_end_matches('/');
            let name = href.strip_prefix(path.trim_end_matches('/'))?.strip_prefix('/')?;
            let size = inside(response, "getcontentlength").and_then(|s| s.parse().ok()).unwrap_or(0);
            Some((name.to_owned(), size))
        })
        .collect()
}

fn percent_decoded(s: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        let hex = if b == b'%' { bytes.next().zip(bytes.next()) } else { None };
        match hex.and_then(|(h, l)| u8::from_str_radix(&format!("{}{}", h as char, l as char), 16).ok()) {
            Some(decoded) => out.push(decoded),
            None => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An upload request asked of Piet: its user name (printed by `koerier
/// request`) and the secret (only in the mail to Piet) as a sign-in.
fn request_sign_in(k: &Koerier, from: &User) -> Result<User, Error> {
    let said = k.ok(&["request", "--from", &from.email, "--to", "Piet Pieters <piet@example.org>"], None)?;
    let user = said.lines().find_map(|l| l.strip_prefix("user name (SFTP, WebDAV): ")).ok_or(said.clone())?;
    let secret = || {
        let mails = mail::mails(&k.path().join("data/mail")).ok()?;
        mails
            .iter()
            .filter(|m| mail::header(m, "To") == Some("piet@example.org"))
            .find_map(|m| mail::secret_after(m, "/r/"))
    };
    wait_until(Duration::from_secs(30), || secret().is_some());
    let secret = secret().ok_or("no request mail to piet@example.org")?;
    // A request sign-in has a password only.
    Ok(User { email: user.to_owned(), password: secret, key: PathBuf::new() })
}

#[test]
fn every_row_of_the_table_holds_over_sftp_and_over_webdav() -> TestResult {
    python()?;
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let requester = request_sign_in(&k, &jan)?;
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for (i, row) in TABLE.iter().enumerate() {
        let steps = steps(row);
        let ops: Vec<&Op> = steps.iter().map(|(op, _)| op).collect();
        let who = if row.given == Given::RequestLink { &requester } else { &jan };
        for door in [Door::Sftp, Door::WebDav] {
            let d = format!("t{i:02}-{door:?}").to_lowercase();
            let answers = door.run(&k, who, &d, &ops)?;
            let mut held = true;
            for (n, ((op, expect), (answer, raw))) in steps.iter().zip(&answers).enumerate() {
                if !expect.holds(answer) {
                    held = false;
                    failures.push(format!(
                        "{:?} / {}\n  step {n}: {op:?} (draft {d})\n  expected {expect:?}\n  got {answer:?}\n  raw {raw}",
                        door, row.name
                    ));
                }
            }
            summary.push(format!("{:<7} {:<6} {}", if held { "ok" } else { "FAILED" }, format!("{door:?}"), row.name));
        }
    }
    k.stop()?;
    assert!(failures.is_empty(), "{}\n\n{}", summary.join("\n"), failures.join("\n\n"));
    Ok(())
}
