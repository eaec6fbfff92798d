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
    pub request_title: &'static str,
    pub sender_label: &'static str,
    pub recipient_label: &'static str,
    pub answer_until: &'static str,
    pub request_text_heading: &'static str,
    pub documents_added: &'static str,
    pub none_yet: &'static str,
    pub remove: &'static str,
    pub unfinished_heading: &'static str,
    pub unfinished_hint: &'static str,
    pub received: &'static str,
    pub choose_files: &'static str,
    pub allowed_types: &'static str,
    pub zip_hint: &'static str,
    pub upload_submit: &'static str,
    pub details_heading: &'static str,
    pub optional: &'static str,
    pub message_label: &'static str,
    pub send_hint: &'static str,
    pub send_submit: &'static str,
    pub other_ways_heading: &'static str,
    pub other_ways_text: &'static str,
    pub server_label: &'static str,
    pub user_label: &'static str,
    pub password_where: &'static str,
    pub added: &'static str,
    pub removed: &'static str,
    pub nothing_chosen: &'static str,
    pub answer_sent: &'static str,
    pub answered_title: &'static str,
    pub answered_text: &'static str,
    pub answered_mail: &'static str,
    pub sent_at: &'static str,
    pub landing_title: &'static str,
    pub landing_intro: &'static str,
    pub landing_link_heading: &'static str,
    pub landing_link_text: &'static str,
    pub landing_request_heading: &'static str,
    pub landing_request_text: &'static str,
    pub landing_types_heading: &'static str,
    pub landing_kept: &'static str,
    pub deliver_title: &'static str,
    pub deliver_intro: &'static str,
    pub deliver_you: &'static str,
    pub your_name: &'static str,
    pub your_email_hint: &'static str,
    pub deliver_contact: &'static str,
    pub contact_name_label: &'static str,
    pub contact_hint: &'static str,
    pub contact_default: &'static str,
    pub deliver_submit: &'static str,
    pub bad_email: &'static str,
    pub contact_not_ours: &'static str,
    pub check_title: &'static str,
    pub check_text: &'static str,
    pub check_hint: &'static str,
    pub check_until: &'static str,
    pub check_spam: &'static str,
    pub delivered_mail: &'static str,
    pub report_title: &'static str,
    pub report_none_downloaded: &'static str,
    pub report_some_downloaded: &'static str,
    pub report_downloaded: &'static str,
    pub report_not_downloaded: &'static str,
    pub report_deleted: &'static str,
    pub report_pdf: &'static str,
    pub landing_deliver_heading: &'static str,
    pub landing_deliver_text: &'static str,
    pub landing_deliver_button: &'static str,
    pub from_label: &'static str,
    pub all_zip: &'static str,
    pub port_label: &'static str,
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
    download: "Downloaden",
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
    request_title: "Documenten insturen",
    sender_label: "Afzender",
    recipient_label: "Ontvanger",
    answer_until: "Insturen kan tot",
    request_text_heading: "Bericht van de aanvrager",
    documents_added: "Toegevoegde documenten",
    none_yet: "Nog geen documenten toegevoegd.",
    remove: "Verwijderen",
    unfinished_heading: "Onvoltooide uploads",
    unfinished_hint: "Kies hetzelfde bestand opnieuw om verder te gaan waar de upload stopte.",
    received: "ontvangen",
    choose_files: "Documenten kiezen",
    allowed_types: "Toegestane bestandstypen:",
    zip_hint: "Een ander bestandstype of een map? Zet het eerst in een zip-bestand.",
    upload_submit: "Uploaden",
    details_heading: "Onderwerp en bericht",
    optional: "(niet verplicht)",
    message_label: "Bericht",
    send_hint: "Na het versturen kunt u niets meer toevoegen. U krijgt een bevestiging per e-mail.",
    send_submit: "Verstuur document(en)",
    other_ways_heading: "Insturen met een SFTP- of WebDAV-programma",
    other_ways_text: "U kunt ook insturen met een programma zoals WinSCP, FileZilla of sftp. Zet de documenten in de map outbox/answer en verplaats die map daarna naar sent.",
    server_label: "Server",
    user_label: "Gebruikersnaam",
    password_where: "De code aan het eind van de link in uw e-mail (na /r/).",
    added: "Toegevoegd:",
    removed: "Verwijderd:",
    nothing_chosen: "Kies eerst een of meer documenten.",
    answer_sent: "Uw documenten zijn verstuurd.",
    answered_title: "Verstuurd",
    answered_text: "Uw documenten zijn verstuurd aan",
    answered_mail: "U krijgt een bevestiging per e-mail. De ontvanger krijgt een e-mail met een link om de documenten te downloaden.",
    sent_at: "Verstuurd op",
    landing_title: "Veilig documenten uitwisselen",
    landing_intro: "Met deze dienst wisselt u vertrouwelijke documenten uit met de organisatie. Documenten worden versleuteld bewaard en na 5 dagen verwijderd.",
    landing_link_heading: "Heeft u een e-mail met een link gekregen?",
    landing_link_text: "Open de link uit de e-mail. U krijgt een code per sms om de documenten te openen. Een medewerker van de organisatie logt in met het eigen account.",
    landing_request_heading: "Is u gevraagd om documenten te sturen?",
    landing_request_text: "Open de link uit de e-mail met het verzoek. Daar voegt u de documenten toe en verstuurt u ze.",
    landing_types_heading: "Welke bestanden?",
    landing_kept: "Alle documenten van één bericht moeten binnen 1 uur na het begin van de eerste upload zijn geüpload.",
    deliver_title: "Documenten versturen aan de organisatie",
    deliver_intro: "Vul uw eigen gegevens in en die van de medewerker of het meldpunt voor wie de documenten zijn. U krijgt een e-mail met een link: daarmee bevestigt u uw e-mailadres en uploadt u de documenten.",
    deliver_you: "Uw gegevens",
    your_name: "Uw naam",
    your_email_hint: "Hierheen sturen wij de link.",
    deliver_contact: "Voor wie zijn de documenten?",
    contact_name_label: "Naam van de medewerker of het meldpunt",
    contact_hint: "Een e-mailadres van de organisatie.",
    contact_default: "Weet u het niet? Kies het meldpunt:",
    deliver_submit: "Stuur mij de link",
    bad_email: "Dit e-mailadres klopt niet. Controleer het en probeer het opnieuw.",
    contact_not_ours: "Dit is geen e-mailadres van de organisatie. Documenten kunnen alleen naar medewerkers of meldpunten van de organisatie.",
    check_title: "Kijk in uw e-mail",
    check_text: "Wij hebben een e-mail met een link gestuurd naar",
    check_hint: "Open de link in die e-mail om uw e-mailadres te bevestigen en de documenten te uploaden.",
    check_until: "De link is geldig tot",
    check_spam: "Geen e-mail ontvangen? Kijk ook in de map met ongewenste e-mail.",
    delivered_mail: "U krijgt een bevestiging per e-mail, met een link naar de rapportage: daar ziet u of de documenten zijn gedownload.",
    report_title: "Rapportage",
    report_none_downloaded: "De documenten zijn nog niet gedownload.",
    report_some_downloaded: "De ontvanger heeft documenten gedownload.",
    report_downloaded: "Gedownload op",
    report_not_downloaded: "Nog niet gedownload",
    report_deleted: "verwijderd op",
    report_pdf: "Download rapportage (pdf)",
    landing_deliver_heading: "Documenten versturen aan de organisatie",
    landing_deliver_text: "Wilt u documenten sturen aan een medewerker of aan het meldpunt? U bevestigt eerst uw e-mailadres; daarna uploadt u de documenten.",
    landing_deliver_button: "Documenten versturen",
    from_label: "Van",
    all_zip: "documenten.zip",
    port_label: "poort",
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
    request_title: "Send documents",
    sender_label: "Sender",
    recipient_label: "Recipient",
    answer_until: "You can send until",
    request_text_heading: "Message from the requester",
    documents_added: "Documents added",
    none_yet: "No documents added yet.",
    remove: "Remove",
    unfinished_heading: "Unfinished uploads",
    unfinished_hint: "Choose the same file again to continue where the upload stopped.",
    received: "received",
    choose_files: "Choose documents",
    allowed_types: "Allowed file types:",
    zip_hint: "Another file type, or a folder? Put it in a zip file first.",
    upload_submit: "Upload",
    details_heading: "Subject and message",
    optional: "(optional)",
    message_label: "Message",
    send_hint: "After sending you cannot add anything. You will get a confirmation by e-mail.",
    send_submit: "Send document(s)",
    other_ways_heading: "Sending with an SFTP or WebDAV program",
    other_ways_text: "You can also send with a program such as WinSCP, FileZilla or sftp. Put the documents in the folder outbox/answer, then move that folder to sent.",
    server_label: "Server",
    user_label: "User name",
    password_where: "The code at the end of the link in your e-mail (after /r/).",
    added: "Added:",
    removed: "Removed:",
    nothing_chosen: "Choose one or more documents first.",
    answer_sent: "Your documents have been sent.",
    answered_title: "Sent",
    answered_text: "Your documents were sent to",
    answered_mail: "You will get a confirmation by e-mail. The recipient gets an e-mail with a link to download the documents.",
    sent_at: "Sent on",
    landing_title: "Exchange documents securely",
    landing_intro: "With this service you exchange confidential documents with the organisation. Documents are stored encrypted and deleted after 5 days.",
    landing_link_heading: "Did you get an e-mail with a link?",
    landing_link_text: "Open the link in the e-mail. You get a code by text message to open the documents. A member of staff signs in with their own account.",
    landing_request_heading: "Were you asked to send documents?",
    landing_request_text: "Open the link in the e-mail with the request. There you add the documents and send them.",
    landing_types_heading: "Which files?",
    landing_kept: "All documents of one message must be uploaded within 1 hour of the start of the first upload.",
    deliver_title: "Send documents to the organisation",
    deliver_intro: "Fill in your own details and those of the member of staff or the contact point the documents are for. You get an e-mail with a link: with it you confirm your e-mail address and upload the documents.",
    deliver_you: "Your details",
    your_name: "Your name",
    your_email_hint: "We send the link here.",
    deliver_contact: "Who are the documents for?",
    contact_name_label: "Name of the member of staff or contact point",
    contact_hint: "An e-mail address of the organisation.",
    contact_default: "Not sure? Choose the contact point:",
    deliver_submit: "Send me the link",
    bad_email: "This e-mail address is not right. Check it and try again.",
    contact_not_ours: "This is not an e-mail address of the organisation. Documents can only go to its staff or contact points.",
    check_title: "Check your e-mail",
    check_text: "We sent an e-mail with a link to",
    check_hint: "Open the link in that e-mail to confirm your address and upload the documents.",
    check_until: "The link is valid until",
    check_spam: "No e-mail? Look in your spam folder too.",
    delivered_mail: "You will get a confirmation by e-mail, with a link to the report: there you see whether the documents have been downloaded.",
    report_title: "Report",
    report_none_downloaded: "The documents have not been downloaded yet.",
    report_some_downloaded: "The recipient has downloaded documents.",
    report_downloaded: "Downloaded on",
    report_not_downloaded: "Not downloaded yet",
    report_deleted: "deleted on",
    report_pdf: "Download report (PDF)",
    landing_deliver_heading: "Send documents to the organisation",
    landing_deliver_text: "Do you want to send documents to a member of staff or to the contact point? You first confirm your e-mail address, then you upload the documents.",
    landing_deliver_button: "Send documents",
    from_label: "From",
    all_zip: "documents.zip",
    port_label: "port",
};

