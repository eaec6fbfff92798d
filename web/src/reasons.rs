//! Why the core refused, as a sentence for the person at the page, in the
//! page's language. The core words its refusals in English; each kind is
//! said here in Dutch too. A free-form reason the core gives (a conflict of
//! the drive, a setting it could not take) keeps its English words after a
//! Dutch lead; what a page's own forms meet is structured, and said whole.

use gateway::policy::name::NameRefusal;
use gateway::{Error, Field, FieldRefusal, Language, Unready};

/// The sentence for `err` in `language`, starting with a capital.
pub fn reason(err: &Error, language: Language) -> String {
    let text = match language {
        Language::En => english(err),
        Language::Nl => dutch(err),
    };
    capitalised(&text)
}

fn english(err: &Error) -> String {
    match err {
        Error::Corrupt | Error::Internal(_) => "something went wrong on our side; please try again later".into(),
        Error::Forbidden(why) => (*why).into(),
        Error::NotFound | Error::Expired => "this link has expired or does not exist".into(),
        other => other.to_string(),
    }
}

fn dutch(err: &Error) -> String {
    match err {
        Error::NotFound | Error::Expired => "deze link is verlopen of bestaat niet".into(),
        Error::Forbidden(_) | Error::BadCredentials => "dit mag u hier niet doen".into(),
        Error::RateLimited => "te veel pogingen; probeer het later opnieuw".into(),
        Error::Locked => "geblokkeerd na te veel verkeerde pogingen".into(),
        Error::Name(refusal) => dutch_name(refusal),
        Error::ContentMismatch { name, expected, detected } => format!(
            "{name} is {detected}, geen {expected} zoals de extensie zegt; een document moet zijn wat de naam zegt"
        ),
        Error::WindowClosed { .. } => {
            "de tijd om documenten toe te voegen aan dit bericht (1 uur) is voorbij; begin een nieuw bericht".into()
        }
        Error::TooLarge { limit } => {
            format!("het bericht zou groter worden dan {} bytes, het maximum", limit)
        }
        Error::Aborted(_) => "dit bericht is afgebroken; begin een nieuw bericht".into(),
        Error::SecondStepDue => "uw organisatie vraagt een tweede stap bij het inloggen; zet die eerst aan".into(),
        Error::NoSpace => "de server heeft nu geen ruimte voor meer documenten; probeer het later opnieuw".into(),
        Error::Corrupt | Error::Internal(_) => "er ging aan onze kant iets mis; probeer het later opnieuw".into(),
        Error::Field(refusal) => dutch_field(refusal),
        Error::NotReady(unready) => dutch_unready(unready),
        Error::Invalid(why) | Error::Conflict(why) => format!("dit kan niet ({why})"),
    }
}

fn dutch_field(refusal: &FieldRefusal) -> String {
    let field = |f: &Field| match f {
        Field::Subject => "het onderwerp",
        Field::Reference => "het kenmerk",
        Field::Text => "de tekst",
        Field::DisplayName => "de naam",
        Field::Password => "een wachtwoord",
        Field::TemplateName => "de naam van de template",
    };
    match refusal {
        FieldRefusal::TooLong { field: f, max_chars } => {
            format!("{} mag hoogstens {max_chars} tekens lang zijn", field(f))
        }
        FieldRefusal::TooShort { field: f, min_chars } => {
            format!("{} moet minstens {min_chars} tekens lang zijn", field(f))
        }
        FieldRefusal::ControlCharacter { field: f } => {
            format!("{} bevat een regeleinde of een ander stuurteken; laat dat weg", field(f))
        }
        FieldRefusal::Guessable { field: f } => format!(
            "{} is te makkelijk te raden (een veelgebruikt wachtwoord, een woord of naam met wat cijfers, of een \
             patroon); kies een langer, bijvoorbeeld vier woorden die niets met elkaar te maken hebben",
            field(f)
        ),
    }
}

fn dutch_unready(unready: &Unready) -> String {
    match unready {
        Unready::Unfinished { name } => format!("{name} is nog niet helemaal geüpload"),
        Unready::FolderClash { folder, zip } => format!(
            "de map {folder} wordt verstuurd als {zip}, en er staat al een document met die naam in het bericht; \
             geef een van beide een andere naam"
        ),
        Unready::EmptyFolder { folder } => format!("de map {folder} is leeg; zet er bestanden in of verwijder hem"),
        Unready::Temporary { name } => {
            format!(
                "het tijdelijke bestand {name} staat nog in het bericht; geef het zijn definitieve naam of verwijder het"
            )
        }
        Unready::Empty { name } => format!("{name} is leeg; upload de inhoud"),
        Unready::Refused { name, refusal } => format!("{name}: {}", dutch_name(refusal)),
        Unready::NoDocuments => "het bericht bevat nog geen documenten; voeg er minstens één toe".into(),
        Unready::NoRecipient => "het bericht heeft nog geen ontvanger".into(),
        Unready::NotOurs { email } => {
            format!("{email} is geen adres van de organisatie; een levering kan alleen naar een medewerker")
        }
        Unready::NoPhone { email } => {
            format!("{email} is van buiten de organisatie: vul het mobiele nummer in, daar gaat de code heen")
        }
        Unready::NotMobile { masked } => format!("{masked} is geen mobiel nummer; de code gaat per sms"),
        Unready::Envelope(why) => format!("message.txt klopt niet ({why})"),
    }
}

