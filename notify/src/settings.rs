//! What delivery needs to know, handed over by the binary: where mail and SMS
//! go, how links are made, and the operator's branding. Checked once, when a
//! [`crate::Notifier`] is made, so a bad setting stops the start.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{NotifyError, Result};

/// Everything the deliverer needs.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The data folder: `mail/` and `sms/` go here when no server is set.
    pub data_dir: PathBuf,
    /// The base of every link in a message, such as `https://koerier.example.org`.
    pub public_url: String,
    /// Where the SFTP door listens (its host and port are in request mails).
    pub sftp_listen: SocketAddr,
    /// Mail transport and sender.
    pub mail: MailSettings,
    /// SMS transport.
    pub sms: SmsSettings,
    /// The operator's names and numbers, shown in every message.
    pub branding: Branding,
    /// The zone moments are written in.
    pub zone: gateway::LocalZone,
    /// A folder whose `<lang>/<name>.txt|.html` files replace the built-in templates.
    pub templates_dir: Option<PathBuf>,
}

/// How mail leaves.
#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://user:pass@host:587?tls=required`, `smtps://…`; `None`: `.eml` files.
    pub smtp_url: Option<String>,
    /// The From of every mail; `None`: `noreply@<host of the public URL>`.
    pub from: Option<String>,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

/// How SMS leave: to files, or to an HTTP gateway of the operator's provider.
#[derive(Clone)]
pub struct SmsSettings {
    /// The provider's endpoint; `None`: `.txt` files. `https://` (plain
    /// `http://` only to a loopback address).
    pub url: Option<String>,
    /// `POST` or `PUT`.
    pub method: String,
    /// One header that authenticates, written `Name: value`.
    pub auth_header: Option<String>,
    /// The request body, with `{number}`, `{text}` and `{id}` filled in
    /// (JSON-escaped when the content type is JSON).
    pub body: String,
    /// The body's content type.
    pub content_type: String,
    /// The HTTP statuses that mean the provider accepted the message.
    pub success: Vec<u16>,
    /// How long one request may take in all.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("url", &self.url)
            .field("method", &self.method)
            .field("auth_header", &self.auth_header.as_ref().map(|_| "***"))
            .field("body", &self.body)
            .field("content_type", &self.content_type)
            .field("success", &self.success)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            url: None,
            method: "POST".into(),
            auth_header: None,
            body: r#"{"to": "{number}", "text": "{text}", "reference": "{id}"}"#.into(),
            content_type: "application/json".into(),
            success: vec![200, 201, 202, 204],
            timeout: Duration::from_secs(10),
        }
    }
}

/// The operator's branding, in every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    /// The service's name, such as "Veilig verzenden".
    pub service_name: String,
    /// The organisation that runs it; empty: not named.
    pub organisation: String,
    /// The helpdesk's phone number.
    pub helpdesk_phone: String,
    /// The default contact of public deliveries (the reporting desk).
    pub contact_name: String,
    /// Its address.
    pub contact_email: String,
    /// An absolute URL of a logo for HTML mail; none: no image.
    pub logo_url: Option<String>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            service_name: "koerier".into(),
            organisation: String::new(),
            helpdesk_phone: String::new(),
            contact_name: String::new(),
            contact_email: String::new(),
            logo_url: None,
        }
    }
}

/// The longest an SMS request may take: the outbox lease must outlive one delivery.
pub const MAX_SMS_TIMEOUT: Duration = Duration::from_secs(20);

impl NotifySettings {
    /// The host of the public URL (the right side of Message-IDs).
    pub fn public_host(&self) -> Result<String> {
        let rest = self
            .public_url
            .split_once("://")
            .map(|(_, rest)| rest)
            .ok_or_else(|| NotifyError::Setting(format!("public_url {:?} is not a URL", self.public_url)))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        if host.is_empty() {
            return Err(NotifyError::Setting(format!("public_url {:?} has no host", self.public_url)));
        }
        Ok(host.to_ascii_lowercase())
    }

