//! The upload page of someone from outside with a link: answering a request
//! (flow B) at `/r/<secret>`, the address the request mail links to, or
//! delivering to the organisation (flow C) at `/d/<secret>`, the address the
//! mail that proves their address links to. It shows who the documents go
//! to (and the requester's text), the documents added so far, a form to add
//! more, and the subject, reference and text, then "send". The secret in the
//! address is the capability; no cookie is needed, so no other site can
//! post here. Every POST ends in a redirect to the page, which shows what
//! came of it once.
//!
//! Without JavaScript the documents come as one `multipart/form-data` POST,
//! streamed part by part into the same unfinished documents the tus upload
//! and `sftp reput` continue: no size limit, nothing held in memory.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gateway::{Envelope, Error, Folder, Language, Session, TransferId, TransferKind};
use serde::Deserialize;

use crate::App;
use crate::error::page_for;
use crate::i18n::{accepted, chosen};
use crate::link::{LangQuery, origin, plausible};
use crate::reasons::reason;
use crate::session::{clear_note, cross_site, note, set_note};

pub fn routes() -> Router<App> {
    let mut router = Router::new();
    for prefix in ["r", "d"] {
        router = router
            .route(&format!("/{prefix}/{{secret}}"), get(page))
            .route(&format!("/{prefix}/{{secret}}/documents"), post(documents).layer(DefaultBodyLimit::disable()))
            .route(&format!("/{prefix}/{{secret}}/remove"), post(remove))
            .route(&format!("/{prefix}/{{secret}}/send"), post(send));
    }
    router
}

/// Where the page of a link is: a request's under `/r/`, a delivery's under `/d/`.
fn base(kind: TransferKind, secret: &str) -> String {
    match kind {
        TransferKind::PublicDelivery => format!("/d/{secret}"),
        _ => format!("/r/{secret}"),
    }
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    name: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    text: String,
    lang: Option<String>,
}

/// A link opened by its secret, with the draft being made, if any.
pub struct Opened {
    pub session: Session,
    pub draft: Option<TransferId>,
    kind: TransferKind,
}

impl App {
    /// The session of an outsider's link (a request's or a delivery's).
    pub async fn open_outsider(&self, secret: &str, peer: SocketAddr) -> Result<Opened, Error> {
        if !plausible(secret) {
            return Err(Error::NotFound);
        }
        let session = self.gateway.open_outsider_link(secret, origin(peer)).await?;
        let draft = self.gateway.list(&session, Folder::Outbox).await?.into_iter().next().map(|t| t.id);
        let kind = session.link_kind().ok_or(Error::NotFound)?;
        Ok(Opened { session, draft, kind })
    }

    /// Back to the link's page, with a note of what happened.
    fn back(&self, opened: &Opened, secret: &str, lang: Option<Language>, kind: &str, text: &str) -> Response {
        let base = base(opened.kind, secret);
        let target = match lang {
            Some(l) => format!("{base}?lang={}", l.as_str()),
            None => base,
        };
        let mut response = Redirect::to(&target).into_response();
        if let Some(cookie) = set_note(kind, text, &[]) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }
}

impl App {
    /// What every POST of the page does first: refuse a form from another
    /// site, open the link, find the draft (none: back to the page, which
    /// says what became of it).
    async fn posted(
        &self,
        secret: &str,
        peer: SocketAddr,
        headers: &HeaderMap,
        lang: Option<Language>,
    ) -> Result<(Opened, TransferId, Language), Response> {
        let language = lang.unwrap_or_else(|| accepted(headers));
        if cross_site(headers) {
            return Err(page_for(self, &self.frame(language), &Error::Forbidden("a form from another site")));
        }
        let opened = self.open_outsider(secret, peer).await.map_err(|e| page_for(self, &self.frame(language), &e))?;
        match opened.draft.clone() {
            Some(draft) => Ok((opened, draft, language)),
            None => Err(self.back(&opened, secret, lang, "notice", "")),
        }
    }
}

/// `Name <address>`, or the address alone.
fn mailbox(name: &str, email: &str) -> String {
    match name.trim() {
        "" => email.to_owned(),
        name => format!("{name} <{email}>"),
    }
}

