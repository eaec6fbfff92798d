//! Someone from outside the organisation with a link: asked for documents
//! (flow B, an upload request) or delivering them after proving their
//! address (flow C, a public delivery). The link's secret opens one draft,
//! addressed to whoever asked or to the contact chosen, and nothing else;
//! it works the same on the web page, in the browser's resumable upload and,
//! for a request, as the password for SFTP and WebDAV.

use diesel::prelude::*;

use crate::auth::ip_key;
use crate::crypto::secret_hash;
use crate::db::AnyConnection;
use crate::db::schema::{accounts, deliveries, transfers, upload_requests};
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::session::{Actor, Origin, Session};
use crate::transfer::TransferRow;
use crate::{Folder, Gateway, Language, Timestamp, TransferKind, TransferSummary};

/// What the page of an outsider's link shows its holder.
#[derive(Debug, Clone)]
pub struct OutsiderView {
    /// Which flow this is.
    pub kind: TransferKind,
    /// Who the documents go to (the requester, or the contact).
    pub to_name: String,
    pub to_email: String,
    /// Who is sending them: the holder of the link.
    pub from_name: String,
    pub from_email: String,
    /// The requester's text (none for a delivery).
    pub text: String,
    /// The language of the pages and mails the holder gets.
    pub language: Language,
    /// Until when the link may be used.
    pub expires_at: Timestamp,
    /// The user name for SFTP and WebDAV (a request's; the password is the
    /// link's secret). A delivery is made in the browser only.
    pub user_name: Option<String>,
    /// The draft being made.
    pub draft: Option<TransferSummary>,
    /// What was sent with this link, once sent.
    pub sent: Option<TransferSummary>,
}

impl Session {
    /// For someone from outside with a link, what their draft becomes: an
    /// answer to a request, or a delivery; `None` for an account. (Here, not
    /// in `session`, which knows nothing of transfers.)
    pub fn link_kind(&self) -> Option<TransferKind> {
        match &self.actor {
            Actor::Account { .. } => None,
            Actor::RequestLink { .. } => Some(TransferKind::RequestAnswer),
            Actor::Delivery { .. } => Some(TransferKind::PublicDelivery),
        }
    }
}

impl Gateway {
    /// Open an outsider's link by its secret alone (a request's or a
    /// delivery's): the session of its holder, whose draft is made ready. A
    /// wrong secret counts against the address only, so no guess locks
    /// anyone else out; an expired link is refused as expired.
    pub async fn open_outsider_link(&self, secret: &str, origin: Origin) -> Result<Session> {
        let hash = secret_hash(secret);
        let key = format!("outsider link {}", data_encoding::HEXLOWER.encode(&hash[..8]));
        let attempt = self.attempt(&key, &ip_key(origin.ip), origin).await?;
        let found = self
            .db
            .read(move |conn| {
                let request = upload_requests::table
                    .filter(upload_requests::secret_hash.eq(&hash))
                    .select((
                        upload_requests::id,
                        upload_requests::recipient_email,
                        upload_requests::recipient_name,
                        upload_requests::expires_at,
                    ))
                    .get_result::<(String, String, String, i64)>(conn)
                    .optional()?;
                if let Some((request_id, email, name, expires_at)) = request {
                    return Ok(Some((Actor::RequestLink { request_id, email, name }, expires_at)));
                }
                let delivery = deliveries::table
                    .filter(deliveries::secret_hash.eq(&hash))
                    .select((deliveries::id, deliveries::sender_email, deliveries::sender_name, deliveries::expires_at))
                    .get_result::<(String, String, String, i64)>(conn)
                    .optional()?;
                Ok(delivery.map(|(delivery_id, email, name, expires_at)| {
                    (Actor::Delivery { delivery_id, email, name }, expires_at)
                }))
            })
            .await?;
        let Some((actor, expires_at)) = found else { return Err(self.fail(attempt, origin).await) };
        self.succeeded(attempt).await?;
        if self.now().as_millis() >= expires_at {
            return Err(Error::Expired);
        }
        let session = Session { actor, origin };
        self.ensure_outsider_draft(&session).await?;
        Ok(session)
    }

