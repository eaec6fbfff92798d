//! Reading documents: streaming through decryption, any byte range, with the
//! expiry and who-may-see-what checked first and every download recorded.

use std::ops::Range;

use diesel::prelude::*;

use crate::crypto::KeyScheme;
use crate::db::AnyConnection;
use crate::db::schema::{documents, downloads};
use crate::error::{Error, Result};
use crate::random::RandomExt;
use crate::session::{Origin, Session};
use crate::store::{BlobId, BlobReader};
use crate::transfer::{Access, Folder, TransferRow, TransferState, load_visible};
use crate::{Gateway, Timestamp};

/// A document being read: its size and the plaintext of the requested range.
pub struct DocumentReader {
    /// The document's name.
    pub name: String,
    /// Its full size.
    pub size: u64,
    /// SHA-256 of the whole document, hex.
    pub sha256: String,
    /// The range being read.
    pub range: Range<u64>,
    reader: BlobReader,
}

impl std::fmt::Debug for DocumentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentReader").field("name", &self.name).field("range", &self.range).finish()
    }
}

impl DocumentReader {
    /// The next piece of plaintext, `None` at the end of the range. A blob that
    /// was tampered with or truncated fails here.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        Ok(self.reader.next_chunk().await?)
    }

    /// Read the whole range into memory (small documents, tests).
    pub async fn read_all(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(piece) = self.next_chunk().await? {
            out.extend_from_slice(&piece);
        }
        Ok(out)
    }
}

/// How the reader proved who they are, for the download record.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Proof {
    Account,
    SmsCode,
}

impl Proof {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Proof::Account => "account",
            Proof::SmsCode => "sms-code",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Proof> {
        match s {
            "account" => Ok(Proof::Account),
            "sms-code" => Ok(Proof::SmsCode),
            other => Err(Error::Internal(format!("unknown proof {other:?}"))),
        }
    }
}

pub(crate) struct Opened {
    pub doc_id: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub sealed: Vec<u8>,
    pub scheme: KeyScheme,
    /// A small document's sealed blob, kept in its row.
    pub inline: Option<Vec<u8>>,
}

/// Refuse reads of an expired or aborted transfer from the instant it expires,
/// whether or not the purge has run.
pub(crate) fn check_readable(row: &TransferRow, now: Timestamp) -> Result<()> {
    match row.state()? {
        TransferState::Expired => return Err(Error::Expired),
        TransferState::Aborted => return Err(Error::Aborted(row.abort_reason.clone().unwrap_or_default())),
        TransferState::Draft | TransferState::Sent => {}
    }
    if row.expires_at.is_some_and(|at| now.as_millis() >= at) {
        return Err(Error::Expired);
    }
    Ok(())
}

pub(crate) fn open_row(conn: &mut AnyConnection, transfer_id: &str, name: &str) -> Result<Opened> {
    type Row = (String, String, String, i64, Option<Vec<u8>>, Option<Vec<u8>>, String, Option<Vec<u8>>);
    if !crate::policy::name::may_exist(name) {
        return Err(Error::NotFound);
    }
    let found: Option<Row> = documents::table
        .filter(documents::transfer_id.eq(transfer_id))
        .filter(documents::name.eq(name))
        .select((
            documents::id,
            documents::name,
            documents::state,
            documents::size,
            documents::sha256,
            documents::key_sealed,
            documents::key_scheme,
            documents::inline_blob,
        ))
        .get_result(conn)
        .optional()?;
    let (doc_id, name, state, size, sha, sealed, scheme, inline) = found.ok_or(Error::NotFound)?;
    match state.as_str() {
        "complete" => {}
        "deleted" => return Err(Error::Expired),
        _ => return Err(Error::Conflict(format!("{name} is still being uploaded"))),
    }
    Ok(Opened {
        doc_id,
        name,
        size: u64::try_from(size).unwrap_or(0),
        sha256: sha.map(|s| data_encoding::HEXLOWER.encode(&s)).unwrap_or_default(),
        sealed: sealed.ok_or(Error::Expired)?,
        scheme: KeyScheme::parse(&scheme)?,
        inline,
    })
}

