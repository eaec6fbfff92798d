//! The landing page `/`: what the service is, where a link from a mail
//! leads, which files pass. In the language the reader asked for, else the
//! first one their browser names that we speak.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::App;
use crate::i18n::{accepted, chosen};
use crate::link::LangQuery;

pub async fn page(State(app): State<App>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let language = chosen(q.lang.as_deref()).unwrap_or_else(|| accepted(&headers));
    let allowed = app.gateway.settings().rules.name_rules().allowed_list();
    app.pages.render(StatusCode::OK, "landing.html", &app.frame(language), minijinja::context! { allowed })
}
