//! Content check: whether a document's first bytes match the type its
//! extension claims, so that a `.pdf` really is a PDF and a program renamed to
//! `report.pdf` is caught.
//!
//! [`check`] looks at no more than the first [`HEAD_LEN`] bytes of the
//! plaintext and answers with a [`ContentCheck`]. Detected types are stable
//! lowercase labels; [`describe`] turns one into a phrase for messages such
//! as "this .pdf is really a Windows program". The labels are:
//!
//! - document and archive types: `pdf`, `png`, `gif`, `jpeg`, `postscript`,
//!   `zip`, `odt`, `ods`, `odp`, `opendocument`, `ole2`, `rar`, `7z`, `gzip`,
//!   `bzip2`, `compress`, `cab`, `xz`, `lzma`, `text`
//! - dangerous types, named even though no extension accepts them:
//!   `windows-program`, `windows-shortcut`, `linux-program`, `macos-program`,
//!   `java-program`, `script`, `html`, `svg`
//! - `empty` for a 0-byte document and `unknown` for anything else
//!
//! An empty document matches `txt` (an empty text file is a valid text file)
//! and is a mismatch with detected type `empty` for every other extension:
//! no image, office document or archive format is valid at 0 bytes, and
//! answering `Unverifiable` would let an empty "document" through unnoticed.
//! `Unverifiable` is reserved for extensions this module has no rule for.

/// The most bytes [`check`] looks at; callers pass the first up to this many
/// bytes of the plaintext. Longer input is cut, so the work is bounded.
pub const HEAD_LEN: usize = 8 * 1024;

/// Result of comparing a document's head with its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCheck {
    /// The content is of a type the extension allows; carries the detected
    /// type label.
    Matches(&'static str),
    /// The content is of another type than the extension claims.
    Mismatch {
        /// Label of the type the extension requires.
        expected: &'static str,
        /// Label of the type found.
        detected: &'static str,
    },
    /// There is no content rule for this extension.
    Unverifiable,
}

impl ContentCheck {
    /// Stable name of the outcome: `matches`, `mismatch` or `unverifiable`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ContentCheck::Matches(_) => "matches",
            ContentCheck::Mismatch { .. } => "mismatch",
            ContentCheck::Unverifiable => "unverifiable",
        }
    }

    /// The detected type label, if the content was examined.
    pub fn detected(&self) -> Option<&'static str> {
        match self {
            ContentCheck::Matches(detected) | ContentCheck::Mismatch { detected, .. } => Some(detected),
            ContentCheck::Unverifiable => None,
        }
    }
}

/// Which detected labels an extension accepts.
struct Rule {
    extensions: &'static [&'static str],
    expected: &'static str,
    accepts: &'static [&'static str],
}

/// Per-extension rules. OpenDocument files are zip files whose first entry
/// names the document kind; an OpenDocument file without that entry is still
/// accepted as a plain zip, but one that says it is a spreadsheet is not
/// accepted as an `.odt`. A `.zip` may hold anything zip-shaped.
const RULES: &[Rule] = &[
    rule(&["pdf"], "pdf", &["pdf"]),
    rule(&["png"], "png", &["png"]),
    rule(&["gif"], "gif", &["gif"]),
    rule(&["jpg", "jpeg"], "jpeg", &["jpeg"]),
    rule(&["eps"], "postscript", &["postscript"]),
    rule(&["zip"], "zip", &["zip", "odt", "ods", "odp", "opendocument"]),
    rule(&["docx", "xlsx", "pptx", "ppsx"], "zip", &["zip"]),
    rule(&["odt"], "odt", &["odt", "zip"]),
    rule(&["ods"], "ods", &["ods", "zip"]),
    rule(&["odp"], "odp", &["odp", "zip"]),
    rule(&["doc", "xls", "ppt", "pps"], "ole2", &["ole2"]),
    rule(&["rar"], "rar", &["rar"]),
    rule(&["7z"], "7z", &["7z"]),
    rule(&["gz", "gzip", "tgz"], "gzip", &["gzip"]),
    rule(&["bz2", "bzip2"], "bzip2", &["bzip2"]),
    rule(&["z"], "compress", &["compress"]),
    rule(&["cab"], "cab", &["cab"]),
    rule(&["lzma"], "lzma", &["lzma", "xz"]),
    rule(&["txt"], "text", &["text"]),
];

const fn rule(extensions: &'static [&'static str], expected: &'static str, accepts: &'static [&'static str]) -> Rule {
    Rule { extensions, expected, accepts }
}

