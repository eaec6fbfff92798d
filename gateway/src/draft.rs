//! Composing and sending a message: a draft is made, its envelope set, its
//! documents added (see `upload`), and then it is sent, after the rules of
//! sending are checked in one order.

use diesel::prelude::*;

use crate::account::{find_by_email, is_affiliated};
use crate::address::{EmailAddress, PhoneNumber};
use crate::db::AnyConnection;
use crate::db::schema::{documents, templates, transfers, upload_requests};
use crate::envelope::{Envelope, MAX_MESSAGE_TXT};
use crate::error::{Error, Result, Unready};
use crate::link::LinkPurpose;
use crate::outbox::Outgoing;
use crate::policy::name::{FileName, NameKind, ZIP_SUFFIX};
use crate::random::RandomExt;
use crate::session::{Actor, Session};
use crate::transfer::{Folder, TransferId, TransferKind, TransferRow, TransferSummary, load_own_draft, summarize};
use crate::upload::kind_of;
use crate::{Gateway, Language, Role, Timestamp, crypto};

/// What a successful send tells the sender.
#[derive(Debug, Clone)]
pub struct SendReceipt {
    /// The transfer.
    pub transfer_id: TransferId,
    /// Until when the recipient may download.
    pub expires_at: Timestamp,
    /// Where the code went, masked, for an external recipient.
    pub masked_phone: Option<String>,
}

/// The longest folder name of a draft.
const MAX_DRAFT_NAME_CHARS: usize = 100;

/// A draft's folder name: something a file manager can show and a shell can type.
pub(crate) fn check_draft_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::Invalid(format!("the folder name {name:?} {why}")));
    if name.is_empty() || name.chars().count() > MAX_DRAFT_NAME_CHARS {
        return bad(&format!("must have 1 to {MAX_DRAFT_NAME_CHARS} characters"));
    }
    if name == "." || name == ".." || name.starts_with('.') {
        return bad("may not start with a dot");
    }
    if name.trim() != name || name.ends_with('.') {
        return bad("may not start or end with a space, or end with a dot");
    }
    if let Some(c) = name.chars().find(|c| crate::policy::name::is_forbidden_char(*c)) {
        return bad(&format!("may not contain U+{:04X}", u32::from(c)));
    }
    Ok(())
}

impl Gateway {
    /// Make a new draft in the caller's outbox, pre-filled from their default template.
    pub async fn create_draft(&self, session: &Session, name: &str) -> Result<TransferSummary> {
        check_draft_name(name)?;
        let (id, now) = (self.random.id()?, self.now().as_millis());
        let Actor::Account { id: owner, email, name: sender_name, role } = session.actor.clone() else {
            return Err(Error::Forbidden("with a request link you can only fill in the draft that answers it"));
        };
        let kind = match role {
            Role::Partner => TransferKind::PartnerPush,
            Role::Staff | Role::Admin => TransferKind::StaffSend,
        };
        let (session, name) = (session.clone(), name.to_owned());
        let event = self.event(&session.origin, "draft-created").actor(&email).transfer(&id);
        let window = self.settings.rules.upload_window;
        let this = self.clone();
        self.db
            .write(move |conn| {
                Gateway::check_live(conn, &session)?;
                ensure_name_free(conn, &owner, &name)?;
                let template: Option<(String, String, String, String)> = templates::table
                    .filter(templates::owner_id.eq(&owner))
                    .filter(templates::is_default.eq(true))
                    .select((templates::subject, templates::reference, templates::body, templates::language))
                    .first(conn)
                    .optional()?;
                let (subject, reference, body, language) =
                    template.unwrap_or_else(|| (String::new(), String::new(), String::new(), "nl".into()));
                let body_sealed = match body.is_empty() {
                    true => None,
                    false => Some(this.keys.seal_text(&body, &format!("transfer-body:{id}"), this.random.as_ref())?),
                };
                let row = TransferRow {
                    owner_id: Some(owner),
                    sender_name,
                    sender_email: email,
                    subject,
                    reference,
                    body_sealed,
                    ..TransferRow::draft(id.clone(), kind, &name, language, now)
                };
                diesel::insert_into(transfers::table).values(&row).execute(conn)?;
                event.record(conn)?;
                summarize(&row, Folder::Outbox, window)
            })
            .await
    }