async fn page(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let asked = chosen(q.lang.as_deref());
    let fallback = asked.unwrap_or_else(|| accepted(&headers));
    let opened = match app.open_outsider(&secret, peer).await {
        Ok(o) => o,
        Err(e) => return page_for(&app, &app.frame(fallback), &e),
    };
    let view = match app.gateway.outsider_view(&opened.session).await {
        Ok(v) => v,
        Err(e) => return page_for(&app, &app.frame(fallback), &e),
    };
    let language = asked.unwrap_or(view.language);
    let f = app.frame(language);
    let (notice, error) = match note(&headers) {
        Some(n) if n.is_error() => (None, Some(n.text)),
        Some(n) => (Some(n.text).filter(|t| !t.is_empty()), None),
        None => (None, None),
    };
    let base = base(view.kind, &secret);
    let delivery = view.kind == TransferKind::PublicDelivery;
    let to = mailbox(&view.to_name, &view.to_email);
    let mut response = if let Some(sent) = view.sent.filter(|_| opened.draft.is_none()) {
        let page = minijinja::context! {
            to,
            delivery,
            subject => sent.subject,
            reference => sent.reference,
            sent_at => sent.sent_at.map(|t| app.moment(t, language)),
            notice,
        };
        app.pages.render(StatusCode::OK, "answered.html", &f, page)
    } else if let Some(draft) = &opened.draft {
        let (envelope, documents) = match tokio::try_join!(
            app.gateway.envelope(&opened.session, draft),
            app.draft_documents(&opened.session, draft, language)
        ) {
            Ok(both) => both,
            Err(e) => return page_for(&app, &f, &e),
        };
        // The SFTP door, as the request mail names it: its address, or the
        // host this page was asked for when it listens on every address.
        let sftp = app.settings.sftp_listen;
        let host = match sftp.ip().is_unspecified() {
            true => {
                let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
                host.rsplit_once(':').map_or(host, |(h, _)| h).to_owned()
            }
            false => sftp.ip().to_string(),
        };
        let page = minijinja::context! {
            base,
            capability => secret.clone(),
            delivery,
            to,
            from => mailbox(&view.from_name, &view.from_email),
            request_text => view.text,
            expires => app.moment(view.expires_at, language),
            subject => envelope.subject,
            reference => envelope.reference,
            text => envelope.text,
            user_name => view.user_name,
            host,
            port => sftp.port(),
            notice,
            error,
            ..documents
        };
        app.pages.render(StatusCode::OK, "outsider.html", &f, page)
    } else {
        page_for(&app, &f, &Error::NotFound)
    };
    if note(&headers).is_some() {
        response.headers_mut().append(header::SET_COOKIE, clear_note());
    }
    response
}

/// The documents of the plain form, each part streamed into an upload of
/// its own as it arrives.
async fn documents(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let lang = chosen(q.lang.as_deref());
    let (opened, draft, language) = match app.posted(&secret, peer, &headers, lang).await {
        Ok(posted) => posted,
        Err(r) => return r,
    };
    let outcome = app.take_documents(&opened.session, &draft, &mut multipart, language).await;
    app.back(&opened, &secret, lang, outcome.kind, &outcome.text)
}

async fn remove(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    let lang = chosen(form.lang.as_deref());
    let (opened, draft, language) = match app.posted(&secret, peer, &headers, lang).await {
        Ok(posted) => posted,
        Err(r) => return r,
    };
    let outcome = app.remove_from_draft(&opened.session, &draft, &form.name, language).await;
    app.back(&opened, &secret, lang, outcome.kind, &outcome.text)
}

async fn send(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SendForm>,
) -> Response {
    let lang = chosen(form.lang.as_deref());
    let (opened, draft, language) = match app.posted(&secret, peer, &headers, lang).await {
        Ok(posted) => posted,
        Err(r) => return r,
    };
    let outcome = async {
        let current = app.gateway.envelope(&opened.session, &draft).await?;
        let envelope = Envelope {
            subject: form.subject.trim().to_owned(),
            reference: form.reference.trim().to_owned(),
            text: form.text.replace("\r\n", "\n"),
            ..current
        };
        app.gateway.set_envelope(&opened.session, &draft, envelope).await?;
        app.gateway.send(&opened.session, &draft).await
    }
    .await;
    let t = crate::i18n::texts(language);
    match outcome {
        Ok(_) => app.back(&opened, &secret, lang, "notice", t.answer_sent),
        Err(e) => app.back(&opened, &secret, lang, "error", &reason(&e, language)),
    }
}
