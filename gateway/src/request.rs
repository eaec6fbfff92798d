//! Upload requests (flow B): staff ask someone outside the organisation for
//! documents. The request link opens one draft, addressed to the requester,
//! and works as credentials for the web, SFTP and WebDAV alike.

use diesel::prelude::*;

use crate::account::is_affiliated;
use crate::address::Mailbox;
use crate::crypto::secret_hash;
use crate::db::schema::{accounts, transfers, upload_requests};
use crate::error::{Error, Result};
use crate::outbox::Outgoing;
use crate::random::RandomExt;
use crate::session::{Actor, Session};
use crate::transfer::TransferRow;
use crate::{Gateway, Language, Role, Timestamp};

/// How the user name of a request link begins (compared in lowercase).
pub const USER_PREFIX: &str = "request-";

/// The user name that goes with a request's secret (SFTP, WebDAV).
pub fn user_name(request_id: &str) -> String {
    format!("{USER_PREFIX}{request_id}")
}

/// A request as its maker sees it.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The request's id.
    pub id: String,
    /// The user name for SFTP and WebDAV.
    pub user_name: String,
    /// Until when it may be answered.
    pub expires_at: Timestamp,
}

impl Gateway {
    /// Ask someone outside the organisation to upload documents. The mail
    /// with the link (and the SFTP credentials) is queued in the same step.
    pub async fn create_upload_request(
        &self,
        session: &Session,
        to: &Mailbox,
        text: &str,
        language: Language,
    ) -> Result<RequestInfo> {
        let Actor::Account {
            id: requester,
            role: Role::Staff | Role::Admin,
            email: requester_email,
            name: requester_name,
        } = session.actor.clone()
        else {
            return Err(Error::Forbidden("only staff can request documents"));
        };
        let id = self.random.id()?;
        let secret = self.random.secret()?;
        let now = self.now();
        let expires_at = now.plus(self.settings.rules.request_valid);
        let text_sealed = match text.trim().is_empty() {
            true => None,
            false => Some(self.keys.seal_text(text, &format!("request-text:{id}"), self.random.as_ref())?),
        };
        let (s, to, this, text) = (session.clone(), to.clone(), self.clone(), text.to_owned());
        let event =
            self.event(&session.origin, "request-created").actor(&requester_email).detail(&to.email.normalized());
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                if is_affiliated(conn, &to.email)? {
                    return Err(Error::Forbidden(
                        "requests go to addresses outside the organisation; colleagues can send to you directly",
                    ));
                }
                diesel::insert_into(upload_requests::table)
                    .values((
                        upload_requests::id.eq(&id),
                        upload_requests::requester_id.eq(&requester),
                        upload_requests::recipient_name.eq(to.name.clone().unwrap_or_default()),
                        upload_requests::recipient_email.eq(to.email.normalized()),
                        upload_requests::language.eq(language.as_str()),
                        upload_requests::text_sealed.eq(text_sealed),
                        upload_requests::secret_hash.eq(secret_hash(&secret)),
                        upload_requests::created_at.eq(now.as_millis()),
                        upload_requests::expires_at.eq(expires_at.as_millis()),
                    ))
                    .execute(conn)?;
                this.enqueue(
                    conn,
                    Outgoing::mail("upload-request", language, &to.email.normalized())
                        .param("request_secret", secret.as_str())
                        .param("user_name", user_name(&id))
                        .param("requester_name", requester_name.as_str())
                        .param("requester_email", requester_email.as_str())
                        .param("text", text.as_str())
                        .param("expires_at", expires_at.rfc3339())
                        .caused_by(Some(&requester)),
                )?;
                event.record(conn)?;
                Ok(RequestInfo { user_name: user_name(&id), id, expires_at })
            })
            .await
    }

    /// Someone signed in with a request link finds its draft ready, addressed
    /// to the requester.
    pub(crate) async fn ensure_request_draft(&self, session: &Session) -> Result<()> {
        let Actor::RequestLink { request_id, email, name } = session.actor.clone() else { return Ok(()) };
        let transfer_id = self.random.id()?;
        let now = self.now().as_millis();
        self.db
            .write(move |conn| {
                let existing: i64 = transfers::table
                    .filter(transfers::upload_request_id.eq(&request_id))
                    .filter(transfers::state.ne("aborted"))
                    .count()
                    .get_result(conn)?;
                if existing > 0 {
                    return Ok(());
                }
                let (requester_id, language): (String, String) = upload_requests::table
                    .find(&request_id)
                    .select((upload_requests::requester_id, upload_requests::language))
                    .first(conn)?;
                let requester = crate::db::schema::accounts::table
                    .find(&requester_id)
                    .select((crate::db::schema::accounts::display_name, crate::db::schema::accounts::email))
                    .first::<(String, String)>(conn)?;
                let row = TransferRow {
                    id: transfer_id,
                    kind: crate::TransferKind::RequestAnswer.as_str().into(),
                    state: "draft".into(),
                    owner_id: None,
                    upload_request_id: Some(request_id),
                    name: "answer".into(),
                    sender_name: if name.is_empty() { email.clone() } else { name },
                    sender_email: email,
                    recipient_name: Some(requester.0),
                    recipient_email: Some(requester.1),
                    recipient_phone: None,
                    recipient_id: Some(requester_id),
                    subject: String::new(),
                    reference: String::new(),
                    language,
                    body_sealed: None,
                    send_problem: None,
                    created_at: now,
                    window_started_at: None,
                    sent_at: None,
                    expires_at: None,
                    aborted_at: None,
                    abort_reason: None,
                    purged_at: None,
                    message_txt_sealed: None,
                };
                diesel::insert_into(transfers::table).values(&row).execute(conn)?;
                Ok(())
            })
            .await
    }
}

