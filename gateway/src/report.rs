//! Report data: what happened to a message, for its page, its PDF and its
//! signed proof. Who may read a report is decided here: the sender, and an
//! admin; the recipient sees the message itself, not the report.

use diesel::prelude::*;

use crate::db::schema::downloads;
use crate::error::{Error, Result};
use crate::session::Session;
use crate::transfer::{Access, TransferSummary, load_visible, summarize};
use crate::upload::{DocumentInfo, documents_of};
use crate::{Gateway, Timestamp};

/// One recorded download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadRecord {
    /// When.
    pub at: Timestamp,
    /// Which document.
    pub document: Option<String>,
    /// Who (the address they proved).
    pub who: String,
    /// How they proved it (`sms-code`, `account`).
    pub proof: String,
    /// Through which door.
    pub door: String,
    /// From which address.
    pub ip: Option<String>,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// The message.
    pub transfer: TransferSummary,
    /// Each document with name, size, SHA-256, content check and deletion.
    pub documents: Vec<DocumentInfo>,
    /// Each download.
    pub downloads: Vec<DownloadRecord>,
    /// The audit trail of the message.
    pub events: Vec<crate::audit::AuditEvent>,
    /// When the report was made.
    pub generated_at: Timestamp,
}

impl Gateway {
    /// The report of a message the caller sent (or, for an admin, any message).
    pub async fn report(&self, session: &Session, transfer_id: &str) -> Result<ReportData> {
        let (s, t) = (session.clone(), transfer_id.to_owned());
        let window = self.settings.rules.upload_window;
        let now = self.now();
        self.db
            .read(move |conn| {
                let (row, access) = load_visible(conn, &s, &t)?;
                if !matches!(access, Access::Sender(_)) {
                    return Err(Error::Forbidden("only the sender can read the report of a message"));
                }
                let transfer = summarize(conn, &row, access.folder(), window)?;
                let docs = documents_of(conn, &t)?;
                let names: std::collections::HashMap<String, String> =
                    docs.iter().map(|d| (d.id.clone(), d.name.clone())).collect();
                type Row = (i64, Option<String>, String, String, String, Option<String>);
                let rows: Vec<Row> = downloads::table
                    .filter(downloads::transfer_id.eq(&t))
                    .order(downloads::at)
                    .select((
                        downloads::at,
                        downloads::document_id,
                        downloads::who,
                        downloads::proof,
                        downloads::door,
                        downloads::ip,
                    ))
                    .load(conn)?;
                let downloads = rows
                    .into_iter()
                    .map(|(at, doc, who, proof, door, ip)| DownloadRecord {
                        at: Timestamp::from_millis(at),
                        document: doc.and_then(|d| names.get(&d).cloned()),
                        who,
                        proof,
                        door,
                        ip,
                    })
                    .collect();
                Ok(ReportData {
                    transfer,
                    documents: docs,
                    downloads,
                    events: crate::audit::for_transfer(conn, &t)?,
                    generated_at: now,
                })
            })
            .await
    }
}
