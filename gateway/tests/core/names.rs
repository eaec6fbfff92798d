//! Runs the document-name corpus in `tests/data/names.tsv` through
//! `FileName::parse` and checks every verdict and refusal code.

use std::collections::BTreeSet;

use gateway::policy::name::{DEFAULT_ALLOWED_EXTENSIONS, FileName, NameKind, NameRefusal, NameRules, check_unique};

const CORPUS: &str = include_str!("../data/names.tsv");

const ALL_CODES: &[&str] = &[
    "empty-name",
    "name-too-long",
    "dot-name",
    "path-separator",
    "control-character",
    "invisible-character",
    "leading-whitespace",
    "trailing-whitespace",
    "trailing-dot",
    "forbidden-character",
    "reserved-name",
    "hidden-file",
    "extension-not-allowed",
];

pub(crate) struct Entry {
    pub line: usize,
    pub raw: String,
    pub name: String,
    pub expected: String,
    pub code: String,
}

/// Decodes the escapes documented in the corpus header.
fn decode(field: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('\0'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let hex = braced(&mut chars)?;
                let value = u32::from_str_radix(&hex, 16).map_err(|e| format!("{hex}: {e}"))?;
                out.push(char::from_u32(value).ok_or(format!("not a scalar value: {hex}"))?);
            }
            Some('*') => {
                let count = braced(&mut chars)?;
                let count: usize = count.parse().map_err(|e| format!("{count}: {e}"))?;
                let text = decode(&braced(&mut chars)?)?;
                out.push_str(&text.repeat(count));
            }
            other => return Err(format!("unknown escape \\{other:?}")),
        }
    }
    Ok(out)
}

/// Reads `{...}` with nested braces and returns the inside.
fn braced(chars: &mut std::str::Chars<'_>) -> Result<String, String> {
    if chars.next() != Some('{') {
        return Err("expected '{' after escape".into());
    }
    let mut depth = 1;
    let mut inner = String::new();
    for ch in chars.by_ref() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(inner);
                }
            }
            _ => {}
        }
        inner.push(ch);
    }
    Err("unclosed '{'".into())
}

pub(crate) fn corpus() -> Vec<Entry> {
    let mut entries = Vec::new();
    for (index, text) in CORPUS.lines().enumerate() {
        let line = index + 1;
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = text.split('\t').collect();
        let [raw, expected, code] = fields[..] else {
            panic!("line {line}: expected 3 tab-separated fields: {text:?}");
        };
        let name = decode(raw).unwrap_or_else(|e| panic!("line {line}: {e}: {text:?}"));
        entries.push(Entry { line, raw: raw.to_owned(), name, expected: expected.to_owned(), code: code.to_owned() });
    }
    entries
}

/// The corpus's word for a name accepted as `kind`.
fn accepted(kind: NameKind) -> &'static str {
    match kind {
        NameKind::Document => "ok",
        NameKind::Temporary => "temporary",
        NameKind::Litter => "litter",
        NameKind::Folder => "folder",
        NameKind::Member => "member",
    }
}

/// Paths inside a draft's folders: the trick checks on every part, no
/// extension rule inside a folder, temporary and litter names kept aside.
#[test]
fn paths_inside_folders() {
    let rules = NameRules::default();
    let cases: &[(&str, &str, &str)] = &[
        ("scan.pdf", "ok", "-"),
        ("Bijlagen/scan.pdf", "member", "-"),
        ("Bijlagen/2026/Makefile", "member", "-"),
        ("Bijlagen/setup.exe", "member", "-"),
        ("Bijlagen/.gitignore", "member", "-"),
        ("Bijlagen/.DS_Store", "litter", "-"),
        ("Bijlagen/~$rapport.docx", "litter", "-"),
        ("Bijlagen/rapport.docx.a1b2c3.partial", "temporary", "-"),
        ("Bijlagen/~WRL0001.tmp", "temporary", "-"),
        ("setup.exe", "refuse", "extension-not-allowed"),
        ("Bijlagen/con.txt", "refuse", "reserved-name"),
        ("CON/a.txt", "refuse", "reserved-name"),
        ("Bijlagen/a\\b.txt", "refuse", "path-separator"),
        ("Bijlagen/a\u{202E}fdp.exe", "refuse", "invisible-character"),
        ("Bijlagen /a.txt", "refuse", "trailing-whitespace"),
        ("Bijlagen/a.txt.", "refuse", "trailing-dot"),
        ("Bijlagen/..", "refuse", "dot-name"),
        ("Bijlagen//a.txt", "refuse", "empty-name"),
    ];
    for (path, expected, code) in cases {
        let got = verdict(&FileName::parse_path(path, &rules));
        assert_eq!(got, (*expected, *code), "{path}");
    }
    let deep = vec!["d"; gateway::policy::name::MAX_FOLDER_DEPTH + 1].join("/");
    assert_eq!(FileName::parse_folder(&deep, &rules).map_err(|e| e.code()), Err("too-deep"));
    assert_eq!(FileName::parse_folder("Bijlagen/2026", &rules).map(|n| n.kind()), Ok(NameKind::Folder));
    // A top-level folder keeps room for the ".zip" it is sent as.
    let long = "a".repeat(rules.max_name_bytes - 2);
    assert_eq!(FileName::parse_folder(&long, &rules).map_err(|e| e.code()), Err("name-too-long"));
    assert!(FileName::parse_folder(&format!("a/{long}"), &rules).is_ok());
}

fn verdict(result: &Result<FileName, NameRefusal>) -> (&'static str, &'static str) {
    match result {
        Ok(name) => (accepted(name.kind()), "-"),
        Err(refusal) => ("refuse", refusal.code()),
    }
}

