//! A staff member sends a message in the browser: "Verstuur een bericht"
//! makes a draft (the same draft the drive shows as `outbox/<name>`), whose
//! page takes documents (tus with JavaScript, the plain form without), the
//! recipient, the language of the mail, subject, reference and text, and
//! sends it, saves it, or deletes it. Every rule is the core's; every POST
//! carries the CSRF token and redirects.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gateway::address::{EmailAddress, Mailbox, PhoneNumber};
use gateway::{Envelope, Error, Folder, Language, Session, TransferId, TransferState};
use serde::Deserialize;

use crate::App;
use crate::compose::Outcome;
use crate::error::page_for;
use crate::i18n::{accepted, chosen};
use crate::reasons::reason;
use crate::session::{clear_note, csrf_ok, csrf_token, note, redirect_with};
use crate::staff::with_lang;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/drafts", post(new_draft))
        .route("/drafts/{id}", get(page))
        .route("/drafts/{id}/documents", post(documents).layer(DefaultBodyLimit::disable()))
        .route("/drafts/{id}/remove", post(remove))
        .route("/drafts/{id}/send", post(send))
        .route("/drafts/{id}/discard", post(discard))
        .route("/drafts/{id}/contact", post(use_contact))
        .route("/drafts/{id}/template", post(use_template))
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EnvelopeForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    to_name: String,
    #[serde(default)]
    to_email: String,
    #[serde(default)]
    to_phone: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    text: String,
}

/// The kept fields of a refused envelope form, to fill it in again (the
/// text as `body`: a note's own `kind` and `text` are taken).
const KEPT: [&str; 7] = ["to_name", "to_email", "to_phone", "language", "subject", "reference", "body"];

impl EnvelopeForm {
    fn kept(&self) -> [(&'static str, &str); 7] {
        let values =
            [&self.to_name, &self.to_email, &self.to_phone, &self.language, &self.subject, &self.reference, &self.text];
        std::array::from_fn(|i| (KEPT[i], values[i].as_str()))
    }
}

/// A draft's page address.
fn base(id: &TransferId) -> String {
    format!("/drafts/{}", id.as_str())
}

/// A redirect to the draft's page (or elsewhere) with a note.
fn back(to: &str, language: Language, outcome: &Outcome, fields: &[(&str, &str)]) -> Response {
    redirect_with(&with_lang(to, language), outcome.kind, &outcome.text, fields)
}

impl App {
    /// What every POST here checks first: the form's token (the cookie's
    /// double), then the staff session. A refusal is the response to give.
    pub(crate) async fn staff_post(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        csrf: &str,
        lang: Option<&str>,
    ) -> Result<(Session, Language), Response> {
        let language = chosen(lang).unwrap_or_else(|| accepted(headers));
        if !csrf_ok(headers, csrf) {
            return Err(page_for(self, &self.frame(language), &Error::Forbidden("a form without its token")));
        }
        let session = self.signed_in(headers, peer, language).await?;
        Ok((session, language))
    }

    /// A POST on a draft's page: the token, the session, the draft theirs.
    async fn draft_post(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        csrf: &str,
        lang: Option<&str>,
        id: &str,
    ) -> Result<(Session, Language, TransferId), Response> {
        let (session, language) = self.staff_post(headers, peer, csrf, lang).await?;
        let draft = self.own_draft(&session, id, language).await?;
        Ok((session, language, draft))
    }

