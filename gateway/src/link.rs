//! Links: the recipient's link (with its SMS code for an external recipient)
//! and the report link of a public delivery. Opening a link changes nothing
//! (mail scanners open every link); only redeeming it with the code does.
//!
//! The secret of a link is 256 random bits, stored only as its SHA-256. A code
//! is six digits, stored as an HMAC bound to its link, compared in constant
//! time, valid for a few minutes, void after a few wrong tries; after too many
//! wrong tries on a link in all, the link locks and the sender is told.

use std::ops::Range;

use diesel::prelude::*;

use crate::crypto::secret_hash;
use crate::db::AnyConnection;
use crate::db::schema::links;
use crate::download::{DocumentReader, Download, Proof, check_readable, open_all, open_row, record_download};
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::outbox::Outgoing;
use crate::random::RandomExt;
use crate::session::{Origin, Session};
use crate::transfer::{TransferId, TransferRow, load};
use crate::upload::{DocumentInfo, delivered_of};
use crate::{Gateway, Language, Timestamp};

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkPurpose {
    Recipient,
    Report,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Recipient => "recipient",
            LinkPurpose::Report => "report",
        }
    }
}

/// What opening a link shows, without changing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// Enter the code sent by SMS to this (masked) number.
    NeedsCode {
        /// Where the code went.
        masked_phone: String,
        /// The language the sender chose.
        language: Language,
    },
    /// The recipient is inside the organisation: sign in.
    NeedsSignIn {
        /// The language the sender chose.
        language: Language,
    },
    /// Too many wrong codes: the sender has been told.
    Locked {
        /// The language the sender chose.
        language: Language,
    },
    /// Unknown, expired or aborted: deliberately the same answer.
    Gone,
}

/// What the recipient's page shows of a message.
#[derive(Debug, Clone)]
pub struct RecipientView {
    /// Subject, reference, language and the accompanying text.
    pub envelope: Envelope,
    /// Who sent it: `Name <address>`.
    pub sender: String,
    /// Until when its documents can be downloaded.
    pub expires_at: Option<Timestamp>,
    /// What it delivers (a folder as its zip).
    pub documents: Vec<DocumentInfo>,
}

/// The right to read one transfer as its recipient, given by redeeming its
/// link. Holds the link secret, which the documents' keys depend on.
#[derive(Clone)]
pub struct RecipientGrant {
    transfer_id: TransferId,
    secret: zeroize::Zeroizing<String>,
    who: String,
    proof: Proof,
}

impl std::fmt::Debug for RecipientGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipientGrant").field("transfer_id", &self.transfer_id).finish_non_exhaustive()
    }
}

impl RecipientGrant {
    /// The transfer this grant opens.
    pub fn transfer_id(&self) -> &TransferId {
        &self.transfer_id
    }

    pub(crate) fn new(transfer_id: String, secret: &str, who: String, proof: Proof) -> RecipientGrant {
        RecipientGrant {
            transfer_id: TransferId::new(transfer_id),
            secret: zeroize::Zeroizing::new(secret.to_owned()),
            who,
            proof,
        }
    }

    pub(crate) fn who(&self) -> &str {
        &self.who
    }

    pub(crate) fn proof(&self) -> Proof {
        self.proof
    }
}

#[derive(Debug, Queryable)]
struct LinkRow {
    id: String,
    transfer_id: String,
    purpose: String,
    code_hmac: Option<Vec<u8>>,
    code_issued_at: Option<i64>,
    code_failures: i32,
    failures_total: i32,
    locked_at: Option<i64>,
}

/// Take a link's row for the rest of this transaction, before it is read:
/// guesses at one link, and requests for a new code, are then counted one
/// after the other on every node, so no more than the limit are ever
/// evaluated and a link locks once. (PostgreSQL reads afresh at each
/// statement and holds the row written until the commit; SQLite has one
/// writer already.)
fn take_link(conn: &mut AnyConnection, secret: &str) -> Result<()> {
    diesel::update(links::table.filter(links::secret_hash.eq(secret_hash(secret))))
        .set(links::code_failures.eq(links::code_failures))
        .execute(conn)?;
    Ok(())
}

fn find_link(conn: &mut AnyConnection, secret: &str) -> Result<Option<LinkRow>> {
    Ok(links::table
        .filter(links::secret_hash.eq(secret_hash(secret)))
        .select((
            links::id,
            links::transfer_id,
            links::purpose,
            links::code_hmac,
            links::code_issued_at,
            links::code_failures,
            links::failures_total,
            links::locked_at,
        ))
        .first(conn)
        .optional()?)
}

