//! A staff member's own account without an operator: registering
//! (`/register`, an address of the organisation), proving the address
//! (`/verify/<secret>`, from the mail), and a forgotten password (`/forgot`,
//! then `/reset/<secret>` from the mail). A link from a mail opens a page
//! with a button: a mail scanner that fetches the link uses nothing up.
//! Every POST carries the CSRF token and redirects.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use gateway::first_run::Setup;
use gateway::registration::Registration;
use gateway::{Error, Language};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::form_page::kept;
use crate::i18n::{accepted, chosen};
use crate::link::{LangQuery, origin, plausible};
use crate::reasons::reason;
use crate::session::{Note, clear_note, csrf_ok, note, redirect_with};
use crate::staff::with_lang;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/register", get(register_page).post(register))
        .route("/register/check", get(check))
        .route("/verify/{secret}", get(verify_page).post(verify))
        .route("/forgot", get(forgot_page).post(forgot))
        .route("/reset/{secret}", get(reset_page).post(reset))
        .route("/setup/{secret}", get(setup_page).post(setup))
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ForgotForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    email: String,
}

#[derive(Debug, Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// The name and address a refused form kept.
fn kept_name_and_email(note: Option<&Note>) -> minijinja::Value {
    minijinja::context! { name => kept(note, "name"), email => kept(note, "email") }
}

fn language_of(lang: Option<&str>, headers: &HeaderMap) -> Language {
    chosen(lang).unwrap_or_else(|| accepted(headers))
}

async fn register_page(State(app): State<App>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let language = language_of(q.lang.as_deref(), &headers);
    app.form_page(&headers, language, None, "register.html", kept_name_and_email)
}

async fn register(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RegisterForm>,
) -> Response {
    let language = language_of(form.lang.as_deref(), &headers);
    let t = crate::i18n::texts(language);
    let back = with_lang("/register", language);
    let kept = [("name", form.name.as_str()), ("email", form.email.as_str())];
    if !csrf_ok(&headers, &form.csrf) {
        return redirect_with(&back, "error", t.refused_text, &kept);
    }
    if form.password != form.password_again {
        return redirect_with(&back, "error", t.staff.passwords_differ, &kept);
    }
    let new = Registration {
        email: form.email.trim().to_owned(),
        display_name: form.name.clone(),
        password: form.password.clone(),
        language,
    };
    match app.gateway.register(new, origin(peer)).await {
        Ok(until) => {
            let until = app.moment(until, language);
            let shown = [("email", form.email.trim()), ("until", until.as_str())];
            redirect_with(&with_lang("/register/check", language), "notice", "", &shown)
        }
        Err(Error::Forbidden(_)) => redirect_with(&back, "error", t.staff.not_ours, &kept),
        Err(Error::Invalid(_)) => redirect_with(&back, "error", t.bad_email, &kept),
        Err(e) => redirect_with(&back, "error", &reason(&e, language), &kept),
    }
}

async fn check(State(app): State<App>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let language = language_of(q.lang.as_deref(), &headers);
    let f = app.frame(language);
    let Some(shown) = note(&headers) else {
        return Redirect::to(&with_lang("/register", language)).into_response();
    };
    let page = minijinja::context! {
        email => shown.field("email").unwrap_or_default(),
        until => shown.field("until").unwrap_or_default(),
        hint => f.t.staff.verify_hint,
    };
    let mut response = app.pages.render(StatusCode::OK, "check-mail.html", &f, page);
    response.headers_mut().append(header::SET_COOKIE, clear_note());
    response
}

async fn verify_page(
    State(app): State<App>,
    Path(secret): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = language_of(q.lang.as_deref(), &headers);
    if !plausible(&secret) {
        let f = app.frame(language);
        return app.pages.refusal(StatusCode::NOT_FOUND, &f, f.t.staff.verify_title, f.t.staff.verify_gone);
    }
    app.form_page(
        &headers,
        language,
        None,
        "verify.html",
        |_| minijinja::context! { base => format!("/verify/{secret}") },
    )
}

async fn verify(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let language = language_of(form.lang.as_deref(), &headers);
    let f = app.frame(language);
    if !csrf_ok(&headers, &form.csrf) {
        return page_for(&app, &f, &Error::Forbidden("a form without its token"));
    }
    let verified = match plausible(&secret) {
        true => app.gateway.verify_account(&secret, origin(peer)).await,
        false => Err(Error::NotFound),
    };
    match verified {
        Ok(email) => redirect_with(&with_lang("/signin", language), "notice", f.t.staff.verified, &[("email", &email)]),
        Err(Error::NotFound | Error::Expired) => {
            app.pages.refusal(StatusCode::GONE, &f, f.t.staff.verify_title, f.t.staff.verify_gone)
        }
        Err(e) => page_for(&app, &f, &e),
    }
}