/// Fixed signatures at offset 0, checked in order.
const SIGNATURES: &[(&[u8], &str)] = &[
    (b"\x7fELF", "linux-program"),
    (b"\xfe\xed\xfa\xce", "macos-program"),
    (b"\xfe\xed\xfa\xcf", "macos-program"),
    (b"\xce\xfa\xed\xfe", "macos-program"),
    (b"\xcf\xfa\xed\xfe", "macos-program"),
    (b"\x4c\x00\x00\x00\x01\x14\x02\x00", "windows-shortcut"),
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"%!PS", "postscript"),
    (b"\xc5\xd0\xd3\xc6", "postscript"),
    (b"PK\x05\x06", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"\x1f\x9d", "compress"),
    (b"MSCF\x00\x00\x00\x00", "cab"),
    (b"\xfd7zXZ\x00", "xz"),
    // LZMA-alone has no magic; 0x5D is the properties byte every common
    // encoder writes, followed by a dictionary size that is a multiple of
    // 64 KiB. Text never starts like this (NUL bytes).
    (b"\x5d\x00\x00", "lzma"),
];

/// WHATWG MIME sniffing patterns for HTML, each followed by a space or `>`.
/// Browsers that ignore the declared type render content starting like this
/// as a web page.
const HTML_TAGS: &[&[u8]] = &[
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<!--",
];

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Checks that `head`, the first up to [`HEAD_LEN`] bytes of a document,
/// matches `extension` (with or without the dot, any case).
pub fn check(extension: &str, head: &[u8]) -> ContentCheck {
    let head = head.get(..HEAD_LEN).unwrap_or(head);
    let extension = extension.trim_start_matches('.').to_ascii_lowercase();
    let Some(rule) = RULES.iter().find(|r| r.extensions.contains(&extension.as_str())) else {
        return ContentCheck::Unverifiable;
    };
    let detected = detect(head);
    if rule.accepts.contains(&detected) || (detected == "empty" && rule.expected == "text") {
        ContentCheck::Matches(detected)
    } else {
        ContentCheck::Mismatch { expected: rule.expected, detected }
    }
}

/// Detects the type of `head` without regard to any extension. Binary
/// signatures come first, then markup and scripts (which are also text), then
/// plain text.
pub fn detect(head: &[u8]) -> &'static str {
    let head = head.get(..HEAD_LEN).unwrap_or(head);
    if head.is_empty() {
        return "empty";
    }
    if let Some(label) = detect_binary(head) {
        return label;
    }
    if let Some(label) = detect_markup(head) {
        return label;
    }
    if is_text(head) {
        return "text";
    }
    "unknown"
}

/// Human phrase for a detected label, for messages like "this .pdf is really
/// a Windows program".
pub fn describe(label: &str) -> &'static str {
    match label {
        "pdf" => "a PDF document",
        "png" => "a PNG image",
        "gif" => "a GIF image",
        "jpeg" => "a JPEG image",
        "postscript" => "a PostScript file",
        "zip" => "a zip file",
        "odt" => "an OpenDocument text document",
        "ods" => "an OpenDocument spreadsheet",
        "odp" => "an OpenDocument presentation",
        "opendocument" => "an OpenDocument file",
        "ole2" => "a Microsoft Office 97-2003 document",
        "rar" => "a RAR archive",
        "7z" => "a 7-Zip archive",
        "gzip" => "a gzip archive",
        "bzip2" => "a bzip2 archive",
        "compress" => "a compress (.Z) archive",
        "cab" => "a Windows cabinet archive",
        "xz" => "an xz archive",
        "lzma" => "an LZMA archive",
        "text" => "a plain text file",
        "windows-program" => "a Windows program",
        "windows-shortcut" => "a Windows shortcut",
        "linux-program" => "a Linux program",
        "macos-program" => "a macOS program",
        "java-program" => "a Java program",
        "script" => "a script",
        "html" => "a web page (HTML)",
        "svg" => "an SVG image, which can contain scripts",
        "empty" => "an empty file",
        _ => "a file of unknown type",
    }
}

