//! Downloads: each document streamed through decryption as it is read, with
//! `Range` (one range, 206 and `Content-Range`; resume), `HEAD` (headers
//! only, recording nothing), an RFC 6266 `filename*`, the content type of the
//! checked extension and `nosniff`; and "download all" as one streamed zip.
//! Every read from the start is recorded as a download by the core.

use std::net::SocketAddr;
use std::ops::Range;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use gateway::Error;
use gateway::download::DocumentReader;
use gateway::link::RecipientGrant;
use gateway::upload::DocumentInfo;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::App;
use crate::error::page_for;
use crate::link::origin;

/// RFC 5987 `attr-char` keeps these; everything else is percent-encoded.
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// A name as one path segment of a download address.
pub fn path_segment(name: &str) -> String {
    utf8_percent_encode(name, ATTR).to_string()
}

/// `attachment; filename="<ascii>"; filename*=UTF-8''<encoded>`: quotes,
/// backslashes and anything outside printable ASCII are replaced in the
/// fallback, and CR/LF can never reach the header.
pub fn content_disposition(name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{}", utf8_percent_encode(name, ATTR))
}

/// The content type of a checked extension (the content check has matched the
/// bytes against it); anything else is plain bytes.
pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "gif" => "image/gif",
        "jpg" | "jpeg" => "image/jpeg",
        "eps" => "application/postscript",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" | "pps" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "ppsx" => "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "zip" => "application/zip",
        "rar" => "application/vnd.rar",
        "7z" => "application/x-7z-compressed",
        "gz" | "tgz" | "gzip" => "application/gzip",
        "bz2" | "bzip2" => "application/x-bzip2",
        "lzma" => "application/x-lzma",
        "cab" => "application/vnd.ms-cab-compressed",
        "z" => "application/x-compress",
        _ => "application/octet-stream",
    }
}

/// What a `Range` header asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// No range, or one this server answers with the whole document (several ranges).
    Whole,
    /// One satisfiable range.
    Part(Range<u64>),
    /// A range outside the document: 416.
    Unsatisfiable,
}

/// Parse `Range: bytes=a-b | a- | -n` against a document of `size` bytes.
pub fn wanted(range: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else { return Wanted::Whole };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return Wanted::Whole };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        (true, false) => b.parse::<u64>().ok().map(|n| size.saturating_sub(n)..size).filter(|_| size > 0),
        (false, true) => a.parse::<u64>().ok().filter(|&s| s < size).map(|s| s..size),
        (false, false) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e && s < size => Some(s..e.min(size - 1) + 1),
            (Ok(_), Ok(_)) => None,
            _ => return Wanted::Whole,
        },
        (true, true) => return Wanted::Whole,
    };
    match parsed {
        Some(r) if r.start < r.end => Wanted::Part(r),
        _ => Wanted::Unsatisfiable,
    }
}

/// The grant of this browser's session, or the response to give instead.
async fn grant_or(app: &App, secret: &str, headers: &HeaderMap) -> Result<RecipientGrant, Response> {
    match app.session_grant(secret, headers).await {
        Some(Ok(grant)) => Ok(grant),
        Some(Err(e)) => Err(app.refusal(secret, None, &e).await),
        None => Err(Redirect::to(&format!("/l/{secret}")).into_response()),
    }
}

/// The session's grant and the documents it opens, or the page that says why not.
async fn granted_documents(
    app: &App,
    secret: &str,
    headers: &HeaderMap,
) -> Result<(RecipientGrant, Vec<DocumentInfo>), Response> {
    let grant = grant_or(app, secret, headers).await?;
    let docs = listed(app, secret, &grant).await?;
    Ok((grant, docs))
}

async fn listed(app: &App, secret: &str, grant: &RecipientGrant) -> Result<Vec<DocumentInfo>, Response> {
    match app.gateway.recipient_view(grant).await {
        Ok(view) => {
            Ok(view.documents.into_iter().filter(|d| d.state == gateway::upload::DocumentState::Complete).collect())
        }
        Err(e) => Err(app.refusal(secret, None, &e).await),
    }
}

