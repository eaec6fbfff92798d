//! People: validated email addresses, mailboxes (a display name plus an
//! address) and phone numbers in E.164 form, as typed by users and clients.
//!
//! The rules are deliberately stricter than RFC 5321/5322: quoted local
//! parts, comments, IP-literal domains and non-ASCII addresses are refused,
//! because real recipients almost never have them and every one of those
//! features has been used to smuggle a second address past a validator.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Longest address that fits in an SMTP forward path (RFC 5321).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part (RFC 5321).
pub const MAX_LOCAL_PART_LEN: usize = 64;
/// Longest DNS label.
pub const MAX_DOMAIN_LABEL_LEN: usize = 63;
/// Longest display name of a mailbox, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;
/// Fewest digits of an E.164 number, country code included.
pub const MIN_PHONE_DIGITS: usize = 8;
/// Most digits of an E.164 number, country code included.
pub const MAX_PHONE_DIGITS: usize = 15;

/// Dutch numbers have nine digits after the country code; checking this
/// catches the common typo of a missing or extra digit.
const DUTCH_SUBSCRIBER_DIGITS: usize = 9;

/// No sensibly written phone number is longer; longer input is refused before
/// it is examined.
const MAX_PHONE_INPUT_LEN: usize = 64;

/// Punctuation allowed in a local part besides letters, digits and dots: the
/// RFC 5322 `atext` set. Quotes, parentheses (comments), brackets, commas,
/// semicolons, backslashes and whitespace are not in it.
const LOCAL_PART_SYMBOLS: &str = "!#$%&'*+/=?^_`{|}~-";

/// Why an address, mailbox or phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddressError {
    #[error("the email address is empty; enter an address such as name@example.org")]
    EmailEmpty,
    #[error("the email address is longer than {max} characters; check the address for typos")]
    EmailTooLong { max: usize },
    #[error(
        "the email address contains a character that is not allowed ({}); remove it or check \
         the address for typos", code_point(.ch)
    )]
    EmailInvalidCharacter { ch: char },
    #[error("the email address has no @; enter an address such as name@example.org")]
    EmailMissingAt,
    #[error("the email address contains more than one @; enter a single address")]
    EmailMultipleAt,
    #[error(
        "the part before the @ must be 1 to 64 characters and cannot start or end with a dot or \
         have two dots in a row; check the address for typos"
    )]
    EmailLocalPart,
    #[error(
        "the part after the @ is not a valid domain name such as example.org; check the address \
         for typos"
    )]
    EmailDomain,
    #[error(
        "the address is not written correctly; write it as name@example.org or as \
         Name <name@example.org>"
    )]
    MailboxMalformed,
    #[error("the name is longer than {max} characters; shorten the name")]
    MailboxNameTooLong { max: usize },
    #[error(
        "the name contains a character that is not allowed ({}); remove it from the name",
        code_point(.ch)
    )]
    MailboxNameCharacter { ch: char },
    #[error(
        "the name has an unmatched quote or backslash; remove it or put the whole name in \
         double quotes"
    )]
    MailboxNameQuoting,
    #[error("the phone number is empty; enter a number such as +31 6 12345678")]
    PhoneEmpty,
    #[error(
        "the phone number contains a character that is not allowed ({}); use only digits, \
         spaces and + - . ( )", code_point(.ch)
    )]
    PhoneInvalidCharacter { ch: char },
    #[error(
        "the phone number is not written correctly; write it as + and the country code \
         followed by the number, such as +31 6 12345678"
    )]
    PhoneMalformed,
    #[error(
        "the phone number has no country code; start it with + and the country code, such as \
         +31 6 12345678"
    )]
    PhoneMissingCountryCode,
    #[error(
        "the phone number must have {min} to {max} digits including the country code; check \
         the number for missing or extra digits"
    )]
    PhoneLength { min: usize, max: usize },
    #[error(
        "a dutch phone number has 9 digits after +31 (10 digits starting with 0); check the \
         number for missing or extra digits"
    )]
    PhoneDutchLength,
}

