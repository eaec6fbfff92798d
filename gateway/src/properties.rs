//! Dead properties: what a WebDAV client keeps on a node of its tree with
//! PROPPATCH (Windows and macOS write their own there), kept in the database
//! so that every node of the service and every restart sees them.
//!
//! They belong to the node they describe, by id: a message's folder or its
//! `message.txt` (the transfer), or a complete document. So a draft renamed or
//! sent keeps them without a copy, a document removed takes them along (the
//! database cascades), a document replaced by a new upload passes them on
//! (`Upload::finish`), and a message destroyed (withdrawn, aborted, expired)
//! loses them with its documents (`lifecycle::destroy_documents`).
//!
//! Who may do what follows the message: the one who composes or composed it
//! reads them (a partner or a request link only in its own tree); only a draft
//! takes changes, as it does documents. A recipient sees none: they are the
//! sender's client's notes, not part of what was sent. Bounded: at most
//! [`MAX_PER_NODE`] per node, [`MAX_VALUE_BYTES`] per value and
//! [`MAX_PER_OWNER`] in one caller's tree.

use std::collections::HashSet;

use diesel::prelude::*;

use crate::Gateway;
use crate::db::AnyConnection;
use crate::db::schema::{dead_properties, documents};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::transfer::{Access, TransferId, load_own_draft, load_visible};

/// How many properties one node holds at most.
pub const MAX_PER_NODE: usize = 32;

/// The largest value of one property (the XML element as the client sent it).
pub const MAX_VALUE_BYTES: usize = 4096;

/// The longest namespace or name of a property.
pub const MAX_NAME_BYTES: usize = 1024;

/// How many properties one caller's tree (an account, or a request link)
/// holds at most, over all its messages.
pub const MAX_PER_OWNER: i64 = 20_000;

/// A node of a message that can carry properties.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PropertyNode {
    /// The message's folder.
    Folder,
    /// Its `message.txt`.
    Envelope,
    /// A complete document, by its name.
    Document(String),
}

/// One property as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadProperty {
    /// Its XML namespace; empty for none.
    pub namespace: String,
    /// Its name in that namespace.
    pub name: String,
    /// Its value: the whole XML element as the client sent it.
    pub value: Vec<u8>,
}

/// One change asked for in a PROPPATCH, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyChange {
    /// Set a property, replacing one of the same namespace and name.
    Set(DeadProperty),
    /// Remove a property (removing one that is not there is no error).
    Remove {
        /// Its namespace; empty for none.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl PropertyChange {
    fn key(&self) -> (&str, &str) {
        match self {
            PropertyChange::Set(p) => (&p.namespace, &p.name),
            PropertyChange::Remove { namespace, name } => (namespace, name),
        }
    }
}

/// What became of one change. The changes of one call are made all or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyOutcome {
    /// Made.
    Done,
    /// The value, namespace or name is longer than allowed.
    TooLarge,
    /// The node holds [`MAX_PER_NODE`] properties, or the caller's tree [`MAX_PER_OWNER`].
    NoRoom,
    /// Not made, because another change of the same call was refused.
    NotMade,
}

/// Where a node's properties are kept: the transfer and the node's key
/// there (`''`, `message.txt` or a document's id).
struct Place {
    transfer_id: String,
    node: String,
    document_id: Option<String>,
}

const FOLDER_KEY: &str = "";
const ENVELOPE_KEY: &str = "message.txt";

/// The place of a node of a transfer; a document must be complete.
fn place(conn: &mut AnyConnection, transfer_id: &str, node: &PropertyNode) -> Result<Place> {
    let (key, document_id) = match node {
        PropertyNode::Folder => (FOLDER_KEY.to_owned(), None),
        PropertyNode::Envelope => (ENVELOPE_KEY.to_owned(), None),
        PropertyNode::Document(name) if !crate::policy::name::may_exist(name) => return Err(Error::NotFound),
        PropertyNode::Document(name) => {
            let id: String = documents::table
                .filter(documents::transfer_id.eq(transfer_id))
                .filter(documents::name.eq(name))
                .filter(documents::state.eq("complete"))
                .select(documents::id)
                .get_result(conn)
                .optional()?
                .ok_or(Error::NotFound)?;
            (id.clone(), Some(id))
        }
    };
    Ok(Place { transfer_id: transfer_id.to_owned(), node: key, document_id })
}

type PropertyRow = (String, String, Vec<u8>);

fn as_property((namespace, name, value): PropertyRow) -> DeadProperty {
    DeadProperty { namespace, name, value }
}

