//! Real clients, unmodified: rclone (webdav backend; Debian's and the current
//! release, with their default settings) and cadaver compose a draft, have a
//! refused name explained, send by MOVE and download from the recipient's inbox.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::rclone::{self, Rclone, Release, Remote};
use crate::server::{self, JAN, KEES, PASSWORD, Server, TestResult, pdf};

/// Debian's rclone as `user` on the door's `/dav`.
fn rclone(s: &Server, user: &str, args: &[&str]) -> Result<std::process::Output, server::Error> {
    Rclone::new(Release::Debian, Remote::webdav(&s.url("/dav"), user, PASSWORD))?.run(args)
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `rclone copy` of a folder into a draft with rclone's defaults (it checks
/// each file's size after the PUT and deletes one that differs), read back,
/// `rclone moveto` into /sent: the recipient gets the mail and the SMS.
fn rclone_round_trip(release: Release) -> TestResult {
    server::need("rclone")?;
    let s = Server::start(&[])?;
    let rclone = Rclone::new(release, Remote::webdav(&s.url("/dav"), JAN, PASSWORD))?;
    let work = tempfile::tempdir()?;
    rclone::copy_check_and_send(&rclone, work.path(), "dossier")?;
    assert!(rclone::recipient_told(&s.data()), "piet gets the mail and the SMS code");
    Ok(())
}

#[test]
fn debian_rclone_copies_a_folder_into_a_draft_over_webdav_and_sends_it() -> TestResult {
    rclone_round_trip(Release::Debian)
}

#[test]
fn current_rclone_copies_a_folder_into_a_draft_over_webdav_and_sends_it() -> TestResult {
    rclone_round_trip(Release::Current)
}

#[test]
fn rclone_uploads_sends_and_downloads() -> TestResult {
    server::need("rclone")?;
    let s = Server::start(&[])?;
    let d = s.dir.path();
    std::fs::write(d.join("doc.pdf"), pdf("over rclone"))?;
    std::fs::write(d.join("message.txt"), format!("To: Kees <{KEES}>\nSubject: rclone\n\ntekst\n"))?;
    std::fs::write(d.join("evil.exe"), b"MZ")?;
    let local = |name: &str| d.join(name).to_string_lossy().into_owned();

    ok(&rclone(&s, JAN, &["mkdir", "k:outbox/r"])?);
    ok(&rclone(&s, JAN, &["copyto", &local("doc.pdf"), "k:outbox/r/doc.pdf"])?);
    // message.txt comes back rendered (it may differ in size from what was written).
    ok(&rclone(
        &s,
        JAN,
        &[
            "copyto",
            "--ignore-times",
            "--ignore-size",
            "--ignore-checksum",
            &local("message.txt"),
            "k:outbox/r/message.txt",
        ],
    )?);
    let refused = rclone(&s, JAN, &["copyto", &local("evil.exe"), "k:outbox/r/evil.exe"])?;
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("403") || said.contains("zip"), "{said}");
    let listed = ok(&rclone(&s, JAN, &["lsf", "k:outbox/r"])?);
    assert!(listed.contains("doc.pdf") && listed.contains("message.txt") && !listed.contains("evil"), "{listed}");

    // Send: move the folder into sent.
    ok(&rclone(&s, JAN, &["moveto", "k:outbox/r", "k:sent/r"])?);
    let sent = ok(&rclone(&s, JAN, &["lsf", "k:sent/r"])?);
    assert!(sent.contains("doc.pdf") && sent.contains("report.pdf"), "{sent}");
    assert!(ok(&rclone(&s, JAN, &["lsf", "k:outbox"])?).trim().is_empty());

    ok(&rclone(&s, KEES, &["copyto", "k:inbox/r/doc.pdf", &local("back.pdf")])?);
    assert_eq!(std::fs::read(d.join("back.pdf"))?, pdf("over rclone"));
    Ok(())
}

#[test]
fn cadaver_uploads_sends_and_downloads() -> TestResult {
    server::need("cadaver")?;
    let s = Server::start(&[])?;
    let d = s.dir.path();
    // netrc has no quoting for the spaces of the account password: an app password.
    let made = s.cli(&["account", "app-password", "--email", JAN, "--label", "cadaver"])?;
    let secret = made.lines().find_map(|l| l.split(": ").nth(1)).ok_or("no app password printed")?;
    std::fs::write(d.join(".netrc"), format!("machine 127.0.0.1 login {JAN} password {secret}\n"))?;
    std::fs::write(d.join("doc.pdf"), pdf("over cadaver"))?;
    std::fs::write(d.join("message.txt"), format!("To: Kees <{KEES}>\nSubject: cadaver\n\ntekst\n"))?;
    std::fs::write(d.join("evil.exe"), b"MZ")?;
    let script = "y\nmkcol c\nput doc.pdf c/doc.pdf\nput message.txt c/message.txt\nput evil.exe c/evil.exe\n\
                  ls c\nmove /dav/outbox/c/ /dav/sent/c/\nls /dav/sent/c/\nquit\n";
    // cadaver asks about the self-signed certificate on a terminal: give it one.
    server::need("script")?;
    let mut child = Command::new("script")
        .args(["-q", "-c", &format!("cadaver {}", s.url("/dav/outbox/")), "/dev/null"])
        .current_dir(d)
        .env("HOME", d)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // cadaver shows the status of a refusal, not its body (curl's test reads the body).
    assert!(said.contains("evil.exe") && said.contains("403 Forbidden"), "evil.exe refused:\n{said}");
    assert!(said.contains("report.pdf"), "sent, with its report:\n{said}");
    let (status, body) = s.curl(KEES, "GET", "/dav/inbox/c/doc.pdf", &[])?;
    assert_eq!((status, body), (200, pdf("over cadaver")), "{said}");
    Ok(())
}
