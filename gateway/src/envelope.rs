//! `message.txt`: the envelope of a draft as a small text file that a user of
//! a network drive or an SFTP client edits (SPEC section 4).
//!
//! ```text
//! To: Jan Jansen <jan@example.org>
//! Phone: +31 6 12345678
//! Subject: ...
//! Reference: ...
//! Language: nl
//!
//! the accompanying text
//! ```
//!
//! Lines starting with `#` before the fields are comments: the core writes the
//! reason a send failed there, and drops them again when the file is read back.

use crate::Language;
use crate::address::{Mailbox, PhoneNumber};
use crate::error::{Error, Field, FieldRefusal, Result};

/// The envelope of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The one recipient.
    pub to: Option<Mailbox>,
    /// The recipient's mobile number (required outside the affiliated domains).
    pub phone: Option<PhoneNumber>,
    /// Subject line.
    pub subject: String,
    /// The sender's reference ("kenmerk").
    pub reference: String,
    /// The language of what the recipient gets.
    pub language: Language,
    /// The accompanying text, shown only on the download page.
    pub text: String,
}

/// The largest `message.txt` a client may write.
pub const MAX_MESSAGE_TXT: usize = 64 * 1024;

/// The reason a send failed, as the comment lines the core puts on top of
/// `message.txt` (and drops again when the file is parsed).
pub fn problem_lines(problem: &str) -> String {
    let mut out = String::new();
    for line in problem.lines() {
        out.push_str("# NOT SENT: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("# Fix the fields below, save, and move this folder to /sent again.\n");
    out
}

const FIELDS: &str = "To, Phone, Subject, Reference, Language";
const MAX_TEXT_CHARS: usize = 20_000;
const MAX_FIELD_CHARS: usize = 500;

impl Envelope {
    /// Parse `message.txt` as written by a user. Refusals say which line is wrong.
    pub fn parse(text: &str) -> Result<Envelope> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut env = Envelope::default();
        let mut seen_to = false;
        let mut lines = text.split_inclusive('\n');
        let mut body = String::new();
        let mut in_header = true;
        for raw in lines.by_ref() {
            if !in_header {
                body.push_str(raw);
                continue;
            }
            let line = raw.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                in_header = false;
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                return Err(Error::Invalid(format!(
                    "message.txt: {line:?} is not a field; write fields as \"Name: value\" ({FIELDS}), then a blank line, then the text"
                )));
            };
            let value = value.trim();
            if value.chars().count() > MAX_FIELD_CHARS || value.chars().any(char::is_control) {
                return Err(Error::Invalid(format!(
                    "message.txt: the field {key} is too long or holds control characters"
                )));
            }
            match key.trim().to_ascii_lowercase().as_str() {
                "to" => {
                    if seen_to {
                        return Err(Error::Invalid("message.txt: one recipient per message; write one To line".into()));
                    }
                    seen_to = true;
                    env.to = parse_to(value)?;
                }
                "phone" => {
                    env.phone = if value.is_empty() {
                        None
                    } else {
                        Some(
                            PhoneNumber::parse(value)
                                .map_err(|e| Error::Invalid(format!("message.txt: Phone: {e}")))?,
                        )
                    }
                }
                "subject" => env.subject = value.to_owned(),
                "reference" => env.reference = value.to_owned(),
                "language" => env.language = Language::parse(value)?,
                other => {
                    return Err(Error::Invalid(format!(
                        "message.txt: unknown field {other:?}; the fields are {FIELDS}"
                    )));
                }
            }
        }
        // Windows' and old Macs' line ends alike: the text keeps only `\n`.
        let body = body.replace("\r\n", "\n").replace('\r', "\n");
        let body = body.trim_end_matches('\n');
        if body.chars().count() > MAX_TEXT_CHARS {
            return Err(Error::Invalid(format!("message.txt: the text may be at most {MAX_TEXT_CHARS} characters")));
        }
        env.text = body.to_owned();
        Ok(env)
    }

    /// The fields a form typed, held to the limits `message.txt` has: a
    /// subject and a reference of one line of at most 500 characters, a text
    /// of at most 20,000.
    pub fn check(&self) -> Result<()> {
        for (field, value) in [(Field::Subject, &self.subject), (Field::Reference, &self.reference)] {
            if value.chars().count() > MAX_FIELD_CHARS {
                return Err(Error::Field(FieldRefusal::TooLong { field, max_chars: MAX_FIELD_CHARS }));
            }
            if value.chars().any(char::is_control) {
                return Err(Error::Field(FieldRefusal::ControlCharacter { field }));
            }
        }
        if self.text.chars().count() > MAX_TEXT_CHARS {
            return Err(Error::Field(FieldRefusal::TooLong { field: Field::Text, max_chars: MAX_TEXT_CHARS }));
        }
        Ok(())
    }

    /// Render as `message.txt`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let to = self.to.as_ref().map(ToString::to_string).unwrap_or_default();
        let phone = self.phone.as_ref().map(ToString::to_string).unwrap_or_default();
        out.push_str(&format!("To: {to}\nPhone: {phone}\n"));
        out.push_str(&format!("Subject: {}\nReference: {}\n", self.subject, self.reference));
        out.push_str(&format!("Language: {}\n\n", self.language.as_str()));
        out.push_str(&self.text);
        if !self.text.is_empty() {
            out.push('\n');
        }
        out
    }
}