/// The properties of a node, in one query (a document's found by its name).
fn read(conn: &mut AnyConnection, transfer_id: &str, node: &PropertyNode) -> Result<Vec<DeadProperty>> {
    let of_transfer = dead_properties::table
        .filter(dead_properties::transfer_id.eq(transfer_id))
        .select((dead_properties::namespace, dead_properties::name, dead_properties::value))
        .order((dead_properties::namespace, dead_properties::name));
    let rows: Vec<PropertyRow> = match node {
        PropertyNode::Folder => of_transfer.filter(dead_properties::node.eq(FOLDER_KEY)).load(conn)?,
        PropertyNode::Envelope => of_transfer.filter(dead_properties::node.eq(ENVELOPE_KEY)).load(conn)?,
        PropertyNode::Document(name) if !crate::policy::name::may_exist(name) => Vec::new(),
        PropertyNode::Document(name) => {
            let named = documents::table
                .filter(documents::transfer_id.eq(transfer_id))
                .filter(documents::name.eq(name))
                .filter(documents::state.eq("complete"))
                .select(documents::id);
            of_transfer.filter(dead_properties::node.eq_any(named)).load(conn)?
        }
    };
    Ok(rows.into_iter().map(as_property).collect())
}

/// How many properties one caller's tree holds.
fn owned(conn: &mut AnyConnection, owner: &str) -> Result<i64> {
    Ok(dead_properties::table.filter(dead_properties::owner_key.eq(owner)).count().get_result(conn)?)
}

/// What each change would come to, given the names the node holds and the
/// count of the caller's tree: a change too large or beyond a cap is refused.
fn judge(held: &[(String, String)], owned: i64, changes: &[PropertyChange]) -> Vec<PropertyOutcome> {
    let mut names: HashSet<(&str, &str)> = held.iter().map(|(ns, n)| (ns.as_str(), n.as_str())).collect();
    let mut owned = owned;
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let (namespace, name) = change.key();
        let outcome = match change {
            PropertyChange::Remove { .. } => {
                if names.remove(&(namespace, name)) {
                    owned -= 1;
                }
                PropertyOutcome::Done
            }
            PropertyChange::Set(p)
                if p.value.len() > MAX_VALUE_BYTES
                    || namespace.len() > MAX_NAME_BYTES
                    || name.len() > MAX_NAME_BYTES =>
            {
                PropertyOutcome::TooLarge
            }
            PropertyChange::Set(_) if names.contains(&(namespace, name)) => PropertyOutcome::Done,
            PropertyChange::Set(_) if names.len() >= MAX_PER_NODE || owned >= MAX_PER_OWNER => PropertyOutcome::NoRoom,
            PropertyChange::Set(_) => {
                names.insert((namespace, name));
                owned += 1;
                PropertyOutcome::Done
            }
        };
        out.push(outcome);
    }
    if out.iter().any(|o| *o != PropertyOutcome::Done) {
        for o in &mut out {
            if *o == PropertyOutcome::Done {
                *o = PropertyOutcome::NotMade;
            }
        }
    }
    out
}

fn delete_one(conn: &mut AnyConnection, at: &Place, namespace: &str, name: &str) -> Result<()> {
    diesel::delete(
        dead_properties::table
            .filter(dead_properties::transfer_id.eq(&at.transfer_id))
            .filter(dead_properties::node.eq(&at.node))
            .filter(dead_properties::namespace.eq(namespace))
            .filter(dead_properties::name.eq(name)),
    )
    .execute(conn)?;
    Ok(())
}

fn insert(conn: &mut AnyConnection, at: &Place, owner: &str, p: &DeadProperty) -> Result<()> {
    diesel::insert_into(dead_properties::table)
        .values((
            dead_properties::transfer_id.eq(&at.transfer_id),
            dead_properties::node.eq(&at.node),
            dead_properties::document_id.eq(&at.document_id),
            dead_properties::owner_key.eq(owner),
            dead_properties::namespace.eq(&p.namespace),
            dead_properties::name.eq(&p.name),
            dead_properties::value.eq(&p.value),
        ))
        .execute(conn)?;
    Ok(())
}

/// Delete every property of a transfer and its documents (the transfer is
/// being destroyed; its rows stay for the report).
pub(crate) fn delete_all(conn: &mut AnyConnection, transfer_id: &str) -> Result<usize> {
    Ok(diesel::delete(dead_properties::table.filter(dead_properties::transfer_id.eq(transfer_id))).execute(conn)?)
}

/// Pass a replaced document's properties on to the document replacing it.
pub(crate) fn pass_on(conn: &mut AnyConnection, transfer_id: &str, from_doc: &str, to_doc: &str) -> Result<()> {
    diesel::update(
        dead_properties::table
            .filter(dead_properties::transfer_id.eq(transfer_id))
            .filter(dead_properties::node.eq(from_doc)),
    )
    .set((dead_properties::node.eq(to_doc), dead_properties::document_id.eq(Some(to_doc))))
    .execute(conn)?;
    Ok(())
}

impl Gateway {
    /// The properties of a node of a message the caller may see, by
    /// namespace and name. A recipient sees none; a document that is not
    /// (or not yet) complete has none.
    pub async fn dead_properties(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        node: &PropertyNode,
    ) -> Result<Vec<DeadProperty>> {
        let (s, t, node) = (session.clone(), transfer_id.as_str().to_owned(), node.clone());
        self.db
            .read(move |conn| {
                let (_, access) = load_visible(conn, &s, &t)?;
                match access {
                    Access::Sender(_) => read(conn, &t, &node),
                    Access::Recipient => Ok(Vec::new()),
                }
            })
            .await
    }

