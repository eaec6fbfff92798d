//! A staff member's settings (`/settings`): the name others see, the
//! password, the SSH keys that sign in over SFTP and the app passwords that
//! open the drive over WebDAV. A new app password is shown once, on the page
//! the POST leads to (its note), and is never stored.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use gateway::{Error, Language};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::link::LangQuery;
use crate::reasons::reason;
use crate::session::{cookie, redirect_with};
use crate::staff::{STAFF_COOKIE, with_lang};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/settings", get(page))
        .route("/settings/name", post(name))
        .route("/settings/password", post(password))
        .route("/settings/keys", post(add_key))
        .route("/settings/keys/{id}/remove", post(remove_key))
        .route("/settings/app-passwords", post(make_app_password))
        .route("/settings/app-passwords/{id}/revoke", post(revoke_app_password))
}

#[derive(Debug, Deserialize)]
struct Posted {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    key: String,
}

async fn page(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    app.staff_page(&headers, peer, q.lang.as_deref(), "settings.html", async |session, language| {
        let (keys, apps, second) = tokio::try_join!(
            app.gateway.own_ssh_keys(session),
            app.gateway.app_passwords(session),
            app.gateway.second_factor(session)
        )?;
        let never = crate::i18n::texts(language).staff.never;
        let keys: Vec<_> = keys
            .iter()
            .map(|k| {
                minijinja::context! {
                    id => k.id.clone(), label => k.label.clone(), fingerprint => k.fingerprint.clone(),
                    made => app.moment(k.created_at, language),
                }
            })
            .collect();
        let apps: Vec<_> = apps
            .iter()
            .map(|a| {
                minijinja::context! {
                    id => a.id.clone(), label => a.label.clone(), made => app.moment(a.created_at, language),
                    used => a.last_used_at.map_or_else(|| never.to_owned(), |at| app.moment(at, language)),
                }
            })
            .collect();
        Ok(minijinja::context! {
            name => session.display_name(), email => session.email(), keys, apps, second_on => second.on,
        })
    })
    .await
}

/// Back to the settings with what came of a POST.
fn back(language: Language, outcome: Result<String, String>) -> Response {
    let to = with_lang("/settings", language);
    match outcome {
        Ok(text) => redirect_with(&to, "notice", &text, &[]),
        Err(text) => redirect_with(&to, "error", &text, &[]),
    }
}

async fn name(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = &crate::i18n::texts(language).staff;
    let done = app.gateway.set_display_name(&session, &form.name).await;
    back(language, done.map(|()| t.name_saved.to_owned()).map_err(|e| reason(&e, language)))
}

async fn password(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = &crate::i18n::texts(language).staff;
    if form.password != form.password_again {
        return back(language, Err(t.passwords_differ.to_owned()));
    }
    let keep = cookie(&headers, STAFF_COOKIE).unwrap_or_default();
    match app.gateway.change_password(&session, &form.current, &form.password, keep).await {
        Ok(()) => back(language, Ok(t.password_changed.to_owned())),
        Err(Error::BadCredentials) => back(language, Err(t.wrong_current.to_owned())),
        Err(e) => back(language, Err(reason(&e, language))),
    }
}

async fn add_key(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = &crate::i18n::texts(language).staff;
    let added = app.gateway.add_own_ssh_key(&session, form.key.trim(), &form.label).await;
    back(language, added.map(|fp| format!("{} {fp}", t.key_added)).map_err(|e| key_refusal(&e, language)))
}

async fn remove_key(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    match app.gateway.remove_own_ssh_key(&session, &id).await {
        Ok(()) => back(language, Ok(crate::i18n::texts(language).staff.key_removed.to_owned())),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

async fn make_app_password(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = &crate::i18n::texts(language).staff;
    match app.gateway.create_app_password(&session, &form.label).await {
        Ok(made) => redirect_with(&with_lang("/settings", language), "notice", t.app_made, &[("secret", &made.secret)]),
        Err(e) => back(language, Err(reason(&e, language))),
    }
}

async fn revoke_app_password(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    match app.gateway.revoke_app_password(&session, &id).await {
        Ok(()) => back(language, Ok(crate::i18n::texts(language).staff.app_revoked.to_owned())),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

/// Why a key was refused: a line that is no key, said whole; else the core's reason.
pub(crate) fn key_refusal(err: &Error, language: Language) -> String {
    match err {
        Error::Invalid(_) => crate::i18n::texts(language).staff.key_invalid.to_owned(),
        other => reason(other, language),
    }
}