/// `GET|HEAD /l/<secret>/d/<name>`.
pub async fn document(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((secret, name)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let (grant, docs) = match granted_documents(&app, &secret, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(doc) = docs.iter().find(|d| d.name == name) else {
        return page_for(&app, &app.frame(Default::default()), &Error::NotFound);
    };
    // A folder's zip has no SHA-256 (it is made as it is read); what it holds
    // never changes once sent, so its row's id validates it as well.
    let etag = format!("\"{}\"", doc.sha256.as_deref().unwrap_or(&doc.id));
    let if_range_ok = headers.get(header::IF_RANGE).is_none_or(|v| v.as_bytes() == etag.as_bytes());
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).filter(|_| if_range_ok);
    let wanted = wanted(range, doc.size);
    let mut h = HeaderMap::new();
    let mut put = |k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    put(header::CONTENT_TYPE, content_type(&doc.name));
    put(header::CONTENT_DISPOSITION, &content_disposition(&doc.name));
    put(header::ACCEPT_RANGES, "bytes");
    put(header::ETAG, &etag);
    put(header::CACHE_CONTROL, "private, no-store");
    let (status, range) = match wanted {
        Wanted::Whole => (StatusCode::OK, 0..doc.size),
        Wanted::Part(r) => {
            put(header::CONTENT_RANGE, &format!("bytes {}-{}/{}", r.start, r.end - 1, doc.size));
            (StatusCode::PARTIAL_CONTENT, r)
        }
        Wanted::Unsatisfiable => {
            put(header::CONTENT_RANGE, &format!("bytes */{}", doc.size));
            return (StatusCode::RANGE_NOT_SATISFIABLE, h).into_response();
        }
    };
    put(header::CONTENT_LENGTH, &(range.end - range.start).to_string());
    if method == Method::HEAD {
        return (status, h).into_response();
    }
    let reader = match app.gateway.read_as_recipient(&grant, &doc.name, Some(range), origin(peer)).await {
        Ok(r) => r,
        Err(e) => return app.refusal(&secret, None, &e).await,
    };
    app.metrics.download();
    (status, h, Body::from_stream(stream(reader, app))).into_response()
}

/// The plaintext of a reader as a body stream; a failure mid-way ends the
/// body early, so the client sees a short download, never wrong bytes.
fn stream(reader: DocumentReader, app: App) -> impl futures_util::Stream<Item = Result<Bytes, Error>> + Send {
    futures_util::stream::unfold(Some((reader, app)), |state| async move {
        let (mut reader, app) = state?;
        match reader.next_chunk().await {
            Ok(Some(piece)) => {
                app.metrics.bytes(piece.len() as u64);
                Some((Ok(Bytes::from(piece)), Some((reader, app))))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "a download stopped");
                app.metrics.failure();
                Some((Err(e), None))
            }
        }
    })
}

/// `GET|HEAD /l/<secret>/all.zip`: every document, and every folder with
/// what it holds, in one stored zip made by the core as it is read.
pub async fn all(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    Query(q): Query<crate::link::LangQuery>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    // Named in the reader's language: the page links it with `?lang=`.
    let language = crate::i18n::chosen(q.lang.as_deref()).unwrap_or_else(|| crate::i18n::accepted(&headers));
    let (grant, docs) = match granted_documents(&app, &secret, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(crate::i18n::texts(language).all_zip)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if docs.is_empty() {
        return page_for(&app, &app.frame(Default::default()), &Error::NotFound);
    }
    let reader = match method {
        // The length alone, recording no download.
        Method::HEAD => app.gateway.all_zip_len(&grant).await.map(Err),
        _ => app.gateway.read_all_as_recipient(&grant, origin(peer)).await.map(Ok),
    };
    let reader = match reader {
        Ok(r) => r,
        Err(e) => return app.refusal(&secret, None, &e).await,
    };
    let len = reader.as_ref().map_or_else(|len| *len, |r| r.size);
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    let Ok(reader) = reader else { return (StatusCode::OK, h).into_response() };
    app.metrics.download();
    (StatusCode::OK, h, Body::from_stream(stream(reader, app))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0..10));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0..100));
        assert_eq!(wanted(Some("bytes=50-5000"), 100), Wanted::Part(50..100));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=9-3"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=x-1"), 100), Wanted::Whole);
    }

    #[test]
    fn file_names_cannot_break_the_header() {
        let d = content_disposition("rapport \"2026\"\r\nSet-Cookie: x.pdf");
        assert!(!d.contains('\r') && !d.contains('\n'));
        assert!(d.starts_with("attachment; filename=\"rapport _2026___Set-Cookie: x.pdf\""), "{d}");
        let d = content_disposition("überblick €.pdf");
        assert!(d.contains("filename*=UTF-8''%C3%BCberblick%20%E2%82%AC.pdf"), "{d}");
    }

    #[test]
    fn checked_types() {
        assert_eq!(content_type("A.PDF"), "application/pdf");
        assert_eq!(content_type("x"), "application/octet-stream");
    }
}
