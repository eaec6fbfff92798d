//! What the browser's uploads send, as a request's head (a line with the
//! method and path, header lines, an empty line) and body: tus's
//! `Tus-Resumable`, `Upload-Offset`, `Upload-Length` and `Upload-Metadata`,
//! the upload's id in its path, the capability (`Bearer draft:<id>:<csrf>`)
//! and its cookie, and the plain form's `multipart/form-data` parts. Read as
//! the front reads them, never a panic; a name a tus client writes into
//! `Upload-Metadata` is the name read.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;
use web::fuzzing::{cookie, csrf_ok, form, metadata, number, plausible_id, wrong_version};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a runtime"))
}

/// A request: path, headers (names in lower case) and body.
struct Head<'a> {
    path: &'a str,
    headers: Vec<(String, &'a [u8])>,
    body: &'a [u8],
}

impl Head<'_> {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// The head and body of a request as text; lines end in LF or CRLF.
fn parse(data: &[u8]) -> Option<Head<'_>> {
    let end = [&b"\r\n\r\n"[..], b"\n\n"]
        .iter()
        .filter_map(|sep| data.windows(sep.len()).position(|w| w == *sep).map(|at| (at, sep.len())))
        .min();
    let (head, body) = match end {
        Some((at, len)) => (&data[..at], &data[at + len..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let first = std::str::from_utf8(lines.next()?).ok()?;
    let path = first.split(' ').nth(1).unwrap_or_default();
    let headers = lines
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = std::str::from_utf8(&line[..colon]).ok()?.to_ascii_lowercase();
            Some((name, line[colon + 1..].trim_ascii()))
        })
        .collect();
    Some(Head { path, headers, body })
}

fuzz_target!(|data: &[u8]| {
    let Some(head) = parse(data) else { return };
    let version = head.get("tus-resumable");
    assert_eq!(wrong_version(version), version != Some(b"1.0.0"));
    if let Some(id) = head.path.strip_prefix("/tus/") {
        let _ = plausible_id(id);
    }
    for name in ["upload-offset", "upload-length"] {
        let _ = head.get(name).map(number);
    }
    if let Some(value) = head.get("upload-metadata") {
        for key in ["filename", "filetype", "lastModified"] {
            let _ = metadata(value, key);
        }
        // What a tus client writes, with this value as the name (an empty
        // value is written as the key alone, and read as no name).
        if let Some(name) = std::str::from_utf8(value).ok().filter(|name| !name.is_empty()) {
            let written =
                format!("lastModified MTc4MjAwMDAwMDAwMA==,filename {}", data_encoding::BASE64.encode(name.as_bytes()));
            assert_eq!(metadata(written.as_bytes(), "filename").as_deref(), Some(name));
        }
    }
    let cookies = head.get("cookie").unwrap_or_default();
    for name in ["__Host-koerier-csrf", "__Host-koerier-staff"] {
        if let Some(value) = cookie(cookies, name) {
            assert!(!value.is_empty() && value.len() <= 128, "{value:?}");
        }
    }
    let bearer = head.get("authorization").and_then(|v| std::str::from_utf8(v).ok()?.strip_prefix("Bearer "));
    if let Some((_, token)) = bearer.map(str::trim).and_then(|b| b.strip_prefix("draft:")?.split_once(':')) {
        assert!(!csrf_ok(cookies, token) || token.len() == 64);
    }
    if let Some(content_type) = head.get("content-type") {
        if let Ok(files) = runtime().block_on(form(content_type, head.body)) {
            assert!(files.iter().all(|(name, _)| !name.is_empty()));
            assert!(files.iter().map(|(_, bytes)| bytes.len()).sum::<usize>() <= head.body.len());
        }
    }
});
