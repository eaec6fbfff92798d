//! The texts of every message, in Dutch and English: files under
//! `notify/templates/<lang>/`, built into the binary, each replaceable by a
//! file of the same name in the operator's templates folder (read once at
//! start, so a broken replacement stops the start instead of a delivery).
//!
//! minijinja renders them: the operator edits Jinja, a syntax many know, at
//! run time without a rebuild (askama compiles templates into the binary, which
//! rules overrides out), and it escapes every value in templates whose names
//! end in `.html`. A mail is a `.txt` whose first line is `Subject: …` and an
//! `.html` that extends `layout.html`; an SMS is a `.txt` alone.

use std::path::Path;

use gateway::{Language, LocalZone, Timestamp};
use minijinja::value::Serde;
use minijinja::{Environment, State, UndefinedBehavior};
use serde_json::{Map, Value};

use crate::error::{NotifyError, Result};

/// Every mail the service sends.
pub const MAIL_TEMPLATES: &[&str] = &[
    "account-verification",
    "transfer-notice",
    "upload-request",
    "request-answered",
    "delivery-email-check",
    "delivery-confirmation",
    "send-confirmation",
    "download-receipt",
    "lockout-alert",
    "window-aborted",
    "delivery-failed",
    "password-reset",
];

/// Every SMS the service sends.
pub const SMS_TEMPLATES: &[&str] = &["sms-code"];

/// The languages of every message.
pub const LANGUAGES: &[&str] = &["nl", "en"];

/// Shared pieces that the messages include or extend.
const PARTS: &[&str] = &["layout.html", "footer.txt"];

macro_rules! both_languages {
    ($($file:literal),* $(,)?) => {
        &[$(
            (concat!("nl/", $file), include_str!(concat!("../templates/nl/", $file))),
            (concat!("en/", $file), include_str!(concat!("../templates/en/", $file))),
        )*]
    };
}

/// The built-in files: (name, source).
const EMBEDDED: &[(&str, &str)] = both_languages!(
    "layout.html",
    "footer.txt",
    "account-verification.txt",
    "account-verification.html",
    "transfer-notice.txt",
    "transfer-notice.html",
    "upload-request.txt",
    "upload-request.html",
    "request-answered.txt",
    "request-answered.html",
    "delivery-email-check.txt",
    "delivery-email-check.html",
    "delivery-confirmation.txt",
    "delivery-confirmation.html",
    "send-confirmation.txt",
    "send-confirmation.html",
    "download-receipt.txt",
    "download-receipt.html",
    "lockout-alert.txt",
    "lockout-alert.html",
    "window-aborted.txt",
    "window-aborted.html",
    "delivery-failed.txt",
    "delivery-failed.html",
    "password-reset.txt",
    "password-reset.html",
    "sms-code.txt",
);

/// A mail, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// The subject line (one line, no control characters).
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// The templates, compiled.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates, with the files of `overrides` in their place
    /// where it has them. A file there that replaces nothing is an error, so a
    /// misspelt name does not go unnoticed.
    pub fn load(overrides: Option<&Path>, zone: &LocalZone) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| NotifyError::template("syntax", e))?;
        env.set_syntax(syntax);
        let zone = zone.clone();
        env.add_filter("when", move |state: &State<'_, '_>, value: String| when(&zone, state, value));
        env.set_formatter(formatter);
        if let Some(dir) = overrides {
            check_overrides(dir)?;
        }
        for (name, builtin) in EMBEDDED {
            let source = match overrides.map(|dir| dir.join(name)) {
                Some(path) if path.is_file() => std::fs::read_to_string(&path)
                    .map_err(|e| NotifyError::io(format!("cannot read the template {}", path.display()), e))?,
                _ => (*builtin).to_owned(),
            };
            add(&mut env, name, source)?;
        }
        Ok(Templates { env })
    }

    /// Render a mail in a language with its parameters.
    pub fn render_mail(&self, language: &str, template: &str, ctx: &Map<String, Value>) -> Result<RenderedMail> {
        let base = format!("{language}/{template}");
        let subject = self.render(&format!("{base}.subject"), ctx)?;
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        let text = self.render(&format!("{base}.txt"), ctx)?;
        let html = self.render(&format!("{base}.html"), ctx)?;
        Ok(RenderedMail { subject, text: format!("{}\n", text.trim_end()), html })
    }

    /// Render an SMS in a language with its parameters.
    pub fn render_sms(&self, language: &str, template: &str, ctx: &Map<String, Value>) -> Result<String> {
        let text = self.render(&format!("{language}/{template}.txt"), ctx)?;
        Ok(text.trim().to_owned())
    }

    fn render(&self, name: &str, ctx: &Map<String, Value>) -> Result<String> {
        let template = self.env.get_template(name).map_err(|e| NotifyError::template(name, e))?;
        template.render(minijinja::Value::from(Serde(ctx))).map_err(|e| NotifyError::template(name, e))
    }
}

