//! Document names: the one place that decides whether a client-supplied file
//! name may become part of a transfer, and what its canonical form is.
//!
//! [`FileName::parse`] first normalises the name to Unicode NFC (macOS clients
//! send decomposed NFD names, Windows and Linux clients send NFC; without this
//! the same name could appear twice) and then applies the checks below in this
//! order. The first failing check decides the [`NameRefusal`], so a name is
//! always refused for the most fundamental problem it has:
//!
//! 1. empty name ([`NameRefusal::Empty`])
//! 2. longer than [`NameRules::max_name_bytes`] UTF-8 bytes after NFC
//!    ([`NameRefusal::TooLong`])
//! 3. `.` or `..` ([`NameRefusal::DotName`])
//! 4. path separators `/`, `\` and their look-alikes
//!    ([`NameRefusal::PathSeparator`]); a transfer holds no folders
//! 5. NUL and other control characters: C0, DEL, C1
//!    ([`NameRefusal::ControlCharacter`])
//! 6. bidirectional controls and other invisible formatting characters
//!    ([`NameRefusal::InvisibleCharacter`])
//! 7. leading whitespace, trailing whitespace, trailing dot
//!    ([`NameRefusal::LeadingWhitespace`], [`NameRefusal::TrailingWhitespace`],
//!    [`NameRefusal::TrailingDot`])
//! 8. characters Windows forbids in names: `< > : " | ? *`
//!    ([`NameRefusal::ForbiddenCharacter`])
//! 9. Windows reserved device names such as `CON` or `nul.txt`
//!    ([`NameRefusal::ReservedName`])
//! 10. names starting with a dot, i.e. hidden files ([`NameRefusal::HiddenFile`])
//! 11. the kind of name ([`NameKind`]): no extension, or one of the
//!     extensions clients give a file they are still writing (`.tmp`,
//!     `.partial`, `.filepart`, `.osl-tmp`), is a temporary file; an
//!     extension in [`NameRules::allowed_extensions`], compared
//!     case-insensitively, is a document; any other is refused
//!     ([`NameRefusal::ExtensionNotAllowed`])
//!
//! Litter, the files file managers and office programs make for themselves
//! (`.DS_Store`, `._*`, `Thumbs.db`, `desktop.ini`, `~$*`, `.~lock.*#`), is
//! recognised before checks 7 to 11 and needs only checks 1 to 6: it is
//! accepted, never listed and never sent ([`NameKind::Litter`]).
//!
//! Only the last extension counts: `a.pdf.exe` is an `exe`, and
//! `report.final.PDF` is a `pdf`. Percent signs and similar encodings are
//! ordinary characters here: `%2e%2e%2fa.pdf` is an odd but harmless name,
//! because decoding URLs is the job of the frontends, never of this module.
//!
//! Duplicates are a property of a whole transfer rather than of one name; they
//! are detected with [`FileName::collation_key`] and [`check_unique`].

use std::collections::HashSet;
use std::fmt;

use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// Extensions accepted by default (lowercase, without the dot).
pub const DEFAULT_ALLOWED_EXTENSIONS: &[&str] = &[
    "eps", "gif", "jpeg", "jpg", "png", "doc", "docx", "odt", "xls", "xlsx", "ods", "pps", "ppsx", "ppt", "pptx",
    "odp", "zip", "rar", "7z", "gz", "tgz", "lzma", "cab", "gzip", "bzip2", "z", "bz2", "pdf", "txt",
];

/// Default maximum name length in UTF-8 bytes: the limit of ext4, APFS and
/// (in UTF-16 units, which is never fewer) NTFS.
pub const DEFAULT_MAX_NAME_BYTES: usize = 255;

/// NFC never shrinks UTF-8 by more than a factor of three (three Hangul jamo
/// compose into one syllable, the Kelvin sign becomes `K`). Input longer than
/// this multiple of the limit is therefore too long without normalising it,
/// which bounds the work spent on hostile input.
const MAX_NFC_SHRINK: usize = 4;

