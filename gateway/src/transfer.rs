//! Transfers ("messages"): their kinds and states, the three folders they show
//! up in, and the one function that decides who may see which transfer.

use diesel::prelude::*;

use crate::Gateway;
use crate::clock::Timestamp;
use crate::db::AnyConnection;
use crate::db::schema::{documents, transfers};
use crate::error::{Error, Result};
use crate::policy::name::{NameKind, may_exist};
use crate::session::{Actor, Session};

/// The id of a transfer: made by the core, handed to the doors in
/// [`TransferSummary::id`] and passed back as it is. A door never makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransferId(String);

impl TransferId {
    /// An id as made by [`crate::random::RandomExt::id`] or stored.
    pub(crate) fn new(id: String) -> TransferId {
        TransferId(id)
    }

    /// As stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id a client sent back (in a page's address). Whether it names a
    /// transfer the caller may see is for each call of the core to check.
    pub fn from_client(id: &str) -> TransferId {
        TransferId(id.to_owned())
    }
}

impl std::fmt::Display for TransferId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a transfer came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    /// Staff sends to anyone (flow A).
    StaffSend,
    /// An outsider answers an upload request (flow B).
    RequestAnswer,
    /// The public delivers to the organisation (flow C).
    PublicDelivery,
    /// A partner organisation pushes over SFTP (flow E).
    PartnerPush,
}

impl TransferKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::StaffSend => "staff-send",
            TransferKind::RequestAnswer => "request-answer",
            TransferKind::PublicDelivery => "public-delivery",
            TransferKind::PartnerPush => "partner-push",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<TransferKind> {
        Ok(match s {
            "staff-send" => TransferKind::StaffSend,
            "request-answer" => TransferKind::RequestAnswer,
            "public-delivery" => TransferKind::PublicDelivery,
            "partner-push" => TransferKind::PartnerPush,
            other => return Err(Error::Internal(format!("unknown transfer kind {other}"))),
        })
    }
}

/// Where a transfer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferState {
    /// Being composed; documents may be added within the upload window.
    Draft,
    /// Sent; the recipient may download until it expires.
    Sent,
    /// Past its retention; documents destroyed, metadata kept.
    Expired,
    /// Not sent in time (or withdrawn); what was uploaded is deleted.
    Aborted,
}

impl TransferState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferState::Draft => "draft",
            TransferState::Sent => "sent",
            TransferState::Expired => "expired",
            TransferState::Aborted => "aborted",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<TransferState> {
        Ok(match s {
            "draft" => TransferState::Draft,
            "sent" => TransferState::Sent,
            "expired" => TransferState::Expired,
            "aborted" => TransferState::Aborted,
            other => return Err(Error::Internal(format!("unknown transfer state {other}"))),
        })
    }
}

/// The three folders of the tree every door shows (SPEC section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Folder {
    /// Drafts being composed.
    Outbox,
    /// Messages sent (read-only).
    Sent,
    /// Messages received (read-only).
    Inbox,
}

impl Folder {
    /// The folder's name in the tree.
    pub fn as_str(self) -> &'static str {
        match self {
            Folder::Outbox => "outbox",
            Folder::Sent => "sent",
            Folder::Inbox => "inbox",
        }
    }

    /// From a name in the tree.
    pub fn parse(name: &str) -> Option<Folder> {
        match name {
            "outbox" => Some(Folder::Outbox),
            "sent" => Some(Folder::Sent),
            "inbox" => Some(Folder::Inbox),
            _ => None,
        }
    }

    /// Every folder, in the order a listing shows them.
    pub const ALL: [Folder; 3] = [Folder::Outbox, Folder::Sent, Folder::Inbox];
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = transfers)]
pub(crate) struct TransferRow {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub owner_id: Option<String>,
    pub upload_request_id: Option<String>,
    pub name: String,
    pub sender_name: String,
    pub sender_email: String,
    pub recipient_name: Option<String>,
    pub recipient_email: Option<String>,
    pub recipient_phone: Option<String>,
    pub recipient_id: Option<String>,
    pub subject: String,
    pub reference: String,
    pub language: String,
    pub body_sealed: Option<Vec<u8>>,
    pub send_problem: Option<String>,
    pub created_at: i64,
    pub window_started_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub aborted_at: Option<i64>,
    pub abort_reason: Option<String>,
    pub purged_at: Option<i64>,
    pub message_txt_sealed: Option<Vec<u8>>,
    pub delivery_id: Option<String>,
}

