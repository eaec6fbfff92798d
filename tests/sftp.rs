//! The SFTP door end to end with real clients: OpenSSH `sftp` and `scp`,
//! rclone, lftp and paramiko against `koerier serve`. See `sftp/mod.rs`; how
//! clients upload by default (rclone's `.partial`, WinSCP's `.filepart`) is in
//! `sftp/clients.rs`.

#[path = "sftp/clients.rs"]
mod clients;
#[path = "sftp/mod.rs"]
mod door;
#[path = "binary/mail.rs"]
mod mail;
mod ports;
mod rclone;

use std::process::Command;
use std::time::Duration;

use door::{Koerier, TestResult, need, pdf, text, wait_until};
use rclone::{Rclone, Release, Remote};
use serde_json::json;

const MESSAGE: &str = "To: Piet Pieters <piet@example.org>\nPhone: 06 12345678\nSubject: Dossier 12\n\
                       Reference: K-12\nLanguage: en\n\nHere are the documents.\n";

#[test]
fn openssh_sftp_composes_edits_sends_and_hears_why_not() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    std::fs::write(w.join("a.pdf"), pdf("first"))?;
    std::fs::write(w.join("b.pdf"), pdf("second"))?;
    std::fs::write(w.join("evil.exe"), b"MZ\x90\x00")?;

    let out = k.sftp_batch(
        &jan,
        w,
        "mkdir outbox/x\nput a.pdf outbox/x/\nput b.pdf outbox/x/\nget outbox/x/message.txt msg.txt\nls outbox\n",
    )?;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("outbox/x"), "{}", text(&out));
    let envelope = std::fs::read_to_string(w.join("msg.txt"))?;
    assert!(envelope.starts_with("To: \nPhone: \n"), "a fresh draft's envelope: {envelope:?}");

    std::fs::write(w.join("msg.txt"), MESSAGE)?;
    let out = k.sftp_batch(
        &jan,
        w,
        "put msg.txt outbox/x/message.txt\nget outbox/x/message.txt back.txt\nls -l outbox/x\nrename outbox/x sent/x\nls sent\nls -l sent/x\n",
    )?;
    let listing = text(&out);
    assert!(out.status.success(), "{listing}");
    let back = std::fs::read_to_string(w.join("back.txt"))?;
    assert!(back.contains("To: Piet Pieters <piet@example.org>") && back.contains("Here are the documents."), "{back}");
    for name in ["a.pdf", "b.pdf", "message.txt", "sent/x", "report.pdf"] {
        assert!(listing.contains(name), "{name} missing from:\n{listing}");
    }
    assert!(
        wait_until(Duration::from_secs(30), || !k.files("mail").is_empty() && !k.files("sms").is_empty()),
        "a mail and an SMS are delivered"
    );
    let mails: Vec<String> = k.files("mail").iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    assert!(mails.iter().any(|m| m.contains("piet@example.org")), "a mail to piet: {mails:?}");
    let sms: Vec<String> = k.files("sms").iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    assert!(sms.iter().any(|s| s.contains("+31612345678") || s.contains("612345678")), "an SMS to the number: {sms:?}");

    // A refused name: the message names the rule.
    let out = k.sftp_batch(&jan, w, "mkdir outbox/y\n-put evil.exe outbox/y/\nls outbox/y\n")?;
    let said = text(&out);
    assert!(said.contains("files of type .exe are not allowed") && said.contains("zip"), "{said}");
    assert!(!said.contains("evil.exe\n") || said.contains("not allowed"), "{said}");

    // No recipient: the move fails, the draft stays, message.txt says why.
    let out = k.sftp_batch(
        &jan,
        w,
        "mkdir outbox/z\nput a.pdf outbox/z/\n-rename outbox/z sent/z\nget outbox/z/message.txt z.txt\nls outbox\n",
    )?;
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("outbox/z"), "the draft stays in the outbox: {said}");
    let z = std::fs::read_to_string(w.join("z.txt"))?;
    assert!(z.starts_with("# NOT SENT: ") && z.contains("no recipient"), "{z}");
    let out = k.sftp_batch(&jan, w, "ls sent\n")?;
    assert!(!text(&out).contains("sent/z"), "{}", text(&out));
    k.stop()
}

