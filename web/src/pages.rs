//! The pages, rendered on the server from the templates in `web/templates/`
//! (built into the binary). minijinja escapes every value, because each
//! template's name ends in `.html`; no page needs JavaScript.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use gateway::Language;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::WebSettings;
use crate::i18n::{Texts, texts};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("code.html", include_str!("../templates/code.html")),
    ("signin.html", include_str!("../templates/signin.html")),
    ("download.html", include_str!("../templates/download.html")),
    ("refusal.html", include_str!("../templates/refusal.html")),
    ("outsider.html", include_str!("../templates/outsider.html")),
    ("answered.html", include_str!("../templates/answered.html")),
    ("landing.html", include_str!("../templates/landing.html")),
    ("deliver.html", include_str!("../templates/deliver.html")),
    ("check-mail.html", include_str!("../templates/check-mail.html")),
    ("report.html", include_str!("../templates/report.html")),
    ("documents.html", include_str!("../templates/documents.html")),
    ("staff-draft.html", include_str!("../templates/staff-draft.html")),
    ("staff-signin.html", include_str!("../templates/staff-signin.html")),
    ("staff-code.html", include_str!("../templates/staff-code.html")),
    ("second-step.html", include_str!("../templates/second-step.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("register.html", include_str!("../templates/register.html")),
    ("verify.html", include_str!("../templates/verify.html")),
    ("forgot.html", include_str!("../templates/forgot.html")),
    ("reset.html", include_str!("../templates/reset.html")),
    ("overview.html", include_str!("../templates/overview.html")),
    ("requests.html", include_str!("../templates/requests.html")),
    ("settings.html", include_str!("../templates/settings.html")),
    ("addressbook.html", include_str!("../templates/addressbook.html")),
    ("templates.html", include_str!("../templates/templates.html")),
    ("setup.html", include_str!("../templates/setup.html")),
    ("admin.html", include_str!("../templates/admin.html")),
];

/// Who is signed in, and the token of the sign-out form.
#[derive(Debug, Clone, Serialize)]
pub struct StaffBar {
    pub name: String,
    pub csrf: String,
    /// Whether the admin page is theirs to open.
    pub admin: bool,
}

/// The compiled templates.
pub struct Pages {
    env: Environment<'static>,
}

/// What every page shows around its content.
#[derive(Debug, Serialize)]
pub struct Frame<'a> {
    pub t: &'static Texts,
    pub service: &'a str,
    pub organisation: String,
    pub helpdesk: &'a str,
    /// Whether `/static/logo` is there to show.
    pub logo: bool,
    /// The signed-in staff member, whom the header names with a way out.
    pub staff: Option<StaffBar>,
    /// The same page in the other language (GET, changes nothing).
    pub switch_url: Option<String>,
}

impl Pages {
    pub fn new() -> Pages {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            // The templates are part of the build; the unit test renders each.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a built-in page template does not parse");
            }
        }
        Pages { env }
    }

    /// Render `name` with the frame and the page's own values.
    pub fn render(&self, status: StatusCode, name: &str, frame: &Frame<'_>, page: impl Serialize) -> Response {
        let rendered = self.env.get_template(name).and_then(|t| {
            t.render(minijinja::context! {
                t => minijinja::Value::from(Serde(frame.t)),
                service => frame.service,
                organisation => frame.organisation.as_str(),
                logo => frame.logo,
                staff => frame.staff.as_ref().map(Serde),
                helpdesk => frame.helpdesk,
                switch_url => frame.switch_url.clone(),
                ..minijinja::Value::from(Serde(&page))
            })
        });
        match rendered {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "cannot render a page");
                (StatusCode::INTERNAL_SERVER_ERROR, Html(String::from("internal error"))).into_response()
            }
        }
    }

    /// A page that only says why not: a title and a sentence.
    pub fn refusal(&self, status: StatusCode, frame: &Frame<'_>, title: &str, text: &str) -> Response {
        self.render(status, "refusal.html", frame, minijinja::context! { title, text })
    }
}

impl Default for Pages {
    fn default() -> Self {
        Pages::new()
    }
}

pub fn frame(language: Language, settings: &WebSettings, switch_url: Option<String>) -> Frame<'_> {
    Frame {
        t: texts(language),
        service: &settings.service_name,
        organisation: settings.organisation.clone(),
        helpdesk: &settings.helpdesk_phone,
        logo: settings.logo.is_some(),
        staff: None,
        switch_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> String {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn every_page_renders_in_both_languages_and_escapes() {
        let pages = Pages::new();
        for language in [Language::Nl, Language::En] {
            let settings = WebSettings {
                service_name: "Koerier".into(),
                organisation: "Inspectie <Zorg>".into(),
                helpdesk_phone: "070 123".into(),
                ..WebSettings::default()
            };
            let f = frame(language, &settings, Some("?lang=x".into()));
            let code = pages.render(
                StatusCode::OK,
                "code.html",
                &f,
                minijinja::context! { base => "/l/s", csrf => "<tok>", masked_phone => "+31 ••78", error => "x" },
            );
            let html = body(code).await;
            assert!(html.contains(&format!("lang=\"{}\"", language.as_str())), "{html}");
            assert!(html.contains("&lt;tok&gt;") && !html.contains("<tok>"), "escaped: {html}");
            assert!(html.contains("<label for=\"code\">"));
            assert!(html.contains("Inspectie &lt;Zorg&gt;"), "the organisation on every page: {html}");
            assert!(!html.contains("/static/logo"), "no logo set, none shown: {html}");
            let sign_in = pages.render(StatusCode::OK, "signin.html", &f, minijinja::context! { base => "/l/s" });
            assert!(body(sign_in).await.contains("type=\"password\""));
            let docs = vec![minijinja::context! { name => "a.pdf", size => "1 B", sha256 => "ab", href => "/d" }; 2];
            let dl = pages.render(
                StatusCode::OK,
                "download.html",
                &f,
                minijinja::context! { base => "/l/s", text => "<b>hi</b>", documents => docs },
            );
            let html = body(dl).await;
            assert!(html.contains("a.pdf") && html.contains("all.zip") && html.contains("&lt;b&gt;hi"), "{html}");
            let refusal = pages.refusal(StatusCode::NOT_FOUND, &f, f.t.gone_title, f.t.gone_text);
            assert!(body(refusal).await.contains(f.t.gone_title));
        }
    }
}