impl TransferRow {
    /// A new draft of `kind` with nothing in it yet: the callers fill in
    /// who sends it and to whom.
    pub(crate) fn draft(id: String, kind: TransferKind, name: &str, language: String, created_at: i64) -> TransferRow {
        TransferRow {
            id,
            kind: kind.as_str().into(),
            state: "draft".into(),
            owner_id: None,
            upload_request_id: None,
            name: name.into(),
            sender_name: String::new(),
            sender_email: String::new(),
            recipient_name: None,
            recipient_email: None,
            recipient_phone: None,
            recipient_id: None,
            subject: String::new(),
            reference: String::new(),
            language,
            body_sealed: None,
            send_problem: None,
            created_at,
            window_started_at: None,
            sent_at: None,
            expires_at: None,
            aborted_at: None,
            abort_reason: None,
            purged_at: None,
            message_txt_sealed: None,
            delivery_id: None,
        }
    }

    /// When the upload window closes: `window` after the message's first byte.
    pub fn window_closes_at(&self, window: std::time::Duration) -> Option<Timestamp> {
        self.window_started_at.map(|t| Timestamp::from_millis(t).plus(window))
    }

    /// Refuse a change to the draft once its upload window has closed.
    pub fn check_window(&self, window: std::time::Duration, now: Timestamp) -> Result<()> {
        match self.window_closes_at(window) {
            Some(closed_at) if now >= closed_at => Err(Error::WindowClosed { closed_at }),
            _ => Ok(()),
        }
    }

    pub fn state(&self) -> Result<TransferState> {
        TransferState::parse(&self.state)
    }

    pub fn kind(&self) -> Result<TransferKind> {
        TransferKind::parse(&self.kind)
    }
}

/// A transfer as a folder of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferSummary {
    /// The transfer's id (stable, server-made).
    pub id: TransferId,
    /// The folder's name, chosen by the sender.
    pub name: String,
    /// Where the caller sees it.
    pub folder: Folder,
    /// Its state.
    pub state: TransferState,
    /// How it came about.
    pub kind: TransferKind,
    /// Who sent it (name and address).
    pub sender: String,
    /// Who it is for, once set.
    pub recipient: Option<String>,
    /// The subject line.
    pub subject: String,
    /// The sender's reference.
    pub reference: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When the upload window closes (from the first byte).
    pub window_closes_at: Option<Timestamp>,
    /// When it was sent.
    pub sent_at: Option<Timestamp>,
    /// When its documents are (or were) deleted.
    pub expires_at: Option<Timestamp>,
    /// Why the last attempt to send it failed, for the sender to fix.
    pub send_problem: Option<String>,
}

/// How the caller relates to a transfer. Decided in exactly one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// The caller composes or composed it.
    Sender(Folder),
    /// The caller is its recipient, signed in with an account.
    Recipient,
}

