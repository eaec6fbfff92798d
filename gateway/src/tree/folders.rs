//! Folders in a draft (SPEC section 3): made by `mkdir`, MKCOL, a dragged
//! folder or Explorer's "New folder", removed when empty, renamed or moved
//! with everything in them. A folder is a row of kind `folder`; what is in
//! it is named by its path (`Bijlagen/2026/scan.pdf`), so a folder moved is
//! its rows renamed in one transaction, and a top-level folder reaches the
//! recipient as one `<folder>.zip` ([`crate::download`]).

use diesel::prelude::*;

use crate::Gateway;
use crate::crypto::KeyScheme;
use crate::db::AnyConnection;
use crate::db::schema::documents;
use crate::error::{Error, Result};
use crate::policy::name::{FileName, NameKind, NameRefusal};
use crate::random::RandomExt;
use crate::session::Session;
use crate::settings::FolderRule;
use crate::transfer::{TransferId, load_own_draft};

use super::Overwrite;

/// How many folders one draft may hold.
pub const MAX_FOLDERS_PER_DRAFT: i64 = 1000;

const REFUSED: &str = "a message holds documents only, no folders; put the folder in a zip file first";

/// Refuse a path whose folder `parent` the draft does not hold.
pub(crate) fn check_folder(conn: &mut AnyConnection, transfer_id: &str, parent: &str) -> Result<()> {
    let found: i64 = documents::table
        .filter(documents::transfer_id.eq(transfer_id))
        .filter(documents::name.eq(parent))
        .filter(documents::kind.eq(NameKind::Folder.as_str()))
        .count()
        .get_result(conn)?;
    if found == 0 {
        return Err(Error::Conflict(format!("the folder {parent} is not in this message; make it first")));
    }
    Ok(())
}

/// The rows of a draft at or under `path`: the folder and all it holds.
fn rows_under(conn: &mut AnyConnection, transfer_id: &str, path: &str) -> Result<Vec<(String, String, String)>> {
    let all: Vec<(String, String, String)> = documents::table
        .filter(documents::transfer_id.eq(transfer_id))
        .select((documents::id, documents::name, documents::kind))
        .load(conn)?;
    let prefix = format!("{path}/");
    Ok(all.into_iter().filter(|(_, name, _)| name == path || name.starts_with(&prefix)).collect())
}

fn is_folder(rows: &[(String, String, String)], path: &str) -> bool {
    rows.iter().any(|(_, name, kind)| name == path && kind == NameKind::Folder.as_str())
}

fn unique(e: diesel::result::Error, name: &str) -> Error {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            NameRefusal::Duplicate { name: name.to_owned() }.into()
        }
        e => e.into(),
    }
}

impl Gateway {
    /// Make a folder in a draft, inside one it already holds.
    pub async fn create_folder(&self, session: &Session, transfer_id: &TransferId, path: &str) -> Result<()> {
        if self.settings.rules.folders == FolderRule::Refuse {
            return Err(Error::Forbidden(REFUSED));
        }
        let name = FileName::parse_folder(path, &self.names)?;
        let (s, t, id) = (session.clone(), transfer_id.as_str().to_owned(), self.random.id()?);
        let (now, window) = (self.now(), self.settings.rules.upload_window);
        let event = self
            .event(&session.origin, "folder-made")
            .actor(&session.audit_actor())
            .transfer(transfer_id.as_str())
            .detail(name.as_str());
        self.db
            .write(move |conn| {
                load_own_draft(conn, &s, &t)?.check_window(window, now)?;
                if let Some(parent) = name.parent() {
                    check_folder(conn, &t, parent)?;
                }
                let folders: i64 = documents::table
                    .filter(documents::transfer_id.eq(&t))
                    .filter(documents::kind.eq(NameKind::Folder.as_str()))
                    .count()
                    .get_result(conn)?;
                if folders >= MAX_FOLDERS_PER_DRAFT {
                    return Err(Error::Invalid(format!(
                        "a message holds at most {MAX_FOLDERS_PER_DRAFT} folders; put some in a zip file first"
                    )));
                }
                if is_folder(&rows_under(conn, &t, name.as_str())?, name.as_str()) {
                    return Err(Error::Conflict(format!("the folder {name} already exists")));
                }
                diesel::insert_into(documents::table)
                    .values((
                        documents::id.eq(&id),
                        documents::transfer_id.eq(&t),
                        documents::name.eq(name.as_str()),
                        documents::name_key.eq(name.collation_key()),
                        documents::kind.eq(NameKind::Folder.as_str()),
                        documents::state.eq("complete"),
                        documents::size.eq(0i64),
                        documents::key_scheme.eq(KeyScheme::Server.as_str()),
                        documents::created_at.eq(now.as_millis()),
                        documents::completed_at.eq(Some(now.as_millis())),
                    ))
                    .execute(conn)
                    .map_err(|e| unique(e, name.as_str()))?;
                event.document(&id).record(conn)
            })
            .await
    }