/// The texts in `language`.
pub fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Nl => &NL,
        Language::En => &EN,
    }
}

/// The words of the upload script (`/static/upload.js`), as the JSON it
/// reads from the page; `<` is escaped so that nothing ends the script block.
pub fn upload_texts(language: Language) -> String {
    let words: &[(&str, &str, &str)] = &[
        ("drop", "Sleep bestanden hierheen of", "Drag files here or"),
        ("choose", "kies bestanden", "choose files"),
        ("start", "Start", "Start"),
        ("pause", "Pauzeren", "Pause"),
        ("resume", "Hervatten", "Resume"),
        ("cancel", "Annuleren", "Cancel"),
        ("retry", "Opnieuw proberen", "Try again"),
        ("remove", "Verwijderen", "Remove"),
        ("total", "Totaal", "Total"),
        ("waiting", "Wacht", "Waiting"),
        ("uploading", "Bezig met uploaden", "Uploading"),
        ("paused", "Gepauzeerd", "Paused"),
        ("done", "Klaar", "Done"),
        ("failed", "Mislukt", "Failed"),
        ("retrying", "Opnieuw proberen over {seconds} s", "Trying again in {seconds} s"),
        ("speed", "{rate}/s, nog {left}", "{rate}/s, {left} left"),
        ("unfinished_title", "Onvoltooide uploads", "Unfinished uploads"),
        (
            "unfinished_hint",
            "Kies hetzelfde bestand opnieuw om verder te gaan",
            "Choose the same file again to continue",
        ),
        ("resumed", "{name} gaat verder vanaf {offset}", "{name} continues from {offset}"),
        ("all_done", "Alle documenten zijn geüpload", "All documents have been uploaded"),
        ("refused", "{name} kan niet: {reason}", "{name} cannot be added: {reason}"),
        (
            "offline",
            "Verbinding verbroken; opnieuw proberen over {seconds} s",
            "Connection lost; trying again in {seconds} s",
        ),
    ];
    let map: serde_json::Map<String, serde_json::Value> = words
        .iter()
        .map(|(key, nl, en)| {
            let text = match language {
                Language::Nl => nl,
                Language::En => en,
            };
            ((*key).to_owned(), serde_json::Value::from(*text))
        })
        .collect();
    serde_json::Value::Object(map).to_string().replace('<', "\\u003c")
}