fn detect_binary(head: &[u8]) -> Option<&'static str> {
    if let Some((_, label)) = SIGNATURES.iter().find(|(sig, _)| head.starts_with(sig)) {
        return Some(label);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some(opendocument_kind(head).unwrap_or("zip"));
    }
    if head.starts_with(b"\xca\xfe\xba\xbe") || head.starts_with(b"\xca\xfe\xba\xbf") {
        return Some(fat_binary_kind(head));
    }
    if is_windows_program(head) {
        return Some("windows-program");
    }
    // "BZh" plus the block size digit; without the digit it is just text.
    if let [b'B', b'Z', b'h', b'1'..=b'9', ..] = head {
        return Some("bzip2");
    }
    // A leading byte-order mark or whitespace is tolerated by PDF readers.
    if skip_bom_and_whitespace(head).starts_with(b"%PDF-") {
        return Some("pdf");
    }
    None
}

/// `MZ` starts every DOS and Windows executable. A real header holds NUL
/// bytes within its first 64 bytes; requiring one keeps text files that
/// happen to start with "MZ" from being called programs.
fn is_windows_program(head: &[u8]) -> bool {
    head.starts_with(b"MZ") && head.iter().take(64).any(|&b| b == 0)
}

/// `CA FE BA BE` starts both macOS universal binaries and Java class files.
/// A universal binary follows it with a small architecture count; a class
/// file with its version numbers, which are far larger.
fn fat_binary_kind(head: &[u8]) -> &'static str {
    match read_u32_be(head, 4) {
        Some(count) if count < 45 => "macos-program",
        _ => "java-program",
    }
}

/// Reads the `mimetype` entry that OpenDocument requires as the first,
/// uncompressed entry of its zip container.
fn opendocument_kind(head: &[u8]) -> Option<&'static str> {
    let method = read_u16_le(head, 8)?;
    let compressed_size = usize::try_from(read_u32_le(head, 18)?).ok()?;
    let name_len = usize::from(read_u16_le(head, 26)?);
    let extra_len = usize::from(read_u16_le(head, 28)?);
    let name = head.get(30..30 + name_len)?;
    if name != b"mimetype" || method != 0 {
        return None;
    }
    let start = 30 + name_len + extra_len;
    let data = head.get(start..start.checked_add(compressed_size)?)?;
    let kind = data.strip_prefix(b"application/vnd.oasis.opendocument.")?;
    Some(match kind {
        b"text" => "odt",
        b"spreadsheet" => "ods",
        b"presentation" => "odp",
        _ => "opendocument",
    })
}

fn read_u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    let raw = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(raw.try_into().ok()?))
}

fn read_u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let raw = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(raw.try_into().ok()?))
}

fn read_u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    let raw = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(raw.try_into().ok()?))
}

fn skip_bom_and_whitespace(head: &[u8]) -> &[u8] {
    let rest = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    let start = rest.iter().position(|b| !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')).unwrap_or(rest.len());
    rest.get(start..).unwrap_or_default()
}

/// Scripts and markup that a browser or shell would execute. They are text,
/// so they must be recognised before the plain-text check.
fn detect_markup(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"#!") {
        return Some("script");
    }
    let rest = skip_bom_and_whitespace(head);
    if HTML_TAGS.iter().any(|tag| starts_with_tag(rest, tag)) {
        return Some("html");
    }
    if starts_with_tag(rest, b"<svg") {
        return Some("svg");
    }
    None
}

/// Case-insensitive `tag` at the start of `bytes`, followed by a space or `>`.
fn starts_with_tag(bytes: &[u8], tag: &[u8]) -> bool {
    match (bytes.get(..tag.len()), bytes.get(tag.len())) {
        (Some(prefix), Some(b' ' | b'>')) => prefix.eq_ignore_ascii_case(tag),
        _ => false,
    }
}

/// Plain text: UTF-8 without NUL bytes, UTF-16 with a byte-order mark (what
/// Windows Notepad calls "Unicode"), or Latin-1 without C0 controls other than
/// tab, line feed, vertical tab, form feed and carriage return.
fn is_text(head: &[u8]) -> bool {
    if let Some(body) = head.strip_prefix(b"\xff\xfe") {
        return is_utf16_text(body, u16::from_le_bytes);
    }
    if let Some(body) = head.strip_prefix(b"\xfe\xff") {
        return is_utf16_text(body, u16::from_be_bytes);
    }
    is_utf8_text(head) || is_latin1_text(head)
}

fn is_utf8_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // No error length means the input ended inside a multi-byte
        // sequence: the head was cut mid-character, which is fine.
        Err(err) => err.error_len().is_none(),
    }
}

fn is_latin1_text(head: &[u8]) -> bool {
    !head.iter().any(|b| matches!(b, 0x00..=0x08 | 0x0e..=0x1f))
}

