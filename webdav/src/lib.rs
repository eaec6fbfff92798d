//! koerier's WebDAV door: the virtual tree of the core (SPEC section 4) under
//! `/dav/`, for staff, partners and request-link sign-ins, over dav-server.
//!
//! [`router`] gives an axum router with full paths that the composition root
//! merges into the HTTPS listener. Per request it: refuses what dav-server
//! would do unsafely (partial PUT, `Depth: infinity`, XML with a document type
//! declaration, oversized XML, a `Destination` on another host or outside
//! `/dav/`); authenticates (Basic: account password, app password or request
//! link, through the core, which counts failures); then runs dav-server over a
//! [`tree::Tree`] and [`locks::DbLocks`] holding the caller's session, and puts
//! the core's reason into the body of a refusal. No rule of the service is
//! checked here.

mod auth;
mod error;
mod file;
mod locks;
mod props;
mod tree;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use dav_server::fs::GuardedFileSystem;
use dav_server::ls::DavLockSystem;
use dav_server::{DavHandler, DavMethod, DavMethodSet};
use gateway::Gateway;
use http_body_util::BodyExt;

pub use error::{body_of, status_of};

/// Where the tree is mounted.
pub const PREFIX: &str = "/dav";

/// The largest XML request body (PROPFIND, PROPPATCH, LOCK).
pub const MAX_XML_BODY: usize = 64 * 1024;

#[derive(Clone)]
struct Door {
    gateway: Gateway,
    sign_ins: auth::SignIns,
}

/// The WebDAV door: `/dav`, `/dav/` and everything below, with full paths.
pub fn router(gateway: Gateway) -> Router {
    let door = Door { gateway, sign_ins: auth::SignIns::default() };
    Router::new()
        .route(PREFIX, any(handle))
        .route("/dav/", any(handle))
        .route("/dav/{*path}", any(handle))
        .with_state(door)
}

/// A refusal: its reason as the body, and for Windows' WebClient, which
/// shows no body, in `X-MSDAVEXT_ERROR` too ([MS-WDV] 2.2.3: a number, `; `,
/// the reason percent-encoded; the number is the status).
fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let body = body.into();
    let reason = percent_encoding::utf8_percent_encode(body.trim_end(), percent_encoding::NON_ALPHANUMERIC);
    let extended = HeaderValue::from_str(&format!("{}; {reason}", status.as_u16()));
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if let Some(extended) = extended.ok().filter(|_| status.is_client_error() || status.is_server_error()) {
        res.headers_mut().insert("x-msdavext_error", extended);
    }
    res
}

fn method_is(req: &Request, name: &str) -> bool {
    req.method().as_str().eq_ignore_ascii_case(name)
}

/// Whether a request path, percent-decoded, climbs above `/dav/` with its
/// `..` segments: it names nothing in the tree (dav-server would answer 502).
fn climbs_out(path: &str) -> bool {
    let decoded = auth::percent_decode(path);
    let mut depth = 0i32;
    for part in decoded.split('/').skip(1) {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 1 {
            return true;
        }
    }
    false
}

/// Refusals decided before anyone is signed in or dav-server runs.
fn screen(req: &Request) -> Option<Response> {
    let headers = req.headers();
    if climbs_out(req.uri().path()) {
        return Some(text(StatusCode::NOT_FOUND, "there is nothing at this path: it leads out of /dav/\n"));
    }
    if req.method() == Method::PATCH || headers.contains_key("x-update-range") {
        return Some(text(
            StatusCode::NOT_IMPLEMENTED,
            "partial updates are not offered: upload the whole document again\n",
        ));
    }
    if req.method() == Method::PUT && headers.contains_key(header::CONTENT_RANGE) {
        return Some(text(
            StatusCode::NOT_IMPLEMENTED,
            "a PUT with Content-Range is not offered: upload the whole document in one PUT\n",
        ));
    }
    if method_is(req, "PROPFIND")
        && headers.get("depth").and_then(|d| d.to_str().ok()).is_some_and(|d| d.trim().eq_ignore_ascii_case("infinity"))
    {
        let mut res = (
            StatusCode::FORBIDDEN,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:propfind-finite-depth/></D:error>\n",
        )
            .into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
        return Some(res);
    }
    if headers.get("if").is_some_and(|v| if_left_open(v.as_bytes())) {
        return Some(text(StatusCode::BAD_REQUEST, "the If header is cut off: a < or [ in it is never closed\n"));
    }
    if method_is(req, "COPY") || method_is(req, "MOVE") {
        return destination_refusal(headers);
    }
    None
}