impl AddressError {
    /// Stable identifier of the error, for translation and logs.
    pub fn code(&self) -> &'static str {
        match self {
            AddressError::EmailEmpty => "email-empty",
            AddressError::EmailTooLong { .. } => "email-too-long",
            AddressError::EmailInvalidCharacter { .. } => "email-invalid-character",
            AddressError::EmailMissingAt => "email-missing-at",
            AddressError::EmailMultipleAt => "email-multiple-at",
            AddressError::EmailLocalPart => "email-local-part",
            AddressError::EmailDomain => "email-domain",
            AddressError::MailboxMalformed => "mailbox-malformed",
            AddressError::MailboxNameTooLong { .. } => "mailbox-name-too-long",
            AddressError::MailboxNameCharacter { .. } => "mailbox-name-character",
            AddressError::MailboxNameQuoting => "mailbox-name-quoting",
            AddressError::PhoneEmpty => "phone-empty",
            AddressError::PhoneInvalidCharacter { .. } => "phone-invalid-character",
            AddressError::PhoneMalformed => "phone-malformed",
            AddressError::PhoneMissingCountryCode => "phone-missing-country-code",
            AddressError::PhoneLength { .. } => "phone-length",
            AddressError::PhoneDutchLength => "phone-dutch-length",
        }
    }
}

fn code_point(ch: &char) -> String {
    format!("U+{:04X}", u32::from(*ch))
}

/// A validated email address. The domain is stored in lowercase (DNS is
/// case-insensitive); the local part is kept as given because the receiving
/// server may in theory distinguish case, but [`EmailAddress::normalized`]
/// lowercases it for comparisons, since in practice no provider does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    text: String,
    at: usize,
}

impl EmailAddress {
    /// Parses an address after trimming surrounding whitespace.
    pub fn parse(raw: &str) -> Result<EmailAddress, AddressError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(AddressError::EmailEmpty);
        }
        if text.chars().count() > MAX_EMAIL_LEN {
            return Err(AddressError::EmailTooLong { max: MAX_EMAIL_LEN });
        }
        let (local, domain) = split_at_sign(text)?;
        if let Some(ch) = local.chars().find(|c| !is_local_part_char(*c)) {
            return Err(AddressError::EmailInvalidCharacter { ch });
        }
        if let Some(ch) = domain.chars().find(|c| !is_domain_char(*c)) {
            return Err(AddressError::EmailInvalidCharacter { ch });
        }
        check_local_part(local)?;
        let domain = domain.to_ascii_lowercase();
        check_domain(&domain)?;
        Ok(EmailAddress { text: format!("{local}@{domain}"), at: local.len() })
    }

    /// The address with the local part as given and the domain lowercased.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The part before the `@`, as given.
    pub fn local_part(&self) -> &str {
        self.text.get(..self.at).unwrap_or_default()
    }

    /// The domain, lowercase.
    pub fn domain(&self) -> &str {
        self.text.get(self.at + 1..).unwrap_or_default()
    }

    /// The whole address in lowercase, for comparisons and uniqueness.
    pub fn normalized(&self) -> String {
        self.text.to_ascii_lowercase()
    }

    /// Whether the address belongs to `domain` or one of its subdomains:
    /// `a@x.minvws.nl` is in `minvws.nl`, `a@evilminvws.nl` is not. A leading
    /// `@` or `.` and a trailing dot on `domain` are ignored; an empty domain
    /// contains nothing.
    pub fn is_in_domain(&self, domain: &str) -> bool {
        let wanted =
            domain.trim().trim_start_matches('@').trim_start_matches('.').trim_end_matches('.').to_ascii_lowercase();
        if wanted.is_empty() {
            return false;
        }
        let own = self.domain();
        own == wanted || own.strip_suffix(wanted.as_str()).is_some_and(|prefix| prefix.ends_with('.'))
    }
}

