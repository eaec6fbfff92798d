//! Reports on the web (SPEC section 7): the page of one message, for its
//! sender (signed in, `/messages/<id>`) or for whoever started a public
//! delivery (by the link in the confirmation mail, `/report/<secret>`),
//! and the PDFs the core makes with their signed proof: a message's report
//! and the overview of a period (`/overview`).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gateway::policy::name::NameKind;
use gateway::report::{Period, ReportData, said};
use gateway::{Error, Language, Timestamp, TransferId};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::i18n::{accepted, chosen, size};
use crate::link::LangQuery;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/messages/{id}", get(page))
        .route("/messages/{id}/pdf", get(message_pdf))
        .route("/overview", get(overview_page))
        .route("/overview/pdf", get(overview_pdf))
}

/// A PDF to save, named in the reader's language.
pub fn pdf(bytes: Vec<u8>, language: Language) -> Response {
    let name = match language {
        Language::Nl => "attachment; filename=\"rapportage.pdf\"",
        Language::En => "attachment; filename=\"report.pdf\"",
    };
    let mut r = ([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response();
    r.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    r
}

impl App {
    /// What `report.html` shows of a report; `full` for the sender, with
    /// every download (who, when, from where, by which door) and event.
    pub fn report_values(&self, data: &ReportData, language: Language, base: String, full: bool) -> minijinja::Value {
        let when = |t: Timestamp| self.moment(t, language);
        let documents: Vec<_> = data
            .documents
            .iter()
            .filter(|d| d.kind != NameKind::Member)
            .map(|d| {
                let first = data
                    .downloads
                    .iter()
                    .filter(|r| r.document.as_deref().is_none_or(|name| name == d.name))
                    .map(|r| r.at)
                    .min();
                minijinja::context! {
                    name => d.name.clone(),
                    size => size(d.size, language),
                    sha256 => d.sha256.clone().unwrap_or_default(),
                    downloaded => first.map(when),
                    deleted => d.deleted_at.map(when),
                }
            })
            .collect();
        let downloads: Vec<_> = data
            .downloads
            .iter()
            .filter(|_| full)
            .map(|r| {
                minijinja::context! {
                    at => when(r.at),
                    document => r.document.clone().unwrap_or_default(),
                    who => r.who.clone(),
                    proof => said(language, &r.proof),
                    door => said(language, &r.door),
                    ip => r.ip.clone().unwrap_or_default(),
                }
            })
            .collect();
        let events: Vec<_> = data
            .events
            .iter()
            .filter(|_| full)
            .map(|e| {
                minijinja::context! {
                    at => when(Timestamp::from_millis(e.at)),
                    kind => said(language, &e.kind),
                    door => said(language, &e.door),
                    who => e.actor.clone().unwrap_or_default(),
                    ip => e.ip.clone().unwrap_or_default(),
                    detail => e.detail.clone().unwrap_or_default(),
                }
            })
            .collect();
        let tr = &data.transfer;
        minijinja::context! {
            base,
            full,
            to => tr.recipient.clone().unwrap_or_default(),
            from => tr.sender.clone(),
            subject => tr.subject.clone(),
            reference => tr.reference.clone(),
            state => said(language, tr.state.as_str()),
            sent_at => tr.sent_at.map(when),
            expires_at => tr.expires_at.map(when),
            code_to => data.recipient_phone.clone(),
            documents,
            downloads,
            events,
            none_downloaded => data.downloads.is_empty(),
        }
    }
}

async fn page(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    app.staff_page(&headers, peer, q.lang.as_deref(), "report.html", async |session, language| {
        let data = app.gateway.report(session, &TransferId::from_client(&id)).await?;
        Ok(app.report_values(&data, language, format!("/messages/{id}"), true))
    })
    .await
}

async fn message_pdf(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let session = match app.signed_in(&headers, peer, language).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let made = match app.gateway.report(&session, &TransferId::from_client(&id)).await {
        Ok(data) => app.gateway.report_pdf(&data, language).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(bytes) => pdf(bytes, language),
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}

#[derive(Debug, Deserialize)]
struct PeriodQuery {
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn overview_page(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<PeriodQuery>,
    headers: HeaderMap,
) -> Response {
    app.staff_page(&headers, peer, q.lang.as_deref(), "overview.html", async |_, _| {
        let today = app.settings.zone.today(app.gateway.now());
        Ok(minijinja::context! { from => today.clone(), to => today })
    })
    .await
}

async fn overview_pdf(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<PeriodQuery>,
    headers: HeaderMap,
) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let session = match app.signed_in(&headers, peer, language).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let zone = &app.settings.zone;
    let from = q.from.as_deref().and_then(|d| zone.start_of_day(d.trim()));
    // The last day is included: the period ends where the next day begins.
    let to = q.to.as_deref().and_then(|d| zone.start_of_day_after(d.trim()));
    let made = match (from, to) {
        (Some(from), Some(to)) => match Period::new(from, to) {
            Ok(period) => match app.gateway.overview(&session, period).await {
                Ok(overview) => app.gateway.overview_pdf(&overview, language).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        _ => Err(Error::Invalid("a period is two days as YYYY-MM-DD".into())),
    };
    match made {
        Ok(bytes) => pdf(bytes, language),
        Err(Error::Invalid(_)) => {
            let f = app.frame(language);
            app.pages.refusal(StatusCode::BAD_REQUEST, &f, f.t.staff.overview_title, f.t.staff.bad_period)
        }
        Err(e) => page_for(&app, &app.frame(language), &e),
    }
}