/// Whether an `If` header leaves a `<` or `[` open to its end. dav-server
/// 0.11 reads past the end of such a header and panics (found by the
/// `webdav_headers` fuzz target), so the door refuses it first. The tokens
/// are walked as dav-server walks them; what it refuses itself (white space
/// inside `<…>` or `[…]`, a stray `>` or `]`) is left to it.
fn if_left_open(value: &[u8]) -> bool {
    let white = |b: u8| b" \t\r\n".contains(&b);
    let mut rest = value;
    loop {
        let Some(start) = rest.iter().position(|&b| !white(b)) else { return false };
        rest = &rest[start..];
        let close = match rest[0] {
            b'<' => b'>',
            b'[' => b']',
            b'(' | b')' => {
                rest = &rest[1..];
                continue;
            }
            _ => {
                // A word (`Not` among them) ends at white space or a special byte.
                let end = rest.iter().position(|&b| white(b) || b"<>()[]".contains(&b) || b < 32);
                match end {
                    Some(0) => return false,
                    Some(end) => rest = &rest[end..],
                    None => return false,
                }
                continue;
            }
        };
        let mut quoted = false;
        let mut at = 1;
        loop {
            match rest.get(at) {
                None => return true,
                Some(&b) if !quoted && b == close => break,
                Some(&b) if white(b) => return false,
                Some(&b) => {
                    quoted ^= b == b'"';
                    at += 1;
                }
            }
        }
        rest = &rest[at + 1..];
    }
}

/// A `Destination` must name a path under `/dav/` on this same host.
fn destination_refusal(headers: &HeaderMap) -> Option<Response> {
    destination(headers).err().map(|(status, why)| text(status, why))
}

/// The place of the tree a path under `/dav/` names.
fn tree_place(decoded: &str) -> Option<gateway::tree::Place> {
    let below = decoded.strip_prefix(PREFIX)?;
    gateway::tree::TreePath::parse(below).place()
}

/// The decoded path of the `Destination` header, if there is one: a path
/// below `/dav/` on this same host, or the answer that refuses it. The top
/// of the tree is no destination: dav-server 0.11 panics looking for its
/// parent (found by the `webdav_headers` fuzz target).
fn destination(headers: &HeaderMap) -> Result<Option<String>, (StatusCode, &'static str)> {
    let Some(dest) = headers.get("destination") else { return Ok(None) };
    let Ok(dest) = dest.to_str() else {
        return Err((StatusCode::BAD_REQUEST, "the Destination header is not readable\n"));
    };
    let path = if dest.starts_with('/') {
        // A query is no part of the path (dav-server drops it too).
        dest.split('?').next().unwrap_or_default().to_owned()
    } else {
        let Ok(uri) = dest.parse::<axum::http::Uri>() else {
            return Err((StatusCode::BAD_REQUEST, "the Destination header is not a URL\n"));
        };
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let same_host = uri.authority().is_some_and(|a| a.as_str().eq_ignore_ascii_case(host));
        if !same_host || uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err((StatusCode::BAD_GATEWAY, "the Destination is on another server\n"));
        }
        uri.path().to_owned()
    };
    let decoded = auth::percent_decode(&path);
    let escapes = decoded.split(['/', '\\']).any(|s| s == ".." || s == ".") || decoded.contains('\\');
    let below = decoded.split('/').filter(|s| !s.is_empty()).nth(1).is_some();
    if escapes || !decoded.starts_with("/dav/") || !below {
        return Err((StatusCode::FORBIDDEN, "the Destination must stay inside your own folders under /dav/\n"));
    }
    Ok(Some(decoded))
}

