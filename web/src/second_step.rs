//! The second sign-in step in the settings (`/settings/second-step`):
//! switch it on with a QR code the authenticator app reads and a code it
//! shows, see how many recovery codes are left, make new ones, switch it
//! off. While the admin requires the step and an account lacks it, this is
//! the one page its session opens. Recovery codes are shown once, on the
//! page the POST leads to (its note), and only their tags are kept.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gateway::{Error, Language, Session};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::i18n::StaffTexts;
use crate::i18n::{accepted, chosen};
use crate::link::{LangQuery, origin};
use crate::reasons::reason;
use crate::session::{cookie, csrf_ok, redirect_with};
use crate::staff::{STAFF_COOKIE, with_lang};

/// Where the second step is set up.
pub const SECOND_STEP_PAGE: &str = "/settings/second-step";

pub fn routes() -> Router<App> {
    Router::new()
        .route(SECOND_STEP_PAGE, get(page))
        .route("/settings/second-step/begin", post(begin))
        .route("/settings/second-step/confirm", post(confirm))
        .route("/settings/second-step/recovery-codes", post(renew))
        .route("/settings/second-step/off", post(off))
}

#[derive(Debug, Deserialize)]
struct Posted {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    code: String,
    #[serde(default)]
    current: String,
}

impl App {
    /// The signed-in staff member, even while the second step is due.
    async fn second_step_session(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        language: Language,
    ) -> Result<Session, Response> {
        let Some(token) = cookie(headers, STAFF_COOKIE) else {
            return Err(Redirect::to(&with_lang("/signin", language)).into_response());
        };
        match self.gateway.staff_session_for_second_step(token, origin(peer)).await {
            Ok(session) => Ok(session),
            Err(Error::NotFound) => Err(redirect_with(
                &with_lang("/signin", language),
                "error",
                crate::i18n::texts(language).staff.session_ended,
                &[],
            )),
            Err(e) => Err(page_for(self, &self.frame(language), &e)),
        }
    }

    /// A POST of this page: the form's token, then the session.
    async fn second_step_post(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        form: &Posted,
    ) -> Result<(Session, Language), Response> {
        let language = chosen(form.lang.as_deref()).unwrap_or_else(|| accepted(headers));
        if !csrf_ok(headers, &form.csrf) {
            return Err(page_for(self, &self.frame(language), &Error::Forbidden("a form without its token")));
        }
        Ok((self.second_step_session(headers, peer, language).await?, language))
    }

    /// The name the authenticator app lists the account under.
    fn issuer(&self) -> String {
        let f = self.frame(Language::Nl);
        if f.organisation.trim().is_empty() { f.service.to_owned() } else { f.organisation }
    }
}

/// The QR code of an `otpauth://` address, as inline SVG.
fn qr_svg(uri: &str, label: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    let start = svg.find("<svg")?;
    let escaped = label.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    Some(svg[start..].replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{escaped}\" "), 1))
}

async fn page(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let session = match app.second_step_session(&headers, peer, language).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let issuer = app.issuer();
    let found = tokio::try_join!(app.gateway.second_factor(&session), app.gateway.totp_being_set_up(&session, &issuer));
    let (state, setup) = match found {
        Ok(found) => found,
        Err(e) => return page_for(&app, &app.frame(language), &e),
    };
    let t = &crate::i18n::texts(language).staff;
    let qr = setup.as_ref().and_then(|s| qr_svg(&s.uri, t.second_qr));
    app.form_page(&headers, language, Some(&session), "second-step.html", |note| {
        let codes: Vec<String> = note
            .and_then(|n| n.field("codes"))
            .map(|c| c.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        minijinja::context! {
            on => state.on,
            required => state.required,
            recovery_left => state.recovery_left,
            email => session.email(),
            setup_secret => setup.as_ref().map(|s| s.secret.clone()),
            setup_uri => setup.as_ref().map(|s| s.uri.clone()),
            qr => qr.map(minijinja::Value::from_safe_string),
            codes,
        }
    })
}

/// Back to the page with what came of a POST.
fn back(language: Language, outcome: Result<&str, String>, codes: Option<&[String]>) -> Response {
    let to = with_lang(SECOND_STEP_PAGE, language);
    let joined = codes.map(|c| c.join(" ")).unwrap_or_default();
    let fields: &[(&str, &str)] = if joined.is_empty() { &[] } else { &[("codes", &joined)] };
    match outcome {
        Ok(text) => redirect_with(&to, "notice", text, fields),
        Err(text) => redirect_with(&to, "error", &text, &[]),
    }
}

/// A POST of this page: its first steps, then `action` with the session.
async fn posted(
    app: &App,
    headers: &HeaderMap,
    peer: SocketAddr,
    form: &Posted,
    action: impl AsyncFnOnce(&Session, Language) -> Response,
) -> Response {
    match app.second_step_post(headers, peer, form).await {
        Ok((session, language)) => action(&session, language).await,
        Err(r) => r,
    }
}

fn staff_texts(language: Language) -> &'static StaffTexts {
    &crate::i18n::texts(language).staff
}

/// Why a change was refused: `wrong` for a wrong code or password, else the core's reason.
fn refused(err: &Error, language: Language, wrong: &str) -> Response {
    match err {
        Error::BadCredentials => back(language, Err(wrong.to_owned()), None),
        other => back(language, Err(reason(other, language)), None),
    }
}

async fn begin(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    posted(&app, &headers, peer, &form, async |session, language| {
        match app.gateway.begin_totp(session, &app.issuer()).await {
            Ok(_) => Redirect::to(&with_lang(SECOND_STEP_PAGE, language)).into_response(),
            Err(e) => back(language, Err(reason(&e, language)), None),
        }
    })
    .await
}

async fn confirm(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    posted(&app, &headers, peer, &form, async |session, language| {
        let t = staff_texts(language);
        match app.gateway.confirm_totp(session, &form.code).await {
            Ok(codes) => back(language, Ok(t.second_switched_on), Some(&codes.0)),
            Err(e) => refused(&e, language, t.bad_code),
        }
    })
    .await
}

async fn renew(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    posted(&app, &headers, peer, &form, async |session, language| {
        let t = staff_texts(language);
        match app.gateway.renew_recovery_codes(session, &form.current).await {
            Ok(codes) => back(language, Ok(t.codes_renewed), Some(&codes.0)),
            Err(e) => refused(&e, language, t.wrong_current),
        }
    })
    .await
}

async fn off(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Response {
    posted(&app, &headers, peer, &form, async |session, language| {
        let t = staff_texts(language);
        match app.gateway.disable_totp(session, &form.current).await {
            Ok(()) => back(language, Ok(t.second_switched_off), None),
            Err(Error::Forbidden(_)) => back(language, Err(t.second_required_note.to_owned()), None),
            Err(e) => refused(&e, language, t.wrong_current),
        }
    })
    .await
}