async fn forgot_page(State(app): State<App>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let language = language_of(q.lang.as_deref(), &headers);
    app.form_page(&headers, language, None, "forgot.html", |_| minijinja::Value::UNDEFINED)
}

async fn forgot(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let language = language_of(form.lang.as_deref(), &headers);
    let t = crate::i18n::texts(language);
    let back = with_lang("/forgot", language);
    if !csrf_ok(&headers, &form.csrf) {
        return redirect_with(&back, "error", t.refused_text, &[]);
    }
    match app.gateway.request_password_reset(&form.email, language, origin(peer)).await {
        Ok(()) => redirect_with(&back, "notice", t.staff.forgot_sent, &[]),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

async fn reset_page(
    State(app): State<App>,
    Path(secret): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = language_of(q.lang.as_deref(), &headers);
    let open = match plausible(&secret) {
        true => app.gateway.password_reset_open(&secret).await,
        false => Err(Error::NotFound),
    };
    match open {
        Ok(()) => app.form_page(
            &headers,
            language,
            None,
            "reset.html",
            |_| minijinja::context! { base => format!("/reset/{secret}") },
        ),
        Err(Error::NotFound | Error::Expired) => {
            let f = app.frame(language);
            app.pages.refusal(StatusCode::GONE, &f, f.t.staff.reset_title, f.t.staff.reset_gone)
        }
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

async fn reset(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    let language = language_of(form.lang.as_deref(), &headers);
    let f = app.frame(language);
    let back = with_lang(&format!("/reset/{secret}"), language);
    if !csrf_ok(&headers, &form.csrf) {
        return redirect_with(&back, "error", f.t.refused_text, &[]);
    }
    if form.password != form.password_again {
        return redirect_with(&back, "error", f.t.staff.passwords_differ, &[]);
    }
    let done = match plausible(&secret) {
        true => app.gateway.reset_password(&secret, &form.password, origin(peer)).await,
        false => Err(Error::NotFound),
    };
    match done {
        Ok(()) => redirect_with(&with_lang("/signin", language), "notice", f.t.staff.reset_done, &[]),
        Err(Error::NotFound | Error::Expired) => {
            app.pages.refusal(StatusCode::GONE, &f, f.t.staff.reset_title, f.t.staff.reset_gone)
        }
        Err(e) => redirect_with(&back, "error", &reason(&e, language), &[]),
    }
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    domains: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// The first run's page: the link from the server's log.
async fn setup_page(
    State(app): State<App>,
    Path(secret): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = language_of(q.lang.as_deref(), &headers);
    let open = match plausible(&secret) {
        true => app.gateway.setup_open(&secret).await,
        false => Err(Error::NotFound),
    };
    match open {
        Ok(()) => app.form_page(&headers, language, None, "setup.html", |note| {
            minijinja::context! {
                base => format!("/setup/{secret}"),
                organisation => kept(note, "organisation"),
                domains => kept(note, "domains"),
                name => kept(note, "name"),
                email => kept(note, "email"),
            }
        }),
        Err(Error::NotFound) => {
            let f = app.frame(language);
            app.pages.refusal(StatusCode::GONE, &f, f.t.staff.setup_title, f.t.staff.setup_gone)
        }
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

async fn setup(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    let language = language_of(form.lang.as_deref(), &headers);
    let f = app.frame(language);
    let back = with_lang(&format!("/setup/{secret}"), language);
    let kept = [
        ("organisation", form.organisation.as_str()),
        ("domains", form.domains.as_str()),
        ("name", form.name.as_str()),
        ("email", form.email.as_str()),
    ];
    if !csrf_ok(&headers, &form.csrf) {
        return redirect_with(&back, "error", f.t.refused_text, &kept);
    }
    if form.password != form.password_again {
        return redirect_with(&back, "error", f.t.staff.passwords_differ, &kept);
    }
    let setup = Setup {
        organisation: form.organisation.clone(),
        domains: form.domains.split(|c: char| c == ',' || c.is_whitespace()).map(str::to_owned).collect(),
        admin_name: form.name.clone(),
        admin_email: form.email.clone(),
        admin_password: form.password.clone(),
    };
    let done = match plausible(&secret) {
        true => app.gateway.complete_setup(&secret, setup, origin(peer)).await,
        false => Err(Error::NotFound),
    };
    match done {
        Ok(()) => {
            if let Ok(mut organisation) = app.organisation.write()
                && organisation.is_empty()
            {
                *organisation = form.organisation.trim().to_owned();
            }
            let email = form.email.trim();
            redirect_with(&with_lang("/signin", language), "notice", f.t.staff.setup_done, &[("email", email)])
        }
        Err(Error::NotFound) => app.pages.refusal(StatusCode::GONE, &f, f.t.staff.setup_title, f.t.staff.setup_gone),
        Err(e) => redirect_with(&back, "error", &reason(&e, language), &kept),
    }
}
