//! The operator's configuration: defaults, then a TOML file, then `KOERIER_*`
//! environment variables. Loaded once and validated at start: a bad value stops
//! the start with a message that names the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Deserialize;

/// A secret setting: never printed.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The configuration tree (SPEC section 9 names the contract).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `KOERIER_DATA_DIR`
    pub data_dir: PathBuf,
    /// `KOERIER_DATABASE_URL`; unset: SQLite in the data folder.
    pub database_url: Option<Secret>,
    /// `KOERIER_HTTPS_LISTEN`
    pub https_listen: SocketAddr,
    /// `KOERIER_HTTPS_CERT`: the certificate chain (PEM) of the HTTPS
    /// listener; unset: a self-signed certificate in `<data>/certs/`.
    pub https_cert: Option<PathBuf>,
    /// `KOERIER_HTTPS_KEY`: its private key (PEM); set with `https_cert`.
    pub https_key: Option<PathBuf>,
    /// `KOERIER_SFTP_LISTEN`
    pub sftp_listen: SocketAddr,
    /// `KOERIER_METRICS_TOKEN`: `/metrics` answers a request with this
    /// bearer token; unset: only requests from this machine (loopback).
    pub metrics_token: Option<Secret>,
    /// `KOERIER_PUBLIC_URL`; unset: `https://<https_listen>`.
    pub public_url: Option<String>,
    /// `KOERIER_UPLOAD_WINDOW` (humantime)
    pub upload_window: Option<String>,
    /// `KOERIER_RETENTION` (humantime)
    pub retention: Option<String>,
    /// `KOERIER_SMTP_URL`; unset: mail to `<data>/mail/*.eml`.
    pub smtp_url: Option<Secret>,
    /// `KOERIER_SMS_URL`; unset: SMS to `<data>/sms/*.txt`.
    pub sms_url: Option<Secret>,
    /// `KOERIER_MAIL_FROM`: the From of every mail; unset:
    /// `<service name> <noreply@<host of the public URL>>`.
    pub mail_from: Option<String>,
    /// `[sms]`: the shape of the requests to the SMS gateway.
    #[serde(default)]
    pub sms: SmsConfig,
    /// `[branding]`: names and numbers in every message.
    #[serde(default)]
    pub branding: BrandingConfig,
    /// `KOERIER_TEMPLATES_DIR`: `<lang>/<name>.txt|.html` files here replace
    /// the built-in message templates.
    pub templates_dir: Option<PathBuf>,
    /// How often queued mail and SMS are delivered (humantime).
    pub outbox_interval: String,
    /// `KOERIER_MASTER_KEY`: 32 bytes, base64. Unset: the key file.
    pub master_key: Option<Secret>,
    /// `KOERIER_MASTER_KEY_FILE`; unset: `<data>/keys/master.key`, made on first start.
    pub master_key_file: Option<PathBuf>,
    /// `KOERIER_SSH_HOST_KEY_FILE`: the SSH host key (OpenSSH Ed25519);
    /// unset: `<data>/keys/ssh_host_ed25519_key`, made on first start.
    pub ssh_host_key_file: Option<PathBuf>,
    /// `KOERIER_REPORT_SIGNING_KEY_FILE`: the report signing key (PKCS#8
    /// PEM); unset: `<data>/keys/report-signing.key`, made on first start.
    pub report_signing_key_file: Option<PathBuf>,
    /// `KOERIER_CLUSTER=1`: this node is one of many. It never makes a
    /// key, and the start stops unless everything the nodes share is given:
    /// the master key, the SSH host key, the report signing key, the
    /// certificate, PostgreSQL, SMTP and the SMS gateway.
    #[serde(default, deserialize_with = "switch")]
    pub cluster: bool,
    /// `KOERIER_TRUSTED_PROXIES`: addresses and CIDR blocks of the load
    /// balancers whose PROXY header (HTTPS and SFTP) and `X-Forwarded-For`
    /// (HTTP) name the client; unset: none, every peer is the client.
    pub trusted_proxies: Option<String>,
    /// `KOERIER_STORE_URL`: `s3://bucket/prefix`, the S3-compatible object
    /// store every node keeps the documents in; unset: the data folder.
    pub store_url: Option<String>,
    /// `KOERIER_S3_ENDPOINT`: the object store's address (`https://…`, or
    /// `http://…` on a private network); unset: AWS. Addressed by path.
    pub s3_endpoint: Option<String>,
    /// `KOERIER_S3_REGION`; unset: `AWS_REGION`, else `us-east-1`.
    pub s3_region: Option<String>,
    /// How often the lifecycle jobs run (humantime).
    pub jobs_interval: String,
    /// The rules of SPEC section 3 beyond the window and retention (`[rules]`,
    /// or `KOERIER_RULES__CODE_ATTEMPTS=…`).
    #[serde(default)]
    pub rules: gateway::Rules,
    /// Connections and request bodies, per listener (`[limits]`, or
    /// `KOERIER_LIMITS__CONNECTIONS_PER_ADDRESS=…`).
    #[serde(default)]
    pub limits: gateway::Limits,
}