/// Who may see what (SPEC sections 2 and 4):
/// - an account sees the drafts it composes (outbox), what it sent (sent), and
///   what was sent to it (inbox, once sent);
/// - someone signed in with a request link sees only that request's answer;
/// - nobody sees an aborted transfer.
pub(crate) fn access(session: &Session, t: &TransferRow) -> Result<Option<Access>> {
    let state = t.state()?;
    let sender_folder = match state {
        TransferState::Draft => Some(Folder::Outbox),
        TransferState::Sent | TransferState::Expired => Some(Folder::Sent),
        TransferState::Aborted => None,
    };
    let Some(sender_folder) = sender_folder else { return Ok(None) };
    let access = match &session.actor {
        Actor::Account { id, email, .. } => {
            if t.owner_id.as_deref() == Some(id) {
                Some(Access::Sender(sender_folder))
            } else if sender_folder == Folder::Sent
                && (t.recipient_id.as_deref() == Some(id) || t.recipient_email.as_deref() == Some(email))
            {
                Some(Access::Recipient)
            } else {
                None
            }
        }
        Actor::RequestLink { request_id, .. } => (t.upload_request_id.as_deref() == Some(request_id)
            && t.kind()? == TransferKind::RequestAnswer)
            .then_some(Access::Sender(sender_folder)),
        Actor::Delivery { delivery_id, .. } => (t.delivery_id.as_deref() == Some(delivery_id)
            && t.kind()? == TransferKind::PublicDelivery)
            .then_some(Access::Sender(sender_folder)),
    };
    Ok(access)
}

impl Access {
    pub(crate) fn folder(self) -> Folder {
        match self {
            Access::Sender(f) => f,
            Access::Recipient => Folder::Inbox,
        }
    }
}

pub(crate) fn load(conn: &mut AnyConnection, id: &str) -> Result<TransferRow> {
    Ok(transfers::table.find(id).select(TransferRow::as_select()).get_result(conn)?)
}

/// Load a transfer the caller may see, with how they relate to it. A transfer
/// the caller may not see is "not found", never "forbidden": no oracle.
pub(crate) fn load_visible(conn: &mut AnyConnection, session: &Session, id: &str) -> Result<(TransferRow, Access)> {
    Gateway::check_live(conn, session)?;
    // By its key, so without a LIMIT (see `Gateway::check_live`).
    let row = transfers::table.find(id).select(TransferRow::as_select()).get_result(conn).optional()?;
    let row = row.ok_or(Error::NotFound)?;
    let access = access(session, &row)?.ok_or(Error::NotFound)?;
    Ok((row, access))
}

/// Load a draft the caller composes; anything else is refused with the reason.
pub(crate) fn load_own_draft(conn: &mut AnyConnection, session: &Session, id: &str) -> Result<TransferRow> {
    let (row, access) = load_visible(conn, session, id)?;
    match access {
        Access::Sender(Folder::Outbox) => Ok(row),
        Access::Sender(_) => Err(Error::Conflict("this message has been sent and can no longer change".into())),
        Access::Recipient => Err(Error::Forbidden("a received message is read-only")),
    }
}

/// The rows behind [`in_folder`], in the database's order.
///
/// Every query here has a type of its own, with no boxed or literal part, so
/// Diesel keeps each prepared: a door resolves a path on every request.
fn rows_in_folder(
    conn: &mut AnyConnection,
    session: &Session,
    folder: Folder,
    name: Option<&str>,
) -> Result<Vec<TransferRow>> {
    Gateway::check_live(conn, session)?;
    if name.is_some_and(|name| !may_exist(name)) {
        return Ok(Vec::new());
    }
    let all = transfers::table.select(TransferRow::as_select()).order((
        transfers::name,
        transfers::created_at,
        transfers::id,
    ));
    macro_rules! load {
        ($query:expr) => {
            match name {
                Some(name) => $query.filter(transfers::name.eq(name)).load::<TransferRow>(conn)?,
                None => $query.load::<TransferRow>(conn)?,
            }
        };
    }
    let candidates = match (&session.actor, folder) {
        (Actor::Account { id, .. }, Folder::Outbox | Folder::Sent) => load!(all.filter(transfers::owner_id.eq(id))),
        (Actor::Account { id, email, .. }, Folder::Inbox) => {
            load!(all.filter(transfers::recipient_id.eq(id).or(transfers::recipient_email.eq(email))))
        }
        (Actor::RequestLink { request_id, .. }, _) => load!(all.filter(transfers::upload_request_id.eq(request_id))),
        (Actor::Delivery { delivery_id, .. }, _) => load!(all.filter(transfers::delivery_id.eq(delivery_id))),
    };
    let mut out = Vec::with_capacity(candidates.len());
    for row in candidates {
        if access(session, &row)?.map(Access::folder) == Some(folder) {
            out.push(row);
        }
    }
    Ok(out)
}