/// Path separators and characters that render like them. A look-alike slash
/// lets `invoices∕2024.pdf` pass for a path in a listing, and some tools map
/// the fullwidth forms back to ASCII.
const SEPARATORS: &[char] =
    &['/', '\\', '\u{2215}', '\u{2044}', '\u{FF0F}', '\u{FF3C}', '\u{29F5}', '\u{29F8}', '\u{29F9}'];

/// Characters the Windows file systems refuse; a name with them could not be
/// saved by a recipient on Windows, and `:` selects NTFS alternate streams.
const WINDOWS_FORBIDDEN: &[char] = &['<', '>', ':', '"', '|', '?', '*'];

/// Windows device names. Windows opens the device instead of a file for these,
/// with any extension and in any case, so `nul.pdf` cannot be saved there.
/// `COM0`/`LPT0` and the console names are included because current Windows
/// versions treat them the same way.
const RESERVED_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8",
    "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// Configurable limits for document names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRules {
    /// Allowed extensions without the dot; compared case-insensitively.
    pub allowed_extensions: Vec<String>,
    /// Maximum length of the NFC-normalised name in UTF-8 bytes.
    pub max_name_bytes: usize,
}

impl Default for NameRules {
    fn default() -> Self {
        NameRules {
            allowed_extensions: DEFAULT_ALLOWED_EXTENSIONS.iter().map(|e| (*e).to_owned()).collect(),
            max_name_bytes: DEFAULT_MAX_NAME_BYTES,
        }
    }
}

impl NameRules {
    /// Whether `extension` (without the dot) is on the allowlist. The
    /// comparison folds ASCII case only: full Unicode folding would let the
    /// Kelvin sign `K` stand in for `k`.
    pub fn allows_extension(&self, extension: &str) -> bool {
        self.allowed_extensions.iter().any(|allowed| allowed.trim_start_matches('.').eq_ignore_ascii_case(extension))
    }

    /// The allowlist as a short comma-separated text for messages.
    pub fn allowed_list(&self) -> String {
        let names: Vec<&str> = self.allowed_extensions.iter().map(|e| e.trim_start_matches('.')).collect();
        names.join(", ")
    }
}

/// Why a file name was refused. [`NameRefusal::code`] gives a stable
/// identifier for frontends that translate the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameRefusal {
    #[error("the file name is empty; give the file a name and try again")]
    Empty,
    #[error(
        "the file name is too long (at most {max_bytes} bytes; accented letters and non-Latin \
         scripts take several bytes each); shorten the name and try again"
    )]
    TooLong { max_bytes: usize },
    #[error("'.' and '..' are not file names; select the file itself, not a folder")]
    DotName,
    #[error(
        "the file name contains a slash ({}); folders cannot be sent, so put a folder in a zip \
         file first, or remove the slash from the name", code_point(.ch)
    )]
    PathSeparator { ch: char },
    #[error(
        "the file name contains an invisible control character ({}); rename the file using \
         only ordinary letters, digits and punctuation", code_point(.ch)
    )]
    ControlCharacter { ch: char },
    #[error(
        "the file name contains an invisible formatting character ({}) that can disguise the \
         real file type; rename the file by typing the name again", code_point(.ch)
    )]
    InvisibleCharacter { ch: char },
    #[error("the file name starts with a space; remove the space at the start of the name")]
    LeadingWhitespace,
    #[error("the file name ends with a space; remove the space at the end of the name")]
    TrailingWhitespace,
    #[error("the file name ends with a dot; remove the dot at the end of the name")]
    TrailingDot,
    #[error(
        "the file name contains '{ch}', which Windows does not allow in file names; remove it \
         from the name"
    )]
    ForbiddenCharacter { ch: char },
    #[error("'{name}' is a name Windows reserves for a device; rename the file")]
    ReservedName { name: String },
    #[error(
        "the file name starts with a dot, which makes it a hidden file; rename the file so the \
         name does not start with '.'"
    )]
    HiddenFile,
    #[error(
        "files of type .{extension} are not allowed; put the file in a zip file first and send \
         the zip file (allowed types: {allowed})"
    )]
    ExtensionNotAllowed { extension: String, allowed: String },
    #[error(
        "another file in this transfer is already called '{name}' (upper and lower case count \
         as the same); rename one of the files"
    )]
    Duplicate { name: String },
    #[error(
        "'{name}' is a file the computer or an office program makes for itself (folder settings, \
         thumbnails, a lock file); such files are kept aside and never sent, and may be at most \
         {max_bytes} bytes"
    )]
    LitterTooLarge { name: String, max_bytes: u64 },
    #[error(
        "this message already holds {max} files that are not documents (temporary files and \
         helper files); rename them to their final names or delete them first"
    )]
    TooManyAside { max: usize },
    #[error("folders may be nested at most {max} deep; put the deeper folders in a zip file first")]
    TooDeep { max: usize },
}

