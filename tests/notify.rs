//! Mail and SMS end to end, with the real binary: `koerier send` on the
//! embedded default leaves the mail and the SMS as files; with
//! `KOERIER_SMTP_URL` the same mail arrives at a real SMTP server, once; and a
//! `kill -9` between the commit of the send and the delivery loses nothing and
//! doubles nothing once `koerier serve` runs.

mod peers;
mod ports;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use peers::{SmtpPeer, free_port, part, wait_until};

type TestResult = Result<(), peers::Error>;

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_koerier"));
    c.args(args)
        .current_dir(dir)
        .env_remove("KOERIER_DATABASE_URL")
        .env_remove("KOERIER_DATA_DIR")
        .env_remove("KOERIER_SMTP_URL")
        .env_remove("KOERIER_SMS_URL")
        // The listeners on any free port (tests run side by side); the links
        // in mail stay as on the embedded default.
        .env("KOERIER_HTTPS_LISTEN", "127.0.0.1:0")
        .env("KOERIER_SFTP_LISTEN", "127.0.0.1:0")
        .env("KOERIER_PUBLIC_URL", "https://127.0.0.1:8443")
        .env("KOERIER_LOG", "warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn ok(out: &Output) -> Result<String, peers::Error> {
    if !out.status.success() {
        return Err(format!(
            "failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// An affiliated domain, a staff account, a document.
fn set_up(dir: &Path) -> TestResult {
    ok(&command(dir, &["domain", "add", "minvws.nl"], &[]).output()?)?;
    ok(&command(dir, &["account", "create", "--email", "jan@minvws.nl", "--name", "Jan Jansen"], &[]).output()?)?;
    std::fs::write(dir.join("report.pdf"), b"%PDF-1.4\n%%EOF\n")?;
    std::fs::write(dir.join("note.txt"), "THE ACCOMPANYING TEXT")?;
    Ok(())
}

const SEND: &[&str] = &[
    "send",
    "--from",
    "jan@minvws.nl",
    "--to",
    "Piet <piet@example.org>",
    "--phone",
    "06 12345678",
    "--language",
    "en",
    "--text-file",
    "note.txt",
    "report.pdf",
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    out.sort();
    out
}

/// Run `koerier serve` for a while and stop it with SIGTERM.
fn serve_for(dir: &Path, env: &[(&str, &str)], how_long: Duration) -> TestResult {
    let child = command(dir, &["serve"], env).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    std::thread::sleep(how_long);
    stop(child)
}

fn stop(child: Child) -> TestResult {
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
    assert!(killed.success());
    let out = child.wait_with_output()?;
    assert!(out.status.success(), "a clean stop: {}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

#[test]
fn on_the_embedded_default_send_leaves_the_mail_and_the_sms_as_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    set_up(d)?;
    ok(&command(d, SEND, &[]).output()?)?;
    let mails = files(&d.join("data/mail"));
    let sms = files(&d.join("data/sms"));
    assert_eq!((mails.len(), sms.len()), (2, 1), "the notice and the confirmation; the code: {mails:?} {sms:?}");
    let texts: Vec<String> = mails.iter().map(std::fs::read_to_string).collect::<Result<_, _>>()?;
    let notices: Vec<&String> = texts.iter().filter(|t| t.contains("https://127.0.0.1:8443/l/")).collect();
    assert_eq!(notices.len(), 1, "one mail holds the link");
    let notice = notices[0];
    assert!(notice.contains("+31 ••••••••78"), "the masked number, readable in the .eml:\n{notice}");
    assert!(notice.contains("To: piet@example.org") && notice.contains("multipart/alternative"));
    assert!(texts.iter().all(|t| !t.contains("ACCOMPANYING")), "never the accompanying text");
    let text = std::fs::read_to_string(&sms[0])?;
    let (head, code) = text.split_once("\n\n").ok_or("a blank line after To:")?;
    assert_eq!(head, "To: +31612345678");
    assert_eq!(code.chars().filter(char::is_ascii_digit).count(), 6, "the code: {code}");
    for path in mails.iter().chain(&sms) {
        let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        assert!(id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric()), "named by the outbox id: {id}");
    }
    let id = mails.iter().find(|p| std::fs::read_to_string(p).is_ok_and(|t| t == *notice)).and_then(|p| p.file_stem());
    let id = id.and_then(|s| s.to_str()).unwrap_or_default();
    assert!(notice.contains(&format!("Message-ID: <{id}@127.0.0.1>")), "{notice}");

    serve_for(d, &[("KOERIER_OUTBOX_INTERVAL", "1s")], Duration::from_secs(3))?;
    assert_eq!((files(&d.join("data/mail")).len(), files(&d.join("data/sms")).len()), (2, 1), "nothing twice");
    Ok(())
}

#[test]
fn with_an_smtp_server_the_same_mail_arrives_there_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    set_up(d)?;
    let server = SmtpPeer::start(&d.join("smtp-server"), free_port()?)?;
    let url = server.url();
    let env = [("KOERIER_SMTP_URL", url.as_str()), ("KOERIER_OUTBOX_INTERVAL", "1s")];
    ok(&command(d, SEND, &env).output()?)?;
    let mails = server.messages()?;
    assert_eq!(mails.len(), 2, "delivered by send itself");
    let notice = mails.iter().find(|m| m["rcpt_tos"][0] == "piet@example.org").ok_or("no notice")?;
    let text = part(notice, "text/plain").unwrap_or_default();
    assert!(text.contains("https://127.0.0.1:8443/l/") && text.contains("+31 ••••••••78"), "{text}");
    assert!(part(notice, "text/html").is_some_and(|h| h.contains("+31 ••••••••78")));
    assert!(files(&d.join("data/mail")).is_empty(), "not to files as well");
    serve_for(d, &env, Duration::from_secs(3))?;
    assert_eq!(server.count(), 2, "once");
    Ok(())
}

#[test]
fn kill_9_between_the_send_and_the_delivery_then_serve_delivers_each_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    set_up(d)?;
    // An SMTP server that takes the connection and never says a word: the
    // send is committed and its delivery is under way when the kill comes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    let silent_url = format!("smtp://127.0.0.1:{}", silent.local_addr()?.port());
    let mut send =
        command(d, SEND, &[("KOERIER_SMTP_URL", &silent_url)]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let stdout = send.stdout.take().ok_or("no stdout")?;
    let sent_line = BufReader::new(stdout).lines().map_while(Result::ok).find(|l| l.starts_with("sent "));
    assert!(sent_line.is_some(), "the send was committed");
    std::thread::sleep(Duration::from_secs(1));
    send.kill()?;
    let status = send.wait()?;
    assert!(!status.success(), "killed, not finished: {status:?}");

    let server = SmtpPeer::start(&d.join("smtp-server"), free_port()?)?;
    assert_eq!(server.count(), 0);
    let url = server.url();
    let env = [("KOERIER_SMTP_URL", url.as_str()), ("KOERIER_OUTBOX_INTERVAL", "1s")];
    let serve = command(d, &["serve"], &env).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    // The killed process's outbox lease lapses first (45 s).
    let arrived = wait_until(Duration::from_secs(90), || server.count() >= 2);
    std::thread::sleep(Duration::from_secs(3));
    stop(serve)?;
    assert!(arrived, "delivered after the restart");
    let mails = server.messages()?;
    let mut ids: Vec<&str> = mails.iter().filter_map(|m| m["message_id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((mails.len(), ids.len()), (2, 2), "each once: {ids:?}");
    assert_eq!(files(&d.join("data/sms")).len(), 1, "the SMS once");
    serve_for(d, &env, Duration::from_secs(3))?;
    assert_eq!(server.count(), 2, "and not again");
    drop(silent);
    Ok(())
}
