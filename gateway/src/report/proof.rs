//! The signed proof: a report as canonical JSON, signed with the server's
//! Ed25519 key, checkable offline by anyone with the file.
//!
//! The file is one canonical JSON object (keys sorted, no spaces, integers
//! only, UTF-8) with a final newline:
//! `{"format":"koerier-report-proof/1","report":{…},"signature":{…}}`. The
//! signature covers `koerier-report-proof/1\n` followed by the canonical bytes
//! of `report`. A verifier accepts only a file that is itself canonical, so a
//! copy that differs from the one signed in any byte (even a space) fails.
//! The public key travels in the file; what makes it the server's is its
//! fingerprint, which the operator publishes (`koerier report key`).

use aws_lc_rs::digest;
use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use data_encoding::{BASE64, BASE64_NOPAD};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ReportData;
use crate::Timestamp;
use crate::crypto::SigningKey;

/// The format this module writes and reads.
pub const FORMAT: &str = "koerier-report-proof/1";

/// The name of the proof attached to a report PDF.
pub const ATTACHMENT_NAME: &str = "koerier-proof.json";

/// Why a proof is not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    /// The file is not JSON, or not a proof of this format.
    #[error("not a koerier proof: {0}")]
    Malformed(String),
    /// The file parses but is not byte for byte what was signed.
    #[error("the proof was changed after signing: it is not in its canonical form")]
    NotCanonical,
    /// The fingerprint in the file does not belong to its public key.
    #[error("the fingerprint in the proof does not match its public key")]
    FingerprintMismatch,
    /// The signature does not cover this report.
    #[error("the signature does not match the report: the proof was changed or forged")]
    BadSignature,
    /// The proof is valid but signed by another key than the one expected.
    #[error("the proof is signed by {found}, not by {expected}")]
    OtherKey {
        /// The fingerprint of the key in the proof.
        found: String,
        /// The fingerprint the caller expected.
        expected: String,
    },
    /// A PDF without an attached proof, or one that cannot be read.
    #[error("no proof found in the PDF: {0}")]
    NoAttachment(String),
}

/// A signed proof, ready to be written or attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedProof {
    bytes: Vec<u8>,
    fingerprint: String,
}

impl SignedProof {
    /// The file's bytes (canonical JSON and a newline).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file's bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The fingerprint of the key that signed it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// A public key as published: base64 and the fingerprint to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The raw 32-byte Ed25519 public key, standard base64.
    pub public_key: String,
    /// `SHA256:` and the unpadded base64 of the key's SHA-256, as OpenSSH shows keys.
    pub fingerprint: String,
}

impl KeyInfo {
    /// The published form of a raw public key.
    pub fn of(public_key: &[u8]) -> KeyInfo {
        let hash = digest::digest(&digest::SHA256, public_key);
        KeyInfo {
            public_key: BASE64.encode(public_key),
            fingerprint: format!("SHA256:{}", BASE64_NOPAD.encode(hash.as_ref())),
        }
    }
}

/// What a report states, as signed. Field names are the JSON keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Statement {
    /// The report of one message.
    Message(Box<MessageStatement>),
    /// The overview of an account's messages in a period.
    Overview(OverviewStatement),
}

/// The report of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageStatement {
    /// When the report was made (RFC 3339, UTC, milliseconds).
    pub generated_at: String,
    /// The message.
    pub message: MessageFacts,
    /// Every document, deleted ones included.
    pub documents: Vec<DocumentFacts>,
    /// Every download.
    pub downloads: Vec<DownloadFacts>,
    /// The audit trail.
    pub events: Vec<EventFacts>,
}