impl NameRefusal {
    /// Stable identifier of the refusal reason, for translation and logs.
    pub fn code(&self) -> &'static str {
        match self {
            NameRefusal::Empty => "empty-name",
            NameRefusal::TooLong { .. } => "name-too-long",
            NameRefusal::DotName => "dot-name",
            NameRefusal::PathSeparator { .. } => "path-separator",
            NameRefusal::ControlCharacter { .. } => "control-character",
            NameRefusal::InvisibleCharacter { .. } => "invisible-character",
            NameRefusal::LeadingWhitespace => "leading-whitespace",
            NameRefusal::TrailingWhitespace => "trailing-whitespace",
            NameRefusal::TrailingDot => "trailing-dot",
            NameRefusal::ForbiddenCharacter { .. } => "forbidden-character",
            NameRefusal::ReservedName { .. } => "reserved-name",
            NameRefusal::HiddenFile => "hidden-file",
            NameRefusal::ExtensionNotAllowed { .. } => "extension-not-allowed",
            NameRefusal::Duplicate { .. } => "duplicate-name",
            NameRefusal::LitterTooLarge { .. } => "litter-too-large",
            NameRefusal::TooManyAside { .. } => "too-many-aside",
            NameRefusal::TooDeep { .. } => "too-deep",
        }
    }
}

/// The extensions clients give a file they are still writing, before they
/// rename it to its final name: Office and most programs (`.tmp`: Word's
/// `~WRL0001.tmp`, Excel's `34429E5E.tmp`, LibreOffice's `lu123.tmp`),
/// rclone (`.partial`), WinSCP (`.filepart`), LibreOffice (`.osl-tmp`).
const TEMPORARY_EXTENSIONS: &[&str] = &["tmp", "partial", "filepart", "osl-tmp"];

/// How deep folders in a draft may nest.
pub const MAX_FOLDER_DEPTH: usize = 32;

/// What a top-level folder's name gets when it is sent.
pub const ZIP_SUFFIX: &str = ".zip";

/// What a name in a draft is, and so how the draft treats the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// An allowed type: sent to the recipient once its content is checked.
    Document,
    /// A file a client writes before giving it its final name (no
    /// extension, `.tmp`, `.partial`, `.filepart`, `.osl-tmp`): a file like
    /// any other to its owner, never sent, and sending waits until it is
    /// renamed or deleted.
    Temporary,
    /// A file a file manager or office program makes for itself
    /// (`.DS_Store`, `._*`, `Thumbs.db`, `desktop.ini`, `~$*`,
    /// `.~lock.*#`): accepted, never listed, never sent.
    Litter,
    /// A folder in a draft (`Bijlagen`, `Bijlagen/2026`): a top-level one
    /// reaches the recipient as `<folder>.zip`.
    Folder,
    /// A file inside a folder (`Bijlagen/scan.dat`): any name that passes
    /// the trick checks, sent inside its folder's zip, unchecked for type.
    Member,
}

