//! The overview: every message an account sent or received in a period, for
//! the account itself or an admin, as a table over as many pages as it takes.

use diesel::prelude::*;

use super::labels::{Labels, value};
use super::pdf::{Column, Style, Writer, cell, shown, size};
use super::proof::{self, OverviewFacts, OverviewStatement, SignedProof, Statement, moment};
use crate::account::{Admin, find_by_email};
use crate::db::AnyConnection;
use crate::db::schema::{downloads, transfers};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::transfer::{Folder, TransferRow, document_totals, summarize};
use crate::{Gateway, Language, Timestamp, TransferState};

/// From `from` (inclusive) to `to` (exclusive), by the moment of sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first moment in the period.
    pub from: Timestamp,
    /// The first moment after it.
    pub to: Timestamp,
}

impl Period {
    /// A period; the end must come after the start.
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Period> {
        if to <= from {
            return Err(Error::Invalid(format!("the period ends ({to}) before it starts ({from})")));
        }
        Ok(Period { from, to })
    }
}

/// Whether the account sent or received a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The account sent it.
    Sent,
    /// The account received it.
    Received,
}

impl Direction {
    /// `sent` or `received`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// One message in an overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverviewEntry {
    /// Sent or received by the account.
    pub direction: Direction,
    /// The folder name.
    pub name: String,
    /// The other party: the recipient of a sent message, the sender of a received one.
    pub counterpart: Option<String>,
    /// The subject line.
    pub subject: String,
    /// The sender's reference.
    pub reference: String,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// When its documents are (or were) deleted.
    pub expires_at: Option<Timestamp>,
    /// Sent or expired.
    pub state: TransferState,
    /// How many documents.
    pub documents: usize,
    /// Their total size.
    pub bytes: u64,
    /// How many downloads.
    pub downloads: u64,
}

/// Every message of an account in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// The account's address.
    pub account: String,
    /// The period.
    pub period: Period,
    /// The messages, by moment of sending.
    pub entries: Vec<OverviewEntry>,
    /// When the overview was made.
    pub generated_at: Timestamp,
}

impl Gateway {
    /// The overview of the caller's own account.
    pub async fn overview(&self, session: &Session, period: Period) -> Result<Overview> {
        let s = session.clone();
        let email = session.email().to_owned();
        let (window, now) = (self.settings.rules.upload_window, self.now());
        self.db
            .read(move |conn| {
                Gateway::check_live(conn, &s)?;
                let id = s.account_id().ok_or(Error::Forbidden("an overview is for accounts"))?.to_owned();
                gather(conn, &id, &email, period, window, now)
            })
            .await
    }

    /// The overview of any account, for the operator's console or an admin.
    pub async fn overview_as_admin(&self, _admin: &Admin, email: &str, period: Period) -> Result<Overview> {
        let email = crate::address::EmailAddress::parse(email).map_err(|e| Error::Invalid(e.to_string()))?.normalized();
        let (window, now) = (self.settings.rules.upload_window, self.now());
        self.db
            .read(move |conn| {
                let account = find_by_email(conn, &email)?.ok_or(Error::NotFound)?;
                gather(conn, &account.id, &account.email, period, window, now)
            })
            .await
    }

    /// The overview as a PDF in the reader's language, with its signed proof attached.
    pub async fn overview_pdf(&self, overview: &Overview, language: Language) -> Result<Vec<u8>> {
        let proof = self.overview_proof(overview)?;
        let overview = overview.clone();
        tokio::task::spawn_blocking(move || overview_pdf(&overview, language, &proof))
            .await
            .map_err(|e| Error::internal("the report renderer stopped", e))?
    }

    /// The overview alone as a signed proof.
    pub fn overview_proof(&self, overview: &Overview) -> Result<SignedProof> {
        proof::sign(&self.signing, &statement(overview))
    }
}

fn gather(
    conn: &mut AnyConnection,
    account_id: &str,
    email: &str,
    period: Period,
    window: std::time::Duration,
    now: Timestamp,
) -> Result<Overview> {
    let in_period = transfers::sent_at
        .ge(period.from.as_millis())
        .and(transfers::sent_at.lt(period.to.as_millis()))
        .and(transfers::state.eq("sent").or(transfers::state.eq("expired")));
    let sent: Vec<TransferRow> = transfers::table
        .filter(transfers::owner_id.eq(account_id))
        .filter(in_period)
        .select(TransferRow::as_select())
        .load(conn)?;
    let received: Vec<TransferRow> = transfers::table
        .filter(transfers::recipient_id.eq(account_id).or(transfers::recipient_email.eq(email)))
        .filter(in_period)
        .select(TransferRow::as_select())
        .load(conn)?;
    let mut entries = Vec::with_capacity(sent.len() + received.len());
    for (rows, direction) in [(sent, Direction::Sent), (received, Direction::Received)] {
        for row in rows {
            entries.push(entry(conn, &row, direction, window)?);
        }
    }
    entries.sort_by(|a, b| (a.sent_at, &a.name, a.direction.as_str()).cmp(&(b.sent_at, &b.name, b.direction.as_str())));
    Ok(Overview { account: email.to_owned(), period, entries, generated_at: now })
}