/// The envelope and life of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFacts {
    /// The server's id.
    pub id: String,
    /// The folder name.
    pub name: String,
    /// `staff-send`, `request-answer`, `public-delivery`, `partner-push`.
    pub kind: String,
    /// `draft`, `sent`, `expired`, `aborted`.
    pub state: String,
    /// Name and address.
    pub sender: String,
    /// Name and address.
    pub recipient: Option<String>,
    /// Where the code went, masked.
    pub recipient_phone: Option<String>,
    /// The subject line.
    pub subject: String,
    /// The sender's reference.
    pub reference: String,
    /// The door it was sent through.
    pub door: Option<String>,
    /// When it was made.
    pub created_at: String,
    /// When it was sent.
    pub sent_at: Option<String>,
    /// When its documents are (or were) deleted.
    pub expires_at: Option<String>,
}

/// One document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentFacts {
    /// Its name.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: Option<String>,
    /// The content check's verdict.
    pub content_check: Option<String>,
    /// `complete` or `deleted` (`uploading` in a draft).
    pub state: String,
    /// When its key was destroyed.
    pub deleted_at: Option<String>,
}

/// One download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadFacts {
    /// When.
    pub at: String,
    /// Which document.
    pub document: Option<String>,
    /// Who.
    pub who: String,
    /// How they proved who they were.
    pub proof: String,
    /// Through which door.
    pub door: String,
    /// From which address.
    pub ip: Option<String>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFacts {
    /// When.
    pub at: String,
    /// What.
    pub kind: String,
    /// Through which door.
    pub door: String,
    /// Who.
    pub actor: Option<String>,
    /// From which address.
    pub ip: Option<String>,
    /// Detail.
    pub detail: Option<String>,
}

/// The overview of an account's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewStatement {
    /// When the overview was made.
    pub generated_at: String,
    /// Whose messages.
    pub account: String,
    /// The period's start (inclusive).
    pub from: String,
    /// The period's end (exclusive).
    pub to: String,
    /// The messages, by time of sending.
    pub messages: Vec<OverviewFacts>,
}

/// One message in an overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewFacts {
    /// `sent` or `received`.
    pub direction: String,
    /// The folder name.
    pub name: String,
    /// The other party.
    pub counterpart: Option<String>,
    /// The subject line.
    pub subject: String,
    /// The sender's reference.
    pub reference: String,
    /// When it was sent.
    pub sent_at: String,
    /// When its documents are (or were) deleted.
    pub expires_at: Option<String>,
    /// Its state.
    pub state: String,
    /// How many documents.
    pub documents: u64,
    /// Their total size.
    pub bytes: u64,
    /// How many downloads.
    pub downloads: u64,
}

/// A moment as the proof writes it: RFC 3339, UTC, to the millisecond.
pub(crate) fn moment(t: Timestamp) -> String {
    let nanos = i128::from(t.as_millis()) * 1_000_000;
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|d| d.format(&format).ok())
        .unwrap_or_else(|| t.as_millis().to_string())
}

/// The statement of a message's report.
pub(crate) fn message_statement(data: &ReportData) -> Statement {
    let t = &data.transfer;
    Statement::Message(Box::new(MessageStatement {
        generated_at: moment(data.generated_at),
        message: MessageFacts {
            id: t.id.as_str().to_owned(),
            name: t.name.clone(),
            kind: t.kind.as_str().into(),
            state: t.state.as_str().into(),
            sender: t.sender.clone(),
            recipient: t.recipient.clone(),
            recipient_phone: data.recipient_phone.clone(),
            subject: t.subject.clone(),
            reference: t.reference.clone(),
            door: data.door.clone(),
            created_at: moment(t.created_at),
            sent_at: t.sent_at.map(moment),
            expires_at: t.expires_at.map(moment),
        },
        documents: data
            .documents
            .iter()
            .map(|d| DocumentFacts {
                name: d.name.clone(),
                size: d.size,
                sha256: d.sha256.clone(),
                content_check: d.content_check.clone(),
                state: d.state.as_str().to_owned(),
                deleted_at: d.deleted_at.map(moment),
            })
            .collect(),
        downloads: data
            .downloads
            .iter()
            .map(|d| DownloadFacts {
                at: moment(d.at),
                document: d.document.clone(),
                who: d.who.clone(),
                proof: d.proof.clone(),
                door: d.door.clone(),
                ip: d.ip.clone(),
            })
            .collect(),
        events: data
            .events
            .iter()
            .map(|e| EventFacts {
                at: moment(Timestamp::from_millis(e.at)),
                kind: e.kind.clone(),
                door: e.door.clone(),
                actor: e.actor.clone(),
                ip: e.ip.clone(),
                detail: e.detail.clone(),
            })
            .collect(),
    }))
}

/// Canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace,
/// strings escaped as serde_json does, integers only. `None` for a float,
/// whose text form is not stable.
pub fn canonical_json(value: &Value) -> Option<String> {
    let mut out = String::new();
    write_canonical(value, &mut out).then_some(out)
}

fn write_canonical(value: &Value, out: &mut String) -> bool {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => out.push_str(&value.to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
        Value::Number(_) => return false,
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_canonical(item, out) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if !map.get(key).is_some_and(|v| write_canonical(v, out)) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

fn signed_message(report: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(FORMAT.len() + 1 + report.len());
    message.extend_from_slice(FORMAT.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(report.as_bytes());
    message
}

/// Sign a statement with the server's key.
pub(crate) fn sign(key: &SigningKey, statement: &Statement) -> crate::Result<SignedProof> {
    let internal = |what: &str| crate::Error::Internal(format!("cannot write the proof: {what}"));
    let report = serde_json::to_value(statement).map_err(|_| internal("the statement is not JSON"))?;
    let canonical = canonical_json(&report).ok_or_else(|| internal("the statement holds a float"))?;
    let signature = key.sign(&signed_message(&canonical));
    let info = KeyInfo::of(&key.public_key());
    let file = serde_json::json!({
        "format": FORMAT,
        "report": report,
        "signature": {
            "algorithm": "Ed25519",
            "public_key": info.public_key,
            "fingerprint": info.fingerprint,
            "value": BASE64.encode(&signature),
        },
    });
    let mut bytes = canonical_json(&file).ok_or_else(|| internal("the proof holds a float"))?.into_bytes();
    bytes.push(b'\n');
    Ok(SignedProof { bytes, fingerprint: info.fingerprint })
}

/// A proof that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The fingerprint of the key that signed it: compare it with the
    /// server's (`koerier report key`).
    pub fingerprint: String,
    /// What it states.
    pub statement: Statement,
}

/// Check a proof: a proof file, or a report PDF with its proof attached.
/// `expected` pins the signer's fingerprint when the caller knows it.
pub fn verify(file: &[u8], expected: Option<&str>) -> Result<Verified, ProofError> {
    let extracted;
    let bytes = if file.starts_with(b"%PDF-") {
        extracted = super::pdf::attached_proof(file)?;
        extracted.as_slice()
    } else {
        file
    };
    let text = std::str::from_utf8(bytes).map_err(|_| ProofError::Malformed("it is not UTF-8 text".into()))?;
    let body = text.strip_suffix('\n').unwrap_or(text);
    let value: Value = serde_json::from_str(body).map_err(|e| ProofError::Malformed(e.to_string()))?;
    if value.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(ProofError::Malformed(format!("the format is not {FORMAT}")));
    }
    if canonical_json(&value).as_deref() != Some(body) {
        return Err(ProofError::NotCanonical);
    }
    let field = |name: &str| {
        value
            .pointer(&format!("/signature/{name}"))
            .and_then(Value::as_str)
            .ok_or_else(|| ProofError::Malformed(format!("the signature has no {name}")))
    };
    if field("algorithm")? != "Ed25519" {
        return Err(ProofError::Malformed("the signature is not Ed25519".into()));
    }
    let public_key = strict_base64(field("public_key")?)?;
    let signature = strict_base64(field("value")?)?;
    let fingerprint = KeyInfo::of(&public_key).fingerprint;
    if field("fingerprint")? != fingerprint {
        return Err(ProofError::FingerprintMismatch);
    }
    let report = value.get("report").ok_or_else(|| ProofError::Malformed("there is no report".into()))?;
    let canonical = canonical_json(report).ok_or(ProofError::NotCanonical)?;
    UnparsedPublicKey::new(&ED25519, &public_key)
        .verify(&signed_message(&canonical), &signature)
        .map_err(|_| ProofError::BadSignature)?;
    if let Some(expected) = expected
        && expected.trim() != fingerprint
    {
        return Err(ProofError::OtherKey { found: fingerprint, expected: expected.trim().to_owned() });
    }
    let statement = serde_json::from_value(report.clone()).map_err(|e| ProofError::Malformed(e.to_string()))?;
    Ok(Verified { fingerprint, statement })
}

/// Base64 that decodes to exactly one byte string and back: a changed
/// padding bit is a change.
fn strict_base64(text: &str) -> Result<Vec<u8>, ProofError> {
    let bytes = BASE64.decode(text.as_bytes()).map_err(|_| ProofError::Malformed("bad base64".into()))?;
    if BASE64.encode(&bytes) != text {
        return Err(ProofError::NotCanonical);
    }
    Ok(bytes)
}

impl Verified {
    /// What the proof shows, in plain words, one line each.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = vec![format!("signed by the key {}", self.fingerprint)];
        match &self.statement {
            Statement::Message(m) => message_summary(m, &mut lines),
            Statement::Overview(o) => {
                lines.push(format!("an overview of the messages of {} from {} to {}", o.account, o.from, o.to));
                lines.push(format!("made at {}, listing {} messages", o.generated_at, o.messages.len()));
                for m in &o.messages {
                    let who = m.counterpart.as_deref().unwrap_or("-");
                    let (at, way, name, subject, state) = (&m.sent_at, &m.direction, &m.name, &m.subject, &m.state);
                    lines.push(format!("  {at} {way} {name} with {who}: {subject:?} ({state})"));
                }
            }
        }
        lines
    }
}