impl NameKind {
    /// As a door or a page names it.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Document => "document",
            NameKind::Temporary => "temporary",
            NameKind::Litter => "litter",
            NameKind::Folder => "folder",
            NameKind::Member => "member",
        }
    }

    /// From [`NameKind::as_str`].
    pub fn parse(stored: &str) -> Option<NameKind> {
        [NameKind::Document, NameKind::Temporary, NameKind::Litter, NameKind::Folder, NameKind::Member]
            .into_iter()
            .find(|k| k.as_str() == stored)
    }

    /// Whether the file is kept aside from what is sent, and counts
    /// towards [`crate::upload::MAX_ASIDE_PER_DRAFT`].
    pub fn is_aside(self) -> bool {
        matches!(self, NameKind::Temporary | NameKind::Litter)
    }
}

/// Whether `name` is litter: a file that Finder (`.DS_Store`, `._*`
/// AppleDouble files), Explorer (`desktop.ini`, `Thumbs.db`), Office (the
/// `~$*` owner file) or LibreOffice (`.~lock.*#`) writes beside the user's
/// own.
fn is_litter(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower == ".ds_store"
        || name.starts_with("._")
        || lower == "desktop.ini"
        || lower == "thumbs.db"
        || name.starts_with("~$")
        || (name.starts_with(".~lock.") && name.ends_with('#'))
}

/// Formats a character as `U+XXXX`, the only safe way to show an invisible
/// or direction-changing character to a user.
fn code_point(ch: &char) -> String {
    format!("U+{:04X}", u32::from(*ch))
}

/// A validated, NFC-normalised name of a file in a draft, with its kind.
/// Only [`FileName::parse`] creates one, so holding a `FileName` proves the
/// checks passed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName(String, NameKind);

impl FileName {
    /// Normalises `raw` to NFC and checks it in the order given in the module
    /// documentation.
    pub fn parse(raw: &str, rules: &NameRules) -> Result<FileName, NameRefusal> {
        let name = normalise(raw, rules.max_name_bytes)?;
        check_shape(&name)?;
        check_characters(&name)?;
        if is_litter(&name) {
            return Ok(FileName(name, NameKind::Litter));
        }
        check_edges(&name)?;
        check_windows(&name)?;
        let kind = check_extension(&name, rules)?;
        Ok(FileName(name, kind))
    }

    /// A name at a path inside a draft: `scan.pdf` at the top, as
    /// [`FileName::parse`]; `Bijlagen/2026/scan.dat` inside a folder, where
    /// every part passes the trick checks (checks 1 to 9), and the last
    /// part is litter, a temporary file (by its extension only: a file
    /// without one is ordinary in a folder), or a member of any other type.
    pub fn parse_path(raw: &str, rules: &NameRules) -> Result<FileName, NameRefusal> {
        let Some((parent, last)) = raw.rsplit_once('/') else { return FileName::parse(raw, rules) };
        let folder = FileName::parse_folder(parent, rules)?;
        let last = normalise(last, rules.max_name_bytes)?;
        check_shape(&last)?;
        check_characters(&last)?;
        let kind = if is_litter(&last) {
            NameKind::Litter
        } else {
            check_edges(&last)?;
            check_windows(&last)?;
            match last.rsplit_once('.') {
                Some((_, ext)) if TEMPORARY_EXTENSIONS.iter().any(|t| t.eq_ignore_ascii_case(ext)) => {
                    NameKind::Temporary
                }
                _ => NameKind::Member,
            }
        };
        Ok(FileName(format!("{}/{last}", folder.0), kind))
    }

