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

/// The front's reading of what a client sends with an upload, opened to the
/// fuzz targets in `fuzz/` (feature `fuzzing`) and to nothing else: the tus
/// headers and the capability's cookie, and the plain form's parts.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use axum::body::Body;
    use axum::extract::{FromRequest, Multipart, Request};
    use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

    /// A header as the client sent it (none when HTTP cannot carry it).
    fn one(name: HeaderName, value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(name, value);
        }
        headers
    }

    /// `Upload-Offset` (or `Upload-Length`) as tus reads it.
    pub fn number(value: &[u8]) -> Option<u64> {
        let name = HeaderName::from_static("upload-offset");
        crate::tus::number(&one(name.clone(), value), &name)
    }

    /// The value of `key` in an `Upload-Metadata` header.
    pub fn metadata(value: &[u8], key: &str) -> Option<String> {
        crate::tus::metadata(&one(HeaderName::from_static("upload-metadata"), value), key)
    }

    /// Whether a request with this `Tus-Resumable` (none: without) is
    /// refused for its version.
    pub fn wrong_version(value: Option<&[u8]>) -> bool {
        let headers = value.map(|v| one(HeaderName::from_static("tus-resumable"), v)).unwrap_or_default();
        crate::tus::wrong_version(&headers).is_some()
    }

    /// Whether the last segment of `/tus/<id>` can be an upload's id.
    pub fn plausible_id(id: &str) -> bool {
        crate::tus::plausible_id(id)
    }

    /// The cookie `name` of a `Cookie` header.
    pub fn cookie(value: &[u8], name: &str) -> Option<String> {
        crate::session::cookie(&one(header::COOKIE, value), name).map(str::to_owned)
    }

    /// Whether the CSRF token of a `draft:<id>:<csrf>` capability matches
    /// its double in the `Cookie` header.
    pub fn csrf_ok(cookie: &[u8], token: &str) -> bool {
        crate::session::csrf_ok(&one(header::COOKIE, cookie), token)
    }

    /// A plain upload form's parts as the front reads them: each named
    /// file's name and bytes, in order; or the form's refusal, after which
    /// the rest is drained as the front drains it.
    pub async fn form(content_type: &[u8], body: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut req = Request::new(Body::from(body.to_vec()));
        *req.headers_mut() = one(header::CONTENT_TYPE, content_type);
        let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| e.body_text())?;
        let mut files = Vec::new();
        let read: Result<(), String> = async {
            while let Some(mut field) = multipart.next_field().await.map_err(|e| e.body_text())? {
                let Some(name) = field.file_name().map(str::to_owned).filter(|n| !n.is_empty()) else {
                    continue;
                };
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| e.body_text())? {
                    bytes.extend_from_slice(&chunk);
                }
                files.push((name, bytes));
            }
            Ok(())
        }
        .await;
        match read {
            Ok(()) => Ok(files),
            Err(why) => {
                crate::compose::drain(&mut multipart).await;
                Err(why)
            }
        }
    }
}
