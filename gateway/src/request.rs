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
}