    /// The envelope of a transfer the caller may see.
    pub async fn envelope(&self, session: &Session, transfer_id: &TransferId) -> Result<Envelope> {
        let (session, id) = (session.clone(), transfer_id.as_str().to_owned());
        let this = self.clone();
        self.db
            .read(move |conn| {
                let (row, _) = crate::transfer::load_visible(conn, &session, &id)?;
                this.envelope_of(&row)
            })
            .await
    }

    /// `message.txt` as the caller sees it: the bytes its writer wrote (or,
    /// until a client writes one, the envelope rendered), with the reason of
    /// a failed send as comment lines on top.
    pub async fn message_txt(&self, session: &Session, transfer_id: &TransferId) -> Result<String> {
        let (session, id) = (session.clone(), transfer_id.as_str().to_owned());
        let this = self.clone();
        self.db
            .read(move |conn| {
                let (row, _) = crate::transfer::load_visible(conn, &session, &id)?;
                let text = match this.written_message_txt(&row)? {
                    Some(text) => text,
                    None => this.envelope_of(&row)?.render(),
                };
                Ok(match &row.send_problem {
                    Some(problem) => format!("{}{text}", crate::envelope::problem_lines(problem)),
                    None => text,
                })
            })
            .await
    }

    /// `message.txt` as a client last wrote it, if one did.
    fn written_message_txt(&self, row: &TransferRow) -> Result<Option<String>> {
        row.message_txt_sealed
            .as_ref()
            .map(|sealed| self.keys.open_text(sealed, &format!("transfer-message-txt:{}", row.id)))
            .transpose()
    }

    pub(crate) fn envelope_of(&self, row: &TransferRow) -> Result<Envelope> {
        let to = match &row.recipient_email {
            Some(email) => {
                let name = row.recipient_name.clone().filter(|n| !n.is_empty());
                let text = match name {
                    Some(name) => format!("{name} <{email}>"),
                    None => email.clone(),
                };
                Some(crate::address::Mailbox::parse(&text).map_err(|e| Error::internal("stored recipient", e))?)
            }
            None => None,
        };
        let phone = match &row.recipient_phone {
            Some(p) => Some(PhoneNumber::parse(p).map_err(|e| Error::internal("stored phone", e))?),
            None => None,
        };
        let text = match &row.body_sealed {
            Some(sealed) => self.keys.open_text(sealed, &format!("transfer-body:{}", row.id))?,
            None => String::new(),
        };
        Ok(Envelope {
            to,
            phone,
            subject: row.subject.clone(),
            reference: row.reference.clone(),
            language: Language::parse(&row.language)?,
            text,
        })
    }

    /// Replace the envelope of a draft (a web form, the command line):
    /// `message.txt` is its rendering from now on. Its fields are held to
    /// the limits of `message.txt` ([`Envelope::check`]).
    pub async fn set_envelope(&self, session: &Session, transfer_id: &TransferId, env: Envelope) -> Result<()> {
        env.check()?;
        self.store_envelope(session, transfer_id.as_str(), Ok(env), None).await
    }

    /// Write `message.txt` as a client wrote it: it reads back byte for
    /// byte, and the envelope is parsed from it. Only a text over
    /// [`MAX_MESSAGE_TXT`] bytes or not UTF-8 is refused; one that does not
    /// parse is kept as written, and sending then refuses with the reason.
    pub async fn write_message_txt(
        &self,
        session: &Session,
        transfer_id: &TransferId,
        text: impl AsRef<[u8]>,
    ) -> Result<()> {
        let text = text.as_ref();
        if text.len() > MAX_MESSAGE_TXT {
            return Err(Error::Invalid(format!("message.txt may be at most {MAX_MESSAGE_TXT} bytes")));
        }
        let text = std::str::from_utf8(text)
            .map_err(|_| Error::Invalid("message.txt must be UTF-8 text; save it as UTF-8 and try again".into()))?;
        let sealed = self.keys.seal_text(text, &format!("transfer-message-txt:{transfer_id}"), self.random.as_ref())?;
        self.store_envelope(session, transfer_id.as_str(), Envelope::parse(text), Some(sealed)).await
    }