/// The transfer whose report a report link opens; `None` for an unknown
/// secret or a link of another purpose (a recipient's link opens no report).
pub(crate) fn report_link_transfer(conn: &mut AnyConnection, secret: &str) -> Result<Option<String>> {
    Ok(find_link(conn, secret)?.filter(|l| l.purpose == LinkPurpose::Report.as_str()).map(|l| l.transfer_id))
}

impl Gateway {
    pub(crate) fn create_link(
        &self,
        conn: &mut AnyConnection,
        transfer_id: &str,
        purpose: LinkPurpose,
        secret: &str,
    ) -> Result<String> {
        let id = self.random.id()?;
        diesel::insert_into(links::table)
            .values((
                links::id.eq(&id),
                links::transfer_id.eq(transfer_id),
                links::purpose.eq(purpose.as_str()),
                links::secret_hash.eq(secret_hash(secret)),
                links::created_at.eq(self.now().as_millis()),
                links::code_failures.eq(0),
                links::failures_total.eq(0),
                links::codes_issued.eq(0),
            ))
            .execute(conn)?;
        Ok(id)
    }

    /// Store a fresh code for a link (its keyed hash only), counting it
    /// against the link's codes per hour.
    pub(crate) fn issue_code(&self, conn: &mut AnyConnection, link_id: &str, code: &str) -> Result<()> {
        let now = self.now().as_millis();
        let (issued, window): (i32, Option<i64>) =
            links::table.find(link_id).select((links::codes_issued, links::codes_window_started_at)).first(conn)?;
        let hour = 3_600_000;
        let (issued, window) = match window {
            Some(start) if now - start < hour => (issued, start),
            _ => (0, now),
        };
        if issued >= i32::try_from(self.settings.rules.codes_per_hour).unwrap_or(i32::MAX) {
            return Err(Error::RateLimited);
        }
        diesel::update(links::table.find(link_id))
            .set((
                links::code_hmac.eq(Some(self.keys.code_tag(link_id, code))),
                links::code_issued_at.eq(Some(now)),
                links::code_failures.eq(0),
                links::codes_issued.eq(issued + 1),
                links::codes_window_started_at.eq(Some(window)),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// What a link shows when opened (GET or HEAD). Reads only; writes nothing.
    pub async fn link_status(&self, secret: &str) -> Result<LinkStatus> {
        let secret = secret.to_owned();
        let now = self.now();
        self.db
            .read(move |conn| {
                let Some(link) = find_link(conn, &secret)? else { return Ok(LinkStatus::Gone) };
                if link.purpose != LinkPurpose::Recipient.as_str() {
                    return Ok(LinkStatus::Gone);
                }
                let row = load(conn, &link.transfer_id)?;
                if check_readable(&row, now).is_err() {
                    return Ok(LinkStatus::Gone);
                }
                let language = Language::parse(&row.language)?;
                if link.locked_at.is_some() {
                    return Ok(LinkStatus::Locked { language });
                }
                Ok(match &row.recipient_phone {
                    Some(phone) => LinkStatus::NeedsCode { masked_phone: masked(phone)?, language },
                    None => LinkStatus::NeedsSignIn { language },
                })
            })
            .await
    }

    /// Redeem a recipient's link with the SMS code. Every wrong code counts;
    /// too many void the code, more lock the link and alert the sender.
    pub async fn redeem_with_code(&self, secret: &str, code: &str, origin: Origin) -> Result<RecipientGrant> {
        let (secret_owned, code) = (secret.to_owned(), code.trim().to_owned());
        let this = self.clone();
        let outcome = self
            .db
            .write(move |conn| {
                take_link(conn, &secret_owned)?;
                let (link, row) = this.live_link(conn, &secret_owned)?;
                let now = this.now().as_millis();
                let valid_ms = i64::try_from(this.settings.rules.code_valid.as_millis()).unwrap_or(i64::MAX);
                let fresh = link.code_issued_at.is_some_and(|at| now - at < valid_ms);
                let matches = match (&link.code_hmac, fresh) {
                    (Some(tag), true) => this.keys.code_matches(&link.id, &code, tag),
                    _ => false,
                };
                if matches {
                    diesel::update(links::table.find(&link.id))
                        .set((links::code_hmac.eq(None::<Vec<u8>>), links::redeemed_at.eq(Some(now))))
                        .execute(conn)?;
                    this.event(&origin, "link-redeemed").transfer(&row.id).detail("sms-code").record(conn)?;
                    let who = row.recipient_email.clone().unwrap_or_default();
                    return Ok(Ok(who));
                }
                Ok(Err(this.wrong_code(conn, &link, &row, &origin)?))
            })
            .await?;
        match outcome {
            Ok(who) => {
                let transfer_id = self.db.read({
                    let s = secret.to_owned();
                    move |conn| find_link(conn, &s)?.map(|l| l.transfer_id).ok_or(Error::NotFound)
                });
                Ok(RecipientGrant {
                    transfer_id: TransferId::new(transfer_id.await?),
                    secret: zeroize::Zeroizing::new(secret.to_owned()),
                    who,
                    proof: Proof::SmsCode,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Redeem a link for a recipient inside the organisation, who signed in.
    pub async fn redeem_signed_in(&self, secret: &str, session: &Session) -> Result<RecipientGrant> {
        let (secret_owned, s) = (secret.to_owned(), session.clone());
        let this = self.clone();
        let transfer_id = self
            .db
            .write(move |conn| {
                Gateway::check_live(conn, &s)?;
                let (link, row) = this.live_link(conn, &secret_owned)?;
                if row.recipient_phone.is_some() || row.recipient_email.as_deref() != Some(s.email()) {
                    return Err(Error::Forbidden("this link is for someone else"));
                }
                diesel::update(links::table.find(&link.id))
                    .set(links::redeemed_at.eq(Some(this.now().as_millis())))
                    .execute(conn)?;
                this.event(&s.origin, "link-redeemed")
                    .actor(s.email())
                    .transfer(&row.id)
                    .detail("account")
                    .record(conn)?;
                Ok(row.id)
            })
            .await?;
        Ok(RecipientGrant {
            transfer_id: TransferId::new(transfer_id),
            secret: zeroize::Zeroizing::new(secret.to_owned()),
            who: session.email().to_owned(),
            proof: Proof::Account,
        })
    }

    /// Send a new code for a link ("send me a new code"); limited per hour.
    pub async fn request_new_code(&self, secret: &str, origin: Origin) -> Result<String> {
        let secret = secret.to_owned();
        let code = format!("{:06}", self.random.below(1_000_000)?);
        let this = self.clone();
        self.db
            .write(move |conn| {
                take_link(conn, &secret)?;
                let (link, row) = this.live_link(conn, &secret)?;
                let phone =
                    row.recipient_phone.clone().ok_or(Error::Forbidden("this link needs a sign-in, not a code"))?;
                this.issue_code(conn, &link.id, &code)?;
                let language = Language::parse(&row.language)?;
                this.enqueue(
                    conn,
                    Outgoing::sms("sms-code", language, &phone).param("code", code.as_str()).transfer(&row.id),
                )?;
                this.event(&origin, "code-sent").transfer(&row.id).record(conn)?;
                masked(&phone)
            })
            .await
    }

    /// The link, if it is a recipient link of a live, unlocked transfer.
    fn live_link(&self, conn: &mut AnyConnection, secret: &str) -> Result<(LinkRow, TransferRow)> {
        let link = find_link(conn, secret)?.ok_or(Error::NotFound)?;
        if link.purpose != LinkPurpose::Recipient.as_str() {
            return Err(Error::NotFound);
        }
        let row = load(conn, &link.transfer_id)?;
        check_readable(&row, self.now())?;
        if link.locked_at.is_some() {
            return Err(Error::Locked);
        }
        Ok((link, row))
    }

    fn wrong_code(
        &self,
        conn: &mut AnyConnection,
        link: &LinkRow,
        row: &TransferRow,
        origin: &Origin,
    ) -> Result<Error> {
        let rules = &self.settings.rules;
        let failures = link.code_failures + 1;
        let total = link.failures_total + 1;
        let void = failures >= i32::try_from(rules.code_attempts).unwrap_or(i32::MAX);
        let lock = total >= i32::try_from(rules.link_attempts).unwrap_or(i32::MAX);
        let now = self.now().as_millis();
        diesel::update(links::table.find(&link.id))
            .set((
                links::code_failures.eq(failures),
                links::failures_total.eq(total),
                links::code_hmac.eq(if void { None } else { link.code_hmac.clone() }),
                links::locked_at.eq(if lock { Some(now) } else { None }),
            ))
            .execute(conn)?;
        self.event(origin, "code-failed").transfer(&row.id).detail(&format!("{total} wrong in all")).record(conn)?;
        if !lock {
            return Ok(Error::BadCredentials);
        }
        self.event(origin, "link-locked").transfer(&row.id).record(conn)?;
        let language = Language::parse(&row.language)?;
        self.enqueue(
            conn,
            Outgoing::mail("lockout-alert", language, &row.sender_email)
                .param("recipient", row.recipient_email.clone().unwrap_or_default())
                .param("subject", row.subject.as_str())
                .param("name", row.name.as_str())
                .transfer(&row.id)
                .caused_by(row.owner_id.as_deref()),
        )?;
        Ok(Error::Locked)
    }

    /// The envelope and documents a recipient sees on the download page.
    pub async fn recipient_view(&self, grant: &RecipientGrant) -> Result<RecipientView> {
        let (t, this) = (grant.transfer_id.as_str().to_owned(), self.clone());
        let now = self.now();
        self.db
            .read(move |conn| {
                let row = load(conn, &t)?;
                check_readable(&row, now)?;
                Ok(RecipientView {
                    envelope: this.envelope_of(&row)?,
                    sender: match row.sender_name.trim() {
                        "" => row.sender_email.clone(),
                        name => format!("{name} <{}>", row.sender_email),
                    },
                    expires_at: row.expires_at.map(Timestamp::from_millis),
                    documents: delivered_of(conn, &t)?,
                })
            })
            .await
    }

    /// Read a document as the recipient; a read from the start is recorded as a download.
    pub async fn read_as_recipient(
        &self,
        grant: &RecipientGrant,
        name: &str,
        range: Option<Range<u64>>,
        origin: Origin,
    ) -> Result<DocumentReader> {
        let (t, n, g) = (grant.transfer_id.as_str().to_owned(), name.to_owned(), grant.clone());
        let now = self.now();
        let download_id = self.random.id()?;
        let this = self.clone();
        let (opened, range) = self
            .db
            .write(move |conn| {
                let row = load(conn, &t)?;
                check_readable(&row, now)?;
                let opened = open_row(conn, &t, &n)?;
                let range = Gateway::clamp_range(range, opened.size)?;
                if range.start == 0 {
                    let d = Download {
                        transfer_id: &t,
                        doc_id: &opened.doc_id,
                        who: &g.who,
                        proof: g.proof,
                        origin: &origin,
                    };
                    record_download(conn, download_id, now, d)?;
                    this.enqueue_receipt(conn, &row, &opened.doc_id, &opened.name)?;
                }
                Ok((opened, range))
            })
            .await?;
        self.open_reader(opened, range, Some(grant.secret.as_str())).await
    }

    /// The length of the zip [`Gateway::read_all_as_recipient`] reads,
    /// recording nothing (a `HEAD`).
    pub async fn all_zip_len(&self, grant: &RecipientGrant) -> Result<u64> {
        let t = grant.transfer_id.as_str().to_owned();
        let now = self.now();
        self.db
            .read(move |conn| {
                check_readable(&load(conn, &t)?, now)?;
                Ok(open_all(conn, &t)?.0.size)
            })
            .await
    }

    /// Read every document of the message as one zip ("download all"),
    /// recorded as a download of each.
    pub async fn read_all_as_recipient(&self, grant: &RecipientGrant, origin: Origin) -> Result<DocumentReader> {
        let (t, g) = (grant.transfer_id.as_str().to_owned(), grant.clone());
        let now = self.now();
        let this = self.clone();
        let opened = self
            .db
            .write(move |conn| {
                let row = load(conn, &t)?;
                check_readable(&row, now)?;
                let (opened, delivered) = open_all(conn, &t)?;
                for (doc_id, name) in &delivered {
                    let d = Download { transfer_id: &t, doc_id, who: &g.who, proof: g.proof, origin: &origin };
                    record_download(conn, this.random.id()?, now, d)?;
                    this.enqueue_receipt(conn, &row, doc_id, name)?;
                }
                Ok(opened)
            })
            .await?;
        let range = 0..opened.size;
        self.open_reader(opened, range, Some(grant.secret.as_str())).await
    }

    /// The sender hears of the first download of each document.
    fn enqueue_receipt(&self, conn: &mut AnyConnection, row: &TransferRow, doc_id: &str, document: &str) -> Result<()> {
        use crate::db::schema::downloads;
        let earlier: i64 = downloads::table
            .filter(downloads::transfer_id.eq(&row.id))
            .filter(downloads::document_id.eq(doc_id))
            .count()
            .get_result(conn)?;
        if earlier > 1 || row.owner_id.is_none() && row.upload_request_id.is_none() {
            return Ok(());
        }
        let language = Language::parse(&row.language)?;
        self.enqueue(
            conn,
            Outgoing::mail("download-receipt", language, &row.sender_email)
                .param("document", document)
                .param("recipient", row.recipient_email.clone().unwrap_or_default())
                .param("subject", row.subject.as_str())
                .param("at", Timestamp::rfc3339(self.now()))
                .transfer(&row.id)
                .caused_by(row.owner_id.as_deref()),
        )
    }
}

fn masked(phone: &str) -> Result<String> {
    crate::address::PhoneNumber::parse(phone).map(|p| p.masked()).map_err(|e| Error::internal("stored phone", e))
}