/// A request as the person asked sees it on its page.
#[derive(Debug, Clone)]
pub struct RequestView {
    /// Who asked (name and address): the answer goes to them.
    pub requester_name: String,
    pub requester_email: String,
    /// Who was asked, as the requester wrote it.
    pub recipient_name: String,
    pub recipient_email: String,
    /// The requester's text.
    pub text: String,
    /// The language the requester chose.
    pub language: Language,
    /// Until when it may be answered.
    pub expires_at: Timestamp,
    /// The user name for SFTP and WebDAV (the password is the link's secret).
    pub user_name: String,
    /// The answer being made, while it is a draft.
    pub draft: Option<crate::TransferSummary>,
    /// The answer, once sent.
    pub sent: Option<crate::TransferSummary>,
}

impl Gateway {
    /// What the page of a request shows its holder.
    pub async fn request_view(&self, session: &Session) -> Result<RequestView> {
        let Actor::RequestLink { request_id, .. } = &session.actor else {
            return Err(Error::Forbidden("this page is for the person a request was sent to"));
        };
        let id = request_id.clone();
        let ((requester_name, requester_email), (recipient_name, recipient_email, language, text_sealed, expires_at)) =
            self.db
                .read(move |conn| {
                    Ok(upload_requests::table
                        .find(&id)
                        .inner_join(accounts::table.on(accounts::id.eq(upload_requests::requester_id)))
                        .select((
                            (accounts::display_name, accounts::email),
                            (
                                upload_requests::recipient_name,
                                upload_requests::recipient_email,
                                upload_requests::language,
                                upload_requests::text_sealed,
                                upload_requests::expires_at,
                            ),
                        ))
                        .get_result::<((String, String), (String, String, String, Option<Vec<u8>>, i64))>(conn)?)
                })
                .await?;
        let text = match text_sealed {
            Some(sealed) => self.keys.open_text(&sealed, &format!("request-text:{request_id}"))?,
            None => String::new(),
        };
        let draft = self.list(session, crate::Folder::Outbox).await?.into_iter().next();
        let sent = self.list(session, crate::Folder::Sent).await?.into_iter().next();
        Ok(RequestView {
            requester_name,
            requester_email,
            recipient_name,
            recipient_email,
            text,
            language: Language::parse(&language)?,
            expires_at: Timestamp::from_millis(expires_at),
            user_name: user_name(request_id),
            draft,
            sent,
        })
    }
}
