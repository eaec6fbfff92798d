//! What every page that composes a draft shares, whoever composes it (an
//! outsider with a link, a signed-in staff member): the plain form's
//! documents streamed part by part into the core's uploads, removing one,
//! and the lists and allowed types the page shows. Each returns the note the
//! page shows after its redirect; the rules are the core's.

use axum::extract::Multipart;
use gateway::upload::{DocumentState, UploadMode};
use gateway::{Error, Language, Session, TransferId};

use crate::App;
use crate::i18n::size;
use crate::reasons::reason;

/// What a refused upload may still send before the connection is cut: a
/// browser shows the answer only once it has sent its body.
const DRAIN_LIMIT: u64 = 256 * 1024 * 1024;

/// A note for the page after a POST: its kind (`notice`, `error`) and text.
pub struct Outcome {
    pub kind: &'static str,
    pub text: String,
}

impl Outcome {
    fn notice(text: String) -> Outcome {
        Outcome { kind: "notice", text }
    }

    pub fn error(text: String) -> Outcome {
        Outcome { kind: "error", text }
    }
}

impl App {
    /// The documents of a plain form, each part streamed into an upload of
    /// its own as it arrives. A part cut off keeps what was sealed, to be
    /// continued by tus or `sftp reput`.
    pub async fn take_documents(
        &self,
        session: &Session,
        draft: &TransferId,
        multipart: &mut Multipart,
        language: Language,
    ) -> Outcome {
        let t = crate::i18n::texts(language);
        let mut added = Vec::new();
        let outcome: Result<(), Error> = async {
            while let Some(mut field) = multipart.next_field().await.map_err(|e| Error::Invalid(e.body_text()))? {
                let Some(name) = field.file_name().map(str::to_owned).filter(|n| !n.is_empty()) else {
                    continue;
                };
                let mut upload = self.gateway.begin_upload(session, draft, &name, UploadMode::New).await?;
                loop {
                    match field.chunk().await {
                        Ok(Some(bytes)) => {
                            if let Err(e) = upload.write(&bytes).await {
                                let _ = upload.suspend().await;
                                return Err(e);
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let _ = upload.suspend().await;
                            return Err(Error::Invalid(e.body_text()));
                        }
                    }
                }
                upload.finish().await?;
                added.push(name);
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) if added.is_empty() => Outcome::error(t.nothing_chosen.to_owned()),
            Ok(()) => Outcome::notice(format!("{} {}", t.added, added.join(", "))),
            Err(e) => {
                drain(multipart).await;
                let done = match added.is_empty() {
                    true => String::new(),
                    false => format!(". {} {}", t.added, added.join(", ")),
                };
                Outcome::error(format!("{}{done}", reason(&e, language)))
            }
        }
    }

    /// Take one document (complete or not) out of the draft.
    pub async fn remove_from_draft(
        &self,
        session: &Session,
        draft: &TransferId,
        name: &str,
        language: Language,
    ) -> Outcome {
        match self.gateway.remove_document(session, draft, name).await {
            Ok(()) => Outcome::notice(format!("{} {name}", crate::i18n::texts(language).removed)),
            Err(e) => Outcome::error(reason(&e, language)),
        }
    }

    /// The documents of a draft as its page lists them, complete and
    /// unfinished, and the types a file picker offers.
    pub async fn draft_documents(
        &self,
        session: &Session,
        draft: &TransferId,
        language: Language,
    ) -> Result<minijinja::Value, Error> {
        let docs = self.gateway.documents(session, draft).await?;
        let rules = self.gateway.settings().rules.name_rules();
        let accept: Vec<String> =
            rules.allowed_extensions.iter().map(|e| format!(".{}", e.trim_start_matches('.'))).collect();
        let listed = |state: DocumentState| -> Vec<minijinja::Value> {
            docs.iter()
                .filter(|d| d.state == state)
                .filter(|d| state == DocumentState::Uploading || d.kind == gateway::policy::name::NameKind::Document)
                .map(|d| minijinja::context! { name => d.name.clone(), size => size(d.size, language) })
                .collect()
        };
        Ok(minijinja::context! {
            complete => listed(DocumentState::Complete),
            unfinished => listed(DocumentState::Uploading),
            accept => accept.join(","),
            allowed => rules.allowed_list(),
            texts_json => crate::i18n::upload_texts(language),
        })
    }
}

/// Read what the browser still sends of a refused form, up to a limit, so
/// that it shows the answer instead of a broken connection.
pub(crate) async fn drain(multipart: &mut Multipart) {
    let mut seen = 0u64;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(bytes)) = field.chunk().await {
            seen += bytes.len() as u64;
            if seen > DRAIN_LIMIT {
                return;
            }
        }
    }
}
