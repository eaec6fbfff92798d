//! koerier's web front: the HTTPS listener that the web pages and WebDAV
//! share, and the pages of the external recipient (the link, the SMS code,
//! the download page, the downloads). It depends on the core only; every rule
//! is checked there. The composition root builds the router with [`router`],
//! merges the other doors' routers into it and runs it with [`serve_https`]
//! under a configuration from [`tls::server_config`].

pub mod tls;

mod accounts;
mod addressbook;
mod admin;
mod assets;
pub use assets::{Logo, MAX_LOGO_BYTES};
mod compose;
mod deliver;
mod drafts;
mod error;
mod files;
mod form_page;
mod headers;
mod i18n;
mod landing;
mod link;
mod listener;
mod metrics;
mod outsider;
mod pace;
mod pages;
mod reasons;
mod reports;
mod requests;
mod second_step;
mod session;
mod settings;
mod staff;
mod tus;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use gateway::Gateway;

pub use listener::{HSTS, serve_https};

/// What the web front needs besides the core.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The service's name on every page.
    pub service_name: String,
    /// The organisation's name beside it; empty: none shown.
    pub organisation: String,
    /// The organisation's logo in every page's header.
    pub logo: Option<assets::Logo>,
    /// Where moments are shown in (pages and mails alike).
    pub zone: gateway::LocalZone,
    /// The helpdesk's number, shown where a recipient is stuck.
    pub helpdesk_phone: String,
    /// The default contact of a public delivery (the reporting desk), filled
    /// in on the delivery form.
    pub contact_name: String,
    pub contact_email: String,
    /// The bearer token `/metrics` asks for; none: only this machine may read it.
    pub metrics_token: Option<String>,
    /// Where the SFTP door listens, for the pages that say how to use it.
    pub sftp_listen: std::net::SocketAddr,
}

impl Default for WebSettings {
    /// The embedded default's names, no logo, Europe/Amsterdam.
    fn default() -> Self {
        WebSettings {
            service_name: "koerier".into(),
            organisation: String::new(),
            logo: None,
            zone: gateway::LocalZone::default(),
            helpdesk_phone: String::new(),
            contact_name: String::new(),
            contact_email: String::new(),
            metrics_token: None,
            sftp_listen: std::net::SocketAddr::from(([127, 0, 0, 1], 2222)),
        }
    }
}

/// The shared state of every handler.
#[derive(Clone)]
pub(crate) struct App {
    pub gateway: Gateway,
    /// The organisation's name on every page: the setting, or what the
    /// first-run setup was given (set while the service runs).
    pub organisation: Arc<std::sync::RwLock<String>>,
    pub settings: Arc<WebSettings>,
    pub pages: Arc<pages::Pages>,
    pub metrics: Arc<metrics::Metrics>,
}

/// The web front's routes: `/healthz`, `/readyz`, `/metrics` and the
/// recipient's link pages under `/l/`. Security headers are set on each of
/// these; HSTS is set by the listener on every response.
pub fn router(gateway: Gateway, settings: WebSettings) -> Router {
    let app = App {
        gateway,
        organisation: Arc::new(std::sync::RwLock::new(settings.organisation.clone())),
        settings: Arc::new(settings),
        pages: Arc::new(pages::Pages::new()),
        metrics: Arc::new(metrics::Metrics::default()),
    };
    Router::new()
        .route("/healthz", get(metrics::healthz))
        .route("/readyz", get(metrics::readyz))
        .route("/metrics", get(metrics::exposition))
        .route("/", get(landing::page))
        .merge(assets::routes())
        .merge(link::routes())
        .merge(outsider::routes())
        .merge(deliver::routes())
        .merge(tus::routes())
        .merge(staff::routes())
        .merge(accounts::routes())
        .merge(drafts::routes())
        .merge(reports::routes())
        .merge(requests::routes())
        .merge(settings::routes())
        .merge(second_step::routes())
        .merge(addressbook::routes())
        .merge(admin::routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), headers::secure))
        .with_state(app)
}
