//! The browser's resumable upload: tus 1.0.0, the core protocol with the
//! creation, termination and expiration extensions
//! (<https://tus.io/protocols/resumable-upload>), over the core's unfinished
//! documents, so that an upload begun here can be finished with `sftp reput`
//! and the other way round.
//!
//! Every request carries the page's capability as `Authorization: Bearer
//! <secret>` (never a cookie alone: no other site can make a browser send
//! it). An acknowledged offset is what the store holds durably: whole sealed
//! chunks, and every byte once the document is complete; the client goes on
//! from the offset it is given. Two additions for the page's own client:
//! `GET /tus` lists the unfinished uploads (to continue after a reload) and
//! `GET /tus/check?name=` asks the core about a name before a byte is sent.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head};
use futures_util::StreamExt;
use gateway::resumable::Resumable;
use gateway::{Error, Folder, Language, Session, Timestamp, TransferId};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::i18n::accepted;
use crate::link::{origin, plausible};
use crate::reasons::reason;

const VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,termination,expiration";
const OFFSET_STREAM: &str = "application/offset+octet-stream";

const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const TUS_VERSION: HeaderName = HeaderName::from_static("tus-version");
const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");

pub fn routes() -> Router<App> {
    Router::new()
        .route("/tus", get(unfinished).post(create).options(discover))
        .route("/tus/check", get(check))
        .route("/tus/{id}", head(offset).patch(append).delete(cancel))
}

/// Who is uploading and into which draft: from the page's capability.
struct Caller {
    session: Session,
    draft: TransferId,
    language: Language,
}

/// The capability of the request: an outsider's link secret (the page
/// `/r/<secret>` or `/d/<secret>`), whose one draft is what is being made;
/// or, from a staff member's draft page, `draft:<id>:<csrf>`: the draft,
/// and the page's CSRF token, which must match the cookie's double beside
/// the staff session's cookie (no other site can send that header).
async fn caller(app: &App, headers: &HeaderMap, peer: SocketAddr) -> Result<Caller, Refusal> {
    let language = accepted(headers);
    let refuse = |e: Error| Refusal(e, language);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(Error::BadCredentials)
        .map_err(refuse)?;
    if let Some((id, csrf)) = bearer.strip_prefix("draft:").and_then(|rest| rest.split_once(':')) {
        if !crate::session::csrf_ok(headers, csrf) {
            return Err(refuse(Error::BadCredentials));
        }
        let token = crate::session::cookie(headers, crate::staff::STAFF_COOKIE).ok_or(refuse(Error::BadCredentials))?;
        let session = app.gateway.staff_session(token, origin(peer)).await.map_err(|e| match e {
            Error::NotFound => refuse(Error::BadCredentials),
            other => refuse(other),
        })?;
        let draft = TransferId::from_client(id);
        let found = app.gateway.transfer(&session, &draft).await.map_err(refuse)?;
        if found.folder != Folder::Outbox {
            return Err(refuse(Error::Conflict("this message has been sent and can no longer change".into())));
        }
        return Ok(Caller { session, draft, language });
    }
    let secret = Some(bearer).filter(|s| plausible(s)).ok_or(Error::BadCredentials).map_err(refuse)?;
    let session = app.gateway.open_outsider_link(secret, origin(peer)).await.map_err(refuse)?;
    let drafts = app.gateway.list(&session, Folder::Outbox).await.map_err(refuse)?;
    let draft = drafts
        .into_iter()
        .next()
        .map(|t| t.id)
        .ok_or_else(|| refuse(Error::Conflict("these documents have been sent already".into())))?;
    Ok(Caller { session, draft, language })
}

/// A refusal of the core, in the client's language.
struct Refusal(Error, Language);

