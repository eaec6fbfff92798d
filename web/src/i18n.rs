//! The words of every page in Dutch and English. A page is in the language
//! the sender chose for the message, unless the reader switched it.

use gateway::Language;
use serde::Serialize;

/// Every text on the pages, in one language.
#[derive(Debug, Serialize)]
pub struct Texts {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub switch_label: &'static str,
    pub skip: &'static str,
    pub helpdesk: &'static str,
    pub code_title: &'static str,
    pub code_intro: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub code_submit: &'static str,
    pub new_code_intro: &'static str,
    pub new_code_submit: &'static str,
    pub new_code_sent: &'static str,
    pub wrong_code: &'static str,
    pub rate_limited: &'static str,
    pub signin_title: &'static str,
    pub signin_intro: &'static str,
    pub email_label: &'static str,
    pub password_label: &'static str,
    pub signin_submit: &'static str,
    pub bad_signin: &'static str,
    pub download_title: &'static str,
    pub subject: &'static str,
    pub reference: &'static str,
    pub text_heading: &'static str,
    pub documents: &'static str,
    pub col_name: &'static str,
    pub col_size: &'static str,
    pub col_sha256: &'static str,
    pub col_action: &'static str,
    pub download: &'static str,
    pub download_all: &'static str,
    pub expires: &'static str,
    pub gone_title: &'static str,
    pub gone_text: &'static str,
    pub locked_title: &'static str,
    pub locked_text: &'static str,
    pub aborted_title: &'static str,
    pub aborted_text: &'static str,
    pub refused_title: &'static str,
    pub refused_text: &'static str,
    pub error_title: &'static str,
    pub error_text: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
}

const NL: Texts = Texts {
    lang: "nl",
    other_lang: "en",
    switch_label: "English",
    skip: "Naar de inhoud",
    helpdesk: "Vragen? Bel de helpdesk:",
    code_title: "Voer uw code in",
    code_intro: "Wij hebben een code van zes cijfers per sms gestuurd naar",
    code_label: "Code uit de sms",
    code_hint: "Zes cijfers. De code is 10 minuten geldig.",
    code_submit: "Doorgaan",
    new_code_intro: "Geen sms ontvangen, of is de code verlopen?",
    new_code_submit: "Stuur mij een nieuwe code",
    new_code_sent: "Er is een nieuwe code verstuurd naar",
    wrong_code: "Deze code klopt niet of is verlopen. Controleer de sms en probeer het opnieuw.",
    rate_limited: "U heeft te vaak een nieuwe code gevraagd. Probeer het over een uur opnieuw.",
    signin_title: "Log in om de bestanden te openen",
    signin_intro: "Dit bericht is voor een medewerker van de organisatie. Log in met uw account.",
    email_label: "E-mailadres",
    password_label: "Wachtwoord",
    signin_submit: "Inloggen",
    bad_signin: "Het e-mailadres of wachtwoord klopt niet, of dit bericht is niet voor u.",
    download_title: "Uw bestanden",
    subject: "Onderwerp",
    reference: "Kenmerk",
    text_heading: "Bericht van de afzender",
    documents: "Bestanden",
    col_name: "Naam",
    col_size: "Grootte",
    col_sha256: "SHA-256",
    col_action: "Actie",
    download: "Download",
    download_all: "Alles downloaden (zip)",
    expires: "Beschikbaar tot",
    gone_title: "Deze link werkt niet (meer)",
    gone_text: "De link is verlopen of bestaat niet. Bestanden blijven 5 dagen beschikbaar. Vraag de afzender om het bericht opnieuw te sturen.",
    locked_title: "Deze link is geblokkeerd",
    locked_text: "Er is te vaak een verkeerde code ingevoerd. De afzender is op de hoogte gebracht en kan het bericht opnieuw sturen.",
    aborted_title: "Dit bericht is ingetrokken",
    aborted_text: "De afzender heeft dit bericht ingetrokken. Neem contact op met de afzender.",
    refused_title: "Dit kan niet",
    refused_text: "Het verzoek is geweigerd. Laad de pagina opnieuw en probeer het nog eens.",
    error_title: "Er ging iets mis",
    error_text: "Er ging aan onze kant iets mis. Probeer het later opnieuw.",
    not_found_title: "Pagina niet gevonden",
    not_found_text: "Deze pagina bestaat niet.",
};

const EN: Texts = Texts {
    lang: "en",
    other_lang: "nl",
    switch_label: "Nederlands",
    skip: "Skip to content",
    helpdesk: "Questions? Call the helpdesk:",
    code_title: "Enter your code",
    code_intro: "We sent a six-digit code by text message to",
    code_label: "Code from the text message",
    code_hint: "Six digits. The code is valid for 10 minutes.",
    code_submit: "Continue",
    new_code_intro: "No text message, or has the code expired?",
    new_code_submit: "Send me a new code",
    new_code_sent: "A new code was sent to",
    wrong_code: "This code is not right or has expired. Check the text message and try again.",
    rate_limited: "You asked for a new code too often. Try again in an hour.",
    signin_title: "Sign in to open the files",
    signin_intro: "This message is for a member of staff. Sign in with your account.",
    email_label: "Email address",
    password_label: "Password",
    signin_submit: "Sign in",
    bad_signin: "The email address or password is not right, or this message is not for you.",
    download_title: "Your files",
    subject: "Subject",
    reference: "Reference",
    text_heading: "Message from the sender",
    documents: "Files",
    col_name: "Name",
    col_size: "Size",
    col_sha256: "SHA-256",
    col_action: "Action",
    download: "Download",
    download_all: "Download all (zip)",
    expires: "Available until",
    gone_title: "This link does not work (any more)",
    gone_text: "The link has expired or does not exist. Files stay available for 5 days. Ask the sender to send the message again.",
    locked_title: "This link is locked",
    locked_text: "A wrong code was entered too often. The sender has been told and can send the message again.",
    aborted_title: "This message was withdrawn",
    aborted_text: "The sender withdrew this message. Please contact the sender.",
    refused_title: "This is not possible",
    refused_text: "The request was refused. Reload the page and try again.",
    error_title: "Something went wrong",
    error_text: "Something went wrong on our side. Please try again later.",
    not_found_title: "Page not found",
    not_found_text: "This page does not exist.",
};

/// The texts in `language`.
pub fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Nl => &NL,
        Language::En => &EN,
    }
}

/// The reader's choice from `?lang=`, if any.
pub fn chosen(query: Option<&str>) -> Option<Language> {
    query.and_then(|q| Language::parse(q).ok())
}

/// A size as people read it, in the page's language.
pub fn size(bytes: u64, language: Language) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let text = if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) };
    match language {
        Language::Nl => text.replace('.', ","),
        Language::En => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(512, Language::En), "512 B");
        assert_eq!(size(1_500_000, Language::En), "1.5 MB");
        assert_eq!(size(1_500_000, Language::Nl), "1,5 MB");
    }
}