/// The draft the caller composes under `name` in their outbox.
pub(crate) fn own_draft_named(conn: &mut AnyConnection, session: &Session, name: &str) -> Result<TransferRow> {
    rows_in_folder(conn, session, Folder::Outbox, Some(name))?.into_iter().next().ok_or(Error::NotFound)
}

/// The transfers of one folder of the caller's tree (only those named `name`,
/// when given), sorted by name. Who sees what is still decided by [`access`].
///
/// Names are the senders' and need not differ within a folder: an inbox
/// holds many an `answer` and a `delivery`, and two senders may both call a
/// message `dossier`. The first one sent keeps the name and each later one
/// is numbered, `dossier (2)`, so that every message has a path of its own
/// that does not change when another arrives.
fn in_folder(
    conn: &mut AnyConnection,
    session: &Session,
    folder: Folder,
    name: Option<&str>,
    window: std::time::Duration,
) -> Result<Vec<TransferSummary>> {
    let mut rows = rows_in_folder(conn, session, folder, name)?;
    if let Some(base) = name.and_then(unnumbered).filter(|base| Some(*base) != name) {
        rows.extend(rows_in_folder(conn, session, folder, Some(base))?);
    }
    let mut out = rows.iter().map(|row| summarize(row, folder, window)).collect::<Result<Vec<_>>>()?;
    number_alike(&mut out);
    if let Some(name) = name {
        out.retain(|t| t.name == name);
    }
    // Byte order, whatever the database's collation.
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `dossier` of `dossier (2)`; `None` for a name without a number.
fn unnumbered(name: &str) -> Option<&str> {
    let (base, number) = name.strip_suffix(')')?.rsplit_once(" (")?;
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && !number.starts_with('0')).then_some(base)
}

/// Number the later of messages with one name: in the order they were sent
/// (made, for drafts), the first keeps its name.
fn number_alike(all: &mut [TransferSummary]) {
    all.sort_by(|a, b| {
        (&a.name, a.sent_at.unwrap_or(a.created_at), a.id.as_str()).cmp(&(
            &b.name,
            b.sent_at.unwrap_or(b.created_at),
            b.id.as_str(),
        ))
    });
    for alike in all.chunk_by_mut(|a, b| a.name == b.name) {
        for (n, t) in alike.iter_mut().enumerate().skip(1) {
            t.name = format!("{} ({})", t.name, n + 1);
        }
    }
}

/// The transfer named `name` in one folder of the caller's tree.
pub(crate) fn find_in(
    conn: &mut AnyConnection,
    session: &Session,
    folder: Folder,
    name: &str,
    window: std::time::Duration,
) -> Result<TransferSummary> {
    in_folder(conn, session, folder, Some(name), window)?.into_iter().next().ok_or(Error::NotFound)
}

/// `SUM(size)` of the documents selected, 0 for none, as a BIGINT on every
/// backend (PostgreSQL sums a BIGINT into a NUMERIC). A type of its own rather
/// than an SQL literal, so that Diesel caches the statements that use it.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub(crate) struct TotalSize;

impl diesel::Expression for TotalSize {
    type SqlType = diesel::sql_types::BigInt;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for TotalSize {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        out.push_sql("CAST(COALESCE(SUM(size), 0) AS BIGINT)");
        Ok(())
    }
}

