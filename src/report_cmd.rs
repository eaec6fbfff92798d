//! `koerier report`: the overview PDF of an account, the report of one
//! message, checking a signed proof offline, and the key that signs them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use gateway::report::Period;
use gateway::report::proof::{self, Statement};
use gateway::{Admin, Clock, Folder, Language, SystemClock, Timestamp};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ReportAction {
    /// Write the overview PDF of every message an account sent or received in a period.
    Export {
        /// The account's address.
        #[arg(long)]
        account: String,
        /// The first day (YYYY-MM-DD, UTC); without it, from the beginning.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// The last day, included (YYYY-MM-DD, UTC); without it, up to now.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Where to write the PDF (`-` for standard output).
        #[arg(long, short, default_value = "overview.pdf")]
        output: PathBuf,
        /// The reader's language.
        #[arg(long, default_value = "nl", value_parser = ["nl", "en"])]
        language: String,
    },
    /// Write the report of one message an account sent, with its signed proof attached.
    Message {
        /// The account that sent it.
        #[arg(long)]
        account: String,
        /// The message's folder name.
        name: String,
        /// Where to write it (`-` for standard output); default report-<name>.pdf or .proof.json.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Write the signed proof alone (JSON) instead of the PDF.
        #[arg(long)]
        proof: bool,
        /// The reader's language.
        #[arg(long, default_value = "nl", value_parser = ["nl", "en"])]
        language: String,
    },
    /// Check a signed proof offline: a proof file, or a report PDF that carries one.
    Verify {
        /// The proof (.json) or report (.pdf).
        file: PathBuf,
        /// The fingerprint the signing key must have, as `koerier report key` shows it.
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// Show the public key that signs reports and its fingerprint, to publish.
    Key,
}

pub async fn report(config: &Config, action: ReportAction) -> Result<()> {
    match action {
        ReportAction::Export { account, from, to, output, language } => {
            let gw = crate::commands::open(config).await?;
            let period = period(from.as_deref(), to.as_deref())?;
            let overview = gw.overview_as_admin(&Admin::console(), &account, period).await?;
            let pdf = gw.overview_pdf(&overview, Language::parse(&language)?).await?;
            write_out(&output, &pdf)?;
            eprintln!("{} messages of {account} in {} ({} bytes)", overview.entries.len(), shown(&output), pdf.len());
        }
        ReportAction::Message { account, name, output, proof, language } => {
            let gw = crate::commands::open(config).await?;
            let session = gw.console_session(&Admin::console(), &account).await?;
            let found = gw.find(&session, Folder::Sent, &name).await;
            let transfer = found.with_context(|| format!("{account} sent no message named {name:?}"))?;
            let data = gw.report(&session, &transfer.id).await?;
            let (bytes, default) = if proof {
                (gw.report_proof(&data)?.into_bytes(), format!("report-{name}.proof.json"))
            } else {
                (gw.report_pdf(&data, Language::parse(&language)?).await?, format!("report-{name}.pdf"))
            };
            let output = output.unwrap_or_else(|| PathBuf::from(default));
            write_out(&output, &bytes)?;
            eprintln!("wrote the report of {name} to {} ({} bytes)", shown(&output), bytes.len());
        }
        ReportAction::Verify { file, fingerprint } => verify(&file, fingerprint.as_deref())?,
        ReportAction::Key => {
            let gw = crate::commands::open(config).await?;
            let key = gw.report_key();
            println!("public key   {}", key.public_key);
            println!("fingerprint  {}", key.fingerprint);
            let file = config
                .report_signing_key_file
                .clone()
                .unwrap_or_else(|| config.data_dir.join(gateway::report::SIGNING_KEY_FILE));
            println!("key file     {}", file.display());
        }
    }
    Ok(())
}

/// Check a proof and say what it proves; fail on any change.
fn verify(file: &Path, fingerprint: Option<&str>) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let verified = match proof::verify(&bytes, fingerprint) {
        Ok(v) => v,
        Err(e) => bail!("the proof in {} is NOT valid: {e}", file.display()),
    };
    println!("the proof is valid: it was signed by the key {} and not changed since", verified.fingerprint);
    match fingerprint {
        Some(_) => println!("the key is the one you named"),
        None => println!("compare that fingerprint with `koerier report key` on the server that made it"),
    }
    let what = match &verified.statement {
        Statement::Message(_) => "what the server recorded of one message when it made the report",
        Statement::Overview(_) => "the messages the server listed for the account and period",
    };
    println!("it proves {what}:");
    for line in verified.summary() {
        println!("  {line}");
    }
    Ok(())
}

/// `--from`/`--to` as whole days in UTC; `--to` is included.
fn period(from: Option<&str>, to: Option<&str>) -> Result<Period> {
    let day = |text: &str, flag: &str| -> Result<Timestamp> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(text.trim(), &format)
            .with_context(|| format!("{flag} {text:?} is not a date like 2026-11-23"))?;
        let seconds = date.midnight().assume_utc().unix_timestamp();
        Ok(Timestamp::from_millis(seconds.saturating_mul(1000)))
    };
    let start = from.map(|f| day(f, "--from")).transpose()?.unwrap_or(Timestamp::from_millis(0));
    let end = match to {
        Some(t) => day(t, "--to")?.plus(std::time::Duration::from_secs(24 * 3600)),
        None => SystemClock.now().plus(std::time::Duration::from_millis(1)),
    };
    Ok(Period::new(start, end)?)
}

fn write_out(path: &Path, bytes: &[u8]) -> Result<()> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        return Ok(out.flush()?);
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn shown(path: &Path) -> String {
    if path == Path::new("-") { "standard output".into() } else { path.display().to_string() }
}
