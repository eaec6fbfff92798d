//! The browser's side of a session: the CSRF token of the forms (a
//! double-submit cookie, so opening a page writes nothing) and the session
//! cookie that the core's web session stands behind. Both cookies are
//! `__Host-`, Secure, HttpOnly, SameSite=Strict and without Max-Age, so they
//! end with the browser session; the core ends the session after 30 minutes
//! idle.

use axum::http::{HeaderMap, HeaderValue, header};
use gateway::Random;

pub const CSRF_COOKIE: &str = "__Host-koerier-csrf";
pub const SESSION_COOKIE: &str = "__Host-koerier-session";

/// A cookie's value from the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// `Set-Cookie` for a cookie of this front.
pub fn set_cookie(name: &str, value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict")).ok()
}

/// The cookie that carries what a POST's result page says to the page the
/// browser is sent to next (redirect after every POST): set by the POST,
/// shown and cleared by the GET.
pub const NOTE_COOKIE: &str = "__Host-koerier-note";

/// What a POST left for the next page: its kind (`error`, `notice`), its
/// text, and values to show again (a form's fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    pub kind: String,
    pub text: String,
    fields: Vec<(String, String)>,
}

impl Note {
    /// A value the POST kept.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn is_error(&self) -> bool {
        self.kind == "error"
    }
}

/// The longest value a note keeps (a cookie holds about 4 KB in all).
const NOTE_VALUE_MAX: usize = 600;

/// `Set-Cookie` for a note: its pairs, each percent-encoded.
pub fn set_note(kind: &str, text: &str, fields: &[(&str, &str)]) -> Option<HeaderValue> {
    let encode = |v: &str| {
        let v: String = v.chars().take(NOTE_VALUE_MAX).collect();
        percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let pairs: Vec<String> = [("kind", kind), ("text", text)]
        .iter()
        .chain(fields)
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let value = encode(&pairs.join("&"));
    HeaderValue::from_str(&format!("{NOTE_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Strict")).ok()
}

/// The note a POST left, if any.
pub fn note(headers: &HeaderMap) -> Option<Note> {
    let raw = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == NOTE_COOKIE)
        .map(|(_, v)| v)?;
    let decode = |v: &str| percent_encoding::percent_decode_str(v).decode_utf8().ok().map(|v| v.into_owned());
    let mut note = Note::default();
    for pair in decode(raw)?.split('&') {
        let (k, v) = pair.split_once('=')?;
        let (k, v) = (decode(k)?, decode(v)?);
        match k.as_str() {
            "kind" => note.kind = v,
            "text" => note.text = v,
            _ => note.fields.push((k, v)),
        }
    }
    Some(note)
}

/// `Set-Cookie` that clears the note once shown.
pub fn clear_note() -> HeaderValue {
    HeaderValue::from_static("__Host-koerier-note=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The CSRF token of this browser's forms: the cookie's, or a new one with
/// the `Set-Cookie` that gives it (a page that shows a form sends it).
pub fn csrf_token(headers: &HeaderMap) -> Option<(String, Option<HeaderValue>)> {
    match cookie(headers, CSRF_COOKIE).filter(|c| c.len() == 64) {
        Some(existing) => Some((existing.to_owned(), None)),
        None => {
            let token = new_token()?;
            let set = set_cookie(CSRF_COOKIE, &token);
            Some((token, set))
        }
    }
}

/// A redirect (after a POST) that leaves a note, and values to show again,
/// for the page it leads to.
pub fn redirect_with(to: &str, kind: &str, text: &str, fields: &[(&str, &str)]) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = axum::response::Redirect::to(to).into_response();
    if let Some(cookie) = set_note(kind, text, fields) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// A fresh CSRF token: 256 random bits, hex.
pub fn new_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    gateway::SystemRandom.fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The form's token matches the cookie's, compared in constant time, and the
/// browser does not say the form came from another site.
pub fn csrf_ok(headers: &HeaderMap, form_token: &str) -> bool {
    let Some(cookie) = cookie(headers, CSRF_COOKIE) else { return false };
    !cross_site(headers) && cookie.len() == 64 && constant_time_eq(cookie.as_bytes(), form_token.as_bytes())
}

/// The browser says the request comes from another site (`Sec-Fetch-Site`).
pub fn cross_site(headers: &HeaderMap) -> bool {
    headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| !matches!(v, "same-origin" | "none"))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {CSRF_COOKIE}={value}")).unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    #[test]
    fn csrf_needs_the_cookie_and_the_same_token_from_this_site() {
        let token = new_token().unwrap_or_default();
        assert_eq!(token.len(), 64);
        let h = with_cookie(&token);
        assert!(csrf_ok(&h, &token));
        assert!(!csrf_ok(&h, "0".repeat(64).as_str()));
        assert!(!csrf_ok(&HeaderMap::new(), &token), "no cookie");
        let mut cross = h.clone();
        cross.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!csrf_ok(&cross, &token));
    }

    #[test]
    fn a_note_keeps_its_text_and_fields_whatever_they_hold() {
        let text = "Bestanden van het type .exe; zie: a=b&c";
        let set = set_note("error", text, &[("email", "piet@example.org"), ("name", "Piet & Co; 100%")]);
        let value = set.map(|v| v.to_str().unwrap_or_default().to_owned()).unwrap_or_default();
        let pair = value.split(';').next().unwrap_or_default().to_owned();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("x=y; {pair}")).unwrap_or(HeaderValue::from_static("")),
        );
        let n = note(&h).unwrap_or_default();
        assert!(n.is_error() && n.text == text, "{n:?}");
        assert_eq!(
            (n.field("email"), n.field("name"), n.field("other")),
            (Some("piet@example.org"), Some("Piet & Co; 100%"), None)
        );
    }

    #[test]
    fn cookies_are_host_only_secure_and_end_with_the_browser() {
        let c = set_cookie(SESSION_COOKIE, "x").map(|v| v.to_str().unwrap_or_default().to_owned()).unwrap_or_default();
        assert!(
            c.starts_with("__Host-") && c.contains("Secure") && c.contains("HttpOnly") && c.contains("SameSite=Strict")
        );
        assert!(!c.contains("Max-Age") && !c.contains("Expires") && !c.contains("Domain"));
    }
}
