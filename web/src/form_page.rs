//! What every page with forms does around its own values: the frame (with
//! the signed-in staff member and the way out, when there is one), the CSRF
//! token its forms carry (a cookie set the first time), and the note the
//! POST before it left: `error` or `notice`, a `secret` shown once, and the
//! values a refused form keeps, which the page reads to fill itself in.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use gateway::{Error, Language, Session};

use crate::App;
use crate::error::page_for;
use crate::session::{Note, clear_note, csrf_token, note};

impl App {
    /// Render `template` with `values(note)` and the frame, token and note.
    pub fn form_page(
        &self,
        headers: &HeaderMap,
        language: Language,
        staff: Option<&Session>,
        template: &str,
        values: impl FnOnce(Option<&Note>) -> minijinja::Value,
    ) -> Response {
        let Some((csrf, set_csrf)) = csrf_token(headers) else {
            return page_for(self, &self.frame(language), &Error::Internal("no randomness".into()));
        };
        let f = match staff {
            Some(session) => self.staff_frame(language, session, &csrf),
            None => self.frame(language),
        };
        let note = note(headers);
        let (error, notice) = match &note {
            Some(n) if n.is_error() => (Some(n.text.clone()), None),
            Some(n) => (None, Some(n.text.clone()).filter(|t| !t.is_empty())),
            None => (None, None),
        };
        let page = minijinja::context! {
            csrf,
            error,
            notice,
            secret => note.as_ref().and_then(|n| n.field("secret")).map(str::to_owned),
            min_chars => self.gateway.settings().rules.min_password_chars,
            ..values(note.as_ref())
        };
        let mut response = self.pages.render(StatusCode::OK, template, &f, page);
        let h = response.headers_mut();
        if let Some(value) = set_csrf {
            h.append(header::SET_COOKIE, value);
        }
        if note.is_some() {
            h.append(header::SET_COOKIE, clear_note());
        }
        response
    }
}

impl App {
    /// A staff member's page: signed in (else the way to the sign-in
    /// page), its values from the core (a refusal is the page that says
    /// why), then as [`App::form_page`].
    pub async fn staff_page(
        &self,
        headers: &HeaderMap,
        peer: std::net::SocketAddr,
        lang: Option<&str>,
        template: &str,
        values: impl AsyncFnOnce(&Session, Language) -> Result<minijinja::Value, Error>,
    ) -> Response {
        let language = crate::i18n::chosen(lang).unwrap_or_else(|| crate::i18n::accepted(headers));
        let session = match self.signed_in(headers, peer, language).await {
            Ok(session) => session,
            Err(r) => return r,
        };
        match values(&session, language).await {
            Ok(values) => self.form_page(headers, language, Some(&session), template, |_| values),
            Err(e) => page_for(self, &self.frame(language), &e),
        }
    }
}

/// A value a refused form kept, or empty.
pub fn kept(note: Option<&Note>, key: &str) -> String {
    note.and_then(|n| n.field(key)).unwrap_or_default().to_owned()
}
