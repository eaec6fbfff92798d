//! SMS providers. The embedded default writes `<data>/sms/<id>.txt`: a line
//! `To: <number>`, a blank line, the text. The HTTP gateway posts the text to
//! the operator's provider in the shape the operator configures (method, one
//! authentication header, a body template, the statuses that mean accepted),
//! with `Idempotency-Key: <outbox id>` so a provider that honours it drops a
//! retry of a message it already took.
//!
//! The HTTP client is ureq: small and synchronous (run on the blocking pool),
//! rustls with the aws-lc-rs provider the rest of the binary uses, and no
//! hyper, h2 or tower underneath for one POST at a time.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use gateway::outbox::Failure;

use crate::error::Result;
use crate::files;
use crate::settings::{NotifySettings, SmsSettings, split_header};

/// What sending one SMS returns, eventually.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send + 'a>>;

/// A way to send an SMS. `Ok` means the provider accepted it.
pub trait SmsProvider: Send + Sync {
    /// Send `text` to `number` (E.164) as the message `id`.
    fn send<'a>(&'a self, id: &'a str, number: &'a str, text: &'a str) -> SendFuture<'a>;
}

/// The provider the settings name.
pub(crate) fn from_settings(settings: &NotifySettings) -> Result<Box<dyn SmsProvider>> {
    settings.check_sms()?;
    Ok(match &settings.sms.url {
        None => Box::new(FileSms { dir: settings.data_dir.join("sms") }),
        Some(url) => Box::new(HttpSms::new(url, &settings.sms)?),
    })
}

/// Each SMS as a file in a folder.
#[derive(Debug, Clone)]
pub struct FileSms {
    /// The folder.
    pub dir: PathBuf,
}

impl SmsProvider for FileSms {
    fn send<'a>(&'a self, id: &'a str, number: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let name = files::file_name(id, "txt")?;
            files::write_atomically(self.dir.clone(), name, format!("To: {number}\n\n{text}").into_bytes()).await
        })
    }
}

/// An HTTP(S) SMS gateway.
#[derive(Clone)]
pub struct HttpSms {
    agent: ureq::Agent,
    url: String,
    settings: SmsSettings,
    auth: Option<(String, String)>,
}

impl std::fmt::Debug for HttpSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSms").field("url", &self.url).finish_non_exhaustive()
    }
}

impl HttpSms {
    /// A gateway at `url` (already checked) with the given shape.
    pub fn new(url: &str, settings: &SmsSettings) -> Result<HttpSms> {
        let auth = match &settings.auth_header {
            Some(h) => split_header(h).map(|(n, v)| Some((n.to_owned(), v.to_owned())))?,
            None => None,
        };
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .build();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(settings.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls)
            .build()
            .new_agent();
        Ok(HttpSms { agent, url: url.to_owned(), settings: settings.clone(), auth })
    }

    fn post(&self, id: &str, number: &str, text: &str) -> Result<(), Failure> {
        let json = self.settings.content_type.contains("json");
        let body = fill(&self.settings.body, &[("number", number), ("text", text), ("id", id)], json);
        let request = match self.settings.method.as_str() {
            "PUT" => self.agent.put(&self.url),
            _ => self.agent.post(&self.url),
        };
        let mut request =
            request.header("Content-Type", self.settings.content_type.as_str()).header("Idempotency-Key", id);
        if let Some((name, value)) = &self.auth {
            request = request.header(name.as_str(), value.as_str());
        }
        let status = match request.send(body) {
            Ok(response) => response.status().as_u16(),
            Err(ureq::Error::Timeout(_)) => {
                return Err(Failure::Transient("the SMS gateway did not answer in time".into()));
            }
            Err(e) => return Err(Failure::Transient(format!("the SMS gateway: {e}"))),
        };
        if self.settings.success.contains(&status) {
            return Ok(());
        }
        // Like mail, a refusal is retried until the message is given up: a
        // wrong key or body template refuses every message alike.
        Err(Failure::Transient(format!("the SMS gateway answered {status}")))
    }
}

impl SmsProvider for HttpSms {
    fn send<'a>(&'a self, id: &'a str, number: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let (gateway, id, number, text) = (self.clone(), id.to_owned(), number.to_owned(), text.to_owned());
            tokio::task::spawn_blocking(move || gateway.post(&id, &number, &text))
                .await
                .map_err(|e| Failure::Transient(format!("the SMS sender stopped: {e}")))?
        })
    }
}

/// Fill `{name}` placeholders in one pass (a value holding `{text}` stays as
/// it is); JSON-escaped for a JSON body.
fn fill(template: &str, values: &[(&str, &str)], json: bool) -> String {
    let mut out = String::with_capacity(template.len() + 200);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = values.iter().find(|(name, _)| after.strip_prefix(name).is_some_and(|r| r.starts_with('}')));
        match hit {
            Some((name, value)) => {
                if json {
                    let quoted = serde_json::Value::from(*value).to_string();
                    out.push_str(&quoted[1..quoted.len() - 1]);
                } else {
                    out.push_str(value);
                }
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_escaped_for_json() {
        let body = r#"{"to": "{number}", "text": "{text}", "ref": "{id}", "x": {"y": 1}}"#;
        let filled = fill(body, &[("number", "+31612345678"), ("text", "a \"b\"\n{id}"), ("id", "r1")], true);
        assert_eq!(filled, r#"{"to": "+31612345678", "text": "a \"b\"\n{id}", "ref": "r1", "x": {"y": 1}}"#);
        assert!(serde_json::from_str::<serde_json::Value>(&filled).is_ok());
        assert_eq!(fill("to={number}&t={text}", &[("number", "1"), ("text", "hi")], false), "to=1&t=hi");
    }

    #[tokio::test]
    async fn the_file_provider_writes_the_number_a_blank_line_and_the_text()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let sms = FileSms { dir: dir.path().to_owned() };
        sms.send("m1", "+31612345678", "Your code: 123456").await.map_err(|e| format!("{e:?}"))?;
        assert_eq!(std::fs::read_to_string(dir.path().join("m1.txt"))?, "To: +31612345678\n\nYour code: 123456");
        Ok(())
    }
}
