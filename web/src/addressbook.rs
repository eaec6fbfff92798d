//! "Adresboek bewerken" (`/addressbook`) and "Templates bewerken"
//! (`/templates`): a staff member's addresses and message templates, one
//! of which may be the default that fills every new draft (in the browser
//! and on the drive alike; the core does the filling).

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use gateway::Language;
use gateway::address::{EmailAddress, Mailbox, PhoneNumber};
use gateway::addressbook::Template;
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::link::LangQuery;
use crate::reasons::reason;
use crate::session::redirect_with;
use crate::staff::with_lang;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/addressbook", get(book).post(save_contact))
        .route("/addressbook/remove", post(remove_contact))
        .route("/templates", get(templates).post(save_template))
        .route("/templates/remove", post(remove_template))
}

#[derive(Debug, Deserialize)]
struct Posted {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    to_name: String,
    #[serde(default)]
    to_email: String,
    #[serde(default)]
    to_phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    language: String,
    is_default: Option<String>,
}

/// Back to a list page with what came of a POST.
fn back(path: &str, language: Language, outcome: Result<&str, String>) -> Response {
    match outcome {
        Ok(text) => redirect_with(&with_lang(path, language), "notice", text, &[]),
        Err(text) => redirect_with(&with_lang(path, language), "error", &text, &[]),
    }
}

async fn book(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let gateway = app.gateway.clone();
    app.staff_page(&headers, peer, q.lang.as_deref(), "addressbook.html", async |session, _| {
        let contacts: Vec<_> = gateway
            .contacts(session)
            .await?
            .into_iter()
            .map(|c| minijinja::context! { name => c.name, email => c.email, phone => c.phone })
            .collect();
        Ok(minijinja::context! { contacts })
    })
    .await
}

async fn save_contact(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = crate::i18n::texts(language);
    let Some(who) =
        EmailAddress::parse(&form.to_email).ok().and_then(|e| Mailbox::new(Some(form.to_name.trim()), e).ok())
    else {
        return back("/addressbook", language, Err(t.bad_email.to_owned()));
    };
    let phone = match form.to_phone.trim() {
        "" => None,
        typed => match PhoneNumber::parse(typed) {
            Ok(phone) => Some(phone),
            Err(_) => return back("/addressbook", language, Err(t.staff.bad_phone.to_owned())),
        },
    };
    let saved = app.gateway.save_contact(&session, &who, phone.as_ref()).await;
    back("/addressbook", language, saved.map(|()| t.staff.contact_saved).map_err(|e| reason(&e, language)))
}

async fn remove_contact(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    match app.gateway.remove_contact(&session, &form.email).await {
        Ok(()) => back("/addressbook", language, Ok(crate::i18n::texts(language).staff.contact_removed)),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

async fn templates(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let gateway = app.gateway.clone();
    app.staff_page(&headers, peer, q.lang.as_deref(), "templates.html", async |session, _| {
        let templates: Vec<_> = gateway
            .templates(session)
            .await?
            .into_iter()
            .map(|t| {
                minijinja::context! {
                    name => t.name, subject => t.subject, reference => t.reference, is_default => t.is_default,
                }
            })
            .collect();
        Ok(minijinja::context! { templates })
    })
    .await
}

async fn save_template(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let template = Template {
        name: form.name.trim().to_owned(),
        subject: form.subject.trim().to_owned(),
        reference: form.reference.trim().to_owned(),
        body: form.text.replace("\r\n", "\n"),
        language: Language::parse(&form.language).unwrap_or(language),
        is_default: form.is_default.is_some(),
    };
    let saved = app.gateway.save_template(&session, template).await;
    let t = crate::i18n::texts(language);
    back("/templates", language, saved.map(|()| t.staff.template_saved).map_err(|e| reason(&e, language)))
}

async fn remove_template(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    match app.gateway.remove_template(&session, &form.name).await {
        Ok(()) => back("/templates", language, Ok(crate::i18n::texts(language).staff.template_removed)),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}
