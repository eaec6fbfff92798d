//! A staff member's overview of messages: those they sent (drafts and
//! aborted ones too, as the drive never shows them) and those they
//! received, newest first, a page at a time, searchable by who, subject and
//! reference; each with its state and whether it has been downloaded. One
//! query of a page's rows and one of their first downloads, however many
//! messages the account has.

use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::db::schema::{downloads, transfers};
use crate::error::{Error, Result};
use crate::transfer::{TransferId, TransferKind, TransferState};
use crate::{Gateway, Session, Timestamp};

/// Messages on one page of the overview.
pub const PAGE_SIZE: u32 = 25;

/// Which of a staff member's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Those they composed: drafts, sent, expired, aborted.
    Sent,
    /// Those sent to them.
    Received,
}

/// What the overview asks for.
#[derive(Debug, Clone)]
pub struct MessageQuery {
    pub side: Side,
    /// Words the recipient (or sender), subject or reference contain; empty: all.
    pub search: String,
    /// From 1.
    pub page: u32,
}

/// One message in the overview.
#[derive(Debug, Clone)]
pub struct MessageLine {
    pub id: TransferId,
    /// The folder's name in the drive.
    pub name: String,
    pub state: TransferState,
    pub kind: TransferKind,
    /// Whom it is for (sent) or from (received): name and address.
    pub counterpart: String,
    pub subject: String,
    pub reference: String,
    /// When it was sent; a draft's when it was made.
    pub at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// The first download of any of its documents.
    pub downloaded_at: Option<Timestamp>,
}

/// A page of the overview.
#[derive(Debug, Clone)]
pub struct MessagePage {
    pub lines: Vec<MessageLine>,
    /// Messages that match in all.
    pub total: u64,
    pub page: u32,
    pub pages: u32,
}

type LineRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
diesel::define_sql_function!(fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::BigInt>, y: diesel::sql_types::BigInt) -> diesel::sql_types::BigInt);

/// `%word%` for LIKE, with LIKE's own characters taken literally.
fn pattern(word: &str) -> String {
    let escaped: String = word
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

impl Gateway {
    /// One page of a staff member's sent or received messages.
    pub async fn messages(&self, session: &Session, query: MessageQuery) -> Result<MessagePage> {
        let (Some(account_id), email) = (session.account_id().map(str::to_owned), session.email().to_owned()) else {
            return Err(Error::Forbidden("only staff have an overview of messages"));
        };
        let session = session.clone();
        let words: Vec<String> = query.search.split_whitespace().take(8).map(pattern).collect();
        self.db
            .read(move |conn| {
                Gateway::check_live(conn, &session)?;
                let mine = || {
                    let base = transfers::table.into_boxed();
                    let mut q = match query.side {
                        Side::Sent => base.filter(transfers::owner_id.eq(account_id.clone())),
                        Side::Received => base
                            .filter(transfers::recipient_email.eq(email.clone()))
                            .filter(transfers::state.eq_any(["sent", "expired"])),
                    };
                    for word in &words {
                        // Each word in who (address or name), the subject or the reference.
                        macro_rules! anywhere {
                            ($($column:expr),*) => {
                                false.into_sql::<diesel::sql_types::Bool>()
                                    $(.or(lower($column).like(word.clone()).escape('\\')))*
                            };
                        }
                        q = match query.side {
                            Side::Sent => q.filter(anywhere!(
                                transfers::recipient_email.assume_not_null(),
                                transfers::recipient_name.assume_not_null(),
                                transfers::subject,
                                transfers::reference
                            )),
                            Side::Received => q.filter(anywhere!(
                                transfers::sender_email,
                                transfers::sender_name,
                                transfers::subject,
                                transfers::reference
                            )),
                        };
                    }
                    q
                };
                let total: i64 = mine().select(count_star()).get_result(conn)?;
                let total = u64::try_from(total).unwrap_or(0);
                let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE))).unwrap_or(u32::MAX).max(1);
                let page = query.page.clamp(1, pages);
                let rows: Vec<LineRow> = mine()
                    .order((coalesce(transfers::sent_at, transfers::created_at).desc(), transfers::id))
                    .limit(i64::from(PAGE_SIZE))
                    .offset(i64::from((page - 1) * PAGE_SIZE))
                    .select((
                        transfers::id,
                        transfers::name,
                        transfers::state,
                        transfers::kind,
                        transfers::sender_name,
                        transfers::sender_email,
                        transfers::recipient_name,
                        transfers::recipient_email,
                        transfers::subject,
                        transfers::reference,
                        transfers::created_at,
                        transfers::sent_at,
                        transfers::expires_at,
                    ))
                    .load(conn)?;
                let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
                let firsts: Vec<(String, Option<i64>)> = downloads::table
                    .filter(downloads::transfer_id.eq_any(ids))
                    .group_by(downloads::transfer_id)
                    .select((downloads::transfer_id, min(downloads::at)))
                    .load(conn)?;
                let lines = rows
                    .into_iter()
                    .map(|r| {
                        let (id, name, state, kind, sender_name, sender_email, to_name, to_email) =
                            (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7);
                        let counterpart = match query.side {
                            Side::Sent => mailbox(to_name.as_deref().unwrap_or_default(), to_email.as_deref()),
                            Side::Received => mailbox(&sender_name, Some(&sender_email)),
                        };
                        let downloaded_at = firsts.iter().find(|(t, _)| *t == id).and_then(|(_, at)| *at);
                        Ok(MessageLine {
                            name,
                            state: TransferState::parse(&state)?,
                            kind: TransferKind::parse(&kind)?,
                            counterpart,
                            subject: r.8,
                            reference: r.9,
                            at: Timestamp::from_millis(r.11.unwrap_or(r.10)),
                            expires_at: r.12.map(Timestamp::from_millis),
                            downloaded_at: downloaded_at.map(Timestamp::from_millis),
                            id: TransferId::new(id),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(MessagePage { lines, total, page, pages })
            })
            .await
    }
}

fn mailbox(name: &str, email: Option<&str>) -> String {
    match email {
        None => String::new(),
        Some(email) if name.trim().is_empty() => email.to_owned(),
        Some(email) => format!("{name} <{email}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_match_literally() {
        assert_eq!(pattern("Dossier"), "%dossier%");
        assert_eq!(pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