fn split_at_sign(text: &str) -> Result<(&str, &str), AddressError> {
    let mut parts = text.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => Ok((local, domain)),
        (_, None, _) => Err(AddressError::EmailMissingAt),
        _ => Err(AddressError::EmailMultipleAt),
    }
}

fn is_local_part_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '.' || LOCAL_PART_SYMBOLS.contains(ch)
}

fn is_domain_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '.' || ch == '-'
}

fn check_local_part(local: &str) -> Result<(), AddressError> {
    let bad = local.is_empty()
        || local.len() > MAX_LOCAL_PART_LEN
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..");
    if bad {
        return Err(AddressError::EmailLocalPart);
    }
    Ok(())
}

/// At least two LDH labels; the top-level label is alphabetic (no real TLD
/// has digits) or an internationalised `xn--` label.
fn check_domain(domain: &str) -> Result<(), AddressError> {
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2 && labels.iter().all(|label| is_ldh_label(label));
    let tld_ok = labels.last().is_some_and(|tld| {
        (tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())) || (tld.len() > 4 && tld.starts_with("xn--"))
    });
    if labels_ok && tld_ok { Ok(()) } else { Err(AddressError::EmailDomain) }
}

fn is_ldh_label(label: &str) -> bool {
    (1..=MAX_DOMAIN_LABEL_LEN).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for EmailAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EmailAddress::parse(s)
    }
}

/// An address with an optional display name, as in
/// `Jan Jansen <jan@example.org>`. [`fmt::Display`] writes a form that
/// [`Mailbox::parse`] reads back to the same value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    pub name: Option<String>,
    pub email: EmailAddress,
}

impl Mailbox {
    /// Builds a mailbox, validating and trimming the name; an empty name
    /// becomes `None`.
    pub fn new(name: Option<&str>, email: EmailAddress) -> Result<Mailbox, AddressError> {
        let name = match name {
            Some(name) => check_display_name(name)?,
            None => None,
        };
        Ok(Mailbox { name, email })
    }

    /// Parses `Name <address>`, `"Quoted, Name" <address>`, `<address>` or a
    /// bare address.
    pub fn parse(raw: &str) -> Result<Mailbox, AddressError> {
        let text = raw.trim();
        let Some(open) = text.rfind('<') else {
            if text.contains('>') {
                return Err(AddressError::MailboxMalformed);
            }
            return Ok(Mailbox { name: None, email: EmailAddress::parse(text)? });
        };
        let (name_part, rest) = text.split_at(open);
        // A `>` before the last `<` means two addresses or a stray bracket.
        if name_part.contains('>') {
            return Err(AddressError::MailboxMalformed);
        }
        let inner = rest.strip_prefix('<').and_then(|r| r.strip_suffix('>')).ok_or(AddressError::MailboxMalformed)?;
        if inner.contains('>') {
            return Err(AddressError::MailboxMalformed);
        }
        let name = parse_display_name(name_part)?;
        Ok(Mailbox { name, email: EmailAddress::parse(inner)? })
    }
}

/// Reads the display name before `<`: either quoted (with `\"` and `\\`
/// escapes) or plain, in which case it may not contain quotes.
fn parse_display_name(raw: &str) -> Result<Option<String>, AddressError> {
    let raw = raw.trim();
    let quoted = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"'));
    let name = match quoted {
        Some(inner) => unquote(inner)?,
        None if raw.contains('"') || raw.contains('\\') => {
            return Err(AddressError::MailboxNameQuoting);
        }
        None => raw.to_owned(),
    };
    check_display_name(&name)
}

fn unquote(inner: &str) -> Result<String, AddressError> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => out.push(chars.next().ok_or(AddressError::MailboxNameQuoting)?),
            '"' => return Err(AddressError::MailboxNameQuoting),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Names are shown to recipients, so characters that break the header or
