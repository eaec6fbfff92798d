//! The staff member's pages: signing in and out, and the overview of sent
//! and received messages (`/home`). The session is the core's (any node);
//! the browser holds its token in a `__Host-` cookie, and every form carries
//! the CSRF token besides. Every POST redirects.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gateway::home::{MessageLine, MessageQuery, Side};
use gateway::second_factor::SignInStep;
use gateway::staff_session::StaffSignIn;
use gateway::{Error, Language, Session, TransferState};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::i18n::{accepted, chosen};
use crate::link::origin;
use crate::pages::{Frame, StaffBar};
use crate::second_step::SECOND_STEP_PAGE;
use crate::session::{cookie, csrf_ok, redirect_with, set_cookie};

/// The staff session's cookie (the recipient's is another).
pub const STAFF_COOKIE: &str = "__Host-koerier-staff";

/// A sign-in between the password and the code of the second step.
const PENDING_COOKIE: &str = "__Host-koerier-signin";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/signin", get(signin_page).post(signin))
        .route("/signin/code", get(code_page).post(code))
        .route("/signout", post(signout))
        .route("/home", get(home))
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HomeQuery {
    lang: Option<String>,
    side: Option<String>,
    #[serde(default)]
    q: String,
    page: Option<u32>,
}

pub(crate) fn with_lang(path: &str, language: Language) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={}", language.as_str())
}

impl App {
    /// The signed-in staff member of this request, if any.
    async fn staff(&self, headers: &HeaderMap, peer: SocketAddr) -> Option<Result<Session, Error>> {
        let token = cookie(headers, STAFF_COOKIE)?;
        Some(self.gateway.staff_session(token, origin(peer)).await)
    }

    /// The signed-in staff member a staff page is for; without one, the
    /// way to the sign-in page (saying the session ended, when it did).
    pub(crate) async fn signed_in(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        language: Language,
    ) -> Result<Session, Response> {
        let t = &crate::i18n::texts(language).staff;
        match self.staff(headers, peer).await {
            Some(Ok(session)) => Ok(session),
            Some(Err(Error::NotFound)) => {
                Err(redirect_with(&with_lang("/signin", language), "error", t.session_ended, &[]))
            }
            Some(Err(Error::SecondStepDue)) => {
                Err(redirect_with(&with_lang(SECOND_STEP_PAGE, language), "error", t.second_step_due, &[]))
            }
            Some(Err(e)) => Err(page_for(self, &self.frame(language), &e)),
            None => Err(Redirect::to(&with_lang("/signin", language)).into_response()),
        }
    }

    /// A staff page's frame: the header names who is signed in, with the
    /// sign-out form.
    pub(crate) fn staff_frame(&self, language: Language, session: &Session, csrf: &str) -> Frame<'_> {
        let mut f = self.frame(language);
        let admin = session.role() == Some(gateway::Role::Admin);
        f.staff = Some(StaffBar { name: session.display_name().to_owned(), csrf: csrf.to_owned(), admin });
        f
    }
}

async fn signin_page(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<crate::link::LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    if let Some(Ok(_)) = app.staff(&headers, peer).await {
        return Redirect::to(&with_lang("/home", language)).into_response();
    }
    app.form_page(&headers, language, None, "staff-signin.html", |note| {
        minijinja::context! { email => crate::form_page::kept(note, "email") }
    })
}