    /// The staff member's draft `id`, or the page that says why not.
    async fn own_draft(&self, session: &Session, id: &str, language: Language) -> Result<TransferId, Response> {
        let id = TransferId::from_client(id);
        match self.gateway.transfer(session, &id).await {
            Ok(t) if t.folder == Folder::Outbox && t.state == TransferState::Draft => Ok(id),
            Ok(_) => Err(page_for(self, &self.frame(language), &Error::NotFound)),
            Err(e) => Err(page_for(self, &self.frame(language), &e)),
        }
    }
}

async fn new_draft(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let (session, language) = match app.staff_post(&headers, peer, &form.csrf, form.lang.as_deref()).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    // A free folder name: what the drive shows as `outbox/<name>`.
    let stem = match language {
        Language::Nl => "bericht",
        Language::En => "message",
    };
    for n in 1..=1000 {
        match app.gateway.create_draft(&session, &format!("{stem}-{n}")).await {
            Ok(draft) => return Redirect::to(&with_lang(&base(&draft.id), language)).into_response(),
            Err(Error::Conflict(_)) => continue,
            Err(e) => return page_for(&app, &app.frame(language), &e),
        }
    }
    page_for(&app, &app.frame(language), &Error::Conflict("too many drafts; send or delete some first".into()))
}

async fn page(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(q): Query<crate::link::LangQuery>,
    headers: HeaderMap,
) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let session = match app.signed_in(&headers, peer, language).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let draft = match app.own_draft(&session, &id, language).await {
        Ok(draft) => draft,
        Err(r) => return r,
    };
    let Some((csrf, set_csrf)) = csrf_token(&headers) else {
        return page_for(&app, &app.frame(language), &Error::Internal("no randomness".into()));
    };
    let f = app.staff_frame(language, &session, &csrf);
    let loaded = tokio::try_join!(
        app.gateway.transfer(&session, &draft),
        app.gateway.envelope(&session, &draft),
        app.draft_documents(&session, &draft, language),
        app.gateway.contacts(&session),
        app.gateway.templates(&session)
    );
    let (summary, envelope, documents, contacts, templates) = match loaded {
        Ok(all) => all,
        Err(e) => return page_for(&app, &f, &e),
    };
    let note = note(&headers);
    let (error, notice) = match &note {
        Some(n) if n.is_error() => (Some(n.text.clone()), None),
        Some(n) => (None, Some(n.text.clone()).filter(|t| !t.is_empty())),
        None => (None, None),
    };
    // A refused form shows what was typed; otherwise the draft's envelope.
    let typed = |key: &str, stored: String| {
        note.as_ref().filter(|n| n.is_error()).and_then(|n| n.field(key)).map(str::to_owned).unwrap_or(stored)
    };
    let to = envelope.to.clone();
    let base = base(&draft);
    let page = minijinja::context! {
        base => base.clone(),
        capability => format!("draft:{}:{csrf}", draft.as_str()),
        csrf,
        name => summary.name,
        to_name => typed("to_name", to.as_ref().and_then(|m| m.name.clone()).unwrap_or_default()),
        to_email => typed("to_email", to.as_ref().map(|m| m.email.to_string()).unwrap_or_default()),
        to_phone => typed("to_phone", envelope.phone.as_ref().map(ToString::to_string).unwrap_or_default()),
        language => typed("language", envelope.language.as_str().to_owned()),
        subject => typed("subject", envelope.subject.clone()),
        reference => typed("reference", envelope.reference.clone()),
        text => typed("body", envelope.text.clone()),
        error,
        notice,
        contacts => contacts.iter().map(|c| minijinja::context! { email => c.email.clone(), mailbox => c.mailbox.clone() }).collect::<Vec<_>>(),
        templates => templates.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        ..documents
    };
    let mut response = app.pages.render(StatusCode::OK, "staff-draft.html", &f, page);
    let h = response.headers_mut();
    if let Some(value) = set_csrf {
        h.append(header::SET_COOKIE, value);
    }
    if note.is_some() {
        h.append(header::SET_COOKIE, clear_note());
    }
    response
}

