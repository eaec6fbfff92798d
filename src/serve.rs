//! `koerier serve`: open the core, run the lifecycle jobs and the outbox
//! deliverer on their intervals, and the HTTPS listener (the web front, with
//! the WebDAV door's routes under `/dav/` merged into the same router), and stop cleanly on SIGTERM or
//! Ctrl-C. Each door adds its listener here.

use anyhow::{Context, Result};

use crate::config::Config;

pub async fn serve(config: Config) -> Result<()> {
    let gateway = crate::commands::open(&config).await?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        backend = ?gateway::db::Backend::of(&config.database_url())?.0,
        "koerier is running"
    );
    let notifier = notify::Notifier::new(gateway.clone(), config.notify_settings()?)?;
    let mut limits = config.limits.clone();
    let open_files = crate::process::descriptors_for(&mut limits);
    let (https_limits, sftp_limits) =
        (limits.for_listener(gateway::Listener::Https), limits.for_listener(gateway::Listener::Sftp));
    tracing::info!(
        open_files,
        https = https_limits.connections,
        sftp = sftp_limits.connections,
        per_address = limits.connections_per_address,
        "connection caps"
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let https = start_https(&config, &gateway, gateway::Admission::new(https_limits), stopped.clone()).await?;
    // The first run: no admin yet, so the way to make one goes to this log
    // (and nowhere else); each start makes a new link.
    if let Some(secret) = gateway.setup_link_secret().await? {
        let link = format!("{}/setup/{secret}", config.public_url().trim_end_matches('/'));
        tracing::warn!("first run: open {link} to set up the organisation and its first admin");
    }
    let outbox_interval = config.outbox_interval();
    let deliverer = tokio::spawn(async move { notifier.run(outbox_interval, stopped).await });
    let sftp = {
        let settings = sftp::SftpSettings {
            listen: config.sftp_listen,
            host_key_file: config
                .ssh_host_key_file
                .clone()
                .unwrap_or_else(|| config.data_dir.join(sftp::hostkey::HOST_KEY_FILE)),
            make_missing_key: !config.cluster,
            trusted_proxies: config.trusted_proxies()?,
            idle_timeout: std::time::Duration::from_secs(300),
            admission: gateway::Admission::new(sftp_limits),
        };
        let server = sftp::SftpServer::bind(gateway.clone(), &settings).await?;
        tracing::info!(listen = ?server.local_addr(), "SFTP is listening");
        tokio::spawn(server.run(stop.subscribe()))
    };
    let interval = config.jobs_interval();
    let jobs = {
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match gateway.run_lifecycle().await {
                    Ok(Some(report)) if report != Default::default() => tracing::info!(?report, "lifecycle jobs"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "lifecycle jobs failed"),
                }
                crate::process::release_freed_memory();
                warn_of_low_space(&gateway).await;
            }
        })
    };
    shutdown_signal().await;
    tracing::info!("stopping");
    jobs.abort();
    // Another node (or the next start) runs the jobs at once, not after the lease lapses.
    if let Err(e) = gateway.release_lifecycle_lease().await {
        tracing::warn!(error = %e, "could not let go of the lifecycle lease");
    }
    sftp.abort();
    // The deliverer finishes the message in hand (at most 20 s) and lets go
    // of its lease, so another node takes over at once.
    let _ = stop.send(true);
    if tokio::time::timeout(std::time::Duration::from_secs(25), deliverer).await.is_err() {
        tracing::warn!("the outbox deliverer did not stop in time");
    }
    if tokio::time::timeout(std::time::Duration::from_secs(25), https).await.is_err() {
        tracing::warn!("the HTTPS listener did not stop in time");
    }
    Ok(())
}

/// The HTTPS listener: the web front's routes (other doors merge theirs into
/// the same router), TLS from the operator's certificate or a self-signed one.
/// Binding happens here, so a taken port stops the start.
async fn start_https(
    config: &Config,
    gateway: &gateway::Gateway,
    admission: gateway::Admission,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>> {
    let tls = web::tls::server_config(&config.cert_source())?;
    let proxies = std::sync::Arc::new(config.trusted_proxies()?);
    let mut settings = config.web_settings()?;
    if settings.organisation.is_empty() {
        settings.organisation = gateway.organisation().await?;
    }
    let app = web::router(gateway.clone(), settings).merge(webdav::router(gateway.clone()));
    let listener = tokio::net::TcpListener::bind(config.https_listen)
        .await
        .with_context(|| format!("cannot listen on {} (https_listen)", config.https_listen))?;
    tracing::info!(listen = %config.https_listen, "HTTPS listener is up");
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    Ok(tokio::spawn(async move {
        if let Err(e) = web::serve_https(listener, tls, app, admission, proxies, shutdown).await {
            tracing::error!(error = %e, "the HTTPS listener failed");
        }
    }))
}

/// A log line at every jobs round while the data folder is low on space
/// (`[limits] free_space_warning`) or cannot be written.
async fn warn_of_low_space(gateway: &gateway::Gateway) {
    let limits = &gateway.settings().limits;
    match gateway.storage_space().await {
        Ok(space) if !space.writable => {
            tracing::error!(free = space.free, "the data folder cannot be written: uploads and mail stop")
        }
        Ok(space) if space.free < limits.free_space_warning => tracing::warn!(
            free = space.free,
            warning = limits.free_space_warning,
            reserve = limits.free_space_reserve,
            "the data folder is low on space; uploads stop at the reserve"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "cannot see the data folder's free space"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
