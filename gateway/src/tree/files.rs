//! Renaming a file within its draft: how a client gives a file it wrote
//! under a temporary name its final one (WinSCP's `.filepart`, rclone's
//! `.partial`, Word's and Excel's `.tmp` swap). A file may take any name a
//! draft allows; taking a document's name applies every rule of a document
//! at that moment, and a refusal leaves the file where it was.

use diesel::prelude::*;

use crate::Gateway;
use crate::db::schema::{documents, transfers};
use crate::error::{Error, Result};
use crate::policy::content::ContentCheck;
use crate::policy::name::{FileName, NameKind, NameRefusal};
use crate::session::Session;
use crate::transfer::{TransferId, load_own_draft};
use crate::upload::{check_litter_size, check_room_aside, has_content_to_check, kind_of};

/// Whether a rename or copy may take the place of a file of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// The file of that name is replaced (WebDAV `Overwrite: T`, SFTP
    /// `posix-rename@openssh.com`).
    Yes,
    /// A name taken is refused as a duplicate.
    No,
}

/// The file being renamed, as stored.
struct Source {
    id: String,
    kind: NameKind,
    size: u64,
    inline: Option<Vec<u8>>,
}

impl Gateway {
    /// Rename a complete file of a draft from `from` to `to`.
    pub async fn rename_file(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        from: &str,
        to: &str,
        overwrite: Overwrite,
    ) -> Result<()> {
        let to = FileName::parse_path(to, &self.names)?;
        let source = self.rename_source(session, transfer_id.as_str(), from).await?;
        // Checked before the transaction, on bytes that cannot change: a
        // complete file is written once.
        check_litter_size(&to, source.size)?;
        let check = match has_content_to_check(&to, source.size) {
            true => Some(self.check_content(&source.id, &to, source.size, source.inline.clone()).await?),
            false => None,
        };
        let (s, t, now, window) =
            (session.clone(), transfer_id.as_str().to_owned(), self.now(), self.settings.rules.upload_window);
        let event = self
            .event(&session.origin, "document-renamed")
            .actor(&session.audit_actor())
            .transfer(transfer_id.as_str())
            .document(&source.id)
            .detail(&format!("{from} -> {}", to.as_str()));
        let replaced = self
            .db
            .write(move |conn| {
                load_own_draft(conn, &s, &t)?.check_window(window, now)?;
                if let Some(parent) = to.parent() {
                    crate::tree::check_folder(conn, &t, parent)?;
                }
                let taken: Vec<String> = documents::table
                    .filter(documents::transfer_id.eq(&t))
                    .filter(documents::name_key.eq(to.collation_key()))
                    .filter(documents::id.ne(&source.id))
                    .select(documents::id)
                    .load(conn)?;
                if !taken.is_empty() && overwrite == Overwrite::No {
                    return Err(NameRefusal::Duplicate { name: to.as_str().to_owned() }.into());
                }
                for id in &taken {
                    diesel::delete(documents::table.find(id)).execute(conn)?;
                }
                if !source.kind.is_aside() && to.kind().is_aside() {
                    check_room_aside(conn, &t)?;
                }
                let renamed = diesel::update(documents::table.find(&source.id).filter(documents::state.eq("complete")))
                    .set((
                        documents::name.eq(to.as_str()),
                        documents::name_key.eq(to.collation_key()),
                        documents::kind.eq(to.kind().as_str()),
                        documents::content_check.eq(check.as_ref().map(ContentCheck::as_str)),
                    ))
                    .execute(conn)?;
                if renamed == 0 {
                    // Removed or replaced by another connection meanwhile.
                    return Err(Error::NotFound);
                }
                diesel::update(transfers::table.find(&t))
                    .set(transfers::send_problem.eq(None::<String>))
                    .execute(conn)?;
                event.record(conn)?;
                Ok(taken)
            })
            .await?;
        self.destroy_blobs(replaced).await
    }

    /// The complete file of a draft called `name`, to be renamed.
    async fn rename_source(&self, session: &Session, transfer_id: &str, name: &str) -> Result<Source> {
        let (s, t, n) = (session.clone(), transfer_id.to_owned(), name.to_owned());
        type Row = (String, String, String, i64, Option<Vec<u8>>);
        let rows: Vec<Row> = self
            .db
            .read(move |conn| {
                load_own_draft(conn, &s, &t)?;
                if !crate::policy::name::may_exist(&n) {
                    return Ok(Vec::new());
                }
                Ok(documents::table
                    .filter(documents::transfer_id.eq(&t))
                    .filter(documents::name.eq(&n))
                    .select((documents::id, documents::kind, documents::state, documents::size, documents::inline_blob))
                    .load(conn)?)
            })
            .await?;
        let complete = rows.iter().find(|(_, _, state, ..)| state == "complete");
        match (complete, rows.first()) {
            (Some((id, kind, _, size, inline)), _) => Ok(Source {
                id: id.clone(),
                kind: kind_of(kind)?,
                size: u64::try_from(*size).unwrap_or(0),
                inline: inline.clone(),
            }),
            (None, Some(_)) => {
                Err(Error::Conflict(format!("{name} is still being uploaded; rename it once its upload has ended")))
            }
            (None, None) => Err(Error::NotFound),
        }
    }
}