    /// Store an envelope, or when `message.txt` did not parse, only the
    /// text as written (sending will tell why it cannot be sent).
    async fn store_envelope(
        &self,
        session: &Session,
        transfer_id: &str,
        env: Result<Envelope>,
        written: Option<Vec<u8>>,
    ) -> Result<()> {
        let (session, id) = (session.clone(), transfer_id.to_owned());
        let body_sealed = match env.as_ref().map(|env| env.text.as_str()) {
            Ok(text) if !text.is_empty() => {
                Some(self.keys.seal_text(text, &format!("transfer-body:{id}"), self.random.as_ref())?)
            }
            _ => None,
        };
        let event = self.event(&session.origin, "envelope-set").actor(&session.audit_actor()).transfer(&id);
        self.db
            .write(move |conn| {
                let row = load_own_draft(conn, &session, &id)?;
                let kept = (transfers::message_txt_sealed.eq(&written), transfers::send_problem.eq(None::<String>));
                let fields = env.and_then(|env| recipient_of(&row, &env).map(|to| (env, to)));
                match (fields, &written) {
                    (Ok((env, (name, email))), _) => {
                        diesel::update(transfers::table.find(&id))
                            .set((
                                transfers::recipient_name.eq(name),
                                transfers::recipient_email.eq(email),
                                transfers::recipient_phone.eq(env.phone.as_ref().map(|p| p.as_e164().to_owned())),
                                transfers::subject.eq(&env.subject),
                                transfers::reference.eq(&env.reference),
                                transfers::language.eq(env.language.as_str()),
                                transfers::body_sealed.eq(body_sealed),
                                kept,
                            ))
                            .execute(conn)?;
                    }
                    // A text as written is kept even when it does not make an envelope.
                    (Err(_), Some(_)) => {
                        diesel::update(transfers::table.find(&id)).set(kept).execute(conn)?;
                    }
                    (Err(e), None) => return Err(e),
                }
                event.record(conn)
            })
            .await
    }