/// `[sms]`: how to talk to the operator's SMS gateway at `sms_url`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// `POST` or `PUT`.
    pub method: String,
    /// One header that authenticates, `Name: value` (secret).
    pub auth_header: Option<Secret>,
    /// The body, with `{number}`, `{text}` and `{id}` (the message's id) filled in.
    pub body: String,
    /// The body's content type; JSON bodies get JSON-escaped values.
    pub content_type: String,
    /// The HTTP statuses that mean accepted.
    pub success: Vec<u16>,
    /// How long one request may take (humantime, at most 20s).
    pub timeout: String,
}

impl Default for SmsConfig {
    fn default() -> Self {
        let d = notify::SmsSettings::default();
        SmsConfig {
            method: d.method,
            auth_header: None,
            body: d.body,
            content_type: d.content_type,
            success: d.success,
            timeout: humantime::format_duration(d.timeout).to_string(),
        }
    }
}

/// `[branding]`: the operator's names and numbers, shown in every message.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrandingConfig {
    pub service_name: String,
    /// The organisation that runs the service, beside its name on every page
    /// and in every mail's footer.
    pub organisation: String,
    /// A PNG, JPEG, WebP or SVG file (at most 512 KiB), read at start: in
    /// every page's header, served at `/static/logo`, and the mails' image
    /// when `logo_url` is not set.
    pub logo_file: Option<PathBuf>,
    /// The IANA time zone that pages and mails give moments in.
    pub time_zone: String,
    pub helpdesk_phone: String,
    /// The default contact of public deliveries (the reporting desk).
    pub contact_name: String,
    pub contact_email: String,
    /// An absolute `https://` URL of a logo for HTML mail.
    pub logo_url: Option<String>,
}

impl Default for BrandingConfig {
    fn default() -> Self {
        let d = notify::Branding::default();
        BrandingConfig {
            service_name: d.service_name,
            organisation: d.organisation,
            logo_file: None,
            time_zone: "Europe/Amsterdam".into(),
            helpdesk_phone: d.helpdesk_phone,
            contact_name: d.contact_name,
            contact_email: d.contact_email,
            logo_url: d.logo_url,
        }
    }
}

/// Top-level keys an environment variable may set; other `KOERIER_*`
/// variables belong to someone else and are left alone.
const ENV_KEYS: &[&str] = &[
    "data_dir",
    "database_url",
    "https_listen",
    "https_cert",
    "https_key",
    "sftp_listen",
    "public_url",
    "metrics_token",
    "upload_window",
    "retention",
    "smtp_url",
    "sms_url",
    "mail_from",
    "sms",
    "branding",
    "templates_dir",
    "outbox_interval",
    "master_key",
    "master_key_file",
    "ssh_host_key_file",
    "report_signing_key_file",
    "cluster",
    "trusted_proxies",
    "store_url",
    "s3_endpoint",
    "s3_region",
    "jobs_interval",
    "rules",
    "limits",
];

fn defaults() -> Figment {
    Figment::new()
        .merge(Serialized::default("data_dir", "./data"))
        .merge(Serialized::default("https_listen", "127.0.0.1:8443"))
        .merge(Serialized::default("sftp_listen", "127.0.0.1:2222"))
        .merge(Serialized::default("jobs_interval", "30s"))
        .merge(Serialized::default("outbox_interval", "5s"))
}

impl Config {
    /// Load from the optional file and the environment, then validate.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let mut figment = defaults();
        if let Some(file) = file {
            if !file.exists() {
                bail!("the configuration file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let env = Env::prefixed("KOERIER_").split("__").filter(|key| {
            let top = key.as_str().split('.').next().unwrap_or_default();
            // The filter sees the variable's name before figment lowercases it.
            ENV_KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
        });
        let config: Config = figment.merge(env).extract().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        config.validated()
    }

