//! The admin's page (`/admin`), what the command line can do, in the
//! browser: accounts (create with a password shown once, disable, enable,
//! role), the SSH keys of partner organisations, the affiliated domains.
//! Only an admin's session holds the core's [`gateway::Admin`] right; every
//! call checks it.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use gateway::{Admin, Error, Language, NewAccount, Role};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::i18n::{accepted, chosen};
use crate::link::LangQuery;
use crate::reasons::reason;
use crate::session::{new_token, redirect_with};
use crate::staff::with_lang;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/accounts", post(create))
        .route("/admin/role", post(role))
        .route("/admin/disable", post(disable))
        .route("/admin/enable", post(enable))
        .route("/admin/keys", post(add_key))
        .route("/admin/domains", post(add_domain))
        .route("/admin/domains/remove", post(remove_domain))
        .route("/admin/second-step", post(second_step))
}

#[derive(Debug, Deserialize)]
struct Posted {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    domain: String,
    /// The checkbox "required of all staff", present when ticked.
    require: Option<String>,
}

/// The page for a session without the admin right.
fn not_admin(app: &App, language: Language) -> Response {
    let f = app.frame(language);
    app.pages.refusal(StatusCode::FORBIDDEN, &f, f.t.refused_title, f.t.staff.not_admin)
}

fn back(language: Language, outcome: Result<String, String>, fields: &[(&str, &str)]) -> Response {
    let to = with_lang("/admin", language);
    match outcome {
        Ok(text) => redirect_with(&to, "notice", &text, fields),
        Err(text) => redirect_with(&to, "error", &text, fields),
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
    let Some(admin) = session.admin() else { return not_admin(&app, language) };
    let listed = tokio::try_join!(
        app.gateway.list_accounts(&admin),
        app.gateway.list_domains(),
        app.gateway.second_factor_required()
    );
    let (accounts, domains, second_step_required) = match listed {
        Ok(all) => all,
        Err(e) => return page_for(&app, &app.frame(language), &e),
    };
    let t = &crate::i18n::texts(language).staff;
    let roles = [(Role::Staff, t.role_staff), (Role::Admin, t.role_admin), (Role::Partner, t.role_partner)]
        .map(|(r, label)| minijinja::context! { value => r.as_str(), label });
    let accounts: Vec<_> = accounts
        .iter()
        .map(|a| {
            minijinja::context! {
                email => a.email.clone(), name => a.display_name.clone(), role => a.role.as_str(),
                disabled => a.disabled, verified => a.verified, keys => a.ssh_keys,
            }
        })
        .collect();
    app.form_page(&headers, language, Some(&session), "admin.html", |_| {
        minijinja::context! { accounts, domains, roles, second_step_required }
    })
}

/// What every POST here does first: the token, the session, the right.
async fn posted(
    app: &App,
    headers: &HeaderMap,
    peer: SocketAddr,
    form: &Posted,
) -> Result<(Admin, Language), Response> {
    let (session, language) = app.staff_post(headers, peer, &form.csrf, form.lang.as_deref()).await?;
    match session.admin() {
        Some(admin) => Ok((admin, language)),
        None => Err(not_admin(app, language)),
    }
}

async fn create(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (admin, language) = match posted(&app, &headers, peer, &form).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let Some(password) = new_token() else {
        return page_for(&app, &app.frame(language), &Error::Internal("no randomness".into()));
    };
    let role = Role::parse(&form.role).unwrap_or(Role::Staff);
    let new =
        NewAccount { email: form.email.clone(), display_name: form.name.clone(), role, password: password.clone() };
    let t = &crate::i18n::texts(language).staff;
    match app.gateway.create_account(&admin, new).await {
        Ok(_) => back(language, Ok(t.account_made.to_owned()), &[("secret", &password)]),
        Err(e) => back(language, Err(reason(&e, language)), &[]),
    }
}

/// An admin's POST that changes one thing: the first steps, the change,
/// then back to the page saying it is saved, or why not.
async fn change(
    app: &App,
    headers: &HeaderMap,
    peer: SocketAddr,
    form: &Posted,
    action: impl AsyncFnOnce(&Admin) -> gateway::Result<()>,
) -> Response {
    let (admin, language) = match posted(app, headers, peer, form).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let saved = crate::i18n::texts(language).staff.admin_saved;
    back(language, action(&admin).await.map(|()| saved.to_owned()).map_err(|e| reason(&e, language)), &[])
}

async fn role(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    change(&app, &headers, peer, &form, async |admin| {
        app.gateway.set_role(admin, &form.email, Role::parse(&form.role)?).await
    })
    .await
}

async fn disable(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    change(&app, &headers, peer, &form, async |admin| app.gateway.disable_account(admin, &form.email).await).await
}

async fn enable(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    change(&app, &headers, peer, &form, async |admin| app.gateway.enable_account(admin, &form.email).await).await
}

async fn add_key(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let (admin, language) = match posted(&app, &headers, peer, &form).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = &crate::i18n::texts(language).staff;
    let done = app.gateway.add_ssh_key(&admin, &form.email, form.key.trim()).await;
    let refused = |e: Error| crate::settings::key_refusal(&e, language);
    back(language, done.map(|fp| format!("{} {fp}", t.key_added)).map_err(refused), &[])
}

async fn add_domain(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    change(&app, &headers, peer, &form, async |admin| app.gateway.add_domain(admin, &form.domain).await).await
}

async fn remove_domain(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    change(&app, &headers, peer, &form, async |admin| app.gateway.remove_domain(admin, &form.domain).await).await
}

async fn second_step(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    let require = form.require.is_some();
    change(&app, &headers, peer, &form, async |admin| app.gateway.require_second_factor(admin, require).await).await
}