impl IntoResponse for Refusal {
    /// The one mapping of the core's errors to tus answers: a status a tus
    /// client acts on, and the reason as a sentence for the person.
    fn into_response(self) -> Response {
        let Refusal(err, language) = self;
        let status = match &err {
            Error::NotFound | Error::Expired => StatusCode::NOT_FOUND,
            Error::BadCredentials => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) | Error::SecondStepDue | Error::Locked => StatusCode::FORBIDDEN,
            Error::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Error::Name(_) | Error::ContentMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Invalid(_) => StatusCode::BAD_REQUEST,
            Error::Field(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::WindowClosed { .. } | Error::Aborted(_) => StatusCode::GONE,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Conflict(_) | Error::NotReady(_) => StatusCode::CONFLICT,
            Error::NoSpace => StatusCode::INSUFFICIENT_STORAGE,
            Error::Corrupt | Error::Internal(_) => {
                tracing::error!(error = %err, "a tus request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        plain(status, reason(&err, language))
    }
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut r = (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
    r.headers_mut().insert(TUS_RESUMABLE, HeaderValue::from_static(VERSION));
    r
}

/// A request in a tus version other than ours (412, with the versions we speak).
pub(crate) fn wrong_version(headers: &HeaderMap) -> Option<Response> {
    match headers.get(TUS_RESUMABLE).map(HeaderValue::as_bytes) {
        Some(v) if v == VERSION.as_bytes() => None,
        _ => {
            let mut r = plain(StatusCode::PRECONDITION_FAILED, format!("this server speaks tus {VERSION}"));
            r.headers_mut().insert(TUS_VERSION, HeaderValue::from_static(VERSION));
            Some(r)
        }
    }
}

pub(crate) fn number(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The `Upload-Metadata` pairs: `key base64(value)`, comma-separated.
pub(crate) fn metadata(headers: &HeaderMap, key: &str) -> Option<String> {
    let raw = headers.get(UPLOAD_METADATA)?.to_str().ok()?;
    raw.split(',').filter_map(|pair| pair.trim().split_once(' ')).find(|(k, _)| *k == key).and_then(|(_, v)| {
        let bytes = data_encoding::BASE64.decode(v.trim().as_bytes()).ok()?;
        String::from_utf8(bytes).ok()
    })
}

/// An HTTP date (RFC 9110 5.6.7), for `Upload-Expires`.
fn http_date(t: Timestamp) -> Option<HeaderValue> {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::OffsetDateTime::from_unix_timestamp(t.as_millis().div_euclid(1000)).ok()?;
    HeaderValue::from_str(&at.format(FORMAT).ok()?).ok()
}

/// The headers that describe an upload's state.
fn described(mut r: Response, u: &Resumable) -> Response {
    let h = r.headers_mut();
    h.insert(TUS_RESUMABLE, HeaderValue::from_static(VERSION));
    h.insert(UPLOAD_OFFSET, HeaderValue::from(u.offset));
    match u.length {
        Some(length) => h.insert(UPLOAD_LENGTH, HeaderValue::from(length)),
        None => h.insert(UPLOAD_DEFER_LENGTH, HeaderValue::from_static("1")),
    };
    if let Some(expires) = u.expires.filter(|_| !u.complete).and_then(http_date) {
        h.insert(UPLOAD_EXPIRES, expires);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The caller of a request on one upload, whose id must be one.
async fn upload_caller(app: &App, headers: &HeaderMap, peer: SocketAddr, id: &str) -> Result<Caller, Response> {
    let c = caller(app, headers, peer).await.map_err(IntoResponse::into_response)?;
    match plausible_id(id) {
        true => Ok(c),
        false => Err(Refusal(Error::NotFound, c.language).into_response()),
    }
}

/// `204 No Content` in tus, with the offset now held when there is one.
fn acknowledged(offset: Option<u64>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(TUS_RESUMABLE, HeaderValue::from_static(VERSION));
    if let Some(offset) = offset {
        r.headers_mut().insert(UPLOAD_OFFSET, HeaderValue::from(offset));
    }
    r
}

/// An upload's id as it appears in its address (a document id).
pub(crate) fn plausible_id(id: &str) -> bool {
    id.len() == 26 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `OPTIONS /tus`: what this server speaks.
async fn discover(State(app): State<App>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(TUS_RESUMABLE, HeaderValue::from_static(VERSION));
    h.insert(TUS_VERSION, HeaderValue::from_static(VERSION));
    h.insert(TUS_EXTENSION, HeaderValue::from_static(EXTENSIONS));
    h.insert(TUS_MAX_SIZE, HeaderValue::from(app.gateway.settings().rules.max_message_bytes));
    r
}

/// `POST /tus`: begin a document of `Upload-Length` bytes named by the
/// metadata's `filename`.
async fn create(State(app): State<App>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> Response {
    if let Some(r) = wrong_version(&headers) {
        return r;
    }
    let c = match caller(&app, &headers, peer).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Some(length) = number(&headers, &UPLOAD_LENGTH) else {
        let why = "Upload-Length is required: give the document's size in bytes";
        return Refusal(Error::Invalid(why.into()), c.language).into_response();
    };
    let Some(name) = metadata(&headers, "filename") else {
        let why = "Upload-Metadata must give the document's name as filename";
        return Refusal(Error::Invalid(why.into()), c.language).into_response();
    };
    match app.gateway.begin_resumable(&c.session, &c.draft, &name, length).await {
        Ok(u) => {
            let mut r = described(StatusCode::CREATED.into_response(), &u);
            if let Ok(location) = HeaderValue::from_str(&format!("/tus/{}", u.id)) {
                r.headers_mut().insert(header::LOCATION, location);
            }
            r
        }
        Err(e) => Refusal(e, c.language).into_response(),
    }
}

/// `HEAD /tus/<id>`: the offset to continue from.
async fn offset(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let c = match upload_caller(&app, &headers, peer, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match app.gateway.resumable(&c.session, &c.draft, &id).await {
        Ok(u) => described(StatusCode::OK.into_response(), &u),
        Err(e) => Refusal(e, c.language).into_response(),
    }
}

/// `PATCH /tus/<id>`: bytes from `Upload-Offset` on. Bytes the store holds
/// already are skipped; what arrives is written as it comes, and the answer
/// is the offset now durable. The last byte completes the document.
async fn append(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(r) = wrong_version(&headers) {
        return r;
    }
    let c = match upload_caller(&app, &headers, peer, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let refuse = |e: Error| Refusal(e, c.language).into_response();
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some(OFFSET_STREAM) {
        return plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("the body of a PATCH is {OFFSET_STREAM}"));
    }
    let Some(mut at) = number(&headers, &UPLOAD_OFFSET) else {
        return refuse(Error::Invalid("Upload-Offset is required".into()));
    };
    let length = number(&headers, &UPLOAD_LENGTH);
    let mut upload = match app.gateway.continue_resumable(&c.session, &c.draft, &id, length).await {
        Ok(upload) => upload,
        Err(e) => return refuse(e),
    };
    if at > upload.offset() {
        let held = upload.offset();
        let _ = upload.suspend().await;
        return refuse(Error::Conflict(format!("the upload is at byte {held}; continue from there")));
    }
    let mut stream = body.into_data_stream();
    let mut failed = None;
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(bytes) => {
                if let Err(e) = upload.write_at(at, &bytes).await {
                    failed = Some(e);
                    break;
                }
                at += bytes.len() as u64;
            }
            // The client went away (or was too slow): what was sealed stays.
            Err(_) => break,
        }
    }
    if failed.is_none() && upload.has_all_declared() {
        return match upload.finish().await {
            Ok(doc) => acknowledged(Some(doc.size)),
            Err(e) => refuse(e),
        };
    }
    let held = upload.suspend().await;
    match (failed, held) {
        (Some(e), _) | (None, Err(e)) => refuse(e),
        (None, Ok(held)) => acknowledged(Some(held)),
    }
}

/// `DELETE /tus/<id>`: give an unfinished upload up.
async fn cancel(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = wrong_version(&headers) {
        return r;
    }
    let c = match upload_caller(&app, &headers, peer, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match app.gateway.cancel_resumable(&c.session, &c.draft, &id).await {
        Ok(()) => acknowledged(None),
        Err(e) => Refusal(e, c.language).into_response(),
    }
}

#[derive(Serialize)]
struct Listed {
    url: String,
    name: String,
    length: Option<u64>,
    offset: u64,
    expires: Option<String>,
}

/// `GET /tus`: the unfinished uploads of the draft, any door's.
async fn unfinished(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let c = match caller(&app, &headers, peer).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match app.gateway.unfinished_uploads(&c.session, &c.draft).await {
        Ok(list) => {
            let uploads: Vec<Listed> = list
                .into_iter()
                .map(|u| Listed {
                    url: format!("/tus/{}", u.id),
                    name: u.name,
                    length: u.length,
                    offset: u.offset,
                    expires: u.expires.map(Timestamp::rfc3339),
                })
                .collect();
            axum::Json(serde_json::json!({ "uploads": uploads })).into_response()
        }
        Err(e) => Refusal(e, c.language).into_response(),
    }
}

#[derive(Deserialize)]
struct NameQuery {
    #[serde(default)]
    name: String,
}

/// `GET /tus/check?name=`: would the core take a document of this name now?
async fn check(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<NameQuery>,
    headers: HeaderMap,
) -> Response {
    let c = match caller(&app, &headers, peer).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match app.gateway.check_new_document(&c.session, &c.draft, &q.name).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => Refusal(e, c.language).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs_are_base64_values() {
        let mut h = HeaderMap::new();
        h.insert(UPLOAD_METADATA, HeaderValue::from_static("filetype YXBwbGljYXRpb24vcGRm,filename cmFwcG9ydC5wZGY="));
        assert_eq!(metadata(&h, "filename").as_deref(), Some("rapport.pdf"));
        assert_eq!(metadata(&h, "filetype").as_deref(), Some("application/pdf"));
        assert_eq!(metadata(&h, "other"), None);
    }

    #[test]
    fn expiry_is_an_http_date() {
        let t = Timestamp::from_millis(1_782_000_000_000);
        let v = http_date(t).map(|v| v.to_str().unwrap_or_default().to_owned()).unwrap_or_default();
        assert!(v.ends_with(" GMT") && v.len() == 29, "{v}");
    }
}
