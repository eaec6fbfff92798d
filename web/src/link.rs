//! The recipient's link, `/l/<secret>`: opening it (GET or HEAD) only reads;
//! the code form, "send me a new code" and the sign-in are POSTs with a CSRF
//! token. A redeemed link opens a web session in the core and the same
//! address then shows the download page.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gateway::link::LinkStatus;
use gateway::{Door, Error, Language, Origin};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::i18n::{chosen, size};
use crate::pages::{Frame, frame};
use crate::session::{SESSION_COOKIE, cookie, csrf_ok, set_cookie};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/l/{secret}", get(open))
        .route("/l/{secret}/code", post(code))
        .route("/l/{secret}/new-code", post(new_code))
        .route("/l/{secret}/sign-in", post(sign_in))
        .route("/l/{secret}/d/{name}", get(crate::files::document))
        .route("/l/{secret}/all.zip", get(crate::files::all))
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    lang: Option<String>,
}

/// A link secret is 43 base64url characters; anything else is not looked up.
pub fn plausible(secret: &str) -> bool {
    secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn origin(peer: SocketAddr) -> Origin {
    Origin::new(Door::Web, Some(peer.ip()))
}

impl App {
    pub fn frame(&self, language: Language) -> Frame<'_> {
        let other = match language {
            Language::Nl => Language::En,
            Language::En => Language::Nl,
        };
        let mut f = frame(language, &self.settings, Some(format!("?lang={}", other.as_str())));
        if let Ok(organisation) = self.organisation.read() {
            f.organisation = organisation.clone();
        }
        f
    }

    /// A moment as pages show it, in the operator's time zone.
    pub fn moment(&self, t: gateway::Timestamp, language: Language) -> String {
        self.settings.zone.show(t, language)
    }

    /// The page for `/l/<secret>` without a session: what `link_status` says.
    async fn link_page(&self, secret: &str, lang: Option<Language>, headers: &HeaderMap, note: Note) -> Response {
        let status = if plausible(secret) { self.gateway.link_status(secret).await } else { Ok(LinkStatus::Gone) };
        let status = match status {
            Ok(status) => status,
            Err(e) => return page_for(self, &self.frame(lang.unwrap_or_default()), &e),
        };
        let base = format!("/l/{secret}");
        let (language, template, masked_phone) = match status {
            LinkStatus::Gone => return page_for(self, &self.frame(lang.unwrap_or_default()), &Error::NotFound),
            LinkStatus::Locked { language } => {
                return page_for(self, &self.frame(lang.unwrap_or(language)), &Error::Locked);
            }
            LinkStatus::NeedsCode { masked_phone, language } => (language, "code.html", masked_phone),
            LinkStatus::NeedsSignIn { language } => (language, "signin.html", String::new()),
        };
        let f = self.frame(lang.unwrap_or(language));
        let Some((csrf, set_csrf)) = crate::session::csrf_token(headers) else {
            return page_for(self, &f, &Error::Internal("no randomness".into()));
        };
        let (error, notice) = match note {
            Note::None => (None, None),
            Note::WrongCode => (Some(f.t.wrong_code), None),
            Note::BadSignIn => (Some(f.t.bad_signin), None),
            Note::RateLimited => (Some(f.t.rate_limited), None),
            Note::CodeSent => (None, Some(f.t.new_code_sent)),
        };
        let page = minijinja::context! { base, csrf, masked_phone, error, notice };
        let mut response = self.pages.render(StatusCode::OK, template, &f, page);
        if let Some(value) = set_csrf {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }

    /// The download page of a live session.
    async fn download_page(
        &self,
        secret: &str,
        grant: &gateway::link::RecipientGrant,
        lang: Option<Language>,
    ) -> Response {
        let view = match self.gateway.recipient_view(grant).await {
            Ok(view) => view,
            Err(e) => return self.refusal(secret, lang, &e).await,
        };
        let (envelope, documents) = (view.envelope, view.documents);
        let language = lang.unwrap_or(envelope.language);
        let f = self.frame(language);
        let base = format!("/l/{secret}");
        let documents: Vec<_> = documents
            .iter()
            .filter(|d| d.state == gateway::upload::DocumentState::Complete)
            .map(|d| {
                minijinja::context! {
                    name => d.name.clone(),
                    size => size(d.size, language),
                    sha256 => d.sha256.clone().unwrap_or_default(),
                    href => format!("{base}/d/{}", crate::files::path_segment(&d.name)),
                }
            })
            .collect();
        let page = minijinja::context! {
            base,
            sender => view.sender,
            expires => view.expires_at.map(|t| self.moment(t, language)),
            subject => envelope.subject,
            reference => envelope.reference,
            text => envelope.text,
            documents,
        };
        self.pages.render(StatusCode::OK, "download.html", &f, page)
    }

    /// The grant of the browser's session for this link, if it has a live one.
    pub async fn session_grant(
        &self,
        secret: &str,
        headers: &HeaderMap,
    ) -> Option<Result<gateway::link::RecipientGrant, Error>> {
        let token = cookie(headers, SESSION_COOKIE)?;
        if !plausible(secret) {
            return None;
        }
        match self.gateway.resume_web_session(secret, token).await {
            Err(Error::NotFound) => None,
            other => Some(other),
        }
    }

    /// After a redeem: open the session, set its cookie, show the link again.
    async fn start_session(
        &self,
        secret: &str,
        grant: &gateway::link::RecipientGrant,
        lang: Option<Language>,
    ) -> Response {
        let token = match self.gateway.open_web_session(secret, grant).await {
            Ok(token) => token,
            Err(e) => return self.refusal(secret, lang, &e).await,
        };
        let target = match lang {
            Some(l) => format!("/l/{secret}?lang={}", l.as_str()),
            None => format!("/l/{secret}"),
        };
        let mut response = Redirect::to(&target).into_response();
        if let Some(value) = set_cookie(SESSION_COOKIE, token.expose()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }

    /// The page for a refusal on a link, in the language of its message
    /// (an unknown or expired link has none: the same page for both).
    pub async fn refusal(&self, secret: &str, lang: Option<Language>, err: &Error) -> Response {
        let language = match (lang, err) {
            (Some(l), _) => l,
            (None, Error::NotFound | Error::Expired) => Language::default(),
            (None, _) if plausible(secret) => match self.gateway.link_status(secret).await {
                Ok(LinkStatus::NeedsCode { language, .. })
                | Ok(LinkStatus::NeedsSignIn { language })
                | Ok(LinkStatus::Locked { language }) => language,
                _ => Language::default(),
            },
            (None, _) => Language::default(),
        };
        page_for(self, &self.frame(language), err)
    }

    /// What every POST on a link checks first: its CSRF token, then that the
    /// secret could be one (anything else gets the unknown-link page).
    fn refuse_post(&self, headers: &HeaderMap, csrf: &str, secret: &str, lang: Option<Language>) -> Option<Response> {
        if !csrf_ok(headers, csrf) {
            return Some(self.refused(lang));
        }
        if !plausible(secret) {
            return Some(page_for(self, &self.frame(lang.unwrap_or_default()), &Error::NotFound));
        }
        None
    }

    fn refused(&self, lang: Option<Language>) -> Response {
        let f = self.frame(lang.unwrap_or_default());
        self.pages.refusal(StatusCode::FORBIDDEN, &f, f.t.refused_title, f.t.refused_text)
    }
}

/// What to say above the form: what the POST before it came to. The POST
/// redirects to the link (redirect after every POST: a reload sends no
/// second code and counts no second wrong try) and leaves this in a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    None,
    WrongCode,
    BadSignIn,
    RateLimited,
    CodeSent,
}

impl Note {
    const ALL: [(Note, &'static str); 4] = [
        (Note::WrongCode, "wrong-code"),
        (Note::BadSignIn, "bad-sign-in"),
        (Note::RateLimited, "rate-limited"),
        (Note::CodeSent, "code-sent"),
    ];

    fn name(self) -> &'static str {
        Note::ALL.iter().find(|(n, _)| *n == self).map_or("", |(_, name)| name)
    }

    fn from_cookie(headers: &HeaderMap) -> Note {
        let what = crate::session::note(headers).and_then(|n| n.field("what").map(str::to_owned));
        Note::ALL.iter().find(|(_, name)| Some(*name) == what.as_deref()).map_or(Note::None, |(n, _)| *n)
    }
}

impl App {
    /// Back to the link's page with a note, at the form it is about (the
    /// fragment): a redirect that is not a redeemed link.
    fn back_to_link(&self, secret: &str, lang: Option<Language>, note: Note) -> Response {
        let query = lang.map(|l| format!("?lang={}", l.as_str())).unwrap_or_default();
        let anchor = match note {
            Note::BadSignIn => "#email",
            _ => "#code",
        };
        let mut response = Redirect::to(&format!("/l/{secret}{query}{anchor}")).into_response();
        if let Some(cookie) = crate::session::set_note("link", "", &[("what", note.name())]) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }

    /// Back to the link's page, which shows why not (locked, gone), or the
    /// page of a failure that is not the link's.
    async fn after_refusal(&self, secret: &str, lang: Option<Language>, err: &Error) -> Response {
        match err {
            Error::Locked | Error::NotFound | Error::Expired | Error::Aborted(_) => {
                let query = lang.map(|l| format!("?lang={}", l.as_str())).unwrap_or_default();
                Redirect::to(&format!("/l/{secret}{query}")).into_response()
            }
            other => self.refusal(secret, lang, other).await,
        }
    }
}

async fn open(
    State(app): State<App>,
    Path(secret): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = chosen(q.lang.as_deref());
    match app.session_grant(&secret, &headers).await {
        Some(Ok(grant)) => app.download_page(&secret, &grant, lang).await,
        Some(Err(e)) => app.refusal(&secret, lang, &e).await,
        None => {
            let note = Note::from_cookie(&headers);
            let mut response = app.link_page(&secret, lang, &headers, note).await;
            if crate::session::note(&headers).is_some() {
                response.headers_mut().append(header::SET_COOKIE, crate::session::clear_note());
            }
            response
        }
    }
}

async fn code(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let lang = chosen(form.lang.as_deref());
    if let Some(refusal) = app.refuse_post(&headers, &form.csrf, &secret, lang) {
        return refusal;
    }
    match app.gateway.redeem_with_code(&secret, &form.code, origin(peer)).await {
        Ok(grant) => app.start_session(&secret, &grant, lang).await,
        Err(Error::BadCredentials) => app.back_to_link(&secret, lang, Note::WrongCode),
        Err(e) => app.after_refusal(&secret, lang, &e).await,
    }
}

async fn new_code(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<PlainForm>,
) -> Response {
    let lang = chosen(form.lang.as_deref());
    if let Some(refusal) = app.refuse_post(&headers, &form.csrf, &secret, lang) {
        return refusal;
    }
    match app.gateway.request_new_code(&secret, origin(peer)).await {
        Ok(_) => app.back_to_link(&secret, lang, Note::CodeSent),
        Err(Error::RateLimited) => app.back_to_link(&secret, lang, Note::RateLimited),
        Err(e) => app.after_refusal(&secret, lang, &e).await,
    }
}

async fn sign_in(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = chosen(form.lang.as_deref());
    if let Some(refusal) = app.refuse_post(&headers, &form.csrf, &secret, lang) {
        return refusal;
    }
    let session = match app.gateway.authenticate_password(&form.email, &form.password, origin(peer)).await {
        Ok(session) => session,
        Err(Error::BadCredentials | Error::Forbidden(_)) => {
            return app.back_to_link(&secret, lang, Note::BadSignIn);
        }
        Err(e) => return app.after_refusal(&secret, lang, &e).await,
    };
    match app.gateway.redeem_signed_in(&secret, &session).await {
        Ok(grant) => app.start_session(&secret, &grant, lang).await,
        Err(Error::Forbidden(_)) => app.back_to_link(&secret, lang, Note::BadSignIn),
        Err(e) => app.after_refusal(&secret, lang, &e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plausible_secrets_are_looked_up() {
        assert!(plausible(&"a".repeat(43)));
        assert!(plausible("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234"));
        assert!(!plausible(&"a".repeat(42)));
        assert!(!plausible(&format!("{}/", "a".repeat(42))));
    }
}