#[test]
fn the_inbox_downloads_and_both_parties_read_the_report_over_sftp() -> TestResult {
    need("pdftotext")?;
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let marie = k.user("marie@minvws.nl", "Marie Maas", "staff")?;
    let doc = pdf("for jan from the command line");
    std::fs::write(k.path().join("c.pdf"), &doc)?;
    // Sent through another door (the command line), read over SFTP.
    k.ok(&["send", "--from", "marie@minvws.nl", "--to", "jan@minvws.nl", "--subject", "Notes", "c.pdf"], None)?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let out = k.sftp_batch(&jan, w, "ls inbox\nget inbox/*/c.pdf got.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(w.join("got.pdf"))?, doc, "the document arrives intact");

    // The colleague who received it files its report too (as the portals'
    // reports of received files); the sender's report names the download.
    let out = k.sftp_batch(&jan, w, "ls inbox/*\n")?;
    assert!(text(&out).contains("report.pdf"), "{}", text(&out));
    let out = k.sftp_batch(&marie, w, "get sent/*/report.pdf report.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    let pdftext = Command::new("pdftotext").arg(w.join("report.pdf")).arg("-").output()?;
    let report = String::from_utf8_lossy(&pdftext.stdout).to_string();
    let sha = sha256_hex(&doc)?;
    assert!(report.contains("jan@minvws.nl"), "the recipient: {report}");
    assert!(report.replace(['\n', ' '], "").contains(&sha), "the SHA-256 {sha}: {report}");
    assert!(report.contains("SFTP"), "the download through the SFTP door: {report}");
    // Its signed proof checks out offline (tests/reports.rs changes a copy).
    let fetched = w.join("report.pdf");
    let verified = k.ok(&["report", "verify", &fetched.to_string_lossy()], None)?;
    assert!(verified.contains("the proof is valid") && verified.contains(&sha), "{verified}");
    k.stop()
}

fn sha256_hex(data: &[u8]) -> Result<String, door::Error> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("f"), data)?;
    let out = Command::new("sha256sum").arg(dir.path().join("f")).output()?;
    Ok(String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned())
}