/// Register one file; a mail's `.txt` becomes two templates: its subject
/// line and its body.
fn add(env: &mut Environment<'static>, name: &str, source: String) -> Result<()> {
    let stem = name.strip_suffix(".txt");
    let is_mail_text = stem.is_some_and(|s| s.split_once('/').is_some_and(|(_, t)| MAIL_TEMPLATES.contains(&t)));
    if let (Some(stem), true) = (stem, is_mail_text) {
        let (first, body) = source.split_once('\n').unwrap_or((source.as_str(), ""));
        let subject = first
            .strip_prefix("Subject:")
            .ok_or_else(|| NotifyError::template(name, "the first line must be \"Subject: …\""))?;
        env.add_template_owned(format!("{stem}.subject"), subject.trim().to_owned())
            .map_err(|e| NotifyError::template(name, e))?;
        let body = body.strip_prefix('\n').unwrap_or(body).to_owned();
        return env.add_template_owned(name.to_owned(), body).map_err(|e| NotifyError::template(name, e));
    }
    env.add_template_owned(name.to_owned(), source).map_err(|e| NotifyError::template(name, e))
}

/// Every file in the overrides folder must replace a built-in one.
fn check_overrides(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| NotifyError::io(format!("cannot read the templates folder {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| NotifyError::io(format!("cannot read {}", dir.display()), e))?;
        let lang = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_dir() || !LANGUAGES.contains(&lang.as_str()) {
            return Err(NotifyError::Setting(format!(
                "templates folder: {} is not a language folder (nl or en)",
                entry.path().display()
            )));
        }
        let files = std::fs::read_dir(entry.path())
            .map_err(|e| NotifyError::io(format!("cannot read {}", entry.path().display()), e))?;
        for file in files {
            let file = file.map_err(|e| NotifyError::io(format!("cannot read {}", entry.path().display()), e))?;
            let name = format!("{lang}/{}", file.file_name().to_string_lossy());
            if !EMBEDDED.iter().any(|(n, _)| *n == name) {
                return Err(NotifyError::Setting(format!(
                    "templates folder: {name} replaces no template (known: {})",
                    known_names()
                )));
            }
        }
    }
    Ok(())
}

fn known_names() -> String {
    let mut names: Vec<String> = PARTS.iter().map(|p| (*p).to_owned()).collect();
    names.extend(MAIL_TEMPLATES.iter().flat_map(|t| [format!("{t}.txt"), format!("{t}.html")]));
    names.extend(SMS_TEMPLATES.iter().map(|t| format!("{t}.txt")));
    names.join(", ")
}

/// HTML-escape what the five characters that matter in text and quoted
/// attributes (minijinja's default also escapes `/`, which turns every link in
/// an `href` into `https:&#x2f;&#x2f;…`: correct, but unreadable in the source
/// of a mail and not what a link scanner expects).
fn formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (minijinja::AutoEscape::Html, Some(text)) if !value.is_safe() => {
            let mut escaped = String::with_capacity(text.len());
            for c in text.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#39;"),
                    c => escaped.push(c),
                }
            }
            Ok(std::fmt::Write::write_str(out, &escaped)?)
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// `{{ expires_at | when }}`: an RFC 3339 moment as the template's language
/// says it in the operator's zone, `28 november 2026 om 10:00`.
fn when(zone: &LocalZone, state: &State<'_, '_>, value: String) -> String {
    use time::format_description::well_known::Rfc3339;
    let language = if state.name().starts_with("en/") { Language::En } else { Language::Nl };
    time::OffsetDateTime::parse(&value, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .map(|ms| zone.show(Timestamp::from_millis(ms), language))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect()
    }

    #[test]
    fn every_message_exists_in_both_languages() -> Result<()> {
        let t = Templates::load(None, &LocalZone::default())?;
        for lang in LANGUAGES {
            for name in MAIL_TEMPLATES {
                let mail = t.render_mail(lang, name, &ctx(&[("service", "Koerier")]))?;
                assert!(!mail.subject.is_empty() && !mail.text.is_empty(), "{lang}/{name}");
                assert!(mail.html.contains(&format!("lang=\"{lang}\"")), "{lang}/{name} uses the layout");
            }
            assert!(t.render_sms(lang, "sms-code", &ctx(&[("code", "123456")]))?.contains("123456"));
        }
        Ok(())
    }

    #[test]
    fn html_escapes_and_text_does_not() -> Result<()> {
        let t = Templates::load(None, &LocalZone::default())?;
        let c = ctx(&[("sender_name", "<b>Jan</b> & co"), ("link", "https://x/l/abc")]);
        let mail = t.render_mail("en", "transfer-notice", &c)?;
        assert!(mail.html.contains("&lt;b&gt;Jan&lt;/b&gt; &amp; co"), "{}", mail.html);
        assert!(!mail.html.contains("<b>Jan"));
        assert!(mail.text.contains("<b>Jan</b> & co"));
        assert!(mail.html.contains("href=\"https://x/l/abc\""), "links stay readable: {}", mail.html);
        let c = ctx(&[("sender_name", "\" onmouseover=\"x' y"), ("link", "https://x/\"><script>")]);
        let mail = t.render_mail("en", "transfer-notice", &c)?;
        assert!(!mail.html.contains("\" onmouseover") && !mail.html.contains("<script>"), "{}", mail.html);
        Ok(())
    }

    #[test]
    fn a_subject_is_one_line_whatever_the_values() -> Result<()> {
        let t = Templates::load(None, &LocalZone::default())?;
        let c = ctx(&[("sender_name", "Jan\r\nBcc: eve@example.org"), ("subject", "x")]);
        let mail = t.render_mail("en", "transfer-notice", &c)?;
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'), "{:?}", mail.subject);
        Ok(())
    }

    #[test]
    fn moments_read_in_the_operators_zone_and_the_mails_language() -> Result<()> {
        let t = Templates::load(None, &LocalZone::default())?;
        let c = ctx(&[("expires_at", "2026-11-28T09:00:00Z"), ("link", "https://x/l/a")]);
        let nl = t.render_mail("nl", "transfer-notice", &c)?;
        assert!(nl.text.contains("28 november 2026 om 10:00"), "{}", nl.text);
        let en = t.render_mail("en", "transfer-notice", &c)?;
        assert!(en.html.contains("28 November 2026 at 10:00"), "{}", en.html);
        let utc = Templates::load(None, &LocalZone::named("UTC").map_err(NotifyError::Setting)?)?;
        let c = ctx(&[("expires_at", "2026-07-01T10:00:00+02:00")]);
        assert!(utc.render_mail("en", "transfer-notice", &c)?.text.contains("1 July 2026 at 08:00"));
        let c = ctx(&[("expires_at", "not a moment")]);
        assert!(t.render_mail("en", "transfer-notice", &c)?.text.contains("not a moment"));
        Ok(())
    }

    #[test]
    fn an_operator_replaces_a_template_and_a_misspelt_one_stops_the_start() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| NotifyError::io("tempdir", e))?;
        std::fs::create_dir(dir.path().join("nl")).map_err(|e| NotifyError::io("mkdir", e))?;
        std::fs::write(dir.path().join("nl/sms-code.txt"), "Code {{ code }} van {{ service }}")
            .map_err(|e| NotifyError::io("write", e))?;
        let t = Templates::load(Some(dir.path()), &LocalZone::default())?;
        assert_eq!(t.render_sms("nl", "sms-code", &ctx(&[("code", "1"), ("service", "K")]))?, "Code 1 van K");
        assert!(t.render_sms("en", "sms-code", &ctx(&[("code", "1")]))?.starts_with("Your code"));
        std::fs::write(dir.path().join("nl/transfer-notise.txt"), "x").map_err(|e| NotifyError::io("write", e))?;
        let err =
            Templates::load(Some(dir.path()), &LocalZone::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("transfer-notise.txt"), "{err}");
        std::fs::remove_file(dir.path().join("nl/transfer-notise.txt")).map_err(|e| NotifyError::io("rm", e))?;
        std::fs::write(dir.path().join("nl/transfer-notice.txt"), "no subject line\n\nbody")
            .map_err(|e| NotifyError::io("write", e))?;
        assert!(Templates::load(Some(dir.path()), &LocalZone::default()).is_err(), "a mail needs its subject line");
        Ok(())
    }
}