    /// Rename a draft's folder.
    pub async fn rename_draft(&self, session: &Session, transfer_id: &TransferId, new_name: &str) -> Result<()> {
        check_draft_name(new_name)?;
        let (session, id, new_name) = (session.clone(), transfer_id.as_str().to_owned(), new_name.to_owned());
        self.db
            .write(move |conn| {
                let row = load_own_draft(conn, &session, &id)?;
                let owner = row.owner_id.clone().ok_or(Error::Forbidden("this draft's name is fixed"))?;
                if row.name != new_name {
                    ensure_name_free(conn, &owner, &new_name)?;
                }
                diesel::update(transfers::table.find(&id)).set(transfers::name.eq(&new_name)).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Withdraw a draft: it disappears from the outbox and its documents are
    /// destroyed (the blobs follow in the next sweep).
    pub async fn discard_draft(&self, session: &Session, transfer_id: &TransferId) -> Result<()> {
        let (s, id, now) = (session.clone(), transfer_id.as_str().to_owned(), self.now());
        let event = self.event(&session.origin, "draft-discarded").actor(&session.audit_actor()).transfer(&id);
        self.db
            .write(move |conn| {
                load_own_draft(conn, &s, &id)?;
                diesel::update(transfers::table.find(&id))
                    .set((
                        transfers::state.eq("aborted"),
                        transfers::aborted_at.eq(Some(now.as_millis())),
                        transfers::abort_reason.eq(Some("withdrawn by the sender")),
                    ))
                    .execute(conn)?;
                crate::lifecycle::destroy_documents(conn, &id, now)?;
                event.record(conn)
            })
            .await
    }

    /// Send a draft. When it cannot be sent, the reason is returned and also
    /// kept on the draft (it shows at the top of `message.txt`).
    pub async fn send(&self, session: &Session, transfer_id: &TransferId) -> Result<SendReceipt> {
        let (session, id) = (session.clone(), transfer_id.as_str().to_owned());
        let secret = self.random.secret()?;
        let code = format!("{:06}", self.random.below(1_000_000)?);
        let this = self.clone();
        self.db
            .write(move |conn| {
                let row = load_own_draft(conn, &session, &id)?;
                match this.check_sendable(conn, &row) {
                    Ok(recipient) => this.commit_send(conn, &session, row, recipient, &secret, &code).map(Ok),
                    Err(Error::NotReady(problem)) => {
                        diesel::update(transfers::table.find(&id))
                            .set(transfers::send_problem.eq(problem.to_string()))
                            .execute(conn)?;
                        Ok(Err(Error::NotReady(problem)))
                    }
                    Err(other) => Err(other),
                }
            })
            .await
            .and_then(|outcome| outcome)
    }

    /// The rules of sending, in their one order. Returns who the recipient is.
    fn check_sendable(&self, conn: &mut AnyConnection, row: &TransferRow) -> Result<Recipient> {
        let now = self.now();
        row.check_window(self.settings.rules.upload_window, now)?;
        if let Some(text) = self.written_message_txt(row)? {
            Envelope::parse(&text)
                .and_then(|env| recipient_of(row, &env))
                .map_err(|e| Error::NotReady(Unready::Envelope(e.to_string())))?;
        }
        let files: Vec<(String, String, String, i64)> = documents::table
            .filter(documents::transfer_id.eq(&row.id))
            .select((documents::name, documents::kind, documents::state, documents::size))
            .order(documents::name)
            .load(conn)?;
        let mut documents = 0;
        for (name, kind, state, size) in &files {
            match (kind_of(kind)?, state.as_str()) {
                (NameKind::Litter, _) => {}
                (NameKind::Member, "uploading") => {
                    return Err(Error::NotReady(Unready::Unfinished { name: name.clone() }));
                }
                // Any file in a folder goes, even an empty one, as a zip would hold it.
                (NameKind::Member, _) => {}
                (NameKind::Folder, _) if name.contains('/') => {}
                (NameKind::Folder, _) => {
                    let zip = format!("{name}{ZIP_SUFFIX}");
                    if files.iter().any(|(other, ..)| other.to_lowercase() == zip.to_lowercase()) {
                        return Err(Error::NotReady(Unready::FolderClash { folder: name.clone(), zip }));
                    }
                    let prefix = format!("{name}/");
                    if !files
                        .iter()
                        .any(|(other, kind, ..)| other.starts_with(&prefix) && kind == NameKind::Member.as_str())
                    {
                        return Err(Error::NotReady(Unready::EmptyFolder { folder: name.clone() }));
                    }
                    documents += 1;
                }
                (NameKind::Temporary, _) => {
                    return Err(Error::NotReady(Unready::Temporary { name: name.clone() }));
                }
                (NameKind::Document, "uploading") => {
                    return Err(Error::NotReady(Unready::Unfinished { name: name.clone() }));
                }
                (NameKind::Document, _) if *size == 0 => {
                    return Err(Error::NotReady(Unready::Empty { name: name.clone() }));
                }
                (NameKind::Document, _) => {
                    // The allowlist is the operator's to change meanwhile.
                    if let Err(refusal) = FileName::parse(name, &self.names) {
                        return Err(Error::NotReady(Unready::Refused { name: name.clone(), refusal }));
                    }
                    documents += 1;
                }
            }
        }
        if documents == 0 {
            return Err(Error::NotReady(Unready::NoDocuments));
        }
        let Some(email) = &row.recipient_email else {
            return Err(Error::NotReady(Unready::NoRecipient));
        };
        let email = EmailAddress::parse(email).map_err(|e| Error::internal("stored recipient", e))?;
        let internal = is_affiliated(conn, &email)?;
        let kind = row.kind()?;
        if matches!(kind, TransferKind::PartnerPush | TransferKind::PublicDelivery) && !internal {
            return Err(Error::NotReady(Unready::NotOurs { email: email.normalized() }));
        }
        let phone = match (&row.recipient_phone, internal) {
            (_, true) => None,
            (None, false) => {
                return Err(Error::NotReady(Unready::NoPhone { email: email.normalized() }));
            }
            (Some(p), false) => {
                let phone = PhoneNumber::parse(p).map_err(|e| Error::internal("stored phone", e))?;
                if !phone.is_mobile() {
                    return Err(Error::NotReady(Unready::NotMobile { masked: phone.masked() }));
                }
                Some(phone)
            }
        };
        let account = find_by_email(conn, &email.normalized())?;
        Ok(Recipient { email: email.normalized(), phone, account_id: account.map(|a| a.id) })
    }

    fn commit_send(
        &self,
        conn: &mut AnyConnection,
        session: &Session,
        row: TransferRow,
        recipient: Recipient,
        secret: &str,
        code: &str,
    ) -> Result<SendReceipt> {
        let now = self.now();
        let expires_at = now.plus(self.settings.rules.retention);
        let language = Language::parse(&row.language)?;
        // Litter is never sent: what a file manager made for itself goes now.
        diesel::delete(
            documents::table
                .filter(documents::transfer_id.eq(&row.id))
                .filter(documents::kind.eq(NameKind::Litter.as_str())),
        )
        .execute(conn)?;
        let link_id = self.create_link(conn, &row.id, LinkPurpose::Recipient, secret)?;
        if let Some(phone) = &recipient.phone {
            self.rewrap_for_link(conn, &row.id, secret)?;
            self.issue_code(conn, &link_id, code)?;
            self.enqueue(
                conn,
                Outgoing::sms("sms-code", language, phone.as_e164()).param("code", code).transfer(&row.id),
            )?;
        }
        diesel::update(transfers::table.find(&row.id))
            .set((
                transfers::state.eq("sent"),
                transfers::sent_at.eq(now.as_millis()),
                transfers::expires_at.eq(expires_at.as_millis()),
                transfers::recipient_id.eq(&recipient.account_id),
                // How the recipient proves who they are is decided here, once:
                // a code to this number, or (none) a sign-in. A colleague
                // given a number signs in and gets no code.
                transfers::recipient_phone.eq(recipient.phone.as_ref().map(|p| p.as_e164().to_owned())),
                transfers::send_problem.eq(None::<String>),
            ))
            .execute(conn)?;
        let masked = recipient.phone.as_ref().map(PhoneNumber::masked);
        let notice = match row.kind()? {
            TransferKind::RequestAnswer => "request-answered",
            _ => "transfer-notice",
        };
        let mut mail = Outgoing::mail(notice, language, &recipient.email)
            .param("link_secret", secret)
            .param("sender_name", row.sender_name.as_str())
            .param("sender_email", row.sender_email.as_str())
            .param("subject", row.subject.as_str())
            .param("reference", row.reference.as_str())
            .param("expires_at", expires_at.rfc3339())
            .param("sign_in", recipient.phone.is_none())
            .transfer(&row.id)
            .caused_by(row.owner_id.as_deref());
        if let Some(masked) = &masked {
            mail = mail.param("masked_phone", masked.as_str());
        }
        self.enqueue(conn, mail)?;
        self.enqueue_sender_confirmation(conn, &row, &recipient.email, expires_at)?;
        if let Some(request_id) = &row.upload_request_id {
            diesel::update(upload_requests::table.find(request_id))
                .set(upload_requests::answered_at.eq(now.as_millis()))
                .execute(conn)?;
        }
        self.event(&session.origin, "transfer-sent")
            .actor(&session.audit_actor())
            .transfer(&row.id)
            .detail(&format!("to {}", recipient.email))
            .record(conn)?;
        Ok(SendReceipt { transfer_id: TransferId::new(row.id), expires_at, masked_phone: masked })
    }

    fn enqueue_sender_confirmation(
        &self,
        conn: &mut AnyConnection,
        row: &TransferRow,
        recipient: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        let language = Language::parse(&row.language)?;
        let mut mail = Outgoing::mail("send-confirmation", language, &row.sender_email)
            .param("recipient", recipient)
            .param("subject", row.subject.as_str())
            .param("name", row.name.as_str())
            .param("expires_at", expires_at.rfc3339())
            .transfer(&row.id)
            .caused_by(row.owner_id.as_deref());
        if row.kind()? == TransferKind::PublicDelivery {
            let report_secret = self.random.secret()?;
            self.create_link(conn, &row.id, LinkPurpose::Report, &report_secret)?;
            mail = Outgoing { template: "delivery-confirmation", ..mail }.param("report_secret", report_secret);
        }
        self.enqueue(conn, mail)
    }

    /// Re-wrap every document key of a transfer with the key of its link:
    /// from now on only the holder of the link can open the documents.
    fn rewrap_for_link(&self, conn: &mut AnyConnection, transfer_id: &str, secret: &str) -> Result<()> {
        // Folders hold no bytes, and no key.
        let docs: Vec<(String, Option<Vec<u8>>)> = documents::table
            .filter(documents::transfer_id.eq(transfer_id))
            .filter(documents::kind.ne(NameKind::Folder.as_str()))
            .select((documents::id, documents::key_sealed))
            .load(conn)?;
        for (doc_id, sealed) in docs {
            let sealed = sealed.ok_or_else(|| Error::Internal(format!("document {doc_id} has no key")))?;
            let key = self.keys.unwrap_document_key(&sealed, &doc_id, None)?;
            let rewrapped = self.keys.wrap_for_link(&key, &doc_id, secret, self.random.as_ref())?;
            diesel::update(documents::table.find(&doc_id))
                .set((
                    documents::key_sealed.eq(Some(rewrapped)),
                    documents::key_scheme.eq(crypto::KeyScheme::Link.as_str()),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// The recipient's name and address an envelope gives a draft: an answer to
/// a request goes to the person who asked for it, whatever it says.
fn recipient_of(row: &TransferRow, env: &Envelope) -> Result<(Option<String>, Option<String>)> {
    Ok(match (&env.to, row.kind()?) {
        (Some(to), TransferKind::RequestAnswer) if Some(to.email.normalized()) != row.recipient_email => {
            return Err(Error::Invalid(
                "an answer to a request goes to the person who asked for it; leave To as it is".into(),
            ));
        }
        (Some(to), TransferKind::PublicDelivery) if Some(to.email.normalized()) != row.recipient_email => {
            return Err(Error::Invalid("a delivery goes to the contact it was started for; leave To as it is".into()));
        }
        (_, TransferKind::RequestAnswer | TransferKind::PublicDelivery) => {
            (row.recipient_name.clone(), row.recipient_email.clone())
        }
        (Some(to), _) => (to.name.clone(), Some(to.email.normalized())),
        (None, _) => (None, None),
    })
}

struct Recipient {
    email: String,
    phone: Option<PhoneNumber>,
    account_id: Option<String>,
}

/// A folder name is unique among the owner's drafts and sent messages.
fn ensure_name_free(conn: &mut AnyConnection, owner: &str, name: &str) -> Result<()> {
    let taken: i64 = transfers::table
        .filter(transfers::owner_id.eq(owner))
        .filter(transfers::name.eq(name))
        .filter(transfers::state.ne("aborted"))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(Error::Conflict(format!("you already have a message named {name:?}; choose another name")));
    }
    Ok(())
}