    /// The base of links, without a trailing slash.
    pub fn link_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// Check the SMS settings that do not need the network.
    pub(crate) fn check_sms(&self) -> Result<()> {
        let sms = &self.sms;
        if !matches!(sms.method.as_str(), "POST" | "PUT") {
            return Err(NotifyError::Setting(format!("sms.method must be POST or PUT, not {:?}", sms.method)));
        }
        if sms.timeout.is_zero() || sms.timeout > MAX_SMS_TIMEOUT {
            return Err(NotifyError::Setting("sms.timeout must be between 1s and 20s".into()));
        }
        if sms.success.is_empty() || sms.success.iter().any(|s| !(200..300).contains(s)) {
            return Err(NotifyError::Setting("sms.success must list statuses between 200 and 299".into()));
        }
        if !sms.body.contains("{number}") || !sms.body.contains("{text}") {
            return Err(NotifyError::Setting("sms.body must contain {number} and {text}".into()));
        }
        if let Some(header) = &sms.auth_header {
            split_header(header)?;
        }
        if let Some(url) = &sms.url {
            check_sms_url(url)?;
        }
        Ok(())
    }
}

/// `Name: value` into its two halves.
pub(crate) fn split_header(header: &str) -> Result<(&str, &str)> {
    let bad = || NotifyError::Setting("sms.auth_header must be written \"Name: value\"".into());
    let (name, value) = header.split_once(':').ok_or_else(bad)?;
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') || value.is_empty() {
        return Err(bad());
    }
    Ok((name, value))
}

/// An SMS gateway is reached over HTTPS; plain HTTP only on this machine.
fn check_sms_url(url: &str) -> Result<()> {
    let bad = |why: &str| NotifyError::Setting(format!("sms_url: {why}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("not a URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad("put credentials in sms.auth_header, not in the URL"));
    }
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback(authority) => Ok(()),
        "http" => Err(bad("use https:// (plain http:// only to a loopback address)")),
        _ => Err(bad("use https://")),
    }
}

/// Whether `host[:port]` names this machine.
pub(crate) fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(public_url: &str) -> NotifySettings {
        NotifySettings {
            data_dir: PathBuf::from("/tmp"),
            public_url: public_url.into(),
            sftp_listen: SocketAddr::from(([127, 0, 0, 1], 2222)),
            mail: MailSettings { smtp_url: None, from: None },
            sms: SmsSettings::default(),
            branding: Branding::default(),
            zone: gateway::LocalZone::default(),
            templates_dir: None,
        }
    }

    #[test]
    fn the_host_of_the_public_url() -> Result<()> {
        assert_eq!(settings("https://Koerier.Example.org/base/").public_host()?, "koerier.example.org");
        assert_eq!(settings("https://127.0.0.1:8443").public_host()?, "127.0.0.1");
        assert_eq!(settings("https://[::1]:8443/").public_host()?, "::1");
        assert!(settings("nonsense").public_host().is_err());
        Ok(())
    }

    #[test]
    fn sms_urls_are_https_except_on_this_machine() {
        assert!(check_sms_url("https://sms.example.net/send").is_ok());
        assert!(check_sms_url("http://127.0.0.1:9000/send").is_ok());
        assert!(check_sms_url("http://localhost/send").is_ok());
        assert!(check_sms_url("http://[::1]:8080/").is_ok());
        assert!(check_sms_url("http://sms.example.net/send").is_err());
        assert!(check_sms_url("http://127.0.0.1.example.net/").is_err());
        assert!(check_sms_url("https://user:pw@sms.example.net/").is_err());
        assert!(check_sms_url("ftp://sms.example.net/").is_err());
    }

    #[test]
    fn sms_settings_are_checked() {
        let mut s = settings("https://x.example");
        assert!(s.check_sms().is_ok());
        s.sms.method = "GET".into();
        assert!(s.check_sms().is_err());
        s.sms = SmsSettings { body: "{\"to\": \"{number}\"}".into(), ..SmsSettings::default() };
        assert!(s.check_sms().is_err(), "the text must go somewhere");
        s.sms = SmsSettings { auth_header: Some("Bearer abc".into()), ..SmsSettings::default() };
        assert!(s.check_sms().is_err());
        s.sms = SmsSettings { auth_header: Some("Authorization: Bearer abc".into()), ..SmsSettings::default() };
        assert!(s.check_sms().is_ok());
        s.sms = SmsSettings { timeout: Duration::from_secs(60), ..SmsSettings::default() };
        assert!(s.check_sms().is_err());
    }
}