async fn signin(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let language = chosen(form.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let t = &crate::i18n::texts(language).staff;
    let back = with_lang("/signin", language);
    if !csrf_ok(&headers, &form.csrf) {
        return redirect_with(&back, "error", crate::i18n::texts(language).refused_text, &[]);
    }
    let email = form.email.trim();
    match app.gateway.sign_in_staff(email, &form.password, origin(peer)).await {
        Ok(SignInStep::Done(signed)) => signed_in_at_home(&signed, language),
        Ok(SignInStep::CodeNeeded(token)) => {
            let mut response = Redirect::to(&with_lang("/signin/code", language)).into_response();
            if let Some(value) = set_cookie(PENDING_COOKIE, token.expose()) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        // Which part was wrong, or that the account is disabled, is not told.
        Err(Error::BadCredentials | Error::Forbidden(_) | Error::NotFound) => {
            redirect_with(&back, "error", t.bad_signin, &[("email", email)])
        }
        Err(Error::RateLimited | Error::Locked) => redirect_with(&back, "error", t.too_many, &[("email", email)]),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

/// The way home with the session's cookie, and without the pending one.
fn signed_in_at_home(signed: &StaffSignIn, language: Language) -> Response {
    let mut response = Redirect::to(&with_lang("/home", language)).into_response();
    let h = response.headers_mut();
    if let Some(value) = set_cookie(STAFF_COOKIE, signed.token.expose()) {
        h.append(header::SET_COOKIE, value);
    }
    if let Ok(value) = format!("{PENDING_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0").parse() {
        h.append(header::SET_COOKIE, value);
    }
    response
}

/// The second step's page: the code from the app, or a recovery code.
async fn code_page(Query(q): Query<crate::link::LangQuery>, State(app): State<App>, headers: HeaderMap) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    if cookie(&headers, PENDING_COOKIE).is_none() {
        return Redirect::to(&with_lang("/signin", language)).into_response();
    }
    app.form_page(&headers, language, None, "staff-code.html", |_| minijinja::context! {})
}

async fn code(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let language = chosen(form.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let t = &crate::i18n::texts(language).staff;
    let back = with_lang("/signin/code", language);
    if !csrf_ok(&headers, &form.csrf) {
        return redirect_with(&back, "error", crate::i18n::texts(language).refused_text, &[]);
    }
    let Some(token) = cookie(&headers, PENDING_COOKIE) else {
        return redirect_with(&with_lang("/signin", language), "error", t.session_ended, &[]);
    };
    match app.gateway.finish_sign_in(token, &form.code, origin(peer)).await {
        Ok(signed) => signed_in_at_home(&signed, language),
        Err(Error::BadCredentials) => redirect_with(&back, "error", t.bad_code, &[]),
        // Too old, or the account was disabled meanwhile: from the start.
        Err(Error::NotFound | Error::Forbidden(_)) => {
            redirect_with(&with_lang("/signin", language), "error", t.session_ended, &[])
        }
        Err(Error::RateLimited | Error::Locked) => redirect_with(&back, "error", t.too_many, &[]),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

async fn signout(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    let language = chosen(form.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    if !csrf_ok(&headers, &form.csrf) {
        return redirect_with(&with_lang("/home", language), "error", crate::i18n::texts(language).refused_text, &[]);
    }
    if let Some(token) = cookie(&headers, STAFF_COOKIE)
        && let Err(e) = app.gateway.sign_out_staff(token, origin(peer)).await
    {
        return page_for(&app, &app.frame(language), &e);
    }
    let t = &crate::i18n::texts(language).staff;
    let mut response = redirect_with(&with_lang("/signin", language), "notice", t.signed_out, &[]);
    if let Ok(value) = format!("{STAFF_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0").parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn home(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<HomeQuery>,
    headers: HeaderMap,
) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let session = match app.signed_in(&headers, peer, language).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let side = match q.side.as_deref() {
        Some("received") => Side::Received,
        _ => Side::Sent,
    };
    let query = MessageQuery { side, search: q.q.trim().to_owned(), page: q.page.unwrap_or(1) };
    let found = match app.gateway.messages(&session, query).await {
        Ok(found) => found,
        Err(e) => return page_for(&app, &app.frame(language), &e),
    };
    let side_name = if side == Side::Received { "received" } else { "sent" };
    let search = q.q.trim();
    let href = |page: u32| {
        let mut url = format!("/home?lang={}&side={side_name}&page={page}", language.as_str());
        if !search.is_empty() {
            url.push_str("&q=");
            url.push_str(
                &percent_encoding::utf8_percent_encode(search, percent_encoding::NON_ALPHANUMERIC).to_string(),
            );
        }
        url
    };
    let lines: Vec<_> = found.lines.iter().map(|line| app.line(line, language)).collect();
    app.form_page(&headers, language, Some(&session), "home.html", |_| {
        minijinja::context! {
            side => side_name,
            search,
            lines,
            total => found.total,
            page => found.page,
            pages => found.pages,
            previous => (found.page > 1).then(|| href(found.page - 1)),
            next => (found.page < found.pages).then(|| href(found.page + 1)),
            sent_href => format!("/home?lang={}&side=sent", language.as_str()),
            received_href => format!("/home?lang={}&side=received", language.as_str()),
        }
    })
}

impl App {
    /// One message of the overview as the page shows it.
    fn line(&self, line: &MessageLine, language: Language) -> minijinja::Value {
        let t = &crate::i18n::texts(language).staff;
        let state = match (line.state, line.downloaded_at) {
            (TransferState::Draft, _) => t.state_draft.to_owned(),
            (TransferState::Aborted, _) => t.state_aborted.to_owned(),
            (TransferState::Sent | TransferState::Expired, Some(at)) => {
                format!("{} {}", t.state_downloaded, self.moment(at, language))
            }
            (TransferState::Expired, None) => t.state_expired.to_owned(),
            (TransferState::Sent, None) => t.state_sent.to_owned(),
        };
        minijinja::context! {
            href => match line.state {
                TransferState::Draft => with_lang(&format!("/drafts/{}", line.id.as_str()), language),
                _ => with_lang(&format!("/messages/{}", line.id.as_str()), language),
            },
            counterpart => line.counterpart.clone(),
            subject => line.subject.clone(),
            reference => line.reference.clone(),
            at => self.moment(line.at, language),
            state,
            draft => line.state == TransferState::Draft,
            downloaded => line.downloaded_at.is_some(),
        }
    }
}