/// The reader's choice from `?lang=`, if any.
pub fn chosen(query: Option<&str>) -> Option<Language> {
    query.and_then(|q| Language::parse(q).ok())
}

/// The first language of `Accept-Language` we speak, by its weight; Dutch
/// when none is given or none is ours.
pub fn accepted(headers: &axum::http::HeaderMap) -> Language {
    let Some(value) = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
        return Language::default();
    };
    let mut best: Option<(Language, f32)> = None;
    for item in value.split(',').take(16) {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight =
            parts.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or_default();
        let Ok(language) = Language::parse(primary) else { continue };
        if weight > 0.0 && best.is_none_or(|(_, w)| weight > w) {
            best = Some((language, weight));
        }
    }
    best.map_or_else(Language::default, |(l, _)| l)
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
    fn the_browser_language_is_the_first_guess() {
        let with = |v: &'static str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert(axum::http::header::ACCEPT_LANGUAGE, axum::http::HeaderValue::from_static(v));
            accepted(&h)
        };
        assert_eq!(with("en-GB,en;q=0.9,nl;q=0.8"), Language::En);
        assert_eq!(with("de-DE,de;q=0.9,nl;q=0.5,en;q=0.4"), Language::Nl);
        assert_eq!(with("fr"), Language::Nl);
        assert_eq!(with("nl;q=0.2, en;q=0.7"), Language::En);
        assert_eq!(accepted(&axum::http::HeaderMap::new()), Language::Nl);
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(512, Language::En), "512 B");
        assert_eq!(size(1_500_000, Language::En), "1.5 MB");
        assert_eq!(size(1_500_000, Language::Nl), "1,5 MB");
    }
}
