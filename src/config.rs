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
    /// `KOERIER_SFTP_LISTEN`
    pub sftp_listen: SocketAddr,
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
    /// `KOERIER_MASTER_KEY`: 32 bytes, base64. Unset: the key file.
    pub master_key: Option<Secret>,
    /// `KOERIER_MASTER_KEY_FILE`; unset: `<data>/keys/master.key`, made on first start.
    pub master_key_file: Option<PathBuf>,
    /// How often the lifecycle jobs run (humantime).
    pub jobs_interval: String,
    /// The rules of SPEC section 3 beyond the window and retention (`[rules]`,
    /// or `KOERIER_RULES__CODE_ATTEMPTS=…`).
    #[serde(default)]
    pub rules: gateway::Rules,
}

/// Top-level keys an environment variable may set; other `KOERIER_*`
/// variables belong to someone else and are left alone.
const ENV_KEYS: &[&str] = &[
    "data_dir",
    "database_url",
    "https_listen",
    "sftp_listen",
    "public_url",
    "upload_window",
    "retention",
    "smtp_url",
    "sms_url",
    "master_key",
    "master_key_file",
    "jobs_interval",
    "rules",
];

fn defaults() -> Figment {
    Figment::new()
        .merge(Serialized::default("data_dir", "./data"))
        .merge(Serialized::default("https_listen", "127.0.0.1:8443"))
        .merge(Serialized::default("sftp_listen", "127.0.0.1:2222"))
        .merge(Serialized::default("jobs_interval", "30s"))
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
            ENV_KEYS.contains(&top)
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
        self.rules.validate().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        if let Some(url) = &self.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            bail!("configuration: public_url must start with https:// (got {url:?})");
        }
        if let Some(url) = &self.database_url {
            gateway::db::Backend::of(url.expose()).map_err(|e| anyhow::anyhow!("configuration: database_url: {e}"))?;
        }
        if let Some(key) = &self.master_key {
            gateway::MasterKey::from_base64(key.expose())
                .map_err(|e| anyhow::anyhow!("configuration: master_key: {e}"))?;
        }
        Ok(self)
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
        }
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
    fn secrets_do_not_print() -> Result<()> {
        let c = load_toml("smtp_url = \"smtp://u:hunter2@mail\"")?;
        assert!(!format!("{c:?}").contains("hunter2"));
        Ok(())
    }
}