impl diesel::SelectableExpression<documents::table> for TotalSize {}
impl diesel::AppearsOnTable<documents::table> for TotalSize {}
impl diesel::expression::ValidGrouping<()> for TotalSize {
    type IsAggregate = diesel::expression::is_aggregate::Yes;
}

/// How many documents a transfer holds and their bytes: those complete, and
/// those deleted at expiry (a report still counts what was sent).
pub(crate) fn document_totals(conn: &mut AnyConnection, transfer_id: &str) -> Result<(usize, u64)> {
    let (count, bytes): (i64, i64) = documents::table
        .filter(documents::transfer_id.eq(transfer_id))
        .filter(documents::state.eq_any(["complete", "deleted"]))
        // The files sent: documents, and the files inside folders.
        .filter(documents::kind.eq_any([NameKind::Document.as_str(), NameKind::Member.as_str()]))
        .select((diesel::dsl::count_star(), TotalSize))
        .get_result(conn)?;
    Ok((usize::try_from(count).unwrap_or(0), u64::try_from(bytes).unwrap_or(0)))
}

pub(crate) fn summarize(row: &TransferRow, folder: Folder, window: std::time::Duration) -> Result<TransferSummary> {
    let recipient = row.recipient_email.as_ref().map(|email| match &row.recipient_name {
        Some(name) if !name.is_empty() => format!("{name} <{email}>"),
        _ => email.clone(),
    });
    Ok(TransferSummary {
        id: TransferId::new(row.id.clone()),
        name: row.name.clone(),
        folder,
        state: row.state()?,
        kind: row.kind()?,
        sender: format!("{} <{}>", row.sender_name, row.sender_email),
        recipient,
        subject: row.subject.clone(),
        reference: row.reference.clone(),
        created_at: Timestamp::from_millis(row.created_at),
        window_closes_at: row.window_closes_at(window),
        sent_at: row.sent_at.map(Timestamp::from_millis),
        expires_at: row.expires_at.map(Timestamp::from_millis),
        send_problem: row.send_problem.clone(),
    })
}

impl Gateway {
    /// The transfers in one folder of the caller's tree, by name.
    pub async fn list(&self, session: &Session, folder: Folder) -> Result<Vec<TransferSummary>> {
        let session = session.clone();
        let window = self.settings.rules.upload_window;
        self.db.read(move |conn| in_folder(conn, &session, folder, None, window)).await
    }

    /// The bytes of complete documents in the caller's drafts: what their
    /// outbox holds, as a drive shows it used.
    pub async fn outbox_bytes(&self, session: &Session) -> Result<u64> {
        let session = session.clone();
        let window = self.settings.rules.upload_window;
        self.db
            .read(move |conn| {
                let drafts: Vec<String> =
                    in_folder(conn, &session, Folder::Outbox, None, window)?.into_iter().map(|t| t.id.0).collect();
                let bytes: i64 = documents::table
                    .filter(documents::transfer_id.eq_any(&drafts))
                    .filter(documents::state.eq("complete"))
                    .select(TotalSize)
                    .get_result(conn)?;
                Ok(u64::try_from(bytes).unwrap_or(0))
            })
            .await
    }

    /// Find a transfer by its folder and name in the caller's tree: one
    /// lookup by name, whatever else the folder holds.
    pub async fn find(&self, session: &Session, folder: Folder, name: &str) -> Result<TransferSummary> {
        let (session, name) = (session.clone(), name.to_owned());
        let window = self.settings.rules.upload_window;
        self.db.read(move |conn| find_in(conn, &session, folder, &name, window)).await
    }

    /// One transfer the caller may see.
    pub async fn transfer(&self, session: &Session, id: &TransferId) -> Result<TransferSummary> {
        let (session, id) = (session.clone(), id.as_str().to_owned());
        let window = self.settings.rules.upload_window;
        self.db
            .read(move |conn| {
                let (row, access) = load_visible(conn, &session, &id)?;
                summarize(&row, access.folder(), window)
            })
            .await
    }
}