    /// A folder's path inside a draft (`Bijlagen`, `Bijlagen/2026`): every
    /// part passes the trick checks (checks 1 to 9), at most
    /// [`MAX_FOLDER_DEPTH`] deep; a top-level folder leaves room in its
    /// name for the `.zip` it is sent as.
    pub fn parse_folder(raw: &str, rules: &NameRules) -> Result<FileName, NameRefusal> {
        let parts: Vec<&str> = raw.split('/').collect();
        if parts.len() > MAX_FOLDER_DEPTH {
            return Err(NameRefusal::TooDeep { max: MAX_FOLDER_DEPTH });
        }
        let mut path = String::with_capacity(raw.len());
        for (i, part) in parts.iter().enumerate() {
            let room = if i == 0 { ZIP_SUFFIX.len() } else { 0 };
            let part = normalise(part, rules.max_name_bytes.saturating_sub(room))?;
            check_shape(&part)?;
            check_characters(&part)?;
            check_edges(&part)?;
            check_windows(&part)?;
            if i > 0 {
                path.push('/');
            }
            path.push_str(&part);
        }
        Ok(FileName(path, NameKind::Folder))
    }

    /// The folder this name is in, when it is inside one.
    pub fn parent(&self) -> Option<&str> {
        self.0.rsplit_once('/').map(|(parent, _)| parent)
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the name makes of the file.
    pub fn kind(&self) -> NameKind {
        self.1
    }

    /// The last extension in lowercase, without the dot (`pdf` for
    /// `Report.final.PDF`).
    pub fn extension(&self) -> String {
        self.0.rsplit_once('.').map(|(_, ext)| ext.to_lowercase()).unwrap_or_default()
    }

    /// Key for duplicate detection: NFC plus Unicode lowercase. The default
    /// file systems of Windows (NTFS) and macOS (APFS) are case-insensitive,
    /// so `A.pdf` and `a.PDF` would overwrite each other when a recipient
    /// saves both; they must count as the same name. The result is normalised
    /// again because lowercasing can produce un-normalised sequences.
    pub fn collation_key(&self) -> String {
        self.0.to_lowercase().nfc().collect()
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for FileName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Refuses the first name whose collation key was already seen, so a transfer
/// never holds two documents that would overwrite each other on disk.
pub fn check_unique<'a, I>(names: I) -> Result<(), NameRefusal>
where
    I: IntoIterator<Item = &'a FileName>,
{
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name.collation_key()) {
            return Err(NameRefusal::Duplicate { name: name.as_str().to_owned() });
        }
    }
    Ok(())
}

/// Whether a stored name could be `name`. No stored name holds a NUL (every
/// name is checked when it is made), and PostgreSQL refuses one in a query,
/// so a lookup by such a name (a path a client made up) finds nothing
/// without asking the database.
pub(crate) fn may_exist(name: &str) -> bool {
    !name.contains('\0')
}

/// Whether a character may never appear in a name in the tree (documents and
/// the folder names of drafts alike): separators, controls, invisible
/// characters, and what Windows forbids.
pub fn is_forbidden_char(ch: char) -> bool {
    SEPARATORS.contains(&ch) || ch.is_control() || is_invisible(ch) || WINDOWS_FORBIDDEN.contains(&ch)
}

/// Checks 1 and 2: empty, then NFC and the length limit. Normalisation stops
/// as soon as the limit is exceeded.
fn normalise(raw: &str, max_bytes: usize) -> Result<String, NameRefusal> {
    if raw.is_empty() {
        return Err(NameRefusal::Empty);
    }
    let too_long = NameRefusal::TooLong { max_bytes };
    if raw.len() > max_bytes.saturating_mul(MAX_NFC_SHRINK) {
        return Err(too_long);
    }
    let mut name = String::with_capacity(raw.len());
    for ch in raw.nfc() {
        name.push(ch);
        if name.len() > max_bytes {
            return Err(too_long);
        }
    }
    Ok(name)
}

/// Check 3: the directory entries `.` and `..`.
fn check_shape(name: &str) -> Result<(), NameRefusal> {
    if name == "." || name == ".." {
        return Err(NameRefusal::DotName);
    }
    Ok(())
}

/// Checks 4 to 6, each over the whole name before the next, so a name with
/// both a slash and a control character is refused for the slash.
fn check_characters(name: &str) -> Result<(), NameRefusal> {
    if let Some(ch) = name.chars().find(|c| SEPARATORS.contains(c)) {
        return Err(NameRefusal::PathSeparator { ch });
    }
    if let Some(ch) = name.chars().find(|c| c.is_control()) {
        return Err(NameRefusal::ControlCharacter { ch });
    }
    if let Some(ch) = name.chars().find(|c| is_invisible(*c)) {
        return Err(NameRefusal::InvisibleCharacter { ch });
    }
    Ok(())
}

/// Bidirectional controls, Unicode format (Cf) characters and other
/// default-ignorable code points. They are invisible or reorder the
/// displayed text: `report<U+202E>fdp.exe` shows as `reportexe.pdf`.
/// Line and paragraph separators are included because they break a name over
/// two lines in listings. Variation selectors stay allowed: emoji need them.
fn is_invisible(ch: char) -> bool {
    matches!(
        ch,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Check 7. Windows silently strips trailing dots and spaces, so
/// `invoice.exe.` and `invoice.exe ` would be saved as `invoice.exe`;
/// leading spaces make names look like others in listings.
fn check_edges(name: &str) -> Result<(), NameRefusal> {
    if name.starts_with(char::is_whitespace) {
        return Err(NameRefusal::LeadingWhitespace);
    }
    if name.ends_with(char::is_whitespace) {
        return Err(NameRefusal::TrailingWhitespace);
    }
    if name.ends_with('.') {
        return Err(NameRefusal::TrailingDot);
    }
    Ok(())
}

/// Checks 8 and 9: names a recipient on Windows could not save.
fn check_windows(name: &str) -> Result<(), NameRefusal> {
    if let Some(ch) = name.chars().find(|c| WINDOWS_FORBIDDEN.contains(c)) {
        return Err(NameRefusal::ForbiddenCharacter { ch });
    }
    // Windows matches the part before the first dot, ignoring spaces before
    // that dot, so `con.tar.gz` and `NUL .pdf` are device names too.
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    if RESERVED_NAMES.iter().any(|reserved| reserved.eq_ignore_ascii_case(stem)) {
        return Err(NameRefusal::ReservedName { name: stem.to_owned() });
    }
    Ok(())
}

/// Checks 10 and 11: hidden files, then the kind the extension gives. Edge
/// checks already guarantee the name does not end with a dot.
fn check_extension(name: &str, rules: &NameRules) -> Result<NameKind, NameRefusal> {
    if name.starts_with('.') {
        return Err(NameRefusal::HiddenFile);
    }
    let Some((_, extension)) = name.rsplit_once('.') else {
        return Ok(NameKind::Temporary);
    };
    if rules.allows_extension(extension) {
        return Ok(NameKind::Document);
    }
    if TEMPORARY_EXTENSIONS.iter().any(|t| t.eq_ignore_ascii_case(extension)) {
        return Ok(NameKind::Temporary);
    }
    Err(NameRefusal::ExtensionNotAllowed { extension: extension.to_lowercase(), allowed: rules.allowed_list() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<FileName, NameRefusal> {
        FileName::parse(raw, &NameRules::default())
    }

    fn key(raw: &str) -> String {
        parse(raw).map(|n| n.collation_key()).unwrap_or_default()
    }

    #[test]
    fn case_variants_collide() {
        assert_eq!(key("A.pdf"), key("a.PDF"));
        assert_eq!(key("Rapport.DOCX"), key("rapport.docx"));
        assert_eq!(key("ÉTÉ.pdf"), key("été.pdf"));
        assert_ne!(key("a.pdf"), key("b.pdf"));
        assert_ne!(key("a.pdf"), key("a.pdf.zip"));
    }

    #[test]
    fn nfd_and_nfc_collide_and_store_as_nfc() {
        let nfd = parse("cafe\u{301}.pdf").expect("nfd name is valid");
        let nfc = parse("café.pdf").expect("nfc name is valid");
        assert_eq!(nfd.as_str(), "café.pdf");
        assert_eq!(nfd, nfc);
        assert_eq!(nfd.collation_key(), nfc.collation_key());
    }

    #[test]
    fn check_unique_reports_the_second_occurrence() {
        let names: Vec<FileName> =
            ["Report.pdf", "notes.txt", "REPORT.PDF"].iter().filter_map(|n| parse(n).ok()).collect();
        assert_eq!(names.len(), 3);
        let err = check_unique(&names).expect_err("duplicate expected");
        assert_eq!(err.code(), "duplicate-name");
        assert_eq!(err, NameRefusal::Duplicate { name: "REPORT.PDF".into() });
        assert!(check_unique(&names[..2]).is_ok());
    }

    #[test]
    fn extension_is_last_and_lowercase() {
        let name = parse("report.final.PDF").expect("valid");
        assert_eq!(name.extension(), "pdf");
        assert_eq!(name.to_string(), "report.final.PDF");
        let refusal = parse("a.pdf.exe").expect_err("exe refused");
        assert!(matches!(
            refusal,
            NameRefusal::ExtensionNotAllowed { ref extension, .. } if extension == "exe"
        ));
        assert!(refusal.to_string().contains("zip file first"));
    }

    #[test]
    fn messages_show_invisible_characters_as_code_points() {
        let refusal = parse("report\u{202E}fdp.exe").expect_err("rtlo refused");
        assert_eq!(refusal.to_string().matches("U+202E").count(), 1);
        assert!(!refusal.to_string().contains('\u{202E}'));
    }

    #[test]
    fn huge_input_is_refused_cheaply() {
        let raw = "a".repeat(10_000_000);
        assert_eq!(parse(&raw), Err(NameRefusal::TooLong { max_bytes: 255 }));
    }

    #[test]
    fn nfc_shrinking_input_is_measured_after_normalisation() {
        // 80 Hangul syllables as conjoining jamo: 720 bytes raw, 240 bytes NFC
        let jamo = "\u{1100}\u{1161}\u{11A8}".repeat(80);
        assert!(jamo.len() > 255);
        let name = format!("{jamo}.pdf");
        assert!(parse(&name).is_ok());
    }

    #[test]
    fn messages_are_lowercase_without_trailing_period() {
        let samples = [
            parse(""),
            parse("."),
            parse("a/b.pdf"),
            parse("a\u{0}.pdf"),
            parse(" a.pdf"),
            parse("a<b.pdf"),
            parse("con.pdf"),
            parse(".x"),
            parse("a.exe"),
        ];
        for refusal in samples.into_iter().filter_map(Result::err) {
            let text = refusal.to_string();
            assert!(!text.ends_with('.'), "{text}");
            assert!(text.starts_with(|c: char| !c.is_uppercase()), "{text}");
            assert!(text.contains(';'), "message should say what to do: {text}");
        }
    }

    #[test]
    fn custom_rules_apply() {
        let rules = NameRules { allowed_extensions: vec![".PDF".into()], max_name_bytes: 8 };
        assert!(FileName::parse("a.pdf", &rules).is_ok());
        assert_eq!(FileName::parse("abcde.pdf", &rules), Err(NameRefusal::TooLong { max_bytes: 8 }));
        assert!(matches!(
            FileName::parse("a.txt", &rules),
            Err(NameRefusal::ExtensionNotAllowed { ref allowed, .. }) if allowed == "PDF"
        ));
    }
}