fn parse_to(value: &str) -> Result<Option<Mailbox>> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.matches('@').count() > 1 {
        return Err(Error::Invalid(
            "message.txt: one recipient per message (no CC or BCC); send a separate message to each".into(),
        ));
    }
    Mailbox::parse(value).map(Some).map_err(|e| Error::Invalid(format!("message.txt: To: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "To: Jan Jansen <jan@example.org>\nPhone: +31 6 12345678\nSubject: Dossier 12\nReference: ABC-1\nLanguage: en\n\nDear Jan,\n\nsee attached.\n";

    /// Found by the `envelope` fuzz target: a lone carriage return in the
    /// text rendered as a line end and so did not parse back to itself.
    #[test]
    fn a_rendered_envelope_parses_back_to_itself_whatever_the_line_ends() {
        for text in ["\u{feff}To: jan@minvws.nl\r\n\n\r", "To: jan@minvws.nl\n\nline one\rline two\r\n\r\n"] {
            let parsed = Envelope::parse(text).expect("a valid envelope");
            assert!(!parsed.text.contains('\r'), "{:?}", parsed.text);
            let rendered = parsed.render();
            assert_eq!(Envelope::parse(&rendered).expect("parses back").render(), rendered);
        }
    }

    /// What a form sets is held to what `message.txt` could say: a subject
    /// with a line break would render as a second field.
    #[test]
    fn typed_fields_are_held_to_the_limits_of_message_txt() -> Result<()> {
        let env = Envelope::parse(SAMPLE)?;
        env.check()?;
        let refused = |env: Envelope| match env.check() {
            Err(Error::Field(refusal)) => refusal,
            other => panic!("{other:?}"),
        };
        let long = Envelope { subject: "é".repeat(MAX_FIELD_CHARS + 1), ..env.clone() };
        assert_eq!(refused(long), FieldRefusal::TooLong { field: Field::Subject, max_chars: MAX_FIELD_CHARS });
        Envelope { subject: "é".repeat(MAX_FIELD_CHARS), ..env.clone() }.check()?;
        let split = Envelope { reference: "A\nTo: eve@example.org".into(), ..env.clone() };
        assert_eq!(refused(split), FieldRefusal::ControlCharacter { field: Field::Reference });
        let text = Envelope { text: "x".repeat(MAX_TEXT_CHARS + 1), ..env };
        assert_eq!(refused(text), FieldRefusal::TooLong { field: Field::Text, max_chars: MAX_TEXT_CHARS });
        Ok(())
    }

    #[test]
    fn parses_the_documented_format() -> Result<()> {
        let env = Envelope::parse(SAMPLE)?;
        assert_eq!(env.to.as_ref().map(|m| m.email.to_string()), Some("jan@example.org".to_owned()));
        assert_eq!(env.phone.as_ref().map(|p| p.as_e164().to_owned()), Some("+31612345678".to_owned()));
        assert_eq!((env.subject.as_str(), env.reference.as_str()), ("Dossier 12", "ABC-1"));
        assert_eq!(env.language, Language::En);
        assert_eq!(env.text, "Dear Jan,\n\nsee attached.");
        Ok(())
    }

    #[test]
    fn render_then_parse_is_the_same_envelope_and_drops_the_problem() -> Result<()> {
        let env = Envelope::parse(SAMPLE)?;
        let rendered = format!("{}{}", problem_lines("no mobile number for an external recipient"), env.render());
        assert!(rendered.starts_with("# NOT SENT: no mobile number"));
        assert_eq!(Envelope::parse(&rendered)?, env);
        Ok(())
    }

    #[test]
    fn refuses_more_than_one_recipient_and_unknown_fields() {
        assert!(Envelope::parse("To: a@example.org, b@example.org\n").is_err());
        assert!(Envelope::parse("To: a@example.org\nTo: b@example.org\n").is_err());
        assert!(Envelope::parse("Cc: b@example.org\n").is_err());
        assert!(Envelope::parse("Language: de\n").is_err());
        assert!(Envelope::parse("just some text\n").is_err());
    }

    #[test]
    fn windows_line_endings_and_empty_fields_are_fine() -> Result<()> {
        let env = Envelope::parse("To: \r\nPhone:\r\nSubject: x\r\n\r\nline one\r\nline two\r\n")?;
        assert_eq!(env.to, None);
        assert_eq!(env.phone, None);
        assert_eq!(env.text, "line one\nline two");
        Ok(())
    }
}
