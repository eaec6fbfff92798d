//! "Verstuur verzoek tot insturen bericht": a staff member asks someone
//! outside the organisation for documents (`/requests`), sees the requests
//! made and withdraws an open one. The rules (outside addresses only, the
//! caps on mails) are the core's; every POST carries the CSRF token and
//! redirects.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use gateway::address::{EmailAddress, Mailbox};
use gateway::request::{RequestLine, RequestState};
use gateway::{Error, Language};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::form_page::kept;
use crate::i18n::{accepted, chosen};
use crate::link::LangQuery;
use crate::reasons::reason;
use crate::session::redirect_with;
use crate::staff::with_lang;

pub fn routes() -> Router<App> {
    Router::new().route("/requests", get(page).post(create)).route("/requests/{id}/withdraw", post(withdraw))
}

#[derive(Debug, Deserialize)]
struct RequestForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    to_name: String,
    #[serde(default)]
    to_email: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    text: String,
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

impl App {
    fn request_line(&self, r: &RequestLine, language: Language) -> minijinja::Value {
        let t = &crate::i18n::texts(language).staff;
        let state = match r.state {
            RequestState::Open => t.req_open,
            RequestState::Answered => t.req_answered,
            RequestState::Expired => t.req_expired,
            RequestState::Withdrawn => t.req_withdrawn,
        };
        minijinja::context! {
            id => r.id.clone(),
            to => r.to.clone(),
            created => self.moment(r.created_at, language),
            until => self.moment(r.expires_at, language),
            state,
            open => r.state == RequestState::Open,
        }
    }
}

async fn page(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let session = match app.signed_in(&headers, peer, language).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let requests = match app.gateway.requests(&session).await {
        Ok(list) => list.iter().map(|r| app.request_line(r, language)).collect::<Vec<_>>(),
        Err(e) => return page_for(&app, &app.frame(language), &e),
    };
    app.form_page(&headers, language, Some(&session), "requests.html", |note| {
        minijinja::context! {
            requests,
            to_name => kept(note, "to_name"),
            to_email => kept(note, "to_email"),
            language => kept(note, "language"),
            text => kept(note, "body"),
        }
    })
}

async fn create(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = crate::i18n::texts(language);
    let back = with_lang("/requests", language);
    let kept = [
        ("to_name", form.to_name.as_str()),
        ("to_email", form.to_email.as_str()),
        ("language", form.language.as_str()),
        ("body", form.text.as_str()),
    ];
    let Some(to) =
        EmailAddress::parse(&form.to_email).ok().and_then(|e| Mailbox::new(Some(form.to_name.trim()), e).ok())
    else {
        return redirect_with(&back, "error", t.bad_email, &kept);
    };
    let mail_language = Language::parse(&form.language).unwrap_or(language);
    let text = form.text.replace("\r\n", "\n");
    match app.gateway.create_upload_request(&session, &to, &text, mail_language).await {
        Ok(_) => redirect_with(&back, "notice", &format!("{} {to}.", t.staff.request_sent), &[]),
        Err(Error::Forbidden(_)) => redirect_with(&back, "error", t.staff.colleague, &kept),
        Err(e) => redirect_with(&back, "error", &reason(&e, language), &kept),
    }
}

async fn withdraw(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let back = with_lang("/requests", language);
    match app.gateway.withdraw_request(&session, &id).await {
        Ok(()) => redirect_with(&back, "notice", crate::i18n::texts(language).staff.withdrawn, &[]),
        Err(Error::NotFound) => page_for(&app, &app.frame(language), &Error::NotFound),
        Err(e) => redirect_with(&back, "error", &reason(&e, language), &[]),
    }
}