#[test]
fn scp_rclone_and_lftp_work_unmodified_and_reput_resumes() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    std::fs::write(w.join("a.pdf"), pdf("scp"))?;

    // scp (SFTP underneath).
    need("scp")?;
    let out = k.sftp_batch(&jan, w, "mkdir outbox/s\n")?;
    assert!(out.status.success(), "{}", text(&out));
    let port = k.port.to_string();
    let scp = |args: &[&str]| -> Result<std::process::Output, door::Error> {
        Ok(Command::new("scp").args(k.ssh_options(&jan)).args(["-P", &port]).args(args).current_dir(w).output()?)
    };
    let out = scp(&["a.pdf", "127.0.0.1:/outbox/s/a.pdf"])?;
    assert!(out.status.success(), "scp up: {}", text(&out));
    let out = scp(&["127.0.0.1:/outbox/s/a.pdf", "scp-back.pdf"])?;
    assert!(out.status.success(), "scp down: {}", text(&out));
    assert_eq!(std::fs::read(w.join("scp-back.pdf"))?, pdf("scp"));
    let out = scp(&["a.pdf", "127.0.0.1:/etc/a.pdf"])?;
    assert!(!out.status.success(), "nothing lands outside the tree");

    // rclone's sftp backend, with a password.
    let rclone = Rclone::new(Release::Debian, Remote::sftp(k.port, &jan.email, &jan.password))?;
    let local = |name: &str| w.join(name).to_string_lossy().into_owned();
    std::fs::create_dir(w.join("up"))?;
    std::fs::write(w.join("up/r1.pdf"), pdf("rclone one"))?;
    std::fs::write(w.join("up/r2.txt"), "rclone two")?;
    rclone.ok(&["mkdir", "k:outbox/r"])?;
    rclone.ok(&["copy", &local("up"), "k:outbox/r"])?;
    let listed = String::from_utf8(rclone.ok(&["lsf", "k:outbox/r"])?)?;
    for name in ["r1.pdf", "r2.txt", "message.txt"] {
        assert!(listed.contains(name), "{name} in {listed}");
    }
    assert_eq!(rclone.ok(&["cat", "k:outbox/r/r2.txt"])?, b"rclone two");
    rclone.ok(&["copyto", "k:outbox/r/r1.pdf", &local("r1-back.pdf")])?;
    assert_eq!(std::fs::read(w.join("r1-back.pdf"))?, pdf("rclone one"));

    // lftp over SFTP, with a password.
    need("lftp")?;
    let script = format!(
        "set sftp:connect-program \"ssh -a -x -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no\"; \
         open -u {},{} -p {port} sftp://127.0.0.1; mkdir outbox/l; put a.pdf -o outbox/l/a.pdf; cls -1 outbox/l; bye",
        jan.email,
        jan.password.replace(' ', "\\ ")
    );
    let out = Command::new("lftp").args(["-c", &script]).current_dir(w).output()?;
    let said = text(&out);
    assert!(out.status.success() && said.contains("a.pdf") && said.contains("message.txt"), "lftp: {said}");

    // reput: an upload cut off half-way continues where it stopped.
    let mut big = pdf("big").to_vec();
    big.extend((0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    std::fs::write(w.join("big.pdf"), &big)?;
    let out = k.sftp_batch(&jan, w, "mkdir outbox/big\n")?;
    assert!(out.status.success(), "{}", text(&out));
    let cut = k.paramiko(
        "client.py",
        serde_json::json!({"user": jan.email, "password": jan.password, "action": "cut-upload",
                           "path": "/outbox/big/big.pdf", "file": w.join("big.pdf"), "bytes": 1_500_000}),
    )?;
    assert_eq!(cut["written"], 1_500_000);
    let mut stored = 0;
    let settled = wait_until(Duration::from_secs(10), || {
        let out = k.sftp_batch(&jan, w, "ls -l outbox/big\n").map(|o| text(&o)).unwrap_or_default();
        stored = out
            .lines()
            .find(|l| l.ends_with("big.pdf"))
            .and_then(|l| l.split_whitespace().nth(4))
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        stored > 0
    });
    assert!(settled && stored <= 1_500_000, "the cut upload keeps what was stored: {stored}");
    let out = k.sftp_batch(&jan, w, "reput big.pdf outbox/big/big.pdf\nget outbox/big/big.pdf big-back.pdf\n")?;
    assert!(out.status.success(), "reput: {}", text(&out));
    assert_eq!(std::fs::read(w.join("big-back.pdf"))?, big, "resumed and complete");
    k.stop()
}

/// `kill -9` in the middle of an upload: after the restart the file is
/// listed with the bytes its staging kept (whole chunks, not 0), and
/// OpenSSH's `reput`, which resumes from that size, completes it. In a data
/// folder that is what reached the disk; in an object store, the 8 MiB
/// parts that were sent.
#[test]
fn an_upload_cut_by_kill_9_resumes_where_its_bytes_stop() -> TestResult {
    need("sftp")?;
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan", "staff")?;
    k.start()?;
    let w = k.path().to_owned();
    let on_s3 = std::env::var("KOERIER_TEST_STORE").as_deref() == Ok("s3");
    let (cut_at, kept_at_least) = if on_s3 { (12_000_000, 8 << 20) } else { (6_000_000, 4 << 20) };
    let mut big = pdf("killed").to_vec();
    big.extend((0..cut_at as u32 + 3_000_000).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    std::fs::write(w.join("big.pdf"), &big)?;
    let out = k.sftp_batch(&jan, &w, "mkdir outbox/big\n")?;
    assert!(out.status.success(), "{}", text(&out));
    let pid = k.pid().ok_or("the server runs")?;
    let cut = k.paramiko(
        "client.py",
        serde_json::json!({"user": jan.email, "password": jan.password, "action": "cut-upload",
                           "path": "/outbox/big/big.pdf", "file": w.join("big.pdf"), "bytes": cut_at,
                           "kill": pid}),
    )?;
    assert_eq!(cut["written"], cut_at);
    k.reap()?;
    k.start()?;
    let out = k.sftp_batch(&jan, &w, "ls -l outbox/big\n")?;
    let listed = text(&out);
    let stored: u64 = listed
        .lines()
        .find(|l| l.ends_with("big.pdf"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|s| s.parse().ok())
        .ok_or(format!("big.pdf is listed: {listed}"))?;
    let whole_chunks = (kept_at_least..=cut_at).contains(&stored) && stored.is_multiple_of(65_536);
    assert!(whole_chunks, "kept what was sealed: {stored}");
    let out = k.sftp_batch(&jan, &w, "reput big.pdf outbox/big/big.pdf\nget outbox/big/big.pdf big-back.pdf\n")?;
    assert!(out.status.success(), "reput: {}", text(&out));
    assert_eq!(std::fs::read(w.join("big-back.pdf"))?, big, "resumed and complete");
    k.stop()
}

#[test]
fn a_request_link_signs_in_over_sftp_and_the_answer_goes_to_the_requester() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let said =
        k.ok(&["request", "--from", &jan.email, "--to", "Piet Pieters <piet@example.org>", "--language", "en"], None)?;
    let user = said.lines().find_map(|l| l.strip_prefix("user name (SFTP, WebDAV): ")).ok_or(said.clone())?;
    assert!(
        wait_until(Duration::from_secs(30), || mail::request_mail(&k.path().join("data/mail"), "piet@example.org")
            .is_ok()),
        "the request mail"
    );
    let asked = mail::request_mail(&k.path().join("data/mail"), "piet@example.org")?;
    assert_eq!(asked.user, user, "the mail names the user name the command printed");
    assert_eq!((asked.host.as_str(), asked.port), ("127.0.0.1", k.port), "the mail says where the door is");

    let work = tempfile::tempdir()?;
    let w = work.path();
    let doc = pdf("the answer to jan's request");
    std::fs::write(w.join("answer.pdf"), &doc)?;
    let seen = k.paramiko(
        "client.py",
        json!({"host": asked.host, "port": asked.port, "user": asked.user, "password": asked.secret,
               "action": "request-answer", "file": w.join("answer.pdf"), "name": "answer.pdf"}),
    )?;
    // Only the request's draft and /sent: no inbox, no other message.
    assert_eq!(seen["root"], json!(["outbox", "sent"]), "{seen}");
    assert_eq!(seen["outbox"].as_array().map(Vec::len), Some(1), "one draft: {seen}");
    assert_eq!(seen["sent_before"], json!([]), "{seen}");
    assert_eq!(seen["inbox"], "FileNotFoundError 2", "{seen}");
    let message = seen["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("To: Jan Jansen <jan@minvws.nl>\n"), "addressed to the requester: {message:?}");
    // The document went in, and the move into /sent sent the draft.
    assert_eq!(seen["draft"], json!(["answer.pdf", "message.txt"]), "{seen}");
    assert_eq!(seen["outbox_after"], json!([]), "{seen}");
    assert_eq!(seen["sent"], seen["outbox"], "{seen}");
    let sent_files = seen["sent_files"].as_array().cloned().unwrap_or_default();
    assert!(sent_files.contains(&json!("answer.pdf")), "{seen}");
    // The secret is the password of this user name only.
    assert_eq!(seen["wrong_secret"], "refused", "{seen}");
    assert_eq!(seen["other_user"], "refused", "{seen}");

    // The requester is told by mail and finds the document in the inbox.
    let told = wait_until(Duration::from_secs(30), || {
        mail::mails(&k.path().join("data/mail")).unwrap_or_default().iter().any(|m| {
            mail::header(m, "To") == Some("jan@minvws.nl")
                && mail::header(m, "Subject").is_some_and(|s| s.contains("answered your request"))
        })
    });
    assert!(told, "a mail to jan: {:?}", mail::mails(&k.path().join("data/mail")));
    let out = k.sftp_batch(&jan, w, "get inbox/*/answer.pdf got.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(w.join("got.pdf"))?, doc, "the answer arrives intact");
    k.stop()
}

#[test]
fn paramiko_traversal_partners_disabled_accounts_and_what_is_refused() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let lab = k.user("lab@partner.example", "Lab", "partner")?;
    let canary = k.path().join("canary.txt");
    std::fs::write(&canary, "CANARY-OUTSIDE")?;
    k.start()?;

    // The paths the payloads aim at exist outside, or not; nothing differs.
    let report = k.paramiko(
        "traversal.py",
        serde_json::json!({"user": jan.email, "password": jan.password, "canary": canary,
                           "missing": k.path().join("no-such-canary.txt")}),
    )?;
    assert!(report["requests"].as_u64().unwrap_or(0) >= 1000, "{report}");
    assert_eq!(report["escapes"], serde_json::json!([]), "{report}");
    assert_eq!(report["oracles"], serde_json::json!([]), "{report}");
    assert_eq!(std::fs::read_to_string(&canary)?, "CANARY-OUTSIDE");

    // Partners see their own tree only.
    let seen = k.paramiko(
        "client.py",
        serde_json::json!({"user": jan.email, "password": jan.password, "action": "mkdir", "path": "/outbox/jan-only"}),
    )?;
    assert_eq!(seen["ok"], true, "{seen}");
    let partner = k.paramiko(
        "client.py",
        serde_json::json!({"user": lab.email, "password": lab.password, "action": "probe",
                           "paths": ["/outbox/jan-only", "/outbox/never-was", "/inbox/jan-only"]}),
    )?;
    assert_eq!(partner["listing"], serde_json::json!([]), "{partner}");
    let errors = partner["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 3, "{partner}");
    assert!(errors.iter().all(|e| e == &errors[0]), "the same answer for existing and not: {partner}");

    // SSH: nothing before authentication, nothing but SFTP after.
    let ssh = k.paramiko(
        "client.py",
        serde_json::json!({"user": jan.email, "password": jan.password, "action": "ssh-refusals"}),
    )?;
    // A connection-layer message before authentication ends the connection.
    for preauth in ["preauth_session", "preauth_global"] {
        assert_eq!(ssh[preauth], "disconnected", "{preauth}: {ssh}");
    }
    for refused in ["exec", "shell", "direct_tcpip", "wrong_password", "fourth_try"] {
        assert_eq!(ssh[refused], "refused", "{refused}: {ssh}");
    }
    assert_eq!(ssh["third_try"], "accepted", "three password tries per connection: {ssh}");

    // Disabling an account ends its next request.
    let disabled = k.paramiko(
        "client.py",
        serde_json::json!({"user": jan.email, "password": jan.password, "action": "disable-between",
                           "disable": k.command_json(&["account", "disable", &jan.email])}),
    )?;
    assert_eq!(disabled["before"], true, "{disabled}");
    assert!(disabled["after"].as_str().unwrap_or_default().contains("disabled"), "{disabled}");
    k.stop()
}

/// Each listener has its own cap on open connections: with SFTP held to
/// two, a third SSH connection is closed at once while the HTTPS listener
/// (its own cap) goes on answering; when one closes, SFTP takes one again.
#[test]
fn the_sftp_listener_has_a_cap_of_its_own() -> TestResult {
    use std::io::{Read, Write};
    let mut k = Koerier::new()?;
    k.set("KOERIER_LIMITS__SFTP_CONNECTIONS", "2");
    k.set("KOERIER_LIMITS__CONNECTIONS_PER_ADDRESS", "2");
    k.start()?;
    let banner_of = |stream: &mut std::net::TcpStream| -> Result<String, door::Error> {
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut got = [0u8; 64];
        let n = stream.read(&mut got)?;
        Ok(String::from_utf8_lossy(&got[..n]).into_owned())
    };
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", k.port))?;
        stream.write_all(b"SSH-2.0-held\r\n")?;
        assert!(banner_of(&mut stream)?.starts_with("SSH-2.0-"), "admitted");
        held.push(stream);
    }
    let mut third = std::net::TcpStream::connect(("127.0.0.1", k.port))?;
    let said = banner_of(&mut third).unwrap_or_default();
    assert!(!said.starts_with("SSH-2.0-"), "the third is not served: {said:?}");
    for _ in 0..5 {
        let out =
            Command::new("curl").args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", &k.url("/healthz")]).output()?;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "HTTPS has its own cap");
    }
    drop(held.pop());
    let freed = wait_until(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", k.port))
            .and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(3)))?;
                let mut got = [0u8; 8];
                let n = s.read(&mut got)?;
                Ok(got[..n].starts_with(b"SSH-2.0-"))
            })
            .unwrap_or(false)
    });
    assert!(freed, "a place again once one closed");
    k.stop()
}