/// Read a small XML body whole, refusing one that is too large or declares a
/// document type (entities, external or recursive, come only with one).
async fn xml_body(body: Body) -> Result<Body, Response> {
    let limited = http_body_util::Limited::new(body, MAX_XML_BODY);
    let bytes = match limited.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("XML bodies are limited to {MAX_XML_BODY} bytes\n"),
            ));
        }
        Err(_) => return Err(text(StatusCode::BAD_REQUEST, "the request body could not be read\n")),
    };
    // Only UTF-8 is read, so that the check below sees the text the parser
    // would (XML may come in UTF-16, where it would see none of it).
    let Ok(body) = std::str::from_utf8(&bytes) else {
        return Err(text(StatusCode::UNSUPPORTED_MEDIA_TYPE, "XML bodies are read in UTF-8; send this one in UTF-8\n"));
    };
    let upper = body.to_ascii_uppercase();
    if upper.contains("<!DOCTYPE") || upper.contains("<!ENTITY") {
        return Err(text(StatusCode::BAD_REQUEST, "XML with a document type declaration or entities is refused\n"));
    }
    Ok(Body::from(bytes))
}

/// The request with its XML body (PROPFIND, PROPPATCH, LOCK) read and
/// screened, or the refusal.
async fn with_xml_body(req: Request) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let body = match parts.method.as_str() {
        "PROPFIND" | "PROPPATCH" | "LOCK" => xml_body(body).await?,
        _ => body,
    };
    Ok(Request::from_parts(parts, body))
}

/// dav-server as the door runs it: under [`PREFIX`], every method but
/// PATCH, for one caller.
fn dav_handler(fs: Box<dyn GuardedFileSystem<()>>, locks: Box<dyn DavLockSystem>, principal: &str) -> DavHandler {
    let mut methods = DavMethodSet::all();
    methods.remove(DavMethod::Patch);
    DavHandler::builder()
        .filesystem(fs)
        .locksystem(locks)
        .strip_prefix(PREFIX)
        .methods(methods)
        .principal(principal)
        .read_buf_size(256 * 1024)
        .build_handler()
}

async fn handle(State(door): State<Door>, req: Request) -> Response {
    if let Some(refusal) = screen(&req) {
        return refusal;
    }
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let session = match door.sign_ins.authenticate(&door.gateway, req.headers(), ip).await {
        Ok(session) => session,
        Err(res) => return res,
    };
    let req = match with_xml_body(req).await {
        Ok(req) => req,
        Err(res) => return res,
    };
    let is_options = req.method() == Method::OPTIONS;
    let refusal = error::Refusal::default();
    let replacing = match req.method().as_str() {
        "MOVE" | "COPY" => destination(req.headers()).ok().flatten().and_then(|path| tree_place(&path)),
        _ => None,
    };
    let tree = tree::Tree {
        gateway: door.gateway.clone(),
        tree: gateway::tree::Tree::new(&door.gateway, &session),
        refusal: refusal.clone(),
        seen: tree::Seen::default(),
        replacing,
    };
    let locks = locks::DbLocks { gateway: door.gateway.clone(), session: session.clone(), refusal: refusal.clone() };
    let dav = dav_handler(Box::new(tree), Box::new(locks), session.email());
    let res = dav.handle(req).await;
    let mut res = match (refusal.take(), res.status()) {
        (Some((status, why)), s) if !matches!(s.as_u16(), 200 | 201 | 204) => text(status, why),
        _ => res.map(Body::new),
    };
    if is_options {
        res.headers_mut().insert("ms-author-via", HeaderValue::from_static("DAV"));
    }
    res
}

