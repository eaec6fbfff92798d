//! A staff member's overview of messages: those they sent (drafts and
//! aborted ones too, as the drive never shows them) and those they
//! received, newest first, a page at a time, searchable by who, subject and
//! reference; each with its state and whether it has been downloaded. One
//! query of a page's rows and one of their first downloads, however many
//! messages the account has.
//!
//! A page is read in the order of an index on (owner or recipient, when,
//! id), so its rows are found without sorting all of the account's
//! messages; only a search reads every one of them (to count the matches).

use diesel::dsl::{count_star, min};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;

use crate::db::MultiBackend;
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

// The order of the overview: `transfers_owner_newest` and
// `transfers_recipient_newest` index this very expression.
diesel::define_sql_function!(fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::BigInt>, y: diesel::sql_types::BigInt) -> diesel::sql_types::BigInt);

/// A search: every word (a LIKE pattern of [`pattern`]) in one of the texts
/// of a message, its who (address or name), subject or reference, whatever
/// the case. Written for each backend, as a search reads every message of
/// the account and what costs most there is folding the case:
///
/// - PostgreSQL's LIKE minds case and its `lower()` folds every letter, at
///   a price per call: so the texts are folded once, joined by spaces, and
///   each word sought in that. A word holds no whitespace and its LIKE
///   characters are escaped, so it is found in the joined texts only where
///   it is in one of them.
/// - SQLite's LIKE ignores the case of ASCII letters by itself, and its
///   `lower()` folds no others, so each text is compared as it is: the same
///   matches as with `lower()`, without calling it.
#[derive(Debug, Clone)]
struct Matches {
    side: Side,
    patterns: Vec<String>,
}

impl Matches {
    fn texts<DB: diesel::backend::Backend>(&self) -> [&'static dyn QueryFragment<DB>; 4]
    where
        transfers::recipient_email: QueryFragment<DB>,
        transfers::recipient_name: QueryFragment<DB>,
        transfers::sender_email: QueryFragment<DB>,
        transfers::sender_name: QueryFragment<DB>,
        transfers::subject: QueryFragment<DB>,
        transfers::reference: QueryFragment<DB>,
    {
        match self.side {
            Side::Sent => {
                [&transfers::recipient_email, &transfers::recipient_name, &transfers::subject, &transfers::reference]
            }
            Side::Received => {
                [&transfers::sender_email, &transfers::sender_name, &transfers::subject, &transfers::reference]
            }
        }
    }
}

impl Expression for Matches {
    type SqlType = diesel::sql_types::Bool;
}

impl AppearsOnTable<transfers::table> for Matches {}

impl diesel::expression::ValidGrouping<()> for Matches {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for Matches {
    type QueryId = ();
    // Its SQL differs with the number of words.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Matches {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("lower(");
        for (n, text) in self.texts().into_iter().enumerate() {
            if n > 0 {
                out.push_sql(" || ' ' || ");
            }
            out.push_sql("coalesce(");
            text.walk_ast(out.reborrow())?;
            out.push_sql(", '')");
        }
        // Backslash is PostgreSQL's escape character of LIKE unless told otherwise.
        out.push_sql(") LIKE ALL (");
        out.push_bind_param::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&self.patterns)?;
        out.push_sql(")");
        Ok(())
    }
}

impl QueryFragment<Sqlite> for Matches {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("(1");
        for pattern in &self.patterns {
            out.push_sql(" AND (0");
            for text in self.texts() {
                out.push_sql(" OR ");
                text.walk_ast(out.reborrow())?;
                out.push_sql(" LIKE ");
                out.push_bind_param::<diesel::sql_types::Text, _>(pattern)?;
                out.push_sql(" ESCAPE '\\'");
            }
            out.push_sql(")");
        }
        out.push_sql(")");
        Ok(())
    }
}

impl QueryFragment<MultiBackend> for Matches {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

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
                    if !words.is_empty() {
                        q = q.filter(Matches { side: query.side, patterns: words.clone() });
                    }
                    q
                };
                let newest_first = (coalesce(transfers::sent_at, transfers::created_at).desc(), transfers::id);
                let line = (
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
                );
                let (total, page, pages, rows): (_, _, _, Vec<LineRow>) = if words.is_empty() {
                    // The index counts the messages and walks to the page.
                    let (total, page, pages) = page_of(mine().select(count_star()).get_result(conn)?, query.page);
                    let rows = mine()
                        .order(newest_first)
                        .limit(i64::from(PAGE_SIZE))
                        .offset(i64::from((page - 1) * PAGE_SIZE))
                        .select(line)
                        .load(conn)?;
                    (total, page, pages, rows)
                } else {
                    // A search reads every message of the account, so it
                    // does so once: all the matches' ids, in order, count
                    // them and give the page's; a count and then a page
                    // would each read them all.
                    let found: Vec<String> = mine().order(newest_first).select(transfers::id).load(conn)?;
                    let (total, page, pages) = page_of(i64::try_from(found.len()).unwrap_or(i64::MAX), query.page);
                    let skip = usize::try_from((page - 1) * PAGE_SIZE).unwrap_or(usize::MAX);
                    let on_page: Vec<&String> = found.iter().skip(skip).take(PAGE_SIZE as usize).collect();
                    let rows = match on_page.is_empty() {
                        true => Vec::new(),
                        false => transfers::table
                            .filter(transfers::id.eq_any(on_page))
                            .order(newest_first)
                            .select(line)
                            .load(conn)?,
                    };
                    (total, page, pages, rows)
                };
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

/// The total of matches, the page to show of those asked for (a page past
/// the end is the last one), and the number of pages.
fn page_of(total: i64, asked: u32) -> (u64, u32, u32) {
    let total = u64::try_from(total).unwrap_or(0);
    let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE))).unwrap_or(u32::MAX).max(1);
    (total, asked.clamp(1, pages), pages)
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
