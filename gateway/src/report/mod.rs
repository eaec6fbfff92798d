//! Reports: what happened to a message, as data, as a PDF and as a signed
//! proof; and the overview of every message of an account in a period.
//!
//! Who may read a report is decided here, once: the sender, an admin, and for
//! a public delivery whoever holds its report link. The recipient sees the
//! message itself, not its report. Every door serves the same PDF from
//! [`Gateway::report_pdf`], with the signed proof attached to it.

mod labels;
mod overview;
mod pdf;
pub mod proof;

use std::collections::HashMap;

use diesel::prelude::*;

pub use overview::{Direction, Overview, OverviewEntry, Period};
pub use proof::{KeyInfo, Verified};

use crate::account::Admin;
use crate::audit::AuditEvent;
use crate::crypto::{KeyOrigin, SigningKey};
use crate::db::AnyConnection;
use crate::db::schema::downloads;
use crate::error::{Error, Result};
use crate::random::Random;
use crate::session::Session;
use crate::transfer::{
    Access, Folder, TransferId, TransferRow, TransferSummary, access, load, load_visible, summarize,
};
use crate::upload::{DocumentInfo, Inside, delivered, documents_of};
use crate::{Gateway, Language, Timestamp};

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
    /// The door it was sent through, once sent.
    pub door: Option<String>,
    /// Where the recipient's code went, masked; `None` when they sign in.
    pub recipient_phone: Option<String>,
    /// Each document with name, size, SHA-256, content check and deletion;
    /// a folder as its zip, followed by each file in it under its path.
    pub documents: Vec<DocumentInfo>,
    /// Each download.
    pub downloads: Vec<DownloadRecord>,
    /// The audit trail of the message: redemptions, failed codes, lockouts,
    /// notifications delivered or given up, expiry.
    pub events: Vec<AuditEvent>,
    /// When the report was made.
    pub generated_at: Timestamp,
}

/// Where the report signing key lives under the data folder.
pub const SIGNING_KEY_FILE: &str = "keys/report-signing.key";

/// Load the report signing key: the file named, or the one in the data
/// folder, made on first start unless missing keys are not to be made.
pub(crate) fn load_signing_key(settings: &crate::Settings, random: &dyn Random) -> Result<SigningKey> {
    let path = settings.keys.report_signing_key.clone().unwrap_or_else(|| settings.data_dir.join(SIGNING_KEY_FILE));
    if !settings.keys.make_missing {
        return SigningKey::load(&path);
    }
    let (key, origin) = SigningKey::load_or_generate(&path, random)?;
    if origin == KeyOrigin::Generated {
        tracing::warn!(
            path = %path.display(),
            "generated the report signing key; back it up with the master key: proofs name its public key"
        );
    }
    Ok(key)
}

/// A stored value (a state, a proof, a door, an event's kind) in the
/// reader's language, as the PDFs say it; a report page says it alike.
pub fn said(language: Language, stored: &str) -> String {
    labels::value(language, stored)
}

impl Gateway {
    /// The report of a message: for its sender, for a recipient who signs in
    /// with an account (the portals' "reports of files sent to you"), or for
    /// an admin any message. Anyone else is told it does not exist; a
    /// recipient without an account holds a link, not a session, and never
    /// reaches this.
    pub async fn report(&self, session: &Session, transfer_id: &TransferId) -> Result<ReportData> {
        let (s, t) = (session.clone(), transfer_id.as_str().to_owned());
        let (window, now) = (self.settings.rules.upload_window, self.now());
        self.db
            .read(move |conn| {
                let (row, folder) = match s.admin() {
                    Some(_) => {
                        Gateway::check_live(conn, &s)?;
                        let row = load(conn, &t)?;
                        let folder = access(&s, &row)?.map_or(Folder::Sent, Access::folder);
                        (row, folder)
                    }
                    None => {
                        let (row, access) = load_visible(conn, &s, &t)?;
                        (row, access.folder())
                    }
                };
                collect(conn, &row, folder, window, now)
            })
            .await
    }

    /// The report of any message, for the operator's console.
    pub async fn report_as_admin(&self, _admin: &Admin, transfer_id: &TransferId) -> Result<ReportData> {
        let t = transfer_id.as_str().to_owned();
        let (window, now) = (self.settings.rules.upload_window, self.now());
        self.db
            .read(move |conn| {
                let row = load(conn, &t)?;
                collect(conn, &row, Folder::Sent, window, now)
            })
            .await
    }

    /// The report a public delivery's confirmation mail links to: whoever
    /// holds the link may read it, also after the message expired.
    pub async fn report_by_link(&self, secret: &str) -> Result<ReportData> {
        let secret = secret.to_owned();
        let (window, now) = (self.settings.rules.upload_window, self.now());
        self.db
            .read(move |conn| {
                let id = crate::link::report_link_transfer(conn, &secret)?.ok_or(Error::NotFound)?;
                let row = load(conn, &id)?;
                collect(conn, &row, Folder::Sent, window, now)
            })
            .await
    }

    /// The report as a PDF in the reader's language, with its signed proof attached.
    pub async fn report_pdf(&self, data: &ReportData, language: Language) -> Result<Vec<u8>> {
        let proof = self.report_proof(data)?;
        let data = data.clone();
        tokio::task::spawn_blocking(move || pdf::message_pdf(&data, language, &proof))
            .await
            .map_err(|e| Error::internal("the report renderer stopped", e))?
    }

    /// The report alone as a signed proof: canonical JSON, signed with the server's key.
    pub fn report_proof(&self, data: &ReportData) -> Result<proof::SignedProof> {
        proof::sign(&self.signing, &proof::message_statement(data))
    }

    /// The public key that signs reports, and its fingerprint, to publish and compare.
    pub fn report_key(&self) -> KeyInfo {
        KeyInfo::of(&self.signing.public_key())
    }
}

/// Gather a report of a transfer the caller may read.
fn collect(
    conn: &mut AnyConnection,
    row: &TransferRow,
    folder: Folder,
    window: std::time::Duration,
    now: Timestamp,
) -> Result<ReportData> {
    let transfer = summarize(row, folder, window)?;
    let documents = delivered(&documents_of(conn, &row.id)?, Inside::Listed);
    let names: HashMap<String, String> = documents.iter().map(|d| (d.id.clone(), d.name.clone())).collect();
    type Row = (i64, Option<String>, String, String, String, Option<String>);
    let rows: Vec<Row> = downloads::table
        .filter(downloads::transfer_id.eq(&row.id))
        .order((downloads::at, downloads::id))
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
    let events = crate::audit::for_transfer(conn, &row.id)?;
    let door = events.iter().find(|e| e.kind == "transfer-sent").map(|e| e.door.clone());
    let recipient_phone = row.recipient_phone.as_deref().map(|p| {
        crate::address::PhoneNumber::parse(p).map(|p| p.masked()).unwrap_or_else(|_| "a mobile number".into())
    });
    Ok(ReportData { transfer, door, recipient_phone, documents, downloads, events, generated_at: now })
}
