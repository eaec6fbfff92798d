//! What the browser's uploads send, as a request's head (a line with the
//! method and path, header lines, an empty line) and body: tus's
//! `Tus-Resumable`, `Upload-Offset`, `Upload-Length` and `Upload-Metadata`,
//! the upload's id in its path, the capability (`Bearer draft:<id>:<csrf>`)
//! and its cookie, and the plain form's `multipart/form-data` parts. Read as
//! the front reads them, never a panic; a name a tus client writes into
//! `Upload-Metadata` is the name read.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::{Request, runtime};
use libfuzzer_sys::fuzz_target;
use web::fuzzing::{cookie, csrf_ok, form, metadata, number, plausible_id, wrong_version};

fuzz_target!(|data: &[u8]| {
    let Some(head) = Request::parse(data) else { return };
    let version = head.get("tus-resumable");
    assert_eq!(wrong_version(version), version != Some(b"1.0.0"));
    if let Some(id) = head.target.and_then(|t| t.strip_prefix("/tus/")) {
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