/// The door's reading of what a client sends, opened to the fuzz targets in
/// `fuzz/` (feature `fuzzing`) and to nothing else: the screen before
/// sign-in, the headers the door reads itself, and a request handled as
/// after sign-in, over a filesystem and lock system the caller gives in
/// place of the core's.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::Duration;

    use axum::body::Body;
    use axum::extract::Request;
    use axum::http::{HeaderMap, HeaderName, HeaderValue};
    use axum::response::Response;
    use dav_server::davpath::DavPath;
    use dav_server::fs::GuardedFileSystem;
    use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
    use http_body_util::BodyExt;
    use xmltree::Element;

    /// The headers a client sent, less those HTTP cannot carry.
    fn header_map(headers: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value)) {
                map.append(name, value);
            }
        }
        map
    }

    /// The decoded path of a COPY's or MOVE's `Destination` (`Host` beside
    /// it), or the status that refuses it.
    pub fn destination(headers: &[(&str, &[u8])]) -> Result<Option<String>, u16> {
        super::destination(&header_map(headers)).map_err(|(status, _)| status.as_u16())
    }

    /// Whether a request path leads out of `/dav/`.
    pub fn climbs_out(path: &str) -> bool {
        super::climbs_out(path)
    }

    /// A URL path percent-decoded once.
    pub fn percent_decode(path: &str) -> String {
        crate::auth::percent_decode(path)
    }

    /// The user and password of an `Authorization` header.
    pub fn basic(authorization: &[u8]) -> Option<(String, String)> {
        super::auth::basic(&header_map(&[("authorization", authorization)]))
    }

    /// An XML request body as the door reads it, or the refusal's status.
    pub async fn xml_body(body: &[u8]) -> Result<Vec<u8>, u16> {
        match super::xml_body(Body::from(body.to_vec())).await {
            Ok(body) => Ok(body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default()),
            Err(res) => Err(res.status().as_u16()),
        }
    }

    /// What the door answered.
    #[derive(Debug)]
    pub struct Answer {
        pub status: u16,
        pub body: Vec<u8>,
        /// The owners of the locks taken, as the door keeps them.
        pub owners: Vec<Owner>,
    }

    /// A LOCK's owner as the door keeps it: written by `owner_xml` (none:
    /// not kept) and read back as a lock's owner is read.
    #[derive(Debug)]
    pub struct Owner {
        /// The LOCK gave one.
        pub given: bool,
        pub written: Option<String>,
        pub parses_back: bool,
    }

    /// A request under `/dav` as the door handles it once its caller has
    /// signed in: the screen, the XML body, dav-server as the door runs it,
    /// over `fs` and `locks`, with every lock's owner kept as the door keeps
    /// it. `None`: a request HTTP cannot carry, or not the door's.
    pub async fn request(
        fs: Box<dyn GuardedFileSystem<()>>,
        locks: Box<dyn DavLockSystem>,
        method: &str,
        uri: &str,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> Option<Answer> {
        let mut req = Request::builder().method(method).uri(uri).body(Body::from(body.to_vec())).ok()?;
        let path = req.uri().path();
        if !(path == super::PREFIX || path.starts_with("/dav/")) {
            return None;
        }
        *req.headers_mut() = header_map(headers);
        let owners = Arc::new(Mutex::new(Vec::new()));
        let res = match super::screen(&req) {
            Some(refusal) => refusal,
            None => match super::with_xml_body(req).await {
                Err(refusal) => refusal,
                Ok(req) => {
                    let locks = KeptOwners { locks, owners: owners.clone() };
                    let dav = super::dav_handler(fs, Box::new(locks), "fuzz@koerier.test");
                    dav.handle(req).await.map(Body::new)
                }
            },
        };
        Some(answer(res, &owners).await)
    }

    async fn answer(res: Response, owners: &Mutex<Vec<Owner>>) -> Answer {
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
        let owners = std::mem::take(&mut *owners.lock().unwrap_or_else(PoisonError::into_inner));
        Answer { status, body, owners }
    }

    /// A lock system that keeps each owner as the door's does.
    #[derive(Debug, Clone)]
    struct KeptOwners {
        locks: Box<dyn DavLockSystem>,
        owners: Arc<Mutex<Vec<Owner>>>,
    }

    impl DavLockSystem for KeptOwners {
        fn lock(
            &self,
            path: &DavPath,
            principal: Option<&str>,
            owner: Option<&Element>,
            timeout: Option<Duration>,
            shared: bool,
            deep: bool,
        ) -> LsFuture<'_, Result<DavLock, DavLock>> {
            let written = crate::locks::owner_xml(owner);
            let back = written.as_deref().and_then(|o| Element::parse(o.as_bytes()).ok());
            let kept = Owner { given: owner.is_some(), parses_back: written.is_none() || back.is_some(), written };
            self.owners.lock().unwrap_or_else(PoisonError::into_inner).push(kept);
            self.locks.lock(path, principal, back.as_ref(), timeout, shared, deep)
        }

        fn unlock(&self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
            self.locks.unlock(path, token)
        }

        fn refresh(&self, path: &DavPath, token: &str, timeout: Option<Duration>) -> LsFuture<'_, Result<DavLock, ()>> {
            self.locks.refresh(path, token, timeout)
        }

        fn check(
            &self,
            path: &DavPath,
            principal: Option<&str>,
            ignore_principal: bool,
            deep: bool,
            submitted_tokens: &[String],
        ) -> LsFuture<'_, Result<(), DavLock>> {
            self.locks.check(path, principal, ignore_principal, deep, submitted_tokens)
        }

        fn discover(&self, path: &DavPath) -> LsFuture<'_, Vec<DavLock>> {
            self.locks.discover(path)
        }

        fn delete(&self, path: &DavPath) -> LsFuture<'_, Result<(), ()>> {
            self.locks.delete(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screened(method: &str, if_header: &str) -> Option<StatusCode> {
        let req = Request::builder()
            .method(method)
            .uri("/dav/outbox/a.pdf")
            .header("if", if_header)
            .body(Body::empty())
            .expect("a request");
        screen(&req).map(|res| res.status())
    }

    #[test]
    fn the_top_of_the_tree_is_no_destination() {
        let with = |dest: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("h"));
            headers.insert("destination", HeaderValue::from_str(dest).expect("a header"));
            destination(&headers)
        };
        // Found by the `webdav_headers` fuzz target: dav-server 0.11
        // panicked looking for the parent of these.
        for top in ["/dav", "/dav/", "https://h/dav", "https://h/dav/", "/dav//", "/dav/%2F", "/dav/?x/y", "/dav?/x"] {
            assert_eq!(with(top).map_err(|(status, _)| status), Err(StatusCode::FORBIDDEN), "{top:?}");
        }
        assert_eq!(with("https://h/dav/outbox/a%20b/"), Ok(Some("/dav/outbox/a b/".to_owned())));
        assert_eq!(with("/dav/outbox/a.pdf?x=1"), Ok(Some("/dav/outbox/a.pdf".to_owned())), "the query is dropped");
    }

    #[test]
    fn an_if_header_left_open_is_refused_before_dav_server_reads_it() {
        // Found by the `webdav_headers` fuzz target: dav-server 0.11 indexed
        // past the end of these and panicked.
        for open in ["(<opaquelocktoken:e71d4fae-5dec-22d6-fea5", "([\"I-am-an-ETag", "<", "(Not<urn:x", "([\"a]\""] {
            assert_eq!(screened("LOCK", open), Some(StatusCode::BAD_REQUEST), "{open:?}");
        }
        // RFC 4918's examples, and what dav-server refuses on its own.
        for fine in [
            "(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> [\"I am an ETag\"])",
            "(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>) ([\"I am another ETag\"])",
            "(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> <urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)",
            "<https://h/dav/outbox/a.pdf> (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>) (Not <DAV:no-lock>)",
            "([\"a>]b\"] Nothing<urn:x>)",
            "(<a b",
            "(>",
            "",
        ] {
            assert_eq!(screened("PUT", fine), None, "{fine:?}");
        }
    }
}
