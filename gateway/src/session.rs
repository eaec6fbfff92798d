//! Who is calling, and through which door. A [`Session`] is made only by the
//! core's authenticate operations; a frontend cannot forge one.

use std::net::IpAddr;

use crate::error::{Error, Result};

/// The door a request came in by; recorded with every event and download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Door {
    /// The SFTP server.
    Sftp,
    /// WebDAV under `/dav/`.
    Webdav,
    /// The web pages.
    Web,
    /// The command line on the server.
    Cli,
    /// The core's own jobs.
    System,
}

impl Door {
    /// As stored and shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Door::Sftp => "sftp",
            Door::Webdav => "webdav",
            Door::Web => "web",
            Door::Cli => "cli",
            Door::System => "system",
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The door.
    pub door: Door,
    /// The peer's address, when the door has one.
    pub ip: Option<IpAddr>,
}

impl Origin {
    /// A request from the given door and address.
    pub fn new(door: Door, ip: Option<IpAddr>) -> Origin {
        Origin { door, ip }
    }

    /// The command line on the server itself.
    pub fn cli() -> Origin {
        Origin { door: Door::Cli, ip: None }
    }

    pub(crate) fn ip_string(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

/// A signed-in caller: an account, or someone holding an upload request link.
#[derive(Debug, Clone)]
pub struct Session {
    pub(crate) actor: Actor,
    pub(crate) origin: Origin,
}

#[derive(Debug, Clone)]
pub(crate) enum Actor {
    Account {
        id: String,
        email: String,
        name: String,
        role: Role,
    },
    RequestLink {
        request_id: String,
        email: String,
        name: String,
    },
    /// Someone from outside who proved their address to deliver documents
    /// to the organisation (flow C).
    Delivery {
        delivery_id: String,
        email: String,
        name: String,
    },
}

impl Actor {
    /// The address of whoever acts.
    pub(crate) fn email(&self) -> &str {
        match self {
            Actor::Account { email, .. } | Actor::RequestLink { email, .. } | Actor::Delivery { email, .. } => email,
        }
    }

    /// Their name as they gave it (may be empty for someone from outside).
    pub(crate) fn name(&self) -> &str {
        match self {
            Actor::Account { name, .. } | Actor::RequestLink { name, .. } | Actor::Delivery { name, .. } => name,
        }
    }
}

impl Session {
    /// The same signed-in actor, for a request from `origin` (a door that
    /// remembers a sign-in for a while records each request's own address).
    pub fn from_origin(&self, origin: Origin) -> Session {
        Session { actor: self.actor.clone(), origin }
    }
    /// The caller's email address.
    pub fn email(&self) -> &str {
        self.actor.email()
    }

    /// The caller's display name.
    pub fn display_name(&self) -> &str {
        self.actor.name()
    }

    /// The account's role; `None` for someone from outside (a request or
    /// delivery link).
    pub fn role(&self) -> Option<Role> {
        match &self.actor {
            Actor::Account { role, .. } => Some(*role),
            Actor::RequestLink { .. } | Actor::Delivery { .. } => None,
        }
    }

    /// Where this session came from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    pub(crate) fn account_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::Account { id, .. } => Some(id),
            Actor::RequestLink { .. } | Actor::Delivery { .. } => None,
        }
    }

    /// The key of the caller's own tree, which WebDAV locks and dead
    /// properties are counted and scoped by: an account, or one request.
    pub(crate) fn tree_key(&self) -> String {
        match &self.actor {
            Actor::Account { id, .. } => format!("account:{id}"),
            Actor::RequestLink { request_id, .. } => format!("request:{request_id}"),
            Actor::Delivery { delivery_id, .. } => format!("delivery:{delivery_id}"),
        }
    }

    /// A short description for audit records.
    pub(crate) fn audit_actor(&self) -> String {
        match &self.actor {
            Actor::Account { email, .. } => email.clone(),
            Actor::RequestLink { email, request_id, .. } => format!("{email} (request {request_id})"),
            Actor::Delivery { email, delivery_id, .. } => format!("{email} (delivery {delivery_id})"),
        }
    }
}

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Staff: sends, requests, receives.
    Staff,
    /// Staff who also administer.
    Admin,
    /// A partner organisation that pushes documents to staff over SFTP.
    Partner,
}

impl Role {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Admin => "admin",
            Role::Partner => "partner",
        }
    }

    /// From the stored or typed form.
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "staff" => Ok(Role::Staff),
            "admin" => Ok(Role::Admin),
            "partner" => Ok(Role::Partner),
            other => Err(Error::Invalid(format!("unknown role {other:?}: use staff, admin or partner"))),
        }
    }
}