#[test]
fn corpus_verdicts_and_codes() {
    let rules = NameRules::default();
    let entries = corpus();
    assert!(entries.len() >= 150, "corpus has only {} entries", entries.len());
    let mut failures = Vec::new();
    for entry in &entries {
        let result = FileName::parse(&entry.name, &rules);
        let (expected, code) = verdict(&result);
        if expected != entry.expected || code != entry.code {
            let detail = match &result {
                Ok(name) => format!("accepted as {name:?}"),
                Err(refusal) => format!("refused: {refusal}"),
            };
            failures.push(format!(
                "line {}: {}\texpected {} {}, got {expected} {code} ({detail})",
                entry.line, entry.raw, entry.expected, entry.code
            ));
        }
    }
    assert!(failures.is_empty(), "corpus failures:\n{}", failures.join("\n"));
}

#[test]
fn corpus_is_well_formed_and_complete() {
    let entries = corpus();
    let mut codes_seen = BTreeSet::new();
    let mut extensions_seen = BTreeSet::new();
    let rules = NameRules::default();
    for entry in &entries {
        assert!(
            ["ok", "temporary", "litter"].contains(&entry.expected.as_str()) && entry.code == "-"
                || entry.expected == "refuse" && ALL_CODES.contains(&entry.code.as_str()),
            "line {}: bad verdict or code: {} {}",
            entry.line,
            entry.expected,
            entry.code
        );
        codes_seen.insert(entry.code.clone());
        if let Ok(name) = FileName::parse(&entry.name, &rules).map_err(drop).and_then(|n| match n.kind() {
            NameKind::Document => Ok(n),
            _ => Err(()),
        }) {
            extensions_seen.insert(name.extension());
        }
    }
    for code in ALL_CODES {
        assert!(codes_seen.contains(*code), "no corpus line refuses with {code}");
    }
    for extension in DEFAULT_ALLOWED_EXTENSIONS {
        assert!(extensions_seen.contains(*extension), "no accepted corpus line ends in .{extension}");
    }
}

#[test]
fn nfd_names_equal_their_nfc_form() {
    let rules = NameRules::default();
    let nfd = FileName::parse("cafe\u{301}.pdf", &rules).expect("valid");
    let nfc = FileName::parse("café.pdf", &rules).expect("valid");
    assert_eq!(nfd.as_str(), nfc.as_str());
    assert_eq!(nfd.collation_key(), nfc.collation_key());
}

#[test]
fn duplicates_within_a_transfer() {
    let rules = NameRules::default();
    let parse = |raw: &str| FileName::parse(raw, &rules).expect("valid");
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["A.pdf", "a.PDF"], Some("a.PDF")),
        (&["café.pdf", "cafe\u{301}.pdf"], Some("café.pdf")),
        (&["CAFÉ.pdf", "cafe\u{301}.PDF"], Some("café.PDF")),
        (&["Ελληνικά.docx", "ΕΛΛΗΝΙΚΆ.DOCX"], Some("ΕΛΛΗΝΙΚΆ.DOCX")),
        (&["report.pdf", "report.pdf.zip", "report (1).pdf"], None),
        (&["a.pdf", "b.pdf", "c.pdf", "B.PDF"], Some("B.PDF")),
        (&["x.tar.gz", "x.tgz"], None),
    ];
    for (names, duplicate) in cases {
        let parsed: Vec<FileName> = names.iter().map(|n| parse(n)).collect();
        let expected = duplicate.map(|name| NameRefusal::Duplicate { name: name.to_owned() });
        assert_eq!(check_unique(&parsed).err(), expected, "{names:?}");
    }
}

/// The same corpus through the facade: every name is accepted or refused by
/// `begin_upload` as the corpus says, with the same reason. A `/` there
/// makes a path into a folder, which `paths_inside_folders` and the tree's
/// tests cover; those names are left out.
#[tokio::test]
async fn corpus_through_the_gateway() -> crate::bed::TestResult {
    use gateway::upload::UploadMode;
    let bed = crate::bed::Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "names").await?;
    let mut failures = Vec::new();
    let entries = corpus();
    for e in entries.iter().filter(|e| !e.name.contains('/')) {
        let got = match bed.gw.begin_upload(&jan, &draft.id, &e.name, UploadMode::New).await {
            Ok(upload) => {
                let kind = FileName::parse(upload.name(), &gateway::policy::name::NameRules::default())?.kind();
                drop(upload);
                (accepted(kind), "-".to_owned())
            }
            Err(gateway::Error::Name(refusal)) => ("refuse", refusal.code().to_owned()),
            Err(other) => ("error", other.to_string()),
        };
        if (got.0, got.1.as_str()) != (e.expected.as_str(), e.code.as_str()) {
            failures.push(format!(
                "line {}: {:?} expected {} {} got {} {}",
                e.line, e.raw, e.expected, e.code, got.0, got.1
            ));
        }
    }
    assert!(entries.len() >= 100, "the corpus has {} names", entries.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[tokio::test]
async fn duplicates_in_one_transfer_are_refused_whatever_the_case() -> crate::bed::TestResult {
    let bed = crate::bed::Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "dups").await?;
    bed.put(&jan, &draft.id, "Rapport.pdf", &crate::bed::pdf("one")).await?;
    for name in ["Rapport.pdf", "rapport.PDF", "RAPPORT.pdf"] {
        let again = bed.put(&jan, &draft.id, name, &crate::bed::pdf("two")).await;
        assert!(matches!(again, Err(gateway::Error::Name(ref r)) if r.code() == "duplicate-name"), "{name}: {again:?}");
    }
    let other = bed.gw.create_draft(&jan, "other").await?;
    bed.put(&jan, &other.id, "rapport.pdf", &crate::bed::pdf("fine in another message")).await?;
    Ok(())
}
