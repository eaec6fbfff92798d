//! Upload policy: the rules a document must pass before it may become part of
//! a transfer.
//!
//! - [`name`] decides whether a client-supplied file name is acceptable and
//!   produces the canonical [`name::FileName`].
//! - [`content`] checks that a document's first bytes match the type its
//!   extension claims.

pub mod content;
pub mod name;