/// reorder the displayed text (a right-to-left override can make
/// `moc.elpmaxe` read as `example.com`) are refused.
fn check_display_name(name: &str) -> Result<Option<String>, AddressError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(AddressError::MailboxNameTooLong { max: MAX_DISPLAY_NAME_CHARS });
    }
    let forbidden = |c: &char| {
        c.is_control()
            || matches!(
                *c,
                '<' | '>' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2028}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}'
            )
    };
    if let Some(ch) = name.chars().find(forbidden) {
        return Err(AddressError::MailboxNameCharacter { ch });
    }
    Ok(Some(name.to_owned()))
}

/// Whether a display name must be quoted to survive parsing: anything other
/// than letters, digits, spaces and the `atext` symbols, which includes the
/// RFC 5322 specials `( ) < > [ ] : ; @ \ , . "`.
fn needs_quoting(name: &str) -> bool {
    name != name.trim() || name.chars().any(|c| !(c.is_alphanumeric() || c == ' ' || LOCAL_PART_SYMBOLS.contains(c)))
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name.as_deref() {
            None | Some("") => write!(f, "{}", self.email),
            Some(name) if needs_quoting(name) => {
                let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
                write!(f, "\"{escaped}\" <{}>", self.email)
            }
            Some(name) => write!(f, "{name} <{}>", self.email),
        }
    }
}

impl FromStr for Mailbox {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mailbox::parse(s)
    }
}

/// A phone number in E.164 form, such as `+31612345678`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
}

impl PhoneNumber {
    /// Parses international (`+31 6 12345678`, `+31 (0)6-1234 5678`,
    /// `0031612345678`) and Dutch national (`06 12345678`) forms. A number
    /// with a single leading 0 is taken to be Dutch (+31). Spaces, dashes,
    /// dots and parentheses are separators; a `(0)` after the country code is
    /// the national trunk prefix and is dropped.
    pub fn parse(raw: &str) -> Result<PhoneNumber, AddressError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(AddressError::PhoneEmpty);
        }
        if text.len() > MAX_PHONE_INPUT_LEN {
            return Err(AddressError::PhoneLength { min: MIN_PHONE_DIGITS, max: MAX_PHONE_DIGITS });
        }
        let (plus, rest) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let digits = collect_digits(rest, plus)?;
        let international = if plus {
            digits
        } else if let Some(after) = digits.strip_prefix("00") {
            after.to_owned()
        } else if let Some(after) = digits.strip_prefix('0') {
            format!("31{after}")
        } else {
            return Err(AddressError::PhoneMissingCountryCode);
        };
        check_phone_digits(&international)?;
        Ok(PhoneNumber { e164: format!("+{international}") })
    }

    /// The number in E.164 form, such as `+31612345678`.
    pub fn as_e164(&self) -> &str {
        &self.e164
    }

    /// The country calling code without `+`, such as `31`.
    pub fn country_code(&self) -> &str {
        let digits = self.e164.get(1..).unwrap_or_default();
        digits.get(..country_code_len(digits)).unwrap_or_default()
    }

    /// A form safe to show on screen or in logs: `+`, the country code, a
    /// space, eight bullets and the last two digits, such as
    /// `+31 ••••••••78`. The bullet count is fixed so the mask does not
    /// reveal the length of the number.
    pub fn masked(&self) -> String {
        let last_two = self.e164.get(self.e164.len().saturating_sub(2)..).unwrap_or_default();
        format!("+{} ••••••••{last_two}", self.country_code())
    }

    /// Whether the number can receive text messages, as far as can be told:
    /// Dutch numbers only when they are mobile numbers (`+316`); numbers from
    /// other countries are assumed to be mobile because there is no reliable
    /// way to tell.
    pub fn is_mobile(&self) -> bool {
        !self.e164.starts_with("+31") || self.e164.starts_with("+316")
    }
}

