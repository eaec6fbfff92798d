//! The operator's commands (SPEC section 9), each a thin call into the core.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use gateway::address::{Mailbox, PhoneNumber};
use gateway::upload::UploadMode;
use gateway::{Admin, Envelope, Gateway, Language, MasterKey, NewAccount, Role, SystemClock, SystemRandom, TransferId};
use tokio::io::AsyncReadExt;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum DomainAction {
    /// Affiliate a domain: its addresses count as staff.
    Add { domain: String },
    /// List the affiliated domains.
    List,
    /// Stop affiliating a domain.
    Remove { domain: String },
}

#[derive(Debug, Subcommand)]
pub enum AccountAction {
    /// Create an account. Without --password-stdin a password is generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "staff", value_parser = ["staff", "admin", "partner"])]
        role: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List,
    /// Disable an account: every door refuses it from its next request.
    Disable {
        /// The account's address.
        #[arg(long = "email", value_name = "E", required_unless_present = "address")]
        email: Option<String>,
        /// The account's address (positional form).
        #[arg(conflicts_with = "email")]
        address: Option<String>,
    },
    /// Add an SSH public key (an OpenSSH .pub file) to an account.
    AddKey {
        #[arg(long)]
        email: String,
        /// The public key file.
        public_key_file: PathBuf,
    },
    /// Make an app password for a WebDAV client (a mapped drive, rclone); it is
    /// printed once, and opens only the WebDAV door.
    AppPassword {
        #[arg(long)]
        email: String,
        /// What the password is for, to recognise it later.
        #[arg(long, default_value = "WebDAV")]
        label: String,
    },
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The staff account that sends.
    #[arg(long)]
    from: String,
    /// The recipient: "Name <email>".
    #[arg(long)]
    to: String,
    /// The recipient's mobile number (required outside the affiliated domains).
    #[arg(long)]
    phone: Option<String>,
    #[arg(long, default_value = "")]
    subject: String,
    #[arg(long, default_value = "")]
    reference: String,
    /// A file with the accompanying text.
    #[arg(long)]
    text_file: Option<PathBuf>,
    #[arg(long, default_value = "nl", value_parser = ["nl", "en"])]
    language: String,
    /// The documents; a folder goes with all it holds, as `<folder>.zip`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The staff account that asks for the documents.
    #[arg(long)]
    from: String,
    /// Who is asked: "Name <email>", an address outside the affiliated domains.
    #[arg(long)]
    to: String,
    /// The language of the mail and of the upload page.
    #[arg(long, default_value = "nl", value_parser = ["nl", "en"])]
    language: String,
    /// A file with the text of the request.
    #[arg(long)]
    text_file: Option<PathBuf>,
}

/// Open the core as every command does: the master key from the setting or the
/// key file (made on first start, with a warning), migrations applied.
pub async fn open(config: &Config) -> Result<Gateway> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create the data folder {}", config.data_dir.display()))?;
    let random = Arc::new(SystemRandom);
    let master = match &config.master_key {
        Some(key) => MasterKey::from_base64(key.expose())?,
        None => {
            let path = config.master_key_file();
            let (key, origin) = MasterKey::load_or_generate(&path, random.as_ref())?;
            if origin == gateway::KeyOrigin::Generated {
                tracing::warn!(
                    path = %path.display(),
                    "generated a new master key; back it up apart from the data: without it no document can be opened"
                );
            }
            key
        }
    };
    Ok(Gateway::open(config.gateway_settings(), master, Arc::new(SystemClock), random).await?)
}

pub fn config_check(config: &Config) -> Result<()> {
    let backend = gateway::db::Backend::of(&config.database_url())?.0;
    println!("configuration is valid");
    println!("data folder      {}", config.data_dir.display());
    println!("database         {backend:?}");
    println!("https listen     {}", config.https_listen);
    println!("sftp listen      {}", config.sftp_listen);
    println!("public url       {}", config.public_url());
    println!("upload window    {}", humantime::format_duration(config.rules.upload_window));
    println!("retention        {}", humantime::format_duration(config.rules.retention));
    println!("mail             {}", if config.smtp_url.is_some() { "smtp" } else { "files in <data>/mail" });
    println!("sms              {}", if config.sms_url.is_some() { "https gateway" } else { "files in <data>/sms" });
    let templates =
        config.templates_dir.as_ref().map_or("built in".into(), |d| format!("built in, replaced from {}", d.display()));
    println!("templates        {templates}");
    println!("outbox interval  {}", humantime::format_duration(config.outbox_interval()));
    Ok(())
}