#[derive(Debug, Deserialize)]
struct DocumentsQuery {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

/// The plain form's documents; its token comes in the address, as the
/// body is streamed into the draft before any other field could be read.
async fn documents(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(q): Query<DocumentsQuery>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let (session, language, draft) = match app.draft_post(&headers, peer, &q.csrf, q.lang.as_deref(), &id).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let outcome = app.take_documents(&session, &draft, &mut multipart, language).await;
    back(&base(&draft), language, &outcome, &[])
}

async fn remove(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    let (session, language, draft) = match app.draft_post(&headers, peer, &form.csrf, form.lang.as_deref(), &id).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let outcome = app.remove_from_draft(&session, &draft, &form.name, language).await;
    back(&base(&draft), language, &outcome, &[])
}

async fn send(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<EnvelopeForm>,
) -> Response {
    let (session, language, draft) = match app.draft_post(&headers, peer, &form.csrf, form.lang.as_deref(), &id).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = &crate::i18n::texts(language);
    let here = base(&draft);
    let refused = |text: &str| back(&here, language, &Outcome::error(text.to_owned()), &form.kept());
    let to = match form.to_email.trim() {
        "" => None,
        email => match EmailAddress::parse(email).ok().and_then(|e| Mailbox::new(Some(form.to_name.trim()), e).ok()) {
            Some(to) => Some(to),
            None => return refused(t.bad_email),
        },
    };
    let phone = match form.to_phone.trim() {
        "" => None,
        phone => match PhoneNumber::parse(phone) {
            Ok(phone) => Some(phone),
            Err(_) => return refused(t.staff.bad_phone),
        },
    };
    let envelope = Envelope {
        to,
        phone,
        subject: form.subject.trim().to_owned(),
        reference: form.reference.trim().to_owned(),
        language: Language::parse(&form.language).unwrap_or(language),
        text: form.text.replace("\r\n", "\n"),
    };
    let shown = envelope.to.as_ref().map(ToString::to_string).unwrap_or_default();
    if let Err(e) = app.gateway.set_envelope(&session, &draft, envelope).await {
        return refused(&reason(&e, language));
    }
    if form.action != "send" {
        return back(&here, language, &Outcome { kind: "notice", text: t.staff.saved.to_owned() }, &[]);
    }
    match app.gateway.send(&session, &draft).await {
        Ok(_) => {
            let sent = Outcome { kind: "notice", text: format!("{} {shown}.", t.staff.sent_to) };
            back("/home?side=sent", language, &sent, &[])
        }
        Err(e) => back(&here, language, &Outcome::error(reason(&e, language)), &[]),
    }
}

async fn discard(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let (session, language, draft) = match app.draft_post(&headers, peer, &form.csrf, form.lang.as_deref(), &id).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let t = &crate::i18n::texts(language);
    match app.gateway.discard_draft(&session, &draft).await {
        Ok(()) => {
            back("/home?side=sent", language, &Outcome { kind: "notice", text: t.staff.discarded.to_owned() }, &[])
        }
        Err(e) => back(&base(&draft), language, &Outcome::error(reason(&e, language)), &[]),
    }
}

#[derive(Debug, Deserialize)]
struct PickForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

/// "Gebruiken": the recipient (and number) from the address book.
async fn use_contact(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<PickForm>,
) -> Response {
    let (session, language, draft) = match app.draft_post(&headers, peer, &form.csrf, form.lang.as_deref(), &id).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let outcome: Result<String, Error> = async {
        let contacts = app.gateway.contacts(&session).await?;
        let contact = contacts.into_iter().find(|c| c.email == form.email).ok_or(Error::NotFound)?;
        let to = Mailbox::parse(&contact.mailbox).map_err(|e| Error::Invalid(e.to_string()))?;
        let phone =
            contact.phone.as_deref().map(PhoneNumber::parse).transpose().map_err(|e| Error::Invalid(e.to_string()))?;
        let current = app.gateway.envelope(&session, &draft).await?;
        app.gateway.set_envelope(&session, &draft, Envelope { to: Some(to), phone, ..current }).await?;
        Ok(contact.mailbox)
    }
    .await;
    let t = crate::i18n::texts(language);
    match outcome {
        Ok(who) => {
            back(&base(&draft), language, &Outcome { kind: "notice", text: format!("{} {who}.", t.staff.applied) }, &[])
        }
        Err(e) => back(&base(&draft), language, &Outcome::error(reason(&e, language)), &[]),
    }
}

/// "Toepassen": subject, reference, text and language from a template.
async fn use_template(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<PickForm>,
) -> Response {
    let (session, language, draft) = match app.draft_post(&headers, peer, &form.csrf, form.lang.as_deref(), &id).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let outcome: Result<(), Error> = async {
        let templates = app.gateway.templates(&session).await?;
        let chosen = templates.into_iter().find(|t| t.name == form.name).ok_or(Error::NotFound)?;
        let current = app.gateway.envelope(&session, &draft).await?;
        let filled = Envelope {
            subject: chosen.subject,
            reference: chosen.reference,
            text: chosen.body,
            language: chosen.language,
            ..current
        };
        app.gateway.set_envelope(&session, &draft, filled).await
    }
    .await;
    let t = crate::i18n::texts(language);
    match outcome {
        Ok(()) => {
            let text = format!("{} {}.", t.staff.applied, form.name);
            back(&base(&draft), language, &Outcome { kind: "notice", text }, &[])
        }
        Err(e) => back(&base(&draft), language, &Outcome::error(reason(&e, language)), &[]),
    }
}
