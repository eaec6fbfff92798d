//! End-to-end tests of `koerier report` with the real binary: a message's
//! report and proof, the published key, `verify` accepting the proof and
//! refusing a changed copy, and the overview export.

use std::path::Path;
use std::process::Command;

mod binary;

use binary::{TestResult, koerier, ok};

fn pdf_text(file: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let out = Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(file).arg("-").output()?;
    assert!(out.status.success(), "pdftotext reads {}", file.display());
    Ok(String::from_utf8(out.stdout)?)
}

#[test]
fn a_report_and_its_proof_are_verified_offline_and_a_changed_copy_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    ok(&koerier(d, &["domain", "add", "minvws.nl"])?);
    ok(&koerier(d, &["account", "create", "--email", "jan@minvws.nl", "--name", "Jan Jansen"])?);
    std::fs::write(d.join("contract.pdf"), b"%PDF-1.4\n% the contract\n%%EOF\n")?;
    let to = ["--to", "Piet <piet@example.org>", "--phone", "0612345678", "--subject", "Dossier 12"];
    let sent = ok(&koerier(d, &[&["send", "--from", "jan@minvws.nl"][..], &to, &["contract.pdf"]].concat())?);
    let name = sent.lines().find_map(|l| l.strip_prefix("sent ")?.split(';').next()).ok_or("no name")?.to_owned();
    let sha = sent.lines().find_map(|l| l.split("sha256 ").nth(1)).ok_or("no checksum printed")?.trim().to_owned();

    let message = ["report", "message", "--account", "jan@minvws.nl", &name];
    ok(&koerier(d, &[&message[..], &["--language", "en", "--output", "report.pdf"]].concat())?);
    let text = pdf_text(&d.join("report.pdf"))?;
    for expected in ["Delivery report", "Piet <piet@example.org>", "Dossier 12", "contract.pdf", &sha, "Printed"] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    ok(&koerier(d, &[&message[..], &["--proof", "--output", "report.proof.json"]].concat())?);

    let key = ok(&koerier(d, &["report", "key"])?);
    let fingerprint = key.lines().find_map(|l| l.strip_prefix("fingerprint")).ok_or("no fingerprint")?.trim();
    assert!(fingerprint.starts_with("SHA256:"), "{key}");
    assert!(d.join("data/keys/report-signing.key").exists());

    let verified = ok(&koerier(d, &["report", "verify", "report.proof.json", "--fingerprint", fingerprint])?);
    assert!(verified.contains("the proof is valid") && verified.contains(fingerprint), "{verified}");
    assert!(verified.contains(&sha) && verified.contains("piet@example.org"), "it says what it proves: {verified}");
    ok(&koerier(d, &["report", "verify", "report.pdf", "--fingerprint", fingerprint])?);

    let proof = std::fs::read_to_string(d.join("report.proof.json"))?;
    let other_digit = if sha.starts_with('0') { "1" } else { "0" };
    let forged = proof.replacen(&sha, &format!("{other_digit}{}", &sha[1..]), 1);
    assert_ne!(forged, proof);
    std::fs::write(d.join("forged.json"), forged)?;
    let refused = koerier(d, &["report", "verify", "forged.json"])?;
    assert!(!refused.status.success(), "a changed checksum is refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NOT valid"));
    let mut bytes = proof.into_bytes();
    bytes[40] ^= 0x20;
    std::fs::write(d.join("flipped.json"), bytes)?;
    assert!(!koerier(d, &["report", "verify", "flipped.json"])?.status.success(), "a changed byte is refused");
    let other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(!koerier(d, &["report", "verify", "report.proof.json", "--fingerprint", other])?.status.success());
    Ok(())
}

#[test]
fn an_overview_is_exported_for_a_period() -> TestResult {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    ok(&koerier(d, &["domain", "add", "minvws.nl"])?);
    ok(&koerier(d, &["account", "create", "--email", "jan@minvws.nl", "--name", "Jan Jansen"])?);
    std::fs::write(d.join("a.pdf"), b"%PDF-1.4\n%%EOF\n")?;
    let sent = ok(&koerier(d, &["send", "--from", "jan@minvws.nl", "--to", "kees@minvws.nl", "a.pdf"])?);
    let name = sent.lines().find_map(|l| l.strip_prefix("sent ")?.split(';').next()).ok_or("no name")?.to_owned();

    let export = ["report", "export", "--account", "jan@minvws.nl", "--language", "en"];
    ok(&koerier(d, &[&export[..], &["--from", "2020-01-01", "--to", "2099-12-31", "-o", "all.pdf"]].concat())?);
    let text = pdf_text(&d.join("all.pdf"))?;
    for expected in ["Overview of messages", "jan@minvws.nl", "kees@minvws.nl", "2020-01-01 00:00:00 UTC"] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    let joined: String = text.split_whitespace().collect();
    assert!(joined.contains(&name), "{name} (broken over lines in its column) missing from\n{text}");
    let verified = ok(&koerier(d, &["report", "verify", "all.pdf"])?);
    assert!(verified.contains("the proof is valid") && verified.contains(&name), "{verified}");

    ok(&koerier(d, &[&export[..], &["--from", "2020-01-01", "--to", "2020-12-31", "-o", "none.pdf"]].concat())?);
    let text = pdf_text(&d.join("none.pdf"))?;
    assert!(text.contains("No messages in this period") && !text.contains(&name), "{text}");
    let bad = koerier(d, &[&export[..], &["--from", "23-11-2026"]].concat())?;
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("not a date"));
    let unknown = koerier(d, &["report", "export", "--account", "nobody@minvws.nl"])?;
    assert!(!unknown.status.success());
    Ok(())
}
