//! Reading documents: streaming through decryption, any byte range, with the
//! expiry and who-may-see-what checked first and every download recorded.

use std::ops::Range;

use diesel::prelude::*;

use data_encoding::HEXLOWER;

use crate::crypto::KeyScheme;
use crate::db::AnyConnection;
use crate::db::schema::{documents, downloads};
use crate::error::{Error, Result};
use crate::policy::name::{NameKind, ZIP_SUFFIX};
use crate::random::RandomExt;
use crate::session::{Origin, Session};
use crate::store::{BlobId, BlobReader};
use crate::transfer::{Access, Folder, TransferId, TransferRow, TransferState, load_visible};
use crate::upload::DocumentInfo;
use crate::zip::{Part, ZipEntry, ZipLayout};
use crate::{Gateway, Timestamp};

/// A document being read: its size and the plaintext of the requested range.
pub struct DocumentReader {
    /// The document's name.
    pub name: String,
    /// Its full size.
    pub size: u64,
    /// SHA-256 of the whole document, hex (empty for a folder's zip, which
    /// is made as it is read).
    pub sha256: String,
    /// The range being read.
    pub range: Range<u64>,
    source: Source,
}

/// Where a reader's bytes come from.
enum Source {
    /// One document's blob.
    Blob(BlobReader),
    /// A zip made of many, as it is read.
    Zip(Box<ZipRead>),
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
        match &mut self.source {
            Source::Blob(reader) => Ok(reader.next_chunk().await?),
            Source::Zip(zip) => zip.next_chunk().await,
        }
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

/// A zip being made as it is read ([`crate::zip`]): its framing computed,
/// each file's bytes read through decryption in turn.
struct ZipRead {
    gateway: Gateway,
    link_secret: Option<String>,
    layout: ZipLayout,
    /// The blob of each entry (none for a folder).
    blobs: Vec<Option<Blob>>,
    position: u64,
    end: u64,
    /// The entry being read, and its CRC-32 being summed when it was not
    /// known in advance.
    current: Option<(usize, BlobReader, Option<crc32fast::Hasher>)>,
    central: Option<Vec<u8>>,
}

impl ZipRead {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let unknown = || Error::Conflict("this zip can only be read from its start".into());
        loop {
            if self.position >= self.end {
                return Ok(None);
            }
            let framing = match self.layout.locate(self.position) {
                Part::Data(i, at) => match self.data(i, at).await? {
                    Some(piece) => return Ok(Some(piece)),
                    None => continue,
                },
                Part::Header(i, at) => (self.layout.header(i), at),
                Part::Descriptor(i, at) => (self.layout.descriptor(i).ok_or_else(unknown)?, at),
                Part::Central(at) => {
                    if self.central.is_none() {
                        self.central = Some(self.layout.central().ok_or_else(unknown)?);
                    }
                    (self.central.clone().unwrap_or_default(), at)
                }
            };
            let (bytes, at) = framing;
            let start = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
            let want = usize::try_from(self.end - self.position).unwrap_or(usize::MAX);
            let piece = bytes[start..].iter().take(want).copied().collect::<Vec<u8>>();
            if piece.is_empty() {
                return Err(Error::Internal("a zip's layout and its parts disagree".into()));
            }
            self.position += piece.len() as u64;
            return Ok(Some(piece));
        }
    }

