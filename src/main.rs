//! koerier: the composition root. Parses the command line, loads the
//! configuration, opens the core and starts what the command asks for.

mod commands;
mod config;
mod process;
mod report_cmd;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Secure file exchange: send, request and receive confidential documents,
/// through the web, SFTP and WebDAV.
#[derive(Debug, Parser)]
#[command(name = "koerier", version, about)]
struct Cli {
    /// A TOML configuration file; KOERIER_* environment variables override it.
    #[arg(long, short, global = true, env = "KOERIER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (with no configuration: SQLite and files under ./data).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Manage the affiliated domains.
    Domain {
        #[command(subcommand)]
        action: commands::DomainAction,
    },
    /// Manage accounts and their SSH keys.
    Account {
        #[command(subcommand)]
        action: commands::AccountAction,
    },
    /// Abort drafts whose upload window closed, expire messages past their
    /// retention, and sweep orphans, now.
    Purge,
    /// Send documents as a staff account, through the same core as every door.
    Send(commands::SendArgs),
    /// Ask someone outside the organisation for documents, as a staff account;
    /// prints the request's SFTP/WebDAV user name, the secret goes only by mail.
    Request(commands::RequestArgs),
    /// Reports: a message's report, an overview PDF, checking a signed proof, the signing key.
    Report {
        #[command(subcommand)]
        action: report_cmd::ReportAction,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Load and validate the configuration, and print what would be used.
    Check,
}

fn main() -> std::process::ExitCode {
    process::tune_allocator();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KOERIER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("koerier: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("koerier: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = config::Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Config { action: ConfigAction::Check } => commands::config_check(&config),
        Command::Serve => serve::serve(config).await,
        Command::Migrate => commands::migrate(&config).await,
        Command::Domain { action } => commands::domain(&config, action).await,
        Command::Account { action } => commands::account(&config, action).await,
        Command::Purge => commands::purge(&config).await,
        Command::Send(args) => commands::send(&config, args).await,
        Command::Request(args) => commands::request(&config, args).await,
        Command::Report { action } => report_cmd::report(&config, action).await,
    }
}