    /// Set and remove properties of a node of a draft the caller composes,
    /// all or none: one outcome per change, in order. A message that is not
    /// a draft of the caller's is refused as its documents are.
    pub async fn patch_dead_properties(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        node: &PropertyNode,
        changes: Vec<PropertyChange>,
    ) -> Result<Vec<PropertyOutcome>> {
        let (s, t, node) = (session.clone(), transfer_id.as_str().to_owned(), node.clone());
        let owner = session.tree_key();
        self.db
            .write(move |conn| {
                load_own_draft(conn, &s, &t)?;
                let at = place(conn, &t, &node)?;
                let held: Vec<(String, String)> = dead_properties::table
                    .filter(dead_properties::transfer_id.eq(&at.transfer_id))
                    .filter(dead_properties::node.eq(&at.node))
                    .select((dead_properties::namespace, dead_properties::name))
                    .load(conn)?;
                let outcomes = judge(&held, owned(conn, &owner)?, &changes);
                if outcomes.iter().all(|o| *o == PropertyOutcome::Done) {
                    for change in &changes {
                        let (namespace, name) = change.key();
                        delete_one(conn, &at, namespace, name)?;
                        if let PropertyChange::Set(p) = change {
                            insert(conn, &at, &owner, p)?;
                        }
                    }
                }
                Ok(outcomes)
            })
            .await
    }

    /// After a document was copied: the copy gets the properties of the
    /// original (those the caller may read), in place of any it had. Refused,
    /// with nothing copied, when the caller's tree has no room for them.
    pub async fn copy_dead_properties(
        &self,
        session: &Session,
        from_transfer: &TransferId,
        from_name: &str,
        to_transfer: &TransferId,
        to_name: &str,
    ) -> Result<()> {
        let s = session.clone();
        let (ft, fname, tt, tname) = (
            from_transfer.as_str().to_owned(),
            from_name.to_owned(),
            to_transfer.as_str().to_owned(),
            to_name.to_owned(),
        );
        let owner = session.tree_key();
        self.db
            .write(move |conn| {
                let (_, access) = load_visible(conn, &s, &ft)?;
                let source = match access {
                    Access::Sender(_) => read(conn, &ft, &PropertyNode::Document(fname))?,
                    Access::Recipient => Vec::new(),
                };
                load_own_draft(conn, &s, &tt)?;
                let at = place(conn, &tt, &PropertyNode::Document(tname))?;
                diesel::delete(
                    dead_properties::table
                        .filter(dead_properties::transfer_id.eq(&at.transfer_id))
                        .filter(dead_properties::node.eq(&at.node)),
                )
                .execute(conn)?;
                let room = MAX_PER_OWNER - owned(conn, &owner)?;
                if i64::try_from(source.len()).unwrap_or(i64::MAX) > room {
                    // The error rolls the delete back: the copy keeps what it had.
                    return Err(Error::Forbidden(
                        "no room for the document's properties: your folders hold as many as allowed",
                    ));
                }
                for p in &source {
                    insert(conn, &at, &owner, p)?;
                }
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, len: usize) -> PropertyChange {
        PropertyChange::Set(DeadProperty { namespace: "urn:x".into(), name: name.into(), value: vec![b'x'; len] })
    }

    fn remove(name: &str) -> PropertyChange {
        PropertyChange::Remove { namespace: "urn:x".into(), name: name.into() }
    }

    #[test]
    fn changes_are_judged_in_order_and_made_all_or_none() {
        use PropertyOutcome::*;
        let held: Vec<(String, String)> = (0..MAX_PER_NODE).map(|i| ("urn:x".to_owned(), format!("p{i}"))).collect();
        assert_eq!(judge(&held, 100, &[set("p0", 10)]), vec![Done], "replacing takes no room");
        assert_eq!(judge(&held, 100, &[set("new", 10)]), vec![NoRoom]);
        assert_eq!(judge(&held, 100, &[remove("p1"), set("new", 10)]), vec![Done, Done], "room made first");
        assert_eq!(judge(&held, 100, &[set("new", 10), remove("p1")]), vec![NoRoom, NotMade]);
        assert_eq!(judge(&[], 0, &[set("a", MAX_VALUE_BYTES)]), vec![Done]);
        assert_eq!(judge(&[], 0, &[set("a", 1), set("b", MAX_VALUE_BYTES + 1)]), vec![NotMade, TooLarge]);
        assert_eq!(judge(&[], 0, &[set(&"n".repeat(MAX_NAME_BYTES + 1), 1)]), vec![TooLarge]);
        assert_eq!(judge(&[], MAX_PER_OWNER - 1, &[set("a", 1), set("b", 1)]), vec![NotMade, NoRoom], "the tree's cap");
        assert_eq!(judge(&[], MAX_PER_OWNER, &[remove("absent"), set("b", 1)]), vec![NotMade, NoRoom]);
        assert_eq!(judge(&[], 0, &[remove("absent")]), vec![Done], "removing what is not there is no error");
    }
}