pub async fn migrate(config: &Config) -> Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let db = gateway::db::Db::connect(&config.database_url())?;
    let applied = db.migrate().await?;
    if applied.is_empty() {
        println!("the database is up to date");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

pub async fn domain(config: &Config, action: DomainAction) -> Result<()> {
    let gw = open(config).await?;
    let admin = Admin::console();
    match action {
        DomainAction::Add { domain } => {
            gw.add_domain(&admin, &domain).await?;
            println!("affiliated {domain}");
        }
        DomainAction::List => gw.list_domains().await?.iter().for_each(|d| println!("{d}")),
        DomainAction::Remove { domain } => {
            gw.remove_domain(&admin, &domain).await?;
            println!("removed {domain}");
        }
    }
    Ok(())
}

pub async fn account(config: &Config, action: AccountAction) -> Result<()> {
    let gw = open(config).await?;
    let admin = Admin::console();
    match action {
        AccountAction::Create { email, name, role, password_stdin } => {
            let (password, generated) = if password_stdin {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                (text.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (generate_password()?, true)
            };
            let role = Role::parse(&role)?;
            let info = gw
                .create_account(&admin, NewAccount { email, display_name: name, role, password: password.clone() })
                .await?;
            println!("created {} account {}", info.role.as_str(), info.email);
            if generated {
                println!("password: {password}");
                println!("(shown once; the account holder can change it)");
            }
        }
        AccountAction::List => {
            for a in gw.list_accounts(&admin).await? {
                let state = if a.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{state}\t{} ssh keys", a.email, a.role.as_str(), a.display_name, a.ssh_keys);
            }
        }
        AccountAction::Disable { email, address } => {
            let email = email.or(address).unwrap_or_default();
            gw.disable_account(&admin, &email).await?;
            println!("disabled {email}");
        }
        AccountAction::AddKey { email, public_key_file } => {
            let line = std::fs::read_to_string(&public_key_file)
                .with_context(|| format!("cannot read {}", public_key_file.display()))?;
            let fingerprint = gw.add_ssh_key(&admin, &email, line.trim()).await?;
            println!("added {fingerprint} to {email}");
        }
        AccountAction::AppPassword { email, label } => {
            let made = gw.create_app_password_as_admin(&admin, &email, &label).await?;
            println!("app password for {email} ({}): {}", made.label, made.secret);
            println!("(shown once; use it as the password of a WebDAV client, with {email} as the user)");
        }
    }
    Ok(())
}

pub async fn purge(config: &Config) -> Result<()> {
    let gw = open(config).await?;
    match gw.run_lifecycle().await? {
        Some(r) => println!(
            "aborted {} drafts, expired {} messages, deleted {} blobs, swept {} unfinished uploads",
            r.aborted, r.expired, r.blobs_deleted, r.staging_swept
        ),
        None => bail!("another node is running the lifecycle jobs right now; try again in a minute"),
    }
    Ok(gw.release_lifecycle_lease().await?)
}

/// The session of the account a command acts as (`--from`).
async fn acting_as(gw: &Gateway, from: &str) -> Result<gateway::Session> {
    gw.console_session(&Admin::console(), from).await.map_err(|e| match e {
        gateway::Error::NotFound => anyhow::anyhow!("--from: there is no account {from}"),
        e => anyhow::anyhow!("--from {from}: {e}"),
    })
}

pub async fn send(config: &Config, args: SendArgs) -> Result<()> {
    let gw = open(config).await?;
    let session = acting_as(&gw, &args.from).await?;
    let mut suffix = [0u8; 3];
    gateway::Random::fill(&SystemRandom, &mut suffix)?;
    let stamp = gateway::Timestamp::rfc3339(gw_now()).replace(':', "");
    let name = format!("cli-{stamp}-{:02x}{:02x}{:02x}", suffix[0], suffix[1], suffix[2]);
    let draft = gw.create_draft(&session, &name).await?;
    let outcome = compose_and_send(&gw, &session, &draft.id, args).await;
    if outcome.is_err() {
        // Leave nothing half-made behind: the draft and its documents go.
        if let Err(e) = gw.discard_draft(&session, &draft.id).await {
            tracing::warn!(error = %e, "could not discard the unsent draft");
        }
    }
    let receipt = outcome?;
    println!("sent {}; available until {}", draft.name, receipt.expires_at);
    if let Some(masked) = receipt.masked_phone {
        println!("the code goes by SMS to {masked}");
    }
    deliver_now(config, &gw).await;
    Ok(())
}

/// Ask someone outside the organisation for documents, as a staff account.
/// The secret goes out only in the mail the core queues; this prints what
/// the operator may see: the user name and until when the request is valid.
pub async fn request(config: &Config, args: RequestArgs) -> Result<()> {
    let gw = open(config).await?;
    let session = acting_as(&gw, &args.from).await?;
    let to = Mailbox::parse(&args.to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let text = match &args.text_file {
        Some(f) => std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
        None => String::new(),
    };
    let language = Language::parse(&args.language)?;
    let info = gw.create_upload_request(&session, &to, &text, language).await?;
    println!("requested documents from {}; the link goes by mail", to.email.normalized());
    println!("user name (SFTP, WebDAV): {}", info.user_name);
    println!("valid until {}", info.expires_at);
    deliver_now(config, &gw).await;
    Ok(())
}

/// How long `send` spends delivering before it leaves the rest to `serve`.
const SEND_DELIVERY_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// `send` and `request` run outside `serve`, perhaps with no server running at all: they
/// deliver what is due itself, through the same deliverer, unless a running
/// node holds the outbox lease and does so. Whatever is not delivered now
/// stays queued for `serve`; the send or request itself has happened either way.
async fn deliver_now(config: &Config, gw: &Gateway) {
    let outcome = async {
        let notifier = notify::Notifier::new(gw.clone(), config.notify_settings()?)?;
        // A mail server that does not answer must not hold the command: what
        // is not done in time stays queued (a message cut off mid-send goes
        // again later, with the same Message-ID).
        let delivered = tokio::time::timeout(SEND_DELIVERY_TIME, notifier.deliver_due()).await;
        notifier.release().await?;
        match delivered {
            Ok(delivered) => anyhow::Ok(delivered?),
            Err(_) => anyhow::bail!("the mail server or SMS gateway is slow"),
        }
    };
    match outcome.await {
        Ok(Some(d)) if d.retrying + d.failed == 0 => tracing::info!(sent = d.sent, "mail and SMS delivered"),
        Ok(Some(d)) => tracing::warn!(
            sent = d.sent,
            retrying = d.retrying,
            "not every mail and SMS could be delivered; `koerier serve` tries again"
        ),
        Ok(None) => tracing::info!("a running node delivers the mail and SMS"),
        Err(e) => tracing::warn!(error = %e, "mail and SMS stay queued; `koerier serve` delivers them"),
    }
}

async fn compose_and_send(
    gw: &Gateway,
    session: &gateway::Session,
    draft_id: &TransferId,
    args: SendArgs,
) -> Result<gateway::draft::SendReceipt> {
    let to = Mailbox::parse(&args.to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let phone =
        args.phone.as_deref().map(PhoneNumber::parse).transpose().map_err(|e| anyhow::anyhow!("--phone: {e}"))?;
    let text = match &args.text_file {
        Some(f) => std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
        None => String::new(),
    };
    let envelope = Envelope {
        to: Some(to),
        phone,
        subject: args.subject,
        reference: args.reference,
        language: Language::parse(&args.language)?,
        text,
    };
    gw.set_envelope(session, draft_id, envelope).await?;
    for path in &args.files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .with_context(|| format!("{} is not a file or a folder", path.display()))?;
        // A folder goes with all it holds, and arrives as <folder>.zip.
        let mut todo = vec![(path.clone(), name)];
        while let Some((path, name)) = todo.pop() {
            if !path.is_dir() {
                upload_file(gw, session, draft_id, &path, &name).await?;
                continue;
            }
            gw.create_folder(session, draft_id, &name).await.with_context(|| format!("{name} was refused"))?;
            let mut inside: Vec<PathBuf> = std::fs::read_dir(&path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()?;
            inside.sort_by(|a, b| b.cmp(a));
            todo.extend(inside.into_iter().map(|p| {
                let part = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                (p, format!("{name}/{part}"))
            }));
        }
    }
    Ok(gw.send(session, draft_id).await?)
}

/// Upload one file into a draft under `name` (a path inside the message).
async fn upload_file(
    gw: &Gateway,
    session: &gateway::Session,
    draft_id: &TransferId,
    path: &Path,
    name: &str,
) -> Result<()> {
    let mut file = tokio::fs::File::open(path).await.with_context(|| format!("cannot open {}", path.display()))?;
    let mut upload = gw.begin_upload(session, draft_id, name, UploadMode::New).await?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        upload.write(&buf[..n]).await?;
    }
    let doc = upload.finish().await.with_context(|| format!("{name} was refused"))?;
    println!("{}\t{} bytes\tsha256 {}", doc.name, doc.size, doc.sha256.unwrap_or_default());
    Ok(())
}

fn gw_now() -> gateway::Timestamp {
    use gateway::Clock;
    SystemClock.now()
}

/// 20 characters from a 32-letter alphabet without look-alikes: 100 bits.
fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789AB";
    let mut bytes = [0u8; 20];
    gateway::Random::fill(&SystemRandom, &mut bytes)?;
    Ok(bytes.iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect())
}
