//! Delivering documents to the organisation (flow C), as the IGJ manual's
//! section 1 has it: `/deliver` asks for one's own name and address and the
//! contact's (the organisation's default contact filled in), the core mails
//! a link that proves the address, and that link opens the upload page of
//! [`crate::outsider`]. After sending, the confirmation mail links to the
//! delivery's report at `/report/<secret>`, which shows whether the
//! documents have been downloaded, with its PDF.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use gateway::Error;
use gateway::address::{EmailAddress, Mailbox};
use gateway::delivery::DeliveryStart;
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::i18n::{accepted, chosen};
use crate::link::{LangQuery, origin, plausible};
use crate::reasons::reason;
use crate::session::{clear_note, note, redirect_with};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/deliver", get(form).post(start))
        .route("/deliver/check", get(check))
        .route("/report/{secret}", get(report))
        .route("/report/{secret}/pdf", get(report_pdf))
}

#[derive(Debug, Default, Deserialize)]
pub struct StartForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    lang: Option<String>,
}

async fn form(State(app): State<App>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let f = app.frame(language);
    let shown = note(&headers);
    let kept = |key: &str| shown.as_ref().and_then(|n| n.field(key)).unwrap_or_default();
    let contact_name = match kept("contact_email") {
        "" => app.settings.contact_name.clone(),
        _ => kept("contact_name").to_owned(),
    };
    let contact_email = match kept("contact_email") {
        "" => app.settings.contact_email.clone(),
        typed => typed.to_owned(),
    };
    let page = minijinja::context! {
        error => shown.as_ref().map(|n| n.text.clone()),
        error_field => shown.as_ref().and_then(|n| n.field("field")).unwrap_or_default(),
        name => kept("name"),
        email => kept("email"),
        contact_name,
        contact_email,
        default_contact => app.settings.contact_email.clone(),
    };
    let mut response = app.pages.render(StatusCode::OK, "deliver.html", &f, page);
    if shown.is_some() {
        response.headers_mut().append(header::SET_COOKIE, clear_note());
    }
    response
}

async fn start(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Response {
    let language = chosen(form.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let t = crate::i18n::texts(language);
    let again = |field: &str, text: &str| {
        let kept = [
            ("name", form.name.as_str()),
            ("email", form.email.as_str()),
            ("contact_name", form.contact_name.as_str()),
            ("contact_email", form.contact_email.as_str()),
            ("field", field),
        ];
        redirect_with(&format!("/deliver?lang={}", language.as_str()), "error", text, &kept)
    };
    let mailbox =
        |name: &str, email: &str| EmailAddress::parse(email.trim()).ok().and_then(|e| Mailbox::new(Some(name), e).ok());
    let Some(sender) = mailbox(&form.name, &form.email) else { return again("email", t.bad_email) };
    let Some(contact) = mailbox(&form.contact_name, &form.contact_email) else {
        return again("contact_email", t.bad_email);
    };
    let shown = sender.email.normalized();
    match app.gateway.start_delivery(DeliveryStart { sender, contact, language }, origin(peer)).await {
        Ok(expires_at) => {
            let until = app.moment(expires_at, language);
            let pairs = [("email", shown.as_str()), ("until", until.as_str())];
            redirect_with(&format!("/deliver/check?lang={}", language.as_str()), "notice", "", &pairs)
        }
        // The one value the core refuses here: a contact outside the organisation.
        Err(Error::Invalid(_)) => again("contact_email", t.contact_not_ours),
        Err(e) => again("", &reason(&e, language)),
    }
}

async fn check(State(app): State<App>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let f = app.frame(language);
    let Some(shown) = note(&headers) else {
        // Reloaded after the note was shown: the start form again.
        return Redirect::to(&format!("/deliver?lang={}", language.as_str())).into_response();
    };
    let page = minijinja::context! {
        email => shown.field("email").unwrap_or_default(),
        until => shown.field("until").unwrap_or_default(),
        hint => f.t.check_hint,
    };
    let mut response = app.pages.render(StatusCode::OK, "check-mail.html", &f, page);
    response.headers_mut().append(header::SET_COOKIE, clear_note());
    response
}

async fn report(
    State(app): State<App>,
    Path(secret): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let asked = chosen(q.lang.as_deref());
    let fallback = asked.unwrap_or_else(|| accepted(&headers));
    let data = match plausible(&secret) {
        true => app.gateway.report_by_link(&secret).await,
        false => Err(Error::NotFound),
    };
    let data = match data {
        Ok(d) => d,
        Err(e) => return page_for(&app, &app.frame(fallback), &e),
    };
    let language = asked.unwrap_or(fallback);
    let page = app.report_values(&data, language, format!("/report/{secret}"), false);
    app.pages.render(StatusCode::OK, "report.html", &app.frame(language), page)
}

async fn report_pdf(
    State(app): State<App>,
    Path(secret): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let pdf = match plausible(&secret) {
        true => match app.gateway.report_by_link(&secret).await {
            Ok(data) => app.gateway.report_pdf(&data, language).await,
            Err(e) => Err(e),
        },
        false => Err(Error::NotFound),
    };
    match pdf {
        Ok(bytes) => crate::reports::pdf(bytes, language),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}