    /// Remove an empty folder of a draft.
    pub async fn remove_folder(&self, session: &Session, transfer_id: &TransferId, path: &str) -> Result<()> {
        let (s, t, p) = (session.clone(), transfer_id.as_str().to_owned(), path.to_owned());
        let event =
            self.event(&session.origin, "folder-removed").actor(&session.audit_actor()).transfer(transfer_id.as_str());
        self.db
            .write(move |conn| {
                load_own_draft(conn, &s, &t)?;
                let rows = rows_under(conn, &t, &p)?;
                let Some((id, ..)) =
                    rows.iter().find(|(_, name, kind)| *name == p && kind == NameKind::Folder.as_str())
                else {
                    return Err(if rows.iter().any(|(_, name, _)| *name == p) {
                        Error::Invalid("this is a file, not a folder".into())
                    } else {
                        Error::NotFound
                    });
                };
                if rows.len() > 1 {
                    return Err(Error::Conflict(format!("the folder {p} is not empty; remove what it holds first")));
                }
                diesel::delete(documents::table.find(id)).execute(conn)?;
                event.document(id).detail(&p).record(conn)
            })
            .await
    }

    /// Rename or move a folder of a draft, with all it holds, to `to` (in a
    /// folder the draft holds, or at its top). When the client asks to
    /// overwrite, it takes the place of a file or an empty folder of that
    /// name; otherwise a name taken is a duplicate.
    pub async fn rename_folder(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        from: &str,
        to: &str,
        overwrite: Overwrite,
    ) -> Result<()> {
        let to = FileName::parse_folder(to, &self.names)?;
        if to.as_str() == from || to.as_str().starts_with(&format!("{from}/")) {
            return Err(Error::Invalid(format!("the folder {from} cannot move into itself")));
        }
        let (s, t, f) = (session.clone(), transfer_id.as_str().to_owned(), from.to_owned());
        let (now, window, names) = (self.now(), self.settings.rules.upload_window, self.names.clone());
        let event = self
            .event(&session.origin, "folder-renamed")
            .actor(&session.audit_actor())
            .transfer(transfer_id.as_str())
            .detail(&format!("{from} -> {}", to.as_str()));
        let replaced = self
            .db
            .write(move |conn| {
                load_own_draft(conn, &s, &t)?.check_window(window, now)?;
                let moving = rows_under(conn, &t, &f)?;
                if !is_folder(&moving, &f) {
                    return Err(Error::NotFound);
                }
                if let Some(parent) = to.parent() {
                    check_folder(conn, &t, parent)?;
                }
                let key = to.collation_key();
                let taken: Vec<(String, String)> = documents::table
                    .filter(documents::transfer_id.eq(&t))
                    .filter(documents::name_key.eq(&key))
                    .select((documents::id, documents::name))
                    .load(conn)?;
                let mut replaced = Vec::new();
                for (id, name) in taken.iter().filter(|(id, _)| moving.iter().all(|(m, ..)| m != id)) {
                    if overwrite == Overwrite::No || rows_under(conn, &t, name)?.len() > 1 {
                        return Err(NameRefusal::Duplicate { name: to.as_str().to_owned() }.into());
                    }
                    diesel::delete(documents::table.find(id)).execute(conn)?;
                    replaced.push(id.clone());
                }
                for (id, name, _) in &moving {
                    let renamed = format!("{}{}", to.as_str(), &name[f.len()..]);
                    // The same parts under a new folder: checked again for the length.
                    let checked = match name == &f {
                        true => to.clone(),
                        false => FileName::parse_path(&renamed, &names)?,
                    };
                    diesel::update(documents::table.find(id))
                        .set((documents::name.eq(checked.as_str()), documents::name_key.eq(checked.collation_key())))
                        .execute(conn)
                        .map_err(|e| unique(e, checked.as_str()))?;
                }
                event.record(conn)?;
                Ok(replaced)
            })
            .await?;
        self.destroy_blobs(replaced).await
    }
}