fn dutch_name(refusal: &NameRefusal) -> String {
    match refusal {
        NameRefusal::Empty => "de bestandsnaam is leeg; geef het bestand een naam".into(),
        NameRefusal::TooLong { max_bytes } => {
            format!("de bestandsnaam is te lang (hoogstens {max_bytes} bytes); maak de naam korter")
        }
        NameRefusal::DotName => "'.' en '..' zijn geen bestandsnamen; kies het bestand zelf".into(),
        NameRefusal::PathSeparator { .. } => {
            "de bestandsnaam bevat een schuine streep; zet een map eerst in een zip-bestand".into()
        }
        NameRefusal::ControlCharacter { .. } | NameRefusal::InvisibleCharacter { .. } => {
            "de bestandsnaam bevat een onzichtbaar teken; typ de naam opnieuw".into()
        }
        NameRefusal::LeadingWhitespace => "de bestandsnaam begint met een spatie; haal die weg".into(),
        NameRefusal::TrailingWhitespace => "de bestandsnaam eindigt op een spatie; haal die weg".into(),
        NameRefusal::TrailingDot => "de bestandsnaam eindigt op een punt; haal die weg".into(),
        NameRefusal::ForbiddenCharacter { ch } => {
            format!("de bestandsnaam bevat '{ch}', dat Windows niet toestaat; haal het weg")
        }
        NameRefusal::ReservedName { name } => {
            format!("'{name}' is een naam die Windows voor een apparaat gebruikt; geef het bestand een andere naam")
        }
        NameRefusal::HiddenFile => "de bestandsnaam begint met een punt; geef het bestand een andere naam".into(),
        NameRefusal::ExtensionNotAllowed { extension, allowed } => format!(
            "bestanden van het type .{extension} zijn niet toegestaan; zet het bestand eerst in een zip-bestand \
             (toegestaan: {allowed})"
        ),
        NameRefusal::Duplicate { name } => {
            format!("er is al een bestand met de naam '{name}' in dit bericht; geef een van beide een andere naam")
        }
        NameRefusal::LitterTooLarge { name, .. } => {
            format!("'{name}' is een hulpbestand van de computer; zulke bestanden worden niet verstuurd")
        }
        NameRefusal::TooManyAside { max } => {
            format!("dit bericht bevat al {max} tijdelijke bestanden; geef ze hun definitieve naam of verwijder ze")
        }
        NameRefusal::TooDeep { max } => {
            format!("mappen mogen hoogstens {max} diep zijn; zet diepere mappen eerst in een zip-bestand")
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_reads_in_both_languages() {
        let refused = Error::Name(NameRefusal::ExtensionNotAllowed { extension: "exe".into(), allowed: "pdf".into() });
        assert!(reason(&refused, Language::Nl).starts_with("Bestanden van het type .exe zijn niet toegestaan"));
        assert!(reason(&refused, Language::En).starts_with("Files of type .exe are not allowed"));
        let internal = Error::Internal("database path /var/lib".into());
        assert!(!reason(&internal, Language::En).contains("/var/lib"), "no detail of the server leaks");
        assert!(reason(&Error::TooLarge { limit: 10 }, Language::Nl).contains("10 bytes"));
        let none = Error::NotReady(Unready::NoDocuments);
        assert_eq!(reason(&none, Language::Nl), "Het bericht bevat nog geen documenten; voeg er minstens één toe");
        assert_eq!(reason(&none, Language::En), "Cannot send: the message has no documents; add at least one");
        let long = Error::Field(FieldRefusal::TooLong { field: Field::Subject, max_chars: 500 });
        assert_eq!(reason(&long, Language::Nl), "Het onderwerp mag hoogstens 500 tekens lang zijn");
        assert_eq!(reason(&long, Language::En), "The subject may be at most 500 characters");
        let refused = Error::NotReady(Unready::Refused {
            name: "a.exe".into(),
            refusal: NameRefusal::ExtensionNotAllowed { extension: "exe".into(), allowed: "pdf".into() },
        });
        assert!(
            reason(&refused, Language::Nl).starts_with("A.exe: bestanden van het type .exe"),
            "{}",
            reason(&refused, Language::Nl)
        );
    }

    #[test]
    fn no_page_refusal_keeps_english_words_in_dutch() {
        let unready = [
            Unready::Unfinished { name: "a.pdf".into() },
            Unready::FolderClash { folder: "d".into(), zip: "d.zip".into() },
            Unready::EmptyFolder { folder: "d".into() },
            Unready::Temporary { name: "a.pdf.part".into() },
            Unready::Empty { name: "a.pdf".into() },
            Unready::NoDocuments,
            Unready::NoRecipient,
            Unready::NotOurs { email: "x@example.org".into() },
            Unready::NoPhone { email: "x@example.org".into() },
            Unready::NotMobile { masked: "+31 ••78".into() },
        ];
        let fields =
            [Field::Subject, Field::Reference, Field::Text, Field::DisplayName, Field::Password, Field::TemplateName]
                .into_iter();
        let fields = fields.flat_map(|field| {
            [
                FieldRefusal::TooLong { field, max_chars: 5 },
                FieldRefusal::TooShort { field, min_chars: 5 },
                FieldRefusal::ControlCharacter { field },
            ]
        });
        let errors = unready.into_iter().map(Error::NotReady).chain(fields.map(Error::Field));
        for err in errors {
            let nl = reason(&err, Language::Nl);
            for english in [" the ", " is not ", "cannot", " has ", " may ", " needs "] {
                assert!(!nl.to_lowercase().contains(english), "{err:?} reads {nl:?} in Dutch");
            }
        }
    }
}
