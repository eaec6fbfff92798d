//! End-to-end tests of the binary: the operator's commands of SPEC section 9
//! run as an operator runs them, in an empty folder, on the embedded default.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod binary;

use binary::{TestResult, koerier, mail, ok};

#[test]
fn help_lists_the_commands_of_the_contract() -> TestResult {
    let dir = tempfile::tempdir()?;
    let help = ok(&koerier(dir.path(), &["--help"])?);
    for command in ["serve", "migrate", "config", "domain", "account", "purge", "send"] {
        assert!(help.contains(command), "{command} missing from --help:\n{help}");
    }
    let account = ok(&koerier(dir.path(), &["account", "--help"])?);
    for sub in ["create", "list", "disable", "add-key"] {
        assert!(account.contains(sub), "account {sub} missing:\n{account}");
    }
    Ok(())
}

#[test]
fn serve_in_an_empty_folder_creates_data_and_stops_cleanly_on_sigterm() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_koerier"))
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("KOERIER_DATABASE_URL")
        .env_remove("KOERIER_DATA_DIR")
        // Any free port: tests run side by side.
        .env("KOERIER_HTTPS_LISTEN", "127.0.0.1:0")
        .env("KOERIER_SFTP_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.path().join("data/koerier.db").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait()?.is_none(), "serve stays up");
    assert!(dir.path().join("data/keys/master.key").exists());
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
    assert!(killed.success());
    let out = child.wait_with_output()?;
    assert!(out.status.success(), "a clean stop: {:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
    // The stopped server let go of the lifecycle lease, and so does each
    // purge: the jobs run again at once, not two minutes later.
    for _ in 0..2 {
        assert!(ok(&koerier(dir.path(), &["purge"])?).contains("aborted"));
    }
    Ok(())
}

#[test]
fn an_operator_sets_up_and_sends_from_the_command_line() -> TestResult {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    ok(&koerier(d, &["domain", "add", "minvws.nl"])?);
    assert!(ok(&koerier(d, &["domain", "list"])?).contains("minvws.nl"));
    let created = ok(&koerier(d, &["account", "create", "--email", "jan@minvws.nl", "--name", "Jan Jansen"])?);
    let password = created.lines().find_map(|l| l.strip_prefix("password: ")).ok_or("no password printed")?;
    assert!(password.len() >= 20);
    let outsider = koerier(d, &["account", "create", "--email", "eve@example.org", "--name", "Eve"])?;
    assert!(!outsider.status.success());
    assert!(String::from_utf8_lossy(&outsider.stderr).contains("affiliated"));

    std::fs::write(d.join("report.pdf"), b"%PDF-1.4\n%%EOF\n")?;
    std::fs::write(d.join("evil.exe"), b"MZ")?;
    let sent = ok(&koerier(
        d,
        &["send", "--from", "jan@minvws.nl", "--to", "Piet <piet@example.org>", "--phone", "0612345678", "report.pdf"],
    )?);
    assert!(sent.contains("report.pdf") && sent.contains("+31 ••••••••78"), "{sent}");

    let refused = koerier(
        d,
        &["send", "--from", "jan@minvws.nl", "--to", "piet@example.org", "--phone", "0612345678", "evil.exe"],
    )?;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("zip"), "{}", String::from_utf8_lossy(&refused.stderr));
    let no_phone = koerier(d, &["send", "--from", "jan@minvws.nl", "--to", "piet@example.org", "report.pdf"])?;
    assert!(String::from_utf8_lossy(&no_phone.stderr).contains("mobile number"));

    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfWXcNN5sSgezFkRHV7ksMZT56/q77jLE5vACLXu4UU jan@example\n";
    std::fs::write(d.join("jan.pub"), key)?;
    let added = ok(&koerier(d, &["account", "add-key", "--email", "jan@minvws.nl", "jan.pub"])?);
    assert!(added.contains("SHA256:150KoWI9b3Cq7b0B6f3SK/FhQriQosQ4QsE3UvNapAI"), "{added}");
    ok(&koerier(d, &["account", "disable", "jan@minvws.nl"])?);
    assert!(ok(&koerier(d, &["account", "list"])?).contains("disabled"));
    let disabled = koerier(d, &["send", "--from", "jan@minvws.nl", "--to", "kees@minvws.nl", "report.pdf"])?;
    assert!(!disabled.status.success());
    assert!(ok(&koerier(d, &["purge"])?).contains("aborted"));
    assert!(ok(&koerier(d, &["config", "check"])?).contains("configuration is valid"));
    ok(&koerier(d, &["migrate"])?);
    Ok(())
}

#[test]
fn an_operator_requests_documents_and_only_the_mail_carries_the_secret() -> TestResult {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    assert!(ok(&koerier(d, &["--help"])?).contains("request"), "request is in --help");
    ok(&koerier(d, &["domain", "add", "minvws.nl"])?);
    ok(&koerier(d, &["account", "create", "--email", "jan@minvws.nl", "--name", "Jan Jansen"])?);
    std::fs::write(d.join("ask.txt"), "Please send the signed contract.\n")?;

    let said = ok(&koerier(
        d,
        &[
            "request",
            "--from",
            "jan@minvws.nl",
            "--to",
            "Piet Pieters <piet@example.org>",
            "--language",
            "en",
            "--text-file",
            "ask.txt",
        ],
    )?);
    let user = said
        .lines()
        .find_map(|l| l.strip_prefix("user name (SFTP, WebDAV): "))
        .ok_or(format!("no user name printed: {said}"))?;
    assert!(user.starts_with("request-") && user.len() > 20, "{said}");
    assert!(said.lines().any(|l| l.starts_with("valid until 20")), "the expiry: {said}");

    // The core wrote the mail: to the requested person, in English, with the
    // text, the user name and the link whose secret is the password.
    let mails = mail::mails(&d.join("data/mail"))?;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(mail::header(m, "To"), Some("piet@example.org"));
    assert_eq!(mail::header(m, "Subject"), Some("Jan Jansen asks you to send files"));
    assert!(m.contains("Please send the signed contract.") && m.contains(&format!("user name {user}")), "{m}");
    let secret = mail::secret_after(m, "/r/").ok_or("no request link in the mail")?;
    assert!(secret.len() >= 40, "{secret}");
    assert!(!said.contains(&secret), "the secret is never printed: {said}");

    // Refusals: an unknown sender, and a colleague (the core's rule).
    let unknown = koerier(d, &["request", "--from", "nobody@minvws.nl", "--to", "piet@example.org"])?;
    assert!(!unknown.status.success());
    let why = String::from_utf8_lossy(&unknown.stderr);
    assert!(why.contains("there is no account nobody@minvws.nl"), "{why}");
    let inside = koerier(d, &["request", "--from", "jan@minvws.nl", "--to", "Kees <kees@minvws.nl>"])?;
    assert!(!inside.status.success());
    let why = String::from_utf8_lossy(&inside.stderr);
    assert!(why.contains("outside the organisation"), "{why}");
    let sub = koerier(d, &["request", "--from", "jan@minvws.nl", "--to", "kees@zorg.minvws.nl"])?;
    assert!(!sub.status.success(), "a subdomain is inside too");
    assert_eq!(mail::listing(&d.join("data/mail")).len(), 1, "a refused request sends nothing");
    Ok(())
}