    fn validated(mut self) -> Result<Config> {
        if let Some(w) = &self.upload_window {
            self.rules.upload_window = parse_duration("upload_window", w)?;
        }
        if let Some(r) = &self.retention {
            self.rules.retention = parse_duration("retention", r)?;
        }
        parse_duration("jobs_interval", &self.jobs_interval)?;
        parse_duration("outbox_interval", &self.outbox_interval)?;
        parse_duration("sms.timeout", &self.sms.timeout)?;
        if let Some(logo) = &self.branding.logo_url
            && !logo.starts_with("https://")
        {
            bail!("configuration: branding.logo_url must start with https:// (got {logo:?})");
        }
        self.zone()?;
        self.logo()?;
        self.rules.validate().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        self.limits.validate().map_err(|e| anyhow::anyhow!("configuration: limits: {e}"))?;
        if let Some(url) = &self.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            bail!("configuration: public_url must start with https:// (got {url:?})");
        }
        match (&self.https_cert, &self.https_key) {
            (Some(cert), Some(key)) => {
                for (setting, path) in [("https_cert", cert), ("https_key", key)] {
                    if !path.is_file() {
                        bail!("configuration: {setting} = {} is not a file", path.display());
                    }
                }
            }
            (None, None) => {}
            _ => bail!("configuration: https_cert and https_key go together: set both or neither"),
        }
        if let Some(url) = &self.database_url {
            gateway::db::Backend::of(url.expose()).map_err(|e| anyhow::anyhow!("configuration: database_url: {e}"))?;
        }
        if let Some(key) = &self.master_key {
            gateway::MasterKey::from_base64(key.expose())
                .map_err(|e| anyhow::anyhow!("configuration: master_key: {e}"))?;
        }
        notify::check_settings(&self.notify_settings()?).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        for (setting, path) in [
            ("ssh_host_key_file", &self.ssh_host_key_file),
            ("report_signing_key_file", &self.report_signing_key_file),
            ("master_key_file", &self.master_key_file),
        ] {
            if let Some(path) = path
                && self.cluster
                && !path.is_file()
            {
                bail!("configuration: {setting} = {} is not a file", path.display());
            }
        }
        if self.cluster {
            self.cluster_ready()?;
        }
        self.trusted_proxies()?;
        self.object_store()?;
        Ok(self)
    }

    /// The object store the documents are kept in, when one is set.
    pub fn object_store(&self) -> Result<Option<gateway::store::ObjectStoreConfig>> {
        let Some(url) = &self.store_url else {
            if self.s3_endpoint.is_some() {
                bail!("configuration: s3_endpoint is set but store_url is not; set store_url = s3://bucket/prefix");
            }
            return Ok(None);
        };
        let config = gateway::store::ObjectStoreConfig::from_url(url, self.s3_endpoint.clone(), self.s3_region.clone())
            .map_err(|e| anyhow::anyhow!("configuration: store_url: {e}"))?;
        Ok(Some(config))
    }

    /// The load balancers whose word on the client's address is believed.
    pub fn trusted_proxies(&self) -> Result<gateway::proxied::TrustedProxies> {
        gateway::proxied::TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("configuration: trusted_proxies: {e}"))
    }

    /// A node of a cluster makes nothing of its own: every key and every
    /// outside service the nodes share must be given. Says all that is
    /// missing at once.
    fn cluster_ready(&self) -> Result<()> {
        let mut missing = Vec::new();
        if self.master_key.is_none() && self.master_key_file.is_none() {
            missing.push("the master key (KOERIER_MASTER_KEY or KOERIER_MASTER_KEY_FILE)");
        }
        if self.ssh_host_key_file.is_none() {
            missing.push("the SSH host key (KOERIER_SSH_HOST_KEY_FILE)");
        }
        if self.report_signing_key_file.is_none() {
            missing.push("the report signing key (KOERIER_REPORT_SIGNING_KEY_FILE)");
        }
        if self.https_cert.is_none() {
            missing.push("the certificate and its key (KOERIER_HTTPS_CERT, KOERIER_HTTPS_KEY)");
        }
        let postgres =
            matches!(gateway::db::Backend::of(&self.database_url()).map(|b| b.0), Ok(gateway::db::Backend::Postgres));
        if !postgres {
            missing.push("a PostgreSQL database every node uses (KOERIER_DATABASE_URL=postgres://…)");
        }
        if self.smtp_url.is_none() {
            missing.push("an SMTP server (KOERIER_SMTP_URL): mail written to files stays on one node");
        }
        if self.sms_url.is_none() {
            missing.push("an SMS gateway (KOERIER_SMS_URL): texts written to files stay on one node");
        }
        if self.store_url.is_none() {
            missing.push("an object store (KOERIER_STORE_URL=s3://…): documents in a data folder stay on one node");
        }
        if missing.is_empty() {
            return Ok(());
        }
        bail!(
            "configuration: cluster = 1, and a node of a cluster makes nothing of its own; it needs {}",
            missing.join("; ")
        )
    }

    /// The database URL: the setting, or SQLite in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => self.data_dir.join("koerier.db").to_string_lossy().into_owned(),
        }
    }

    /// The base of links in mail.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("https://{}", self.https_listen))
    }

    /// How often the jobs run.
    pub fn jobs_interval(&self) -> std::time::Duration {
        humantime::parse_duration(&self.jobs_interval).unwrap_or(std::time::Duration::from_secs(30))
    }

    /// What the core needs.
    pub fn gateway_settings(&self) -> gateway::Settings {
        gateway::Settings {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url(),
            rules: self.rules.clone(),
            limits: self.limits.clone(),
            keys: gateway::KeyFiles {
                report_signing_key: self.report_signing_key_file.clone(),
                make_missing: !self.cluster,
            },
            store: self.object_store().ok().flatten(),
        }
    }

    /// How often the outbox is delivered.
    pub fn outbox_interval(&self) -> std::time::Duration {
        humantime::parse_duration(&self.outbox_interval).unwrap_or(std::time::Duration::from_secs(5))
    }

    /// What delivering mail and SMS needs.
    pub fn notify_settings(&self) -> Result<notify::NotifySettings> {
        let b = &self.branding;
        Ok(notify::NotifySettings {
            data_dir: self.data_dir.clone(),
            public_url: self.public_url(),
            sftp_listen: self.sftp_listen,
            mail: notify::MailSettings {
                smtp_url: self.smtp_url.as_ref().map(|s| s.expose().to_owned()),
                from: self.mail_from.clone(),
            },
            sms: notify::SmsSettings {
                url: self.sms_url.as_ref().map(|s| s.expose().to_owned()),
                method: self.sms.method.to_ascii_uppercase(),
                auth_header: self.sms.auth_header.as_ref().map(|s| s.expose().to_owned()),
                body: self.sms.body.clone(),
                content_type: self.sms.content_type.clone(),
                success: self.sms.success.clone(),
                timeout: parse_duration("sms.timeout", &self.sms.timeout)?,
            },
            branding: notify::Branding {
                service_name: b.service_name.clone(),
                organisation: b.organisation.clone(),
                helpdesk_phone: b.helpdesk_phone.clone(),
                contact_name: b.contact_name.clone(),
                contact_email: b.contact_email.clone(),
                logo_url: b.logo_url.clone().or_else(|| {
                    let public = self.public_url();
                    b.logo_file.as_ref().map(|_| format!("{}/static/logo", public.trim_end_matches('/')))
                }),
            },
            zone: self.zone()?,
            templates_dir: self.templates_dir.clone(),
        })
    }

    /// Where the HTTPS listener's certificate comes from.
    pub fn cert_source(&self) -> web::tls::CertSource {
        match (&self.https_cert, &self.https_key) {
            (Some(cert), Some(key)) => web::tls::CertSource::Files { cert: cert.clone(), key: key.clone() },
            _ => {
                let mut names = vec!["localhost".to_owned(), self.https_listen.ip().to_string()];
                let public = self.public_url();
                let host = public.split("://").nth(1).and_then(|rest| rest.split(['/', ':']).next());
                if let Some(host) = host.filter(|h| !h.is_empty() && !names.iter().any(|n| n == h)) {
                    names.push(host.to_owned());
                }
                web::tls::CertSource::SelfSigned { dir: self.data_dir.join("certs"), names }
            }
        }
    }

    /// The zone of `branding.time_zone`.
    fn zone(&self) -> Result<gateway::LocalZone> {
        gateway::LocalZone::named(&self.branding.time_zone)
            .map_err(|e| anyhow::anyhow!("configuration: branding.time_zone: {e}"))
    }

    /// The logo of `branding.logo_file`, read.
    fn logo(&self) -> Result<Option<web::Logo>> {
        let Some(path) = &self.branding.logo_file else { return Ok(None) };
        web::Logo::read(path).map(Some).map_err(|e| anyhow::anyhow!("configuration: branding.logo_file: {e}"))
    }

    /// What the web front needs.
    pub fn web_settings(&self) -> Result<web::WebSettings> {
        Ok(web::WebSettings {
            service_name: self.branding.service_name.clone(),
            organisation: self.branding.organisation.clone(),
            logo: self.logo()?,
            zone: self.zone()?,
            helpdesk_phone: self.branding.helpdesk_phone.clone(),
            contact_name: self.branding.contact_name.clone(),
            contact_email: self.branding.contact_email.clone(),
            metrics_token: self.metrics_token.as_ref().map(|t| t.expose().to_owned()),
            sftp_listen: self.sftp_listen,
        })
    }

    /// Where the master key file lives.
    pub fn master_key_file(&self) -> PathBuf {
        self.master_key_file.clone().unwrap_or_else(|| self.data_dir.join("keys").join("master.key"))
    }
}

