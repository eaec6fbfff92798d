//! The audit trail: every event is a row written by the core in the same
//! transaction as the change it records. Never a password, secret or code.

use diesel::prelude::*;

use crate::Gateway;
use crate::db::AnyConnection;
use crate::db::schema::audit_events;
use crate::error::Result;
use crate::random::RandomExt;
use crate::session::Origin;

/// One event, built up and then recorded inside a transaction.
#[derive(Debug)]
#[must_use = "an event is only kept when recorded"]
pub(crate) struct Event {
    id: Result<String>,
    at: i64,
    kind: &'static str,
    origin: Origin,
    actor: Option<String>,
    transfer_id: Option<String>,
    document_id: Option<String>,
    detail: Option<String>,
}

impl Event {
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = Some(actor.to_owned());
        self
    }

    pub fn transfer(mut self, id: &str) -> Self {
        self.transfer_id = Some(id.to_owned());
        self
    }

    pub fn document(mut self, id: &str) -> Self {
        self.document_id = Some(id.to_owned());
        self
    }

    pub fn detail(mut self, detail: &str) -> Self {
        self.detail = Some(detail.to_owned());
        self
    }

    pub fn record(self, conn: &mut AnyConnection) -> Result<()> {
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::id.eq(self.id?),
                audit_events::at.eq(self.at),
                audit_events::kind.eq(self.kind),
                audit_events::door.eq(self.origin.door.as_str()),
                audit_events::actor.eq(self.actor),
                audit_events::transfer_id.eq(self.transfer_id),
                audit_events::document_id.eq(self.document_id),
                audit_events::ip.eq(self.origin.ip_string()),
                audit_events::detail.eq(self.detail),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// An audit event as read back.
#[derive(Debug, Clone, Queryable)]
pub struct AuditEvent {
    /// When.
    pub at: i64,
    /// What happened (`transfer-sent`, `download`, `code-failed`, …).
    pub kind: String,
    /// Through which door.
    pub door: String,
    /// Who did it.
    pub actor: Option<String>,
    /// From which address, when the door has one.
    pub ip: Option<String>,
    /// Free detail, never secret.
    pub detail: Option<String>,
}

impl Gateway {
    pub(crate) fn event(&self, origin: &Origin, kind: &'static str) -> Event {
        Event {
            id: self.random.id(),
            at: self.now().as_millis(),
            kind,
            origin: *origin,
            actor: None,
            transfer_id: None,
            document_id: None,
            detail: None,
        }
    }
}

pub(crate) fn for_transfer(conn: &mut AnyConnection, transfer_id: &str) -> Result<Vec<AuditEvent>> {
    Ok(audit_events::table
        .filter(audit_events::transfer_id.eq(transfer_id))
        .order(audit_events::at)
        .select((
            audit_events::at,
            audit_events::kind,
            audit_events::door,
            audit_events::actor,
            audit_events::ip,
            audit_events::detail,
        ))
        .load(conn)?)
}