fn is_utf16_text(body: &[u8], unit: fn([u8; 2]) -> u16) -> bool {
    // An odd final byte is half a code unit cut off by the head limit.
    let units = body.chunks_exact(2).filter_map(|pair| pair.try_into().ok()).map(unit);
    let decoded: Vec<_> = char::decode_utf16(units).collect();
    let last = decoded.len().saturating_sub(1);
    decoded.iter().enumerate().all(|(i, ch)| match ch {
        Ok(c) => !c.is_control() || matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r'),
        // Only a lone high surrogate at the very end can come from cutting.
        Err(err) => i == last && (0xD800..0xDC00).contains(&err.unpaired_surrogate()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(ext: &str, head: &[u8]) {
        let result = check(ext, head);
        assert!(matches!(result, ContentCheck::Matches(_)), ".{ext} should match, got {result:?}");
    }

    fn mismatch(ext: &str, head: &[u8], detected: &str) {
        match check(ext, head) {
            ContentCheck::Mismatch { detected: d, .. } if d == detected => {}
            other => panic!(".{ext}: expected mismatch with {detected}, got {other:?}"),
        }
    }

    /// A minimal zip local file header for an OpenDocument `mimetype` entry.
    fn opendocument(kind: &str) -> Vec<u8> {
        let data = format!("application/vnd.oasis.opendocument.{kind}");
        let mut out = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        out.extend_from_slice(&[0, 0, 0, 0]); // crc
        let size = u32::try_from(data.len()).unwrap_or(0).to_le_bytes();
        out.extend_from_slice(&size);
        out.extend_from_slice(&size);
        out.extend_from_slice(&8u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(b"mimetype");
        out.extend_from_slice(data.as_bytes());
        out.extend_from_slice(b"PK\x03\x04");
        out
    }

    const PE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00";
    const OLE2: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00\x00\x00\x00\x00";

    #[test]
    fn real_headers_match_their_extensions() {
        matches("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n");
        matches("PDF", b"\xef\xbb\xbf\r\n%PDF-1.4\n");
        matches("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
        matches("gif", b"GIF87a\x01\x00\x01\x00");
        matches("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00");
        matches("jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00");
        matches("jpeg", b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00");
        matches("eps", b"%!PS-Adobe-3.0 EPSF-3.0\n");
        matches("eps", b"\xc5\xd0\xd3\xc6\x20\x00\x00\x00");
        for ext in ["zip", "docx", "xlsx", "pptx", "ppsx", "odt", "ods", "odp"] {
            matches(ext, b"PK\x03\x04\x14\x00\x06\x00\x08\x00");
        }
        matches("zip", b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00");
        for ext in ["doc", "xls", "ppt", "pps"] {
            matches(ext, OLE2);
        }
        matches("rar", b"Rar!\x1a\x07\x00\xcf\x90\x73");
        matches("rar", b"Rar!\x1a\x07\x01\x00");
        matches("7z", b"7z\xbc\xaf\x27\x1c\x00\x04");
        for ext in ["gz", "gzip", "tgz"] {
            matches(ext, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03");
        }
        matches("bz2", b"BZh91AY&SY");
        matches("bzip2", b"BZh11AY&SY");
        matches("z", b"\x1f\x9d\x90");
        matches("cab", b"MSCF\x00\x00\x00\x00\x2c\x01\x00\x00");
        matches("lzma", b"\x5d\x00\x00\x80\x00\xff\xff\xff\xff\xff\xff\xff\xff");
        matches("lzma", b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46");
        matches("txt", b"Hello, world\r\n\tindented\x0c");
    }

    #[test]
    fn opendocument_mimetype_is_checked() {
        assert_eq!(check("odt", &opendocument("text")), ContentCheck::Matches("odt"));
        assert_eq!(check("ods", &opendocument("spreadsheet")), ContentCheck::Matches("ods"));
        assert_eq!(check("odp", &opendocument("presentation")), ContentCheck::Matches("odp"));
        assert_eq!(check("zip", &opendocument("text")), ContentCheck::Matches("odt"));
        assert_eq!(
            check("odt", &opendocument("spreadsheet")),
            ContentCheck::Mismatch { expected: "odt", detected: "ods" }
        );
        mismatch("docx", &opendocument("text"), "odt");
        // A header cut short inside the entry is just a zip.
        let cut = opendocument("text");
        assert_eq!(detect(&cut[..40]), "zip");
    }

    #[test]
    fn program_renamed_to_pdf_is_named() {
        let result = check("pdf", PE);
        assert_eq!(result, ContentCheck::Mismatch { expected: "pdf", detected: "windows-program" });
        assert_eq!(result.as_str(), "mismatch");
        assert_eq!(describe("windows-program"), "a Windows program");
        mismatch("docx", PE, "windows-program");
        mismatch("pdf", b"\x7fELF\x02\x01\x01\x00", "linux-program");
        mismatch("pdf", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "macos-program");
        mismatch("zip", b"\xca\xfe\xba\xbe\x00\x00\x00\x02", "macos-program");
        mismatch("zip", b"\xca\xfe\xba\xbe\x00\x00\x00\x34", "java-program");
        mismatch("pdf", b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00", "windows-shortcut");
    }

    #[test]
    fn html_renamed_to_txt_is_named() {
        mismatch("txt", b"<!DOCTYPE html>\n<html><body>", "html");
        mismatch("txt", b"\xef\xbb\xbf  \n<HTML lang=\"nl\">", "html");
        mismatch("txt", b"<script>alert(1)</script>", "html");
        mismatch("txt", b"<svg xmlns=\"http://www.w3.org/2000/svg\">", "svg");
        mismatch("txt", b"#!/bin/sh\nrm -rf /\n", "script");
        mismatch("pdf", b"<html>", "html");
        // Text that merely mentions tags is still text.
        matches("txt", b"Use <b>bold</b> for emphasis\n");
        matches("txt", b"<bogus> is not an HTML tag\n");
    }

    #[test]
    fn text_variants() {
        matches("txt", "Grüße, café, Ελληνικά\n".as_bytes());
        // The head cut off inside the three-byte euro sign.
        matches("txt", b"price: 10 \xe2\x82");
        // Windows-1252 text is not UTF-8 but has no control bytes.
        matches("txt", b"caf\xe9 \x80 10\r\n");
        matches("txt", b"\xff\xfeH\x00i\x00\r\x00\n\x00");
        matches("txt", b"\xfe\xff\x00H\x00i");
        matches("txt", b"MZ is the abbreviation of my town\n");
        mismatch("txt", b"text\x00with nul", "unknown");
        // Valid UTF-8 without NUL is text, even with terminal colour codes.
        matches("txt", b"escape \x1b[31m red\n");
        mismatch("txt", b"caf\xe9 \x1b[31m", "unknown");
        mismatch("txt", b"\xff\xfeH\x00\x01\x00", "unknown");
        mismatch("txt", b"\xff\xd8\xff\xe0", "jpeg");
        mismatch("txt", b"BZh91AY&SY", "bzip2");
        matches("txt", b"BZhello\n");
    }

    #[test]
    fn empty_documents() {
        assert_eq!(check("txt", b""), ContentCheck::Matches("empty"));
        for ext in ["pdf", "docx", "zip", "png", "doc", "lzma"] {
            mismatch(ext, b"", "empty");
        }
    }

    #[test]
    fn wrong_types_and_unknown_extensions() {
        mismatch("pdf", b"\x89PNG\r\n\x1a\n", "png");
        mismatch("doc", b"PK\x03\x04\x14\x00", "zip");
        mismatch("docx", OLE2, "ole2");
        mismatch("png", b"GIF89a", "gif");
        mismatch("pdf", b"%PD", "text");
        mismatch("gz", b"\x1f", "text");
        mismatch("gz", b"\x1f\xff", "unknown");
        assert_eq!(check("exe", PE), ContentCheck::Unverifiable);
        assert_eq!(check("", b"abc"), ContentCheck::Unverifiable);
        assert_eq!(ContentCheck::Unverifiable.as_str(), "unverifiable");
        assert_eq!(ContentCheck::Unverifiable.detected(), None);
        assert_eq!(check(".PDF", b"%PDF-1.0").detected(), Some("pdf"));
    }

    #[test]
    fn only_the_head_is_examined() {
        let mut long = b"plain text ".repeat(1000);
        long.extend_from_slice(b"\x00\x00\x00");
        assert!(long.len() > HEAD_LEN);
        matches("txt", &long);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // Deterministic pseudo-random heads of every short length.
        let mut state: u32 = 0x1234_5678;
        for len in 0..600 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state.to_le_bytes()[0]
                })
                .collect();
            for ext in ["pdf", "txt", "odt", "zip", "exe"] {
                let _ = check(ext, &bytes);
            }
            let mut zip = b"PK\x03\x04".to_vec();
            zip.extend_from_slice(&bytes);
            let _ = detect(&zip);
        }
    }
}