/// Collects the digits of `text`, checking separators and parentheses.
/// `plus` tells whether the number started with `+`.
fn collect_digits(text: &str, plus: bool) -> Result<String, AddressError> {
    let mut digits = String::with_capacity(text.len());
    let mut group: Option<String> = None;
    for ch in text.chars() {
        match ch {
            '0'..='9' => group.as_mut().unwrap_or(&mut digits).push(ch),
            ' ' | '-' | '.' => {}
            '(' if group.is_none() => group = Some(String::new()),
            ')' => {
                let inner = group.take().ok_or(AddressError::PhoneMalformed)?;
                append_group(&mut digits, &inner, plus)?;
            }
            '(' | '+' => return Err(AddressError::PhoneMalformed),
            other => return Err(AddressError::PhoneInvalidCharacter { ch: other }),
        }
    }
    if group.is_some() || digits.is_empty() {
        return Err(AddressError::PhoneMalformed);
    }
    Ok(digits)
}

/// Adds a parenthesised group. `(0)` after an international country code is
/// the trunk prefix people write for callers at home, and is dropped; at the
/// start of a national number it is the leading 0 itself.
fn append_group(digits: &mut String, inner: &str, plus: bool) -> Result<(), AddressError> {
    if inner.is_empty() {
        return Err(AddressError::PhoneMalformed);
    }
    let international = plus || digits.starts_with("00");
    if inner == "0" && !digits.is_empty() {
        if international {
            return Ok(());
        }
        return Err(AddressError::PhoneMalformed);
    }
    digits.push_str(inner);
    Ok(())
}

fn check_phone_digits(digits: &str) -> Result<(), AddressError> {
    if digits.starts_with('0') {
        // Country codes never start with 0; this is `+0...` or `000...`.
        return Err(AddressError::PhoneMissingCountryCode);
    }
    if !(MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits.len()) {
        return Err(AddressError::PhoneLength { min: MIN_PHONE_DIGITS, max: MAX_PHONE_DIGITS });
    }
    if let Some(subscriber) = digits.strip_prefix("31")
        && subscriber.len() != DUTCH_SUBSCRIBER_DIGITS
    {
        return Err(AddressError::PhoneDutchLength);
    }
    Ok(())
}

