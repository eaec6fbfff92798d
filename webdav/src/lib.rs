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
    if method_is(req, "COPY") || method_is(req, "MOVE") {
        return destination_refusal(headers);
    }
    None
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
/// under `/dav/` on this same host, or the answer that refuses it.
fn destination(headers: &HeaderMap) -> Result<Option<String>, (StatusCode, &'static str)> {
    let Some(dest) = headers.get("destination") else { return Ok(None) };
    let Ok(dest) = dest.to_str() else {
        return Err((StatusCode::BAD_REQUEST, "the Destination header is not readable\n"));
    };
    let path = if dest.starts_with('/') {
        dest.to_owned()
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
    if escapes || !(decoded == PREFIX || decoded.starts_with("/dav/")) {
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

async fn handle(State(door): State<Door>, req: Request) -> Response {
    if let Some(refusal) = screen(&req) {
        return refusal;
    }
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let session = match door.sign_ins.authenticate(&door.gateway, req.headers(), ip).await {
        Ok(session) => session,
        Err(res) => return res,
    };
    let (parts, body) = req.into_parts();
    let body = match parts.method.as_str() {
        "PROPFIND" | "PROPPATCH" | "LOCK" => match xml_body(body).await {
            Ok(b) => b,
            Err(res) => return res,
        },
        _ => body,
    };
    let req = Request::from_parts(parts, body);
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
    let mut methods = DavMethodSet::all();
    methods.remove(DavMethod::Patch);
    let dav = DavHandler::builder()
        .filesystem(Box::new(tree))
        .locksystem(Box::new(locks::DbLocks {
            gateway: door.gateway.clone(),
            session: session.clone(),
            refusal: refusal.clone(),
        }))
        .strip_prefix(PREFIX)
        .methods(methods)
        .principal(session.email())
        .read_buf_size(256 * 1024)
        .build_handler();
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
