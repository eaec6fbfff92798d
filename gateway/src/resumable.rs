//! Uploads named by their id, as a browser's resumable upload (tus) names
//! them: begun with the length the client declares, continued at the offset
//! the store holds, from any door and any node. They are the same unfinished
//! documents that SFTP's `reput` and a WebDAV client resume by name.

use diesel::prelude::*;

use crate::db::schema::documents;
use crate::error::{Error, Result};
use crate::policy::name::{FileName, NameRefusal};
use crate::session::Session;
use crate::transfer::{TransferId, load_own_draft};
use crate::upload::{DocumentState, Upload, UploadMode};
use crate::{Gateway, Timestamp};

/// An upload as its client sees it between requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumable {
    /// The document's id: the last part of the upload's address.
    pub id: String,
    /// The document's name.
    pub name: String,
    /// Where the next byte goes: what is safely stored.
    pub offset: u64,
    /// The length the client declared; unknown for an upload begun by
    /// another door until a client declares it.
    pub length: Option<u64>,
    /// Whether every byte has arrived and the document is complete.
    pub complete: bool,
    /// When the message's upload window closes, once it has started.
    pub expires: Option<Timestamp>,
}

#[derive(Queryable)]
struct Row {
    id: String,
    name: String,
    state: String,
    size: i64,
    upload_length: Option<i64>,
}

impl Row {
    fn resumable(self, expires: Option<Timestamp>) -> Result<Resumable> {
        Ok(Resumable {
            id: self.id,
            name: self.name,
            offset: u64::try_from(self.size).unwrap_or(0),
            length: self.upload_length.and_then(|l| u64::try_from(l).ok()),
            complete: DocumentState::parse(&self.state)? == DocumentState::Complete,
            expires,
        })
    }
}

type Columns = (documents::id, documents::name, documents::state, documents::size, documents::upload_length);
const COLUMNS: Columns = (documents::id, documents::name, documents::state, documents::size, documents::upload_length);

impl Gateway {
    /// Whether a document of this name would be taken into the draft now:
    /// the name's rules, a complete document of that name, the window. Asked
    /// before a byte is sent.
    pub async fn check_new_document(&self, session: &Session, transfer_id: &TransferId, name: &str) -> Result<()> {
        let name = FileName::parse_path(name, &self.names)?;
        let (s, t, key) = (session.clone(), transfer_id.as_str().to_owned(), name.collation_key());
        let (window, now) = (self.settings.rules.upload_window, self.now());
        let taken: i64 = self
            .db
            .read(move |conn| {
                load_own_draft(conn, &s, &t)?.check_window(window, now)?;
                Ok(documents::table
                    .filter(documents::transfer_id.eq(&t))
                    .filter(documents::name_key.eq(&key))
                    .filter(documents::state.eq(DocumentState::Complete.as_str()))
                    .count()
                    .get_result(conn)?)
            })
            .await?;
        match taken {
            0 => Ok(()),
            _ => Err(NameRefusal::Duplicate { name: name.as_str().to_owned() }.into()),
        }
    }

    /// Begin a document of `length` bytes: refused at once when the message
    /// cannot hold that many, otherwise made ready (and durable) at offset 0.
    /// An unfinished upload of the same name starts over.
    pub async fn begin_resumable(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        name: &str,
        length: u64,
    ) -> Result<Resumable> {
        let upload = self.begin_upload(session, transfer_id, name, UploadMode::New).await?;
        if length > upload.room() {
            let limit = self.settings.rules.max_message_bytes;
            upload.abandon().await?;
            return Err(Error::TooLarge { limit });
        }
        let id = upload.document_id().to_owned();
        upload.suspend().await?;
        let (d, declared) = (id.clone(), i64::try_from(length).unwrap_or(i64::MAX));
        self.db
            .write(move |conn| {
                diesel::update(documents::table.find(&d)).set(documents::upload_length.eq(declared)).execute(conn)?;
                Ok(())
            })
            .await?;
        self.resumable(session, transfer_id, &id).await
    }

    /// One upload of the caller's draft, by its id.
    pub async fn resumable(&self, session: &Session, transfer_id: &TransferId, id: &str) -> Result<Resumable> {
        let (s, t, d) = (session.clone(), transfer_id.as_str().to_owned(), id.to_owned());
        let window = self.settings.rules.upload_window;
        self.db
            .read(move |conn| {
                let draft = load_own_draft(conn, &s, &t)?;
                let row: Row = documents::table
                    .filter(documents::transfer_id.eq(&t))
                    .filter(documents::id.eq(&d))
                    .select(COLUMNS)
                    .get_result(conn)?;
                row.resumable(draft.window_closes_at(window))
            })
            .await
    }

    /// The unfinished uploads of the caller's draft, to be continued after a
    /// reload (or begun by another door).
    pub async fn unfinished_uploads(&self, session: &Session, transfer_id: &TransferId) -> Result<Vec<Resumable>> {
        let (s, t) = (session.clone(), transfer_id.as_str().to_owned());
        let window = self.settings.rules.upload_window;
        self.db
            .read(move |conn| {
                let draft = load_own_draft(conn, &s, &t)?;
                let rows: Vec<Row> = documents::table
                    .filter(documents::transfer_id.eq(&t))
                    .filter(documents::state.eq(DocumentState::Uploading.as_str()))
                    .filter(documents::kind.ne(crate::policy::name::NameKind::Folder.as_str()))
                    .order(documents::name)
                    .select(COLUMNS)
                    .load(conn)?;
                let expires = draft.window_closes_at(window);
                rows.into_iter().map(|r| r.resumable(expires)).collect()
            })
            .await
    }

    /// Continue an unfinished upload by its id at the offset the store
    /// holds. `length` declares its length when no client has yet (an upload
    /// begun over SFTP); a different length from the one declared is refused.
    pub async fn continue_resumable(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        id: &str,
        length: Option<u64>,
    ) -> Result<Upload> {
        let found = self.resumable(session, transfer_id, id).await?;
        if found.complete {
            return Err(Error::Conflict(format!("{} is complete already", found.name)));
        }
        let declared = match (found.length, length) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::Invalid(format!("{} was declared as {a} bytes, not {b}", found.name)));
            }
            (Some(a), _) => a,
            (None, Some(b)) => {
                let (d, b64) = (id.to_owned(), i64::try_from(b).unwrap_or(i64::MAX));
                self.db
                    .write(move |conn| {
                        diesel::update(documents::table.find(&d))
                            .set(documents::upload_length.eq(b64))
                            .execute(conn)?;
                        Ok(())
                    })
                    .await?;
                b
            }
            (None, None) => {
                return Err(Error::Invalid(format!("the length of {} is not known yet; declare it", found.name)));
            }
        };
        let mut upload = self.begin_upload(session, transfer_id, &found.name, UploadMode::Continue).await?;
        // Started over under the same name meanwhile: this upload is gone.
        if upload.document_id() != id {
            return Err(Error::NotFound);
        }
        upload.declare_length(declared);
        Ok(upload)
    }

    /// Give up an unfinished upload: what was stored is deleted.
    pub async fn cancel_resumable(&self, session: &Session, transfer_id: &TransferId, id: &str) -> Result<()> {
        let found = self.resumable(session, transfer_id, id).await?;
        if found.complete {
            return Err(Error::Conflict(format!("{} is complete; remove it from the message instead", found.name)));
        }
        self.remove_unfinished(session, transfer_id, id).await
    }
}