/// Length of the country code at the start of `digits`. E.164 country codes
/// are prefix-free: `1` and `7` are the only one-digit codes, the two-digit
/// codes are listed here, and every other code has three digits.
fn country_code_len(digits: &str) -> usize {
    const TWO_DIGIT: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
        "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if TWO_DIGIT.iter().any(|code| digits.starts_with(code)) {
        2
    } else {
        3
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl FromStr for PhoneNumber {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhoneNumber::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> EmailAddress {
        match EmailAddress::parse(raw) {
            Ok(address) => address,
            Err(err) => panic!("{raw:?} should parse: {err}"),
        }
    }

    fn email_err(raw: &str) -> &'static str {
        match EmailAddress::parse(raw) {
            Ok(address) => panic!("{raw:?} should be refused, got {address}"),
            Err(err) => err.code(),
        }
    }

    fn phone(raw: &str) -> String {
        match PhoneNumber::parse(raw) {
            Ok(number) => number.to_string(),
            Err(err) => panic!("{raw:?} should parse: {err}"),
        }
    }

    fn phone_err(raw: &str) -> &'static str {
        match PhoneNumber::parse(raw) {
            Ok(number) => panic!("{raw:?} should be refused, got {number}"),
            Err(err) => err.code(),
        }
    }

    #[test]
    fn valid_emails() {
        let address = email("  Jan.Jansen+koerier@Mail.MinVWS.nl ");
        assert_eq!(address.as_str(), "Jan.Jansen+koerier@mail.minvws.nl");
        assert_eq!(address.local_part(), "Jan.Jansen+koerier");
        assert_eq!(address.domain(), "mail.minvws.nl");
        assert_eq!(address.normalized(), "jan.jansen+koerier@mail.minvws.nl");
        email("a@b.co");
        email("o'brien@example.ie");
        email("x!#$%&'*+/=?^_`{|}~-y@example.org");
        email("user@xn--bcher-kva.example");
        email("user@example.xn--p1ai");
        email("user@1-2-3.example.com");
        email(&format!("{}@example.org", "a".repeat(64)));
    }

    #[test]
    fn invalid_emails() {
        assert_eq!(email_err(""), "email-empty");
        assert_eq!(email_err("   "), "email-empty");
        assert_eq!(email_err("jan.example.org"), "email-missing-at");
        assert_eq!(email_err("a@b@example.org"), "email-multiple-at");
        assert_eq!(email_err("jan jansen@example.org"), "email-invalid-character");
        assert_eq!(email_err("\"jan\"@example.org"), "email-invalid-character");
        assert_eq!(email_err("jan(comment)@example.org"), "email-invalid-character");
        assert_eq!(email_err("jan@exam\nple.org"), "email-invalid-character");
        assert_eq!(email_err("jan\u{0}@example.org"), "email-invalid-character");
        assert_eq!(email_err("jän@example.org"), "email-invalid-character");
        assert_eq!(email_err("jan@bücher.de"), "email-invalid-character");
        assert_eq!(email_err("jan@[127.0.0.1]"), "email-invalid-character");
        assert_eq!(email_err("a,b@example.org"), "email-invalid-character");
        assert_eq!(email_err("@example.org"), "email-local-part");
        assert_eq!(email_err(".jan@example.org"), "email-local-part");
        assert_eq!(email_err("jan.@example.org"), "email-local-part");
        assert_eq!(email_err("j..an@example.org"), "email-local-part");
        let long_local = format!("{}@example.org", "a".repeat(65));
        assert_eq!(email_err(&long_local), "email-local-part");
        assert_eq!(email_err("jan@"), "email-domain");
        assert_eq!(email_err("jan@localhost"), "email-domain");
        assert_eq!(email_err("jan@example."), "email-domain");
        assert_eq!(email_err("jan@.example.org"), "email-domain");
        assert_eq!(email_err("jan@example..org"), "email-domain");
        assert_eq!(email_err("jan@-example.org"), "email-domain");
        assert_eq!(email_err("jan@example-.org"), "email-domain");
        assert_eq!(email_err("jan@example.o"), "email-domain");
        assert_eq!(email_err("jan@example.123"), "email-domain");
        assert_eq!(email_err("jan@1.2.3.4"), "email-domain");
        let long_label = format!("jan@{}.org", "a".repeat(64));
        assert_eq!(email_err(&long_label), "email-domain");
        let too_long = format!("jan@{}.org", ["a".repeat(60).as_str(); 5].join("."));
        assert_eq!(email_err(&too_long), "email-too-long");
    }

    #[test]
    fn domain_membership() {
        let sub = email("a@x.MinVWS.nl");
        assert!(sub.is_in_domain("minvws.nl"));
        assert!(sub.is_in_domain("MINVWS.NL"));
        assert!(sub.is_in_domain("@minvws.nl"));
        assert!(sub.is_in_domain(".minvws.nl"));
        assert!(sub.is_in_domain("x.minvws.nl"));
        assert!(!sub.is_in_domain("y.minvws.nl"));
        assert!(!sub.is_in_domain(""));
        assert!(!sub.is_in_domain("."));
        assert!(email("a@minvws.nl").is_in_domain("minvws.nl"));
        assert!(!email("a@evilminvws.nl").is_in_domain("minvws.nl"));
        assert!(!email("a@minvws.nl.evil.com").is_in_domain("minvws.nl"));
        assert!(!email("a@minvws.nl").is_in_domain("x.minvws.nl"));
    }

    #[test]
    fn mailboxes_parse() {
        let mailbox = Mailbox::parse("Jan Jansen <jan@example.org>").expect("valid");
        assert_eq!(mailbox.name.as_deref(), Some("Jan Jansen"));
        assert_eq!(mailbox.email.as_str(), "jan@example.org");
        let quoted = Mailbox::parse("\"Jansen, Jan\" <jan@example.org>").expect("valid");
        assert_eq!(quoted.name.as_deref(), Some("Jansen, Jan"));
        let bare = Mailbox::parse(" jan@example.org ").expect("valid");
        assert_eq!(bare.name, None);
        let angle = Mailbox::parse("<jan@example.org>").expect("valid");
        assert_eq!(angle.name, None);
        let escaped = Mailbox::parse(r#""Jan \"JJ\" Jansen" <jan@example.org>"#).expect("valid");
        assert_eq!(escaped.name.as_deref(), Some("Jan \"JJ\" Jansen"));
        let unicode = Mailbox::parse("Zoë Ångström <zoe@example.se>").expect("valid");
        assert_eq!(unicode.name.as_deref(), Some("Zoë Ångström"));
    }

    #[test]
    fn mailboxes_refused() {
        let code = |raw: &str| Mailbox::parse(raw).map_err(|e| e.code()).err();
        assert_eq!(code("Jan <jan@example.org"), Some("mailbox-malformed"));
        assert_eq!(code("Jan jan@example.org>"), Some("mailbox-malformed"));
        assert_eq!(code("Jan <jan@example.org> extra"), Some("mailbox-malformed"));
        assert_eq!(code("Jan <a@b.org> <c@d.org>"), Some("mailbox-malformed"));
        assert_eq!(code("Jan<x <jan@example.org>"), Some("mailbox-name-character"));
        assert_eq!(code("Jan \"JJ <jan@example.org>"), Some("mailbox-name-quoting"));
        assert_eq!(code("\"Jan\\\" <jan@example.org>"), Some("mailbox-name-quoting"));
        assert_eq!(code("\"a\"b\" <jan@example.org>"), Some("mailbox-name-quoting"));
        assert_eq!(code("Jan\u{7}x <jan@example.org>"), Some("mailbox-name-character"));
        assert_eq!(code("Jan\u{202E}x <jan@example.org>"), Some("mailbox-name-character"));
        assert_eq!(code("Jan <not an address>"), Some("email-missing-at"));
        assert_eq!(code("Jan <jan @example.org>"), Some("email-invalid-character"));
        let long = format!("{} <jan@example.org>", "n".repeat(201));
        assert_eq!(code(&long), Some("mailbox-name-too-long"));
        let just_fits = format!("{} <jan@example.org>", "é".repeat(200));
        assert_eq!(code(&just_fits), None);
    }

    #[test]
    fn mailbox_display_round_trips() {
        let inputs = [
            "Jan Jansen <jan@example.org>",
            "\"Jansen, Jan\" <jan@example.org>",
            "jan@example.org",
            "\"J. Jansen (VWS)\" <jan@example.org>",
            r#""Jan \"JJ\" \\ Jansen" <jan@example.org>"#,
            "\"a;b:c@d\" <jan@example.org>",
            "Zoë <zoe@example.org>",
            "O'Brien <ob@example.ie>",
        ];
        for raw in inputs {
            let mailbox = Mailbox::parse(raw).expect("valid");
            let shown = mailbox.to_string();
            assert_eq!(Mailbox::parse(&shown), Ok(mailbox), "{raw} -> {shown}");
        }
        let mailbox = Mailbox::parse("Jansen, Jan <jan@example.org>").expect("valid");
        assert_eq!(mailbox.to_string(), "\"Jansen, Jan\" <jan@example.org>");
        let plain = Mailbox::new(Some(" Jan "), email("jan@example.org")).expect("valid");
        assert_eq!(plain.to_string(), "Jan <jan@example.org>");
        let nameless = Mailbox::new(Some("  "), email("jan@example.org")).expect("valid");
        assert_eq!(nameless.to_string(), "jan@example.org");
    }

    #[test]
    fn phone_numbers_normalise() {
        assert_eq!(phone("+31612345678"), "+31612345678");
        assert_eq!(phone("+31 6 12345678"), "+31612345678");
        assert_eq!(phone("+31 (0)6-1234 5678"), "+31612345678");
        assert_eq!(phone("0031612345678"), "+31612345678");
        assert_eq!(phone("0031 (0)6 12345678"), "+31612345678");
        assert_eq!(phone("06 12345678"), "+31612345678");
        assert_eq!(phone("0612345678"), "+31612345678");
        assert_eq!(phone("06-12.34.56.78"), "+31612345678");
        assert_eq!(phone("(0)6 12345678"), "+31612345678");
        assert_eq!(phone("(070) 1234567"), "+31701234567");
        assert_eq!(phone("+1 (415) 555-2671"), "+14155552671");
        assert_eq!(phone("+44 20 7946 0958"), "+442079460958");
        assert_eq!(phone("+49 30 1234567"), "+49301234567");
        assert_eq!(phone("+32 470 12 34 56"), "+32470123456");
    }

    #[test]
    fn phone_numbers_refused() {
        assert_eq!(phone_err(""), "phone-empty");
        assert_eq!(phone_err("06 1234 567a"), "phone-invalid-character");
        assert_eq!(phone_err("+31 6 CALL ME"), "phone-invalid-character");
        assert_eq!(phone_err("+31\u{a0}612345678"), "phone-invalid-character");
        assert_eq!(phone_err("+31/612345678"), "phone-invalid-character");
        assert_eq!(phone_err("612345678"), "phone-missing-country-code");
        assert_eq!(phone_err("+0612345678"), "phone-missing-country-code");
        assert_eq!(phone_err("000612345678"), "phone-missing-country-code");
        assert_eq!(phone_err("++31612345678"), "phone-malformed");
        assert_eq!(phone_err("+31 6 1234+5678"), "phone-malformed");
        assert_eq!(phone_err("+31 (6 12345678"), "phone-malformed");
        assert_eq!(phone_err("+31 6) 12345678"), "phone-malformed");
        assert_eq!(phone_err("+31 ((0))6 12345678"), "phone-malformed");
        assert_eq!(phone_err("+31 () 612345678"), "phone-malformed");
        assert_eq!(phone_err("06 (0) 12345678"), "phone-malformed");
        assert_eq!(phone_err("+"), "phone-malformed");
        assert_eq!(phone_err("- ."), "phone-malformed");
        assert_eq!(phone_err("+1234567"), "phone-length");
        assert_eq!(phone_err("+1234567890123456"), "phone-length");
        assert_eq!(phone_err(&"1".repeat(100)), "phone-length");
        assert_eq!(phone_err("06 1234567"), "phone-dutch-length");
        assert_eq!(phone_err("+31 6 123456789"), "phone-dutch-length");
    }

    #[test]
    fn phone_masking_and_mobile() {
        let dutch = PhoneNumber::parse("06 12345678").expect("valid");
        assert_eq!(dutch.as_e164(), "+31612345678");
        assert_eq!(dutch.country_code(), "31");
        assert_eq!(dutch.masked(), "+31 ••••••••78");
        assert!(dutch.is_mobile());
        let landline = PhoneNumber::parse("070 1234567").expect("valid");
        assert!(!landline.is_mobile());
        let us = PhoneNumber::parse("+1 415 555 2671").expect("valid");
        assert_eq!(us.masked(), "+1 ••••••••71");
        assert!(us.is_mobile());
        let irish = PhoneNumber::parse("+353 85 123 4567").expect("valid");
        assert_eq!(irish.country_code(), "353");
        assert_eq!(irish.masked(), "+353 ••••••••67");
        let russian = PhoneNumber::parse("+7 912 345 67 89").expect("valid");
        assert_eq!(russian.country_code(), "7");
    }

    #[test]
    fn error_messages_are_user_facing() {
        let errors = [
            EmailAddress::parse("").err(),
            EmailAddress::parse("a b@c.de").err(),
            EmailAddress::parse("a@b").err(),
            Mailbox::parse("x <a@b.de").err(),
            PhoneNumber::parse("0612").err(),
            PhoneNumber::parse("abc").err(),
            PhoneNumber::parse("06 1234567").err(),
        ];
        for err in errors.into_iter().flatten() {
            let text = err.to_string();
            assert!(!text.ends_with('.'), "{text}");
            assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
            assert!(text.contains(';'), "{text}");
        }
    }
}