fn parse_duration(setting: &str, text: &str) -> Result<std::time::Duration> {
    let d = humantime::parse_duration(text)
        .with_context(|| format!("configuration: {setting} = {text:?} is not a duration (write 90s, 10m, 1h, 5d)"))?;
    if d.is_zero() {
        bail!("configuration: {setting} must be longer than zero");
    }
    Ok(d)
}

/// An on/off setting: `1`, `true`, `yes` or `on`, and their opposites (an
/// environment variable gives `1` as a number).
fn switch<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Bool(bool),
        Number(i64),
        Text(String),
    }
    match Given::deserialize(d)? {
        Given::Bool(b) => Ok(b),
        Given::Number(1) => Ok(true),
        Given::Number(0) => Ok(false),
        Given::Text(t) if ["1", "true", "yes", "on"].contains(&t.to_lowercase().as_str()) => Ok(true),
        Given::Text(t) if ["0", "false", "no", "off", ""].contains(&t.to_lowercase().as_str()) => Ok(false),
        _ => Err(serde::de::Error::custom("cluster is 1 or 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(text: &str) -> Result<Config> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("koerier.toml");
        std::fs::write(&file, text)?;
        Config::load(Some(&file))
    }

    #[test]
    fn defaults_are_the_embedded_contract() -> Result<()> {
        let c = load_toml("")?;
        assert_eq!(c.https_listen.to_string(), "127.0.0.1:8443");
        assert_eq!(c.sftp_listen.to_string(), "127.0.0.1:2222");
        assert_eq!(c.public_url(), "https://127.0.0.1:8443");
        assert_eq!(c.rules.upload_window.as_secs(), 3600);
        assert_eq!(c.rules.retention.as_secs(), 5 * 86400);
        Ok(())
    }

    #[test]
    fn bad_values_stop_the_start_naming_the_setting() {
        let err = |text: &str| load_toml(text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("upload_window = \"an hour\"").contains("upload_window"));
        assert!(err("retention = \"0s\"").contains("retention"));
        assert!(err("https_listen = \"nowhere\"").contains("https_listen"));
        assert!(err("https_cert = \"/no/such.pem\"").contains("https_key"));
        assert!(err("https_cert = \"/no/such.pem\"\nhttps_key = \"/no/such.key\"").contains("https_cert"));
        assert!(err("database_url = \"mysql://x/y\"").contains("database_url"));
        assert!(err("uplod_window = \"1h\"").contains("uplod_window"));
        assert!(err("[rules]\ncode_atempts = 3").contains("code_atempts"));
        assert!(err("[rules]\nallowed_extensions = [\"exe\", \".bat\"]").contains("allowed_extensions"));
    }

    #[test]
    fn rules_are_configurable() -> Result<()> {
        let c = load_toml("upload_window = \"90s\"\n[rules]\ncode_attempts = 3\nmax_message_bytes = 1000\n")?;
        assert_eq!(c.rules.upload_window.as_secs(), 90);
        assert_eq!(c.rules.code_attempts, 3);
        assert_eq!(c.rules.max_message_bytes, 1000);
        Ok(())
    }

    #[test]
    fn limits_are_configurable_and_checked() -> Result<()> {
        let c = load_toml("[limits]\nconnections_per_address = 8\nbody_window = \"5s\"\n")?;
        assert_eq!(c.limits.connections_per_address, 8);
        assert_eq!(c.limits.body_window.as_secs(), 5);
        assert_eq!(c.limits.connections, gateway::Limits::default().connections);
        let err = |toml: &str| load_toml(toml).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("[limits]\nconnections = 10\nconnections_per_address = 20\n").contains("connections_per_address"));
        assert!(err("[limits]\nconection_rate = 3\n").contains("conection_rate"));
        Ok(())
    }

    #[test]
    fn secrets_do_not_print() -> Result<()> {
        let c = load_toml(
            "smtp_url = \"smtps://u:hunter2@mail\"\n[sms]\nauth_header = \"Authorization: Bearer sesame\"\n",
        )?;
        let shown = format!("{c:?} {:?}", c.notify_settings()?);
        assert!(!shown.contains("hunter2") && !shown.contains("sesame"), "{shown}");
        Ok(())
    }

    #[test]
    fn mail_sms_and_branding_are_configured_and_checked() -> Result<()> {
        let c = load_toml(
            "sms_url = \"https://sms.example.net/send\"\nmail_from = \"Koerier <noreply@minvws.nl>\"\n\
             [sms]\nmethod = \"put\"\nsuccess = [202]\ntimeout = \"5s\"\n\
             [branding]\nservice_name = \"Veilig verzenden\"\nhelpdesk_phone = \"070 123 4567\"\n",
        )?;
        let n = c.notify_settings()?;
        assert_eq!((n.sms.method.as_str(), n.sms.success.as_slice()), ("PUT", &[202][..]));
        assert_eq!(n.branding.service_name, "Veilig verzenden");
        let err = |text: &str| load_toml(text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("sms_url = \"http://sms.example.net/\"").contains("sms_url"));
        assert!(err("smtp_url = \"smtp://u:p@mail.example.net:587\"").contains("smtp_url"));
        assert!(err("mail_from = \"not an address\"").contains("mail_from"));
        assert!(err("[sms]\ntimeout = \"2m\"").contains("sms.timeout"));
        assert!(err("[branding]\nlogo_url = \"http://x/logo.png\"").contains("logo_url"));
        assert!(err("[branding]\nservise_name = \"x\"").contains("servise_name"));
        assert!(err("templates_dir = \"/no/such/folder\"").contains("templates folder"));
        assert!(err("[branding]\ntime_zone = \"Europe/Amsterdamm\"").contains("branding.time_zone"));
        let epoch = gateway::Timestamp::from_millis(0);
        let at = |c: &Config| -> Result<(String, String)> {
            let (web, notify) = (c.web_settings()?.zone, c.notify_settings()?.zone);
            Ok((web.show(epoch, gateway::Language::En), notify.show(epoch, gateway::Language::En)))
        };
        let amsterdam = "1 January 1970 at 01:00".to_owned();
        assert_eq!(at(&load_toml("")?)?, (amsterdam.clone(), amsterdam), "the embedded default");
        let utc = "1 January 1970 at 00:00".to_owned();
        assert_eq!(at(&load_toml("[branding]\ntime_zone = \"UTC\"")?)?, (utc.clone(), utc), "pages and mails alike");
        Ok(())
    }

    #[test]
    fn the_logo_file_is_read_once_and_checked() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let svg = dir.path().join("logo.svg");
        std::fs::write(&svg, "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>")?;
        let c = load_toml(&format!(
            "public_url = \"https://koerier.example.org/\"\n[branding]\norganisation = \"IGJ\"\nlogo_file = {:?}\n",
            svg.display().to_string()
        ))?;
        assert!(c.web_settings()?.logo.is_some());
        assert_eq!(c.web_settings()?.organisation, "IGJ");
        let n = c.notify_settings()?;
        assert_eq!(n.branding.logo_url.as_deref(), Some("https://koerier.example.org/static/logo"), "the mails' image");
        let err = |file: &std::path::Path| {
            let toml = format!("[branding]\nlogo_file = {:?}\n", file.display().to_string());
            load_toml(&toml).err().map(|e| e.to_string()).unwrap_or_default()
        };
        let text = dir.path().join("logo.txt");
        std::fs::write(&text, "not a picture")?;
        assert!(err(&text).contains("not a PNG, JPEG, WebP or SVG"), "{}", err(&text));
        let big = dir.path().join("big.png");
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.resize(web::MAX_LOGO_BYTES + 1, 0);
        std::fs::write(&big, bytes)?;
        assert!(err(&big).contains("at most"), "{}", err(&big));
        assert!(err(&dir.path().join("none.png")).contains("branding.logo_file"));
        Ok(())
    }
}
