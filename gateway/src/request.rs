//! Upload requests (flow B): staff ask someone outside the organisation for
//! documents. The request link opens one draft, addressed to the requester,
//! and works as credentials for the web, SFTP and WebDAV alike.

use diesel::prelude::*;

use crate::account::is_affiliated;
use crate::address::Mailbox;
use crate::crypto::secret_hash;
use crate::db::schema::upload_requests;
use crate::error::{Error, Result};
use crate::outbox::Outgoing;
use crate::random::RandomExt;
use crate::session::{Actor, Session};
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

    /// The requests a staff member made, newest first (the last 200).
    pub async fn requests(&self, session: &Session) -> Result<Vec<RequestLine>> {
        let Some(requester) = session.account_id().map(str::to_owned) else {
            return Err(Error::Forbidden("only staff have requests"));
        };
        let (s, now) = (session.clone(), self.now().as_millis());
        self.db
            .read(move |conn| {
                Gateway::check_live(conn, &s)?;
                let rows: Vec<RequestRow> = upload_requests::table
                    .filter(upload_requests::requester_id.eq(&requester))
                    .order((upload_requests::created_at.desc(), upload_requests::id))
                    .limit(200)
                    .select((
                        upload_requests::id,
                        upload_requests::recipient_name,
                        upload_requests::recipient_email,
                        upload_requests::created_at,
                        upload_requests::expires_at,
                        upload_requests::answered_at,
                        upload_requests::withdrawn_at,
                    ))
                    .load(conn)?;
                Ok(rows.into_iter().map(|r| RequestLine::of(r, now)).collect())
            })
            .await
    }

    /// Withdraw an open request: its link (and its SFTP and WebDAV
    /// credentials) works no more. Only its maker may; an answered or
    /// expired one is past withdrawing.
    pub async fn withdraw_request(&self, session: &Session, id: &str) -> Result<()> {
        let Some(requester) = session.account_id().map(str::to_owned) else {
            return Err(Error::NotFound);
        };
        let (s, id, now) = (session.clone(), id.to_owned(), self.now().as_millis());
        let event = self.event(&session.origin, "request-withdrawn").actor(session.email()).detail(&id);
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                let row: RequestRow = upload_requests::table
                    .filter(upload_requests::id.eq(&id))
                    .filter(upload_requests::requester_id.eq(&requester))
                    .select((
                        upload_requests::id,
                        upload_requests::recipient_name,
                        upload_requests::recipient_email,
                        upload_requests::created_at,
                        upload_requests::expires_at,
                        upload_requests::answered_at,
                        upload_requests::withdrawn_at,
                    ))
                    .get_result(conn)
                    .optional()?
                    .ok_or(Error::NotFound)?;
                if RequestLine::of(row, now).state != RequestState::Open {
                    return Err(Error::Conflict("this request is no longer open".into()));
                }
                diesel::update(upload_requests::table.find(&id))
                    .set((upload_requests::withdrawn_at.eq(Some(now)), upload_requests::expires_at.eq(now)))
                    .execute(conn)?;
                event.record(conn)
            })
            .await
    }
}

type RequestRow = (String, String, String, i64, i64, Option<i64>, Option<i64>);

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// Its link works.
    Open,
    /// The documents were sent.
    Answered,
    /// Its time ran out.
    Expired,
    /// Its maker withdrew it.
    Withdrawn,
}

/// One request in its maker's list.
#[derive(Debug, Clone)]
pub struct RequestLine {
    pub id: String,
    /// `Name <address>`, or the address.
    pub to: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub state: RequestState,
}

impl RequestLine {
    fn of((id, name, email, created, expires, answered, withdrawn): RequestRow, now: i64) -> RequestLine {
        let state = match (answered, withdrawn) {
            (Some(_), _) => RequestState::Answered,
            (None, Some(_)) => RequestState::Withdrawn,
            (None, None) if now >= expires => RequestState::Expired,
            (None, None) => RequestState::Open,
        };
        RequestLine {
            id,
            to: if name.trim().is_empty() { email } else { format!("{name} <{email}>") },
            created_at: Timestamp::from_millis(created),
            expires_at: Timestamp::from_millis(expires),
            answered_at: answered.map(Timestamp::from_millis),
            state,
        }
    }
}