fn entry(
    conn: &mut AnyConnection,
    row: &TransferRow,
    direction: Direction,
    window: std::time::Duration,
) -> Result<OverviewEntry> {
    let folder = if direction == Direction::Sent { Folder::Sent } else { Folder::Inbox };
    let summary = summarize(row, folder, window)?;
    let (documents, bytes) = document_totals(conn, &row.id)?;
    let count: i64 = downloads::table.filter(downloads::transfer_id.eq(&row.id)).count().get_result(conn)?;
    Ok(OverviewEntry {
        direction,
        name: summary.name,
        counterpart: match direction {
            Direction::Sent => summary.recipient,
            Direction::Received => Some(summary.sender),
        },
        subject: summary.subject,
        reference: summary.reference,
        sent_at: summary.sent_at.unwrap_or(summary.created_at),
        expires_at: summary.expires_at,
        state: summary.state,
        documents,
        bytes,
        downloads: u64::try_from(count).unwrap_or(0),
    })
}

fn statement(o: &Overview) -> Statement {
    Statement::Overview(OverviewStatement {
        generated_at: moment(o.generated_at),
        account: o.account.clone(),
        from: moment(o.period.from),
        to: moment(o.period.to),
        messages: o
            .entries
            .iter()
            .map(|e| OverviewFacts {
                direction: e.direction.as_str().into(),
                name: e.name.clone(),
                counterpart: e.counterpart.clone(),
                subject: e.subject.clone(),
                reference: e.reference.clone(),
                sent_at: moment(e.sent_at),
                expires_at: e.expires_at.map(moment),
                state: e.state.as_str().into(),
                documents: u64::try_from(e.documents).unwrap_or(u64::MAX),
                bytes: e.bytes,
                downloads: e.downloads,
            })
            .collect(),
    })
}

/// The overview on A4 in landscape, so a message fits on one line or two.
fn overview_pdf(o: &Overview, language: Language, proof: &SignedProof) -> Result<Vec<u8>> {
    let l = Labels::of(language);
    let running = format!("koerier · {} · {}", l.overview_title, o.account);
    let mut w = Writer::new(&format!("{} {}", l.overview_title, o.account), 297.0, 210.0, &running, o.generated_at)?;
    w.paragraph(&format!("{} — {}", l.overview_title, o.account), Style::Title);
    w.space(3.0);
    let sent = o.entries.iter().filter(|e| e.direction == Direction::Sent).count();
    w.fields(&[
        (l.account, o.account.clone()),
        (l.period, format!("{} – {}", shown(o.period.from), shown(o.period.to))),
        (
            l.total,
            format!(
                "{} ({sent} {}, {} {})",
                o.entries.len(),
                value(language, "sent"),
                o.entries.len() - sent,
                value(language, "received")
            ),
        ),
        (l.printed, shown(o.generated_at)),
    ]);
    w.space(4.0);
    if o.entries.is_empty() {
        w.paragraph(l.no_messages, Style::Regular);
    } else {
        let columns = [
            Column::left(l.sent, 27.0),
            Column::left(l.direction, 17.0),
            Column::left(l.message, 34.0),
            Column::left(l.counterpart, 44.0),
            Column::left(l.subject, 44.0),
            Column::left(l.reference, 26.0),
            Column::right(l.docs, 18.0),
            Column::right(l.size, 17.0),
            Column::right(l.downloads, 20.0),
            Column::left(l.state, w.text_width() - 247.0),
        ];
        let rows = o
            .entries
            .iter()
            .map(|e| {
                vec![
                    cell(shown(e.sent_at)),
                    cell(value(language, e.direction.as_str())),
                    cell(e.name.as_str()),
                    cell(e.counterpart.clone().unwrap_or_else(|| "-".into())),
                    cell(e.subject.as_str()),
                    cell(e.reference.as_str()),
                    cell(e.documents.to_string()),
                    cell(size(e.bytes)),
                    cell(e.downloads.to_string()),
                    cell(value(language, e.state.as_str())),
                ]
            })
            .collect();
        w.table(&columns, rows);
    }
    w.space(4.0);
    w.paragraph(&format!("{} {}", l.proof_note, proof.fingerprint()), Style::Small);
    let footer = format!("koerier · {} · {} {}", o.account, l.printed, shown(o.generated_at));
    w.finish(&footer, l, proof)
}