    /// The holder of an outsider's link finds its draft ready, addressed to
    /// the requester or the contact, unless one is being made or was sent.
    pub(crate) async fn ensure_outsider_draft(&self, session: &Session) -> Result<()> {
        let transfer_id = self.random.id()?;
        let now = self.now().as_millis();
        let actor = session.actor.clone();
        self.db
            .write(move |conn| {
                let Some(row) = outsider_draft(conn, &actor, transfer_id, now)? else { return Ok(()) };
                diesel::insert_into(transfers::table).values(&row).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// What the page of the caller's link shows.
    pub async fn outsider_view(&self, session: &Session) -> Result<OutsiderView> {
        let actor = session.actor.clone();
        let this = self.clone();
        let mut view = self
            .db
            .read(move |conn| match &actor {
                Actor::RequestLink { request_id, email, name } => {
                    let ((to_name, to_email), (language, text_sealed, expires_at)) = upload_requests::table
                        .find(request_id)
                        .inner_join(accounts::table.on(accounts::id.eq(upload_requests::requester_id)))
                        .select((
                            (accounts::display_name, accounts::email),
                            (upload_requests::language, upload_requests::text_sealed, upload_requests::expires_at),
                        ))
                        .get_result::<((String, String), (String, Option<Vec<u8>>, i64))>(conn)?;
                    let text = match text_sealed {
                        Some(sealed) => this.keys.open_text(&sealed, &format!("request-text:{request_id}"))?,
                        None => String::new(),
                    };
                    Ok(OutsiderView {
                        kind: TransferKind::RequestAnswer,
                        to_name,
                        to_email,
                        from_name: name.clone(),
                        from_email: email.clone(),
                        text,
                        language: Language::parse(&language)?,
                        expires_at: Timestamp::from_millis(expires_at),
                        user_name: Some(crate::request::user_name(request_id)),
                        draft: None,
                        sent: None,
                    })
                }
                Actor::Delivery { delivery_id, email, name } => {
                    let (to_name, to_email, language, expires_at) = deliveries::table
                        .find(delivery_id)
                        .select((
                            deliveries::contact_name,
                            deliveries::contact_email,
                            deliveries::language,
                            deliveries::expires_at,
                        ))
                        .get_result::<(String, String, String, i64)>(conn)?;
                    Ok(OutsiderView {
                        kind: TransferKind::PublicDelivery,
                        to_name,
                        to_email,
                        from_name: name.clone(),
                        from_email: email.clone(),
                        text: String::new(),
                        language: Language::parse(&language)?,
                        expires_at: Timestamp::from_millis(expires_at),
                        user_name: None,
                        draft: None,
                        sent: None,
                    })
                }
                Actor::Account { .. } => {
                    Err(Error::Forbidden("this page is for someone with a request or delivery link"))
                }
            })
            .await?;
        view.draft = self.list(session, Folder::Outbox).await?.into_iter().next();
        view.sent = self.list(session, Folder::Sent).await?.into_iter().next();
        Ok(view)
    }
}

/// The row of a new draft for the holder of an outsider's link; `None` when
/// the link has one already (being made, or sent). An aborted one does not
/// count: the holder starts again.
fn outsider_draft(conn: &mut AnyConnection, actor: &Actor, id: String, now: i64) -> Result<Option<TransferRow>> {
    let (kind, name, request, delivery, (to_name, to_email, to_id), language) = match actor {
        Actor::RequestLink { request_id, .. } => {
            let existing: i64 = transfers::table
                .filter(transfers::upload_request_id.eq(request_id))
                .filter(transfers::state.ne("aborted"))
                .count()
                .get_result(conn)?;
            if existing > 0 {
                return Ok(None);
            }
            let ((to_name, to_email, to_id), language) = upload_requests::table
                .find(request_id)
                .inner_join(accounts::table.on(accounts::id.eq(upload_requests::requester_id)))
                .select(((accounts::display_name, accounts::email, accounts::id), upload_requests::language))
                .get_result::<((String, String, String), String)>(conn)?;
            let to = (to_name, to_email, Some(to_id));
            (TransferKind::RequestAnswer, "answer", Some(request_id.clone()), None, to, language)
        }
        Actor::Delivery { delivery_id, .. } => {
            let existing: i64 = transfers::table
                .filter(transfers::delivery_id.eq(delivery_id))
                .filter(transfers::state.ne("aborted"))
                .count()
                .get_result(conn)?;
            if existing > 0 {
                return Ok(None);
            }
            let (to_name, to_email, language) = deliveries::table
                .find(delivery_id)
                .select((deliveries::contact_name, deliveries::contact_email, deliveries::language))
                .get_result::<(String, String, String)>(conn)?;
            let to_id = accounts::table
                .filter(accounts::email.eq(&to_email))
                .select(accounts::id)
                .get_result::<String>(conn)
                .optional()?;
            let to = (to_name, to_email, to_id);
            (TransferKind::PublicDelivery, "delivery", None, Some(delivery_id.clone()), to, language)
        }
        Actor::Account { .. } => return Ok(None),
    };
    let (from_name, from_email) = (actor.name().to_owned(), actor.email().to_owned());
    Ok(Some(TransferRow {
        upload_request_id: request,
        delivery_id: delivery,
        sender_name: if from_name.is_empty() { from_email.clone() } else { from_name },
        sender_email: from_email,
        recipient_name: Some(to_name),
        recipient_email: Some(to_email),
        recipient_id: to_id,
        ..TransferRow::draft(id, kind, name, language, now)
    }))
}