/// The checks of a read by a signed-in caller, in their one order: who may
/// see the message, whether it is still readable, the document and the
/// range, and that a sender does not open what only the recipient's link opens.
fn may_open(
    conn: &mut AnyConnection,
    session: &Session,
    transfer_id: &str,
    name: &str,
    range: Option<Range<u64>>,
    now: Timestamp,
) -> Result<(Opened, Range<u64>, Access)> {
    let (row, access) = load_visible(conn, session, transfer_id)?;
    check_readable(&row, now)?;
    let opened = open_row(conn, transfer_id, name)?;
    let range = clamp(range, opened.size)?;
    if matches!(access, Access::Sender(f) if f != Folder::Outbox) && opened.scheme == KeyScheme::Link {
        return Err(Error::Forbidden(
            "documents sent outside the organisation can only be opened with the recipient's link",
        ));
    }
    Ok((opened, range, access))
}

/// One download, as recorded.
pub(crate) struct Download<'a> {
    pub transfer_id: &'a str,
    pub doc_id: &'a str,
    pub who: &'a str,
    pub proof: Proof,
    pub origin: &'a Origin,
}

pub(crate) fn record_download(conn: &mut AnyConnection, id: String, now: Timestamp, d: Download<'_>) -> Result<()> {
    diesel::insert_into(downloads::table)
        .values((
            downloads::id.eq(id),
            downloads::transfer_id.eq(d.transfer_id),
            downloads::document_id.eq(Some(d.doc_id)),
            downloads::at.eq(now.as_millis()),
            downloads::who.eq(d.who),
            downloads::proof.eq(d.proof.as_str()),
            downloads::door.eq(d.origin.door.as_str()),
            downloads::ip.eq(d.origin.ip_string()),
        ))
        .execute(conn)?;
    Ok(())
}

fn clamp(range: Option<Range<u64>>, size: u64) -> Result<Range<u64>> {
    let range = range.unwrap_or(0..size);
    if range.start > range.end || range.end > size {
        return Err(Error::Invalid(format!(
            "the range {}-{} is outside the document ({size} bytes)",
            range.start, range.end
        )));
    }
    Ok(range)
}

impl Gateway {
    /// Read a document of a transfer the caller may see (their draft, or a
    /// message in their inbox). A read from the start by the recipient counts
    /// as a download and is recorded; a resumed tail is not counted twice.
    pub async fn read_document(
        &self,
        session: &Session,
        transfer_id: &str,
        name: &str,
        range: Option<Range<u64>>,
    ) -> Result<DocumentReader> {
        let (s, t, n) = (session.clone(), transfer_id.to_owned(), name.to_owned());
        let now = self.now();
        let (opened, range, access) = self.db.read(move |conn| may_open(conn, &s, &t, &n, range, now)).await?;
        // Only the recipient's read from the start is a download: recorded in
        // a write of its own, which checks again that they may still see it.
        if access == Access::Recipient && range.start == 0 {
            let (s, t, doc_id) = (session.clone(), transfer_id.to_owned(), opened.doc_id.clone());
            let download_id = self.random.id()?;
            self.db
                .write(move |conn| {
                    let (row, _) = load_visible(conn, &s, &t)?;
                    check_readable(&row, now)?;
                    let who = s.audit_actor();
                    let d = Download {
                        transfer_id: &t,
                        doc_id: &doc_id,
                        who: &who,
                        proof: Proof::Account,
                        origin: &s.origin,
                    };
                    record_download(conn, download_id, now, d)
                })
                .await?;
        }
        self.open_reader(opened, range, None).await
    }

    /// Whether the caller may read this document, asked before a door
    /// promises its bytes (a WebDAV GET answers its status before the first
    /// byte is read). Records nothing.
    pub async fn may_read_document(&self, session: &Session, transfer_id: &str, name: &str) -> Result<()> {
        let (s, t, n) = (session.clone(), transfer_id.to_owned(), name.to_owned());
        let now = self.now();
        self.db.read(move |conn| may_open(conn, &s, &t, &n, None, now).map(|_| ())).await
    }

    pub(crate) async fn open_reader(
        &self,
        opened: Opened,
        range: Range<u64>,
        link_secret: Option<&str>,
    ) -> Result<DocumentReader> {
        let secret = match opened.scheme {
            KeyScheme::Server => None,
            KeyScheme::Link => Some(link_secret.ok_or(Error::Forbidden("this document opens only with its link"))?),
        };
        let key = self.keys.unwrap_document_key(&opened.sealed, &opened.doc_id, secret)?;
        let blob = BlobId::parse(&opened.doc_id)?;
        let reader = self.store.open(&blob, &key, opened.size, range.clone(), opened.inline).await?;
        Ok(DocumentReader { name: opened.name, size: opened.size, sha256: opened.sha256, range, reader })
    }

    pub(crate) fn clamp_range(range: Option<Range<u64>>, size: u64) -> Result<Range<u64>> {
        clamp(range, size)
    }
}