    /// The next bytes of entry `i`, from `at` into them; `None` once they are
    /// all read (its CRC-32 is then known).
    async fn data(&mut self, i: usize, at: u64) -> Result<Option<Vec<u8>>> {
        if self.current.as_ref().is_none_or(|(current, ..)| *current != i) {
            let blob = self
                .blobs
                .get(i)
                .and_then(Option::as_ref)
                .ok_or_else(|| Error::Internal("a zip entry without its bytes".into()))?;
            let entry = &self.layout.entries()[i];
            let sum = match entry.crc {
                Some(_) => None,
                None if at == 0 => Some(crc32fast::Hasher::new()),
                None => return Err(Error::Conflict("this zip can only be read from its start".into())),
            };
            let end = entry.size.min(self.end - self.layout.data_at(i));
            let reader = self.gateway.open_blob(blob, at..end, self.link_secret.as_deref()).await?;
            self.current = Some((i, reader, sum));
        }
        let Some((_, reader, sum)) = self.current.as_mut() else { return Ok(None) };
        match reader.next_chunk().await? {
            Some(piece) => {
                if let Some(sum) = sum.as_mut() {
                    sum.update(&piece);
                }
                self.position += piece.len() as u64;
                Ok(Some(piece))
            }
            None => {
                if let Some((i, _, Some(sum))) = self.current.take() {
                    self.layout.set_crc(i, sum.finalize());
                }
                if matches!(self.layout.locate(self.position), Part::Data(j, _) if j == i) && self.position < self.end {
                    return Err(Error::Internal(format!("{} ended early", self.layout.entries()[i].name)));
                }
                Ok(None)
            }
        }
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

/// A document's blob and the key to it.
#[derive(Debug, Clone)]
pub(crate) struct Blob {
    pub doc_id: String,
    pub size: u64,
    pub sealed: Vec<u8>,
    pub scheme: KeyScheme,
    /// A small document's sealed blob, kept in its row.
    pub inline: Option<Vec<u8>>,
}

/// What a read opens: one document, or a folder as a zip of its files.
pub(crate) struct Opened {
    /// The row downloads are recorded against.
    pub doc_id: String,
    /// The name the reader sees (`Bijlagen.zip` for the folder `Bijlagen`).
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// How the keys are wrapped: with the link's secret once sent outside.
    pub scheme: KeyScheme,
    pub content: Content,
}

pub(crate) enum Content {
    Blob(Blob),
    Zip(ZipLayout, Vec<Option<Blob>>),
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

/// A row as a read needs it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = documents)]
struct ReadRow {
    id: String,
    name: String,
    kind: String,
    state: String,
    size: i64,
    sha256: Option<Vec<u8>>,
    key_sealed: Option<Vec<u8>>,
    key_scheme: String,
    inline_blob: Option<Vec<u8>>,
    crc32: Option<i64>,
    completed_at: Option<i64>,
    created_at: i64,
}

impl ReadRow {
    fn blob(self) -> Result<Blob> {
        match self.state.as_str() {
            "complete" => {}
            "deleted" => return Err(Error::Expired),
            _ => return Err(Error::Conflict(format!("{} is still being uploaded", self.name))),
        }
        Ok(Blob {
            size: u64::try_from(self.size).unwrap_or(0),
            sealed: self.key_sealed.ok_or(Error::Expired)?,
            scheme: KeyScheme::parse(&self.key_scheme)?,
            inline: self.inline_blob,
            doc_id: self.id,
        })
    }

    fn entry(&self, name: &str) -> ZipEntry {
        let crc = self.crc32.and_then(|c| u32::try_from(c).ok());
        let modified = Timestamp::from_millis(self.completed_at.unwrap_or(self.created_at));
        ZipEntry::file(name, u64::try_from(self.size).unwrap_or(0), crc, modified)
    }
}

/// The document `name` of a transfer, opened for reading; `<folder>.zip`
/// opens a top-level folder as the zip of what it holds.
pub(crate) fn open_row(conn: &mut AnyConnection, transfer_id: &str, name: &str) -> Result<Opened> {
    if !crate::policy::name::may_exist(name) {
        return Err(Error::NotFound);
    }
    let of_transfer = documents::table.filter(documents::transfer_id.eq(transfer_id)).select(ReadRow::as_select());
    let found: Option<ReadRow> = of_transfer.filter(documents::name.eq(name)).get_result(conn).optional()?;
    if let Some(row) = found.filter(|r| r.kind != NameKind::Folder.as_str()) {
        let (name, sha256) = (row.name.clone(), row.sha256.as_ref().map(|s| HEXLOWER.encode(s)).unwrap_or_default());
        let blob = row.blob()?;
        return Ok(Opened {
            doc_id: blob.doc_id.clone(),
            name,
            size: blob.size,
            sha256,
            scheme: blob.scheme,
            content: Content::Blob(blob),
        });
    }
    let Some(folder) = name.strip_suffix(ZIP_SUFFIX).filter(|f| !f.contains('/')) else { return Err(Error::NotFound) };
    let folder: ReadRow = of_transfer
        .filter(documents::name.eq(folder))
        .filter(documents::kind.eq(NameKind::Folder.as_str()))
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    if folder.state == "deleted" {
        return Err(Error::Expired);
    }
    let inside: Vec<ReadRow> = of_transfer.order(documents::name).load(conn)?;
    let (layout, blobs) = zip_of(inside, Within::Folder(&folder.name))?;
    let scheme = scheme_of(&blobs);
    Ok(Opened {
        doc_id: folder.id,
        name: name.to_owned(),
        size: layout.len(),
        sha256: String::new(),
        scheme,
        content: Content::Zip(layout, blobs),
    })
}

/// Everything a transfer delivers, as one zip ("download all"): each
/// document, and each folder with what it holds. Returns the rows whose
/// download it is (the documents and the top-level folders), with the name
/// each is delivered under.
pub(crate) fn open_all(conn: &mut AnyConnection, transfer_id: &str) -> Result<(Opened, Vec<(String, String)>)> {
    let rows: Vec<ReadRow> = documents::table
        .filter(documents::transfer_id.eq(transfer_id))
        .select(ReadRow::as_select())
        .order(documents::name)
        .load(conn)?;
    let delivered = rows
        .iter()
        .filter(|r| !r.name.contains('/'))
        .filter_map(|r| match NameKind::parse(&r.kind) {
            Some(NameKind::Document) => Some((r.id.clone(), r.name.clone())),
            Some(NameKind::Folder) => Some((r.id.clone(), format!("{}{ZIP_SUFFIX}", r.name))),
            _ => None,
        })
        .collect();
    let (layout, blobs) = zip_of(rows, Within::All)?;
    let scheme = scheme_of(&blobs);
    let opened = Opened {
        doc_id: String::new(),
        name: "documents.zip".into(),
        size: layout.len(),
        sha256: String::new(),
        scheme,
        content: Content::Zip(layout, blobs),
    };
    Ok((opened, delivered))
}

/// The length of the zip a top-level folder is read as, from what it
/// holds (the files and folders under its path), laid out as [`open_row`]
/// lays it out.
pub(crate) fn zip_len<'a>(folder: &str, inside: impl Iterator<Item = &'a DocumentInfo>) -> u64 {
    let at = Timestamp::from_millis(0);
    let mut inside: Vec<&DocumentInfo> = inside.collect();
    inside.sort_by(|a, b| a.name.cmp(&b.name));
    let entries = std::iter::once(ZipEntry::folder(folder, at))
        .chain(inside.into_iter().filter_map(|d| match d.kind {
            NameKind::Folder => Some(ZipEntry::folder(&d.name, at)),
            NameKind::Member => Some(ZipEntry::file(&d.name, d.size, None, at)),
            _ => None,
        }))
        .collect();
    ZipLayout::new(entries).len()
}

/// How the keys of a zip's files are wrapped: with a link's secret if any is.
fn scheme_of(blobs: &[Option<Blob>]) -> KeyScheme {
    match blobs.iter().flatten().any(|b| b.scheme == KeyScheme::Link) {
        true => KeyScheme::Link,
        false => KeyScheme::Server,
    }
}

/// What a zip holds.
enum Within<'a> {
    /// One top-level folder.
    Folder(&'a str),
    /// Every document and every folder.
    All,
}

/// The zip of `within`, from the rows of its transfer in name order: a
/// folder entry for each folder (so that an empty one arrives too) and each
/// file at its path.
fn zip_of(mut rows: Vec<ReadRow>, within: Within) -> Result<(ZipLayout, Vec<Option<Blob>>)> {
    // In byte order, whatever the database's collation: the layout is the
    // one `zip_len` computed.
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let mut entries = Vec::new();
    let mut blobs = Vec::new();
    for row in rows {
        let top = row.name.split('/').next().unwrap_or_default();
        if matches!(within, Within::Folder(folder) if folder != top) {
            continue;
        }
        match crate::upload::kind_of(&row.kind)? {
            NameKind::Folder => {
                entries.push(ZipEntry::folder(
                    &row.name,
                    Timestamp::from_millis(row.completed_at.unwrap_or(row.created_at)),
                ));
                blobs.push(None);
            }
            NameKind::Member => {
                entries.push(row.entry(&row.name));
                blobs.push(Some(row.blob()?));
            }
            NameKind::Document if matches!(within, Within::All) => {
                entries.push(row.entry(&row.name));
                blobs.push(Some(row.blob()?));
            }
            // Never sent: what a client kept aside.
            NameKind::Temporary | NameKind::Litter | NameKind::Document => {}
        }
    }
    Ok((ZipLayout::new(entries), blobs))
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
        transfer_id: &TransferId,
        name: &str,
        range: Option<Range<u64>>,
    ) -> Result<DocumentReader> {
        let (s, t, n) = (session.clone(), transfer_id.as_str().to_owned(), name.to_owned());
        let now = self.now();
        let (opened, range, access) = self.db.read(move |conn| may_open(conn, &s, &t, &n, range, now)).await?;
        // Only the recipient's read from the start is a download: recorded in
        // a write of its own, which checks again that they may still see it.
        if access == Access::Recipient && range.start == 0 {
            let (s, t, doc_id) = (session.clone(), transfer_id.as_str().to_owned(), opened.doc_id.clone());
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
    pub async fn may_read_document(&self, session: &Session, transfer_id: &TransferId, name: &str) -> Result<()> {
        let (s, t, n) = (session.clone(), transfer_id.as_str().to_owned(), name.to_owned());
        let now = self.now();
        self.db.read(move |conn| may_open(conn, &s, &t, &n, None, now).map(|_| ())).await
    }

    pub(crate) async fn open_reader(
        &self,
        opened: Opened,
        range: Range<u64>,
        link_secret: Option<&str>,
    ) -> Result<DocumentReader> {
        let source = match opened.content {
            Content::Blob(blob) => Source::Blob(self.open_blob(&blob, range.clone(), link_secret).await?),
            Content::Zip(layout, blobs) => Source::Zip(Box::new(ZipRead {
                gateway: self.clone(),
                link_secret: link_secret.map(str::to_owned),
                layout,
                blobs,
                position: range.start,
                end: range.end,
                current: None,
                central: None,
            })),
        };
        Ok(DocumentReader { name: opened.name, size: opened.size, sha256: opened.sha256, range, source })
    }

    /// A reader of `range` of one blob, through its key.
    async fn open_blob(&self, blob: &Blob, range: Range<u64>, link_secret: Option<&str>) -> Result<BlobReader> {
        let secret = match blob.scheme {
            KeyScheme::Server => None,
            KeyScheme::Link => Some(link_secret.ok_or(Error::Forbidden("this document opens only with its link"))?),
        };
        let key = self.keys.unwrap_document_key(&blob.sealed, &blob.doc_id, secret)?;
        let id = BlobId::parse(&blob.doc_id)?;
        Ok(self.store.open(&id, &key, blob.size, range, blob.inline.clone()).await?)
    }

    pub(crate) fn clamp_range(range: Option<Range<u64>>, size: u64) -> Result<Range<u64>> {
        clamp(range, size)
    }
}