fn message_summary(m: &MessageStatement, lines: &mut Vec<String>) {
    let f = &m.message;
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    lines.push(format!("the report of message {:?} ({}), made at {}", f.name, f.id, m.generated_at));
    lines.push(format!("from {} to {}", f.sender, or_dash(&f.recipient)));
    lines.push(format!("subject {:?}, reference {:?}", f.subject, f.reference));
    lines.push(format!(
        "sent at {} through {}, available until {} ({})",
        or_dash(&f.sent_at),
        or_dash(&f.door),
        or_dash(&f.expires_at),
        f.state
    ));
    lines.push(format!("{} documents:", m.documents.len()));
    for d in &m.documents {
        let deleted = d.deleted_at.as_ref().map(|t| format!(", key destroyed at {t}")).unwrap_or_default();
        lines.push(format!("  {} {} bytes sha256 {}{deleted}", d.name, d.size, or_dash(&d.sha256)));
    }
    lines.push(format!("{} downloads:", m.downloads.len()));
    for d in &m.downloads {
        let doc = or_dash(&d.document);
        let ip = or_dash(&d.ip);
        lines.push(format!("  {} {doc} by {} (proved by {}) through {} from {ip}", d.at, d.who, d.proof, d.door));
    }
    let failed = m.events.iter().filter(|e| e.kind == "code-failed").count();
    let locked = m.events.iter().filter(|e| e.kind == "link-locked").count();
    lines.push(format!("{failed} wrong codes, {locked} lockouts, {} events in all", m.events.len()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_refuses_floats() {
        let v = serde_json::json!({"b": [1, {"z": null, "a": "é\n"}], "a": true});
        assert_eq!(canonical_json(&v).as_deref(), Some(r#"{"a":true,"b":[1,{"a":"é\n","z":null}]}"#));
        assert_eq!(canonical_json(&serde_json::json!({"x": 1.5})), None);
    }
}
