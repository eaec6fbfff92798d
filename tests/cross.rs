//! Across the doors: a message composed through one door, finished and sent
//! through others, and redeemed on the web by its external recipient, with
//! real clients at every step (OpenSSH `sftp`, paramiko, curl as a WebDAV
//! client and as the recipient's browser) against one `koerier serve`. The
//! documents arrive byte for byte, so every door reads and writes the same
//! core. The server and the SFTP clients are `tests/sftp/`'s; the mail, the
//! SMS and the browser are read and played as in `tests/web.rs`. The
//! behaviour both doors must share, scenario by scenario, is `table`.

#[path = "binary/browser.rs"]
mod browser;
#[path = "sftp/mod.rs"]
mod door;
#[path = "binary/mail.rs"]
mod mail;
mod ports;
#[path = "binary/sms.rs"]
mod sms;
#[path = "cross/table.rs"]
mod table;

use std::path::Path;
use std::time::Duration;

use browser::{Browser, sha256};
use door::{Error, Koerier, TestResult, User, need, pdf, text, wait_until};
use serde_json::json;

/// The envelope of the drafts: an external recipient, so a link and a code.
const MESSAGE: &str = "To: Piet Pieters <piet@example.org>\nPhone: 06 12345678\nSubject: Dossier 12\n\
                       Reference: K-12\nLanguage: en\n\nHere are the documents.\n";

/// A PDF of about 3 MB whose bytes do not repeat: many 64 KiB chunks.
fn big_pdf(marker: &str) -> Vec<u8> {
    let mut big = pdf(marker);
    big.extend((0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    big
}

/// The recipient's side: the link from the real mail to Piet, the code from
/// the real SMS to his number, the code posted with the page's CSRF token,
/// then `name` downloaded over HTTPS into `to`.
fn piet_redeems_and_downloads(k: &Koerier, name: &str, to: &Path) -> Result<String, Error> {
    let prefix = k.url("/l/");
    let link_in_mail = || -> Option<String> {
        let mails = mail::mails(&k.path().join("data/mail")).ok()?;
        let notice = mails.iter().find(|m| mail::header(m, "To") == Some("piet@example.org"))?;
        mail::secret_after(notice, &prefix)
    };
    let delivered =
        wait_until(Duration::from_secs(30), || link_in_mail().is_some() && sms::count(&k.path().join("data/sms")) > 0);
    assert!(delivered, "a mail with the link and an SMS for Piet: {:?}", mail::mails(&k.path().join("data/mail")));
    let link = format!("{prefix}{}", link_in_mail().ok_or("no link")?);
    let (code, number) = sms::latest_code(&k.path().join("data/sms"))?;
    assert_eq!(number, "+31612345678", "the code goes to the number in message.txt");

    let piet = Browser::new(k.path(), "piet");
    piet.redeem(&link, &code)?;
    let (status, _, page) = piet.request(&[&link])?;
    let page = String::from_utf8_lossy(&page).into_owned();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Here are the documents.") && page.contains(name), "the download page: {page}");
    let status = piet.download(&link, name, to)?;
    assert_eq!(status, 200, "the download of {name}");
    Ok(page)
}

/// One WebDAV request with curl as `user`: the status and the body.
fn dav(k: &Koerier, user: &User, method: &str, path: &str, args: &[&str]) -> Result<(u16, Vec<u8>), Error> {
    let body = k.path().join("dav-body");
    // curl writes no file for an empty body: never read the last one's.
    if body.exists() {
        std::fs::remove_file(&body)?;
    }
    let credentials = format!("{}:{}", user.email, user.password);
    let body_path = body.to_string_lossy().into_owned();
    let url = k.url(path);
    let mut all = vec!["-u", &credentials, "-X", method, "-o", &body_path, "-w", "%{http_code}"];
    all.extend_from_slice(args);
    all.push(&url);
    let out = browser::curl(&all)?;
    let status = String::from_utf8_lossy(&out.stdout).trim().parse::<u16>().unwrap_or(0);
    Ok((status, std::fs::read(&body).unwrap_or_default()))
}

/// The size `ls -l` shows for `file` in `folder` over OpenSSH `sftp`, if it is listed.
fn sftp_size(k: &Koerier, user: &User, w: &Path, folder: &str, file: &str) -> Result<Option<u64>, Error> {
    let out = k.sftp_batch(user, w, &format!("ls -l {folder}\n"))?;
    if !out.status.success() {
        return Err(format!("ls -l {folder}: {}", text(&out)).into());
    }
    let line =
        text(&out).lines().find(|l| l.starts_with('-') && l.split_whitespace().last() == Some(file)).map(str::to_owned);
    match line {
        None => Ok(None),
        Some(l) => Ok(Some(l.split_whitespace().nth(4).and_then(|s| s.parse().ok()).ok_or(l.clone())?)),
    }
}

#[test]
fn a_draft_made_over_openssh_sftp_is_redeemed_on_the_web_with_the_code() -> TestResult {
    need("sha256sum")?;
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    std::fs::write(w.join("dossier-12.pdf"), big_pdf("over sftp, to the web"))?;
    std::fs::write(w.join("message.txt"), MESSAGE)?;

    let out = k.sftp_batch(
        &jan,
        w,
        "mkdir outbox/x\nput dossier-12.pdf outbox/x/\nput message.txt outbox/x/message.txt\n\
         rename outbox/x sent/x\nls sent/x\n",
    )?;
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("sent/x/dossier-12.pdf"), "sent: {said}");

    let got = w.join("got.pdf");
    let page = piet_redeems_and_downloads(&k, "dossier-12.pdf", &got)?;
    let original = sha256(&w.join("dossier-12.pdf"))?;
    assert_eq!(sha256(&got)?, original, "the document arrives intact");
    assert!(page.contains(&original), "the download page shows the SHA-256 the sender put in");
    k.stop()
}

/// "Begun over WebDAV" is the draft and its envelope, made with MKCOL and
/// PUT: an interrupted WebDAV PUT keeps nothing (each PUT is stored whole or
/// not at all, README), so the document itself is begun over SFTP, cut off,
/// and resumed at its offset with OpenSSH `reput`; WebDAV then sends it.
#[test]
fn a_draft_begun_over_webdav_is_finished_over_sftp_and_sent_by_a_webdav_move() -> TestResult {
    need("sha256sum")?;
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let big = big_pdf("begun, cut off, resumed");
    std::fs::write(w.join("big.pdf"), &big)?;

    // WebDAV: the draft and message.txt.
    assert_eq!(dav(&k, &jan, "MKCOL", "/dav/outbox/x/", &[])?.0, 201);
    let (status, body) = dav(&k, &jan, "PUT", "/dav/outbox/x/message.txt", &["--data-binary", MESSAGE])?;
    assert!(matches!(status, 201 | 204), "{status} {}", String::from_utf8_lossy(&body));
    // A PUT cut off keeps nothing to resume from.
    let (status, _) = dav(
        &k,
        &jan,
        "PUT",
        "/dav/outbox/x/big.pdf",
        &["--data-binary", "%PDF-1.4 cut", "-H", "Content-Length: 100000", "--max-time", "2"],
    )?;
    assert_ne!(status / 100, 2, "a short body is not a document");
    let gone =
        wait_until(Duration::from_secs(10), || matches!(sftp_size(&k, &jan, w, "outbox/x", "big.pdf"), Ok(None)));
    assert!(gone, "the interrupted PUT left {:?}", sftp_size(&k, &jan, w, "outbox/x", "big.pdf"));

    // SFTP: the document begun with paramiko and cut at 1.5 MB...
    let cut = k.paramiko(
        "client.py",
        json!({"user": jan.email, "password": jan.password, "action": "cut-upload",
               "path": "/outbox/x/big.pdf", "file": w.join("big.pdf"), "bytes": 1_500_000}),
    )?;
    assert_eq!(cut["written"], 1_500_000);
    let mut stored = 0;
    let settled = wait_until(Duration::from_secs(10), || {
        stored = sftp_size(&k, &jan, w, "outbox/x", "big.pdf").ok().flatten().unwrap_or(0);
        stored > 0
    });
    assert!(settled && stored <= 1_500_000, "the cut upload keeps what was stored: {stored}");
    // ...and resumed at that offset with OpenSSH.
    let out = k.sftp_batch(&jan, w, "reput big.pdf outbox/x/big.pdf\n")?;
    assert!(out.status.success(), "reput: {}", text(&out));
    let (status, whole) = dav(&k, &jan, "GET", "/dav/outbox/x/big.pdf", &[])?;
    assert_eq!(status, 200);
    assert!(whole == big, "WebDAV reads the resumed document whole ({} of {} bytes)", whole.len(), big.len());

    // WebDAV: MOVE into /sent sends.
    let destination = format!("Destination: {}", k.url("/dav/sent/x/"));
    let (status, body) = dav(&k, &jan, "MOVE", "/dav/outbox/x/", &["-H", &destination])?;
    assert!(matches!(status, 201 | 204), "{status} {}", String::from_utf8_lossy(&body));

    let got = w.join("got.pdf");
    piet_redeems_and_downloads(&k, "big.pdf", &got)?;
    assert_eq!(sha256(&got)?, sha256(&w.join("big.pdf"))?, "the document arrives intact");
    k.stop()
}

/// A sign-in and listing over OpenSSH `sftp`, and a draft made over WebDAV
/// (MKCOL, then its `message.txt` PUT): how long each took.
fn sftp_and_dav(k: &Koerier, jan: &User, w: &Path, draft: &str) -> Result<(Duration, Duration), Error> {
    let started = std::time::Instant::now();
    let out = k.sftp_batch(jan, w, "ls sent/x\n")?;
    assert!(out.status.success() && text(&out).contains("dossier-12.pdf"), "{}", text(&out));
    let sftp = started.elapsed();
    let started = std::time::Instant::now();
    assert_eq!(dav(k, jan, "MKCOL", &format!("/dav/outbox/{draft}/"), &[])?.0, 201);
    let put = dav(k, jan, "PUT", &format!("/dav/outbox/{draft}/message.txt"), &["--data-binary", MESSAGE])?;
    assert_eq!(put.0, 204, "the draft's message.txt replaced");
    Ok((sftp, started.elapsed()))
}

/// Resident memory of a process, in bytes.
fn resident(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or("no VmRSS")?;
    Ok(kib * 1024)
}

/// One address opens 2,000 HTTPS connections that trickle a POST body a
/// byte a second and 500 SSH connections that stall after their version.
/// Meanwhile another address signs in over SFTP, redeems a code and
/// downloads, and PUTs over WebDAV, each within 15 s; every flooding
/// connection the server admitted is closed by its deadline (the body
/// window, 3 s here; the sign-in time, 5 s here); the others are told why or
/// dropped; memory comes back after the burst.
#[test]
fn a_flood_from_one_address_leaves_both_doors_to_everyone_else() -> TestResult {
    need("sha256sum")?;
    let mut k = Koerier::new()?;
    k.set("KOERIER_LIMITS__BODY_WINDOW", "3s");
    k.set("KOERIER_LIMITS__SIGN_IN_TIME", "5s");
    k.set("KOERIER_JOBS_INTERVAL", "1s");
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let pid = k.pid().ok_or("not running")?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    std::fs::write(w.join("dossier-12.pdf"), big_pdf("sent before the flood"))?;
    std::fs::write(w.join("message.txt"), MESSAGE)?;
    let out = k.sftp_batch(
        &jan,
        w,
        "mkdir outbox/x\nput dossier-12.pdf outbox/x/\nput message.txt outbox/x/message.txt\nrename outbox/x sent/x\n",
    )?;
    assert!(out.status.success(), "{}", text(&out));
    let before = resident(pid)?;
    let (sftp_alone, dav_alone) = sftp_and_dav(&k, &jan, w, "before")?;

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sftp/flood.py");
    let mut flood = std::process::Command::new(door::python()?)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let args = json!({"host": "127.0.0.1", "source": "127.0.0.3", "https": 2000, "ssh": 500,
                      "https_port": k.https, "sftp_port": k.port, "give_up_after": 40});
    std::io::Write::write_all(&mut flood.stdin.take().ok_or("stdin")?, args.to_string().as_bytes())?;
    let mut said = std::io::BufReader::new(flood.stdout.take().ok_or("stdout")?);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut said, &mut line)?;
    assert_eq!(line.trim(), "ready", "the flood started");
    let descriptors = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count();
    let during = resident(pid)?;

    let (sftp_took, dav_took) = sftp_and_dav(&k, &jan, w, "during")?;
    let started = std::time::Instant::now();
    let got = w.join("got.pdf");
    piet_redeems_and_downloads(&k, "dossier-12.pdf", &got)?;
    assert_eq!(sha256(&got)?, sha256(&w.join("dossier-12.pdf"))?);
    let web_took = started.elapsed();
    for (door, took) in [("SFTP", sftp_took), ("the web", web_took), ("WebDAV", dav_took)] {
        assert!(took < Duration::from_secs(15), "{door} took {took:?} during the flood");
    }

    line.clear();
    std::io::BufRead::read_line(&mut said, &mut line)?;
    flood.wait()?;
    let outcome: serde_json::Value = serde_json::from_str(&line)?;
    let count = |door: &str, what: &str| {
        outcome[door].as_array().map_or(0, |all| all.iter().filter(|o| o["outcome"] == what).count())
    };
    let longest = |door: &str| {
        outcome[door].as_array().into_iter().flatten().filter_map(|o| o["seconds"].as_f64()).fold(0.0f64, f64::max)
    };
    eprintln!(
        "flood: https cut {} crowded {} dropped {} (longest {:.1} s); ssh cut {} crowded {} dropped {} \
         (longest {:.1} s); {descriptors} descriptors; resident {} MiB before, {} MiB during; \
         sftp {sftp_took:?} ({:.1}x alone), web {web_took:?}, webdav {dav_took:?} ({:.1}x alone)",
        count("https", "cut"),
        count("https", "crowded"),
        count("https", "dropped"),
        longest("https"),
        count("ssh", "cut"),
        count("ssh", "crowded"),
        count("ssh", "dropped"),
        longest("ssh"),
        before >> 20,
        during >> 20,
        sftp_took.as_secs_f64() / sftp_alone.as_secs_f64(),
        dav_took.as_secs_f64() / dav_alone.as_secs_f64(),
    );
    for door in ["https", "ssh"] {
        assert_eq!(count(door, "held"), 0, "{door}: every admitted connection is closed by its deadline");
        assert!(count(door, "cut") > 0, "{door}: some were admitted");
        assert!(count(door, "crowded") > 0, "{door}: the address was told it holds too many");
    }
    assert!(longest("https") < 10.0, "a trickling body is cut after its 3 s window");
    assert!(longest("ssh") < 10.0, "a stalled SSH connection is cut at its 5 s sign-in time");
    let told = outcome["ssh"].as_array().into_iter().flatten().find_map(|o| o["line"].as_str()).unwrap_or_default();
    assert!(told.contains("too many"), "the SSH refusal says why: {told}");
    assert!(descriptors < 1000, "{descriptors} open descriptors during the flood");
    // The jobs give freed memory back every second here.
    std::thread::sleep(Duration::from_secs(3));
    let after = resident(pid)?;
    eprintln!("resident after the flood: {} MiB", after >> 20);
    assert!(after < before + (64 << 20), "memory after the flood: {} MiB, before {} MiB", after >> 20, before >> 20);
    k.stop()
}

/// A small filesystem mounted for one test, unmounted when it ends.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// A tmpfs of `mib` MiB over `dir`, holding what `dir` held.
    fn over(dir: &Path, mib: u32) -> Result<Tmpfs, Error> {
        let keep = dir.with_extension("before-mount");
        std::fs::rename(dir, &keep)?;
        std::fs::create_dir(dir)?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .status();
        if !matches!(mounted, Ok(s) if s.success()) {
            return Err("this test mounts a small tmpfs as the data folder: it needs root (or CAP_SYS_ADMIN)".into());
        }
        let mount = Tmpfs(dir.to_owned());
        let copied = std::process::Command::new("cp").arg("-a").arg(keep.join(".")).arg(dir).status()?;
        if !copied.success() {
            return Err("cannot copy the data folder onto the tmpfs".into());
        }
        Ok(mount)
    }

    fn resize(&self, mib: u32) -> Result<(), Error> {
        let done =
            std::process::Command::new("mount").args(["-o", &format!("remount,size={mib}m")]).arg(&self.0).status()?;
        if done.success() { Ok(()) } else { Err("cannot resize the tmpfs".into()) }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The data folder on a 48 MiB filesystem, 8 MiB of it kept in reserve: a
/// 100 MiB upload meets "no room" over SFTP (paramiko shows the server's
/// words, OpenSSH's `put` fails) and over WebDAV (507, with the reason);
/// meanwhile an SFTP sign-in, a withdrawal, a code redemption and the
/// download of an earlier document work; a folder that cannot take a write
/// at all is not ready (`/readyz` 503) until it can; once there is room the
/// SFTP upload resumes with `reput` from where it stopped, not from 0, and
/// arrives whole; the earlier document is intact.
#[test]
fn a_full_disk_is_an_answer_and_the_rest_of_the_service_goes_on() -> TestResult {
    need("sha256sum")?;
    let mut k = Koerier::new()?;
    // A full data folder: the documents are in it, whatever store the other tests use.
    k.in_data_folder();
    k.set("KOERIER_LIMITS__FREE_SPACE_RESERVE", &(8u64 << 20).to_string());
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let disk = Tmpfs::over(&k.path().join("data"), 48)?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    std::fs::write(w.join("dossier-12.pdf"), big_pdf("sent before the disk filled"))?;
    std::fs::write(w.join("message.txt"), MESSAGE)?;
    let out = k.sftp_batch(
        &jan,
        w,
        "mkdir outbox/x\nput dossier-12.pdf outbox/x/\nput message.txt outbox/x/message.txt\nrename outbox/x sent/x\n\
         mkdir outbox/e\nput dossier-12.pdf outbox/e/\n",
    )?;
    assert!(out.status.success(), "{}", text(&out));
    let mut huge = pdf("one hundred MiB");
    huge.extend((0..100u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    std::fs::write(w.join("huge.pdf"), &huge)?;

    // SFTP: the server's words, and OpenSSH's put fails.
    let out = k.sftp_batch(&jan, w, "mkdir outbox/z\n")?;
    assert!(out.status.success(), "{}", text(&out));
    let said = k.paramiko(
        "client.py",
        json!({"action": "put", "user": jan.email, "password": jan.password,
               "file": w.join("huge.pdf"), "path": "/outbox/z/huge.pdf"}),
    )?;
    assert_eq!(said["ok"], false, "{said}");
    assert!(said["error"].as_str().unwrap_or_default().contains("no room"), "{said}");
    let out = k.sftp_batch(&jan, w, "put huge.pdf outbox/z/huge.pdf\n")?;
    assert!(!out.status.success(), "OpenSSH's put fails: {}", text(&out));
    let staged = sftp_size(&k, &jan, w, "outbox/z", "huge.pdf")?.ok_or("the unfinished upload is listed")?;
    assert!(staged > 0, "what was sealed is kept");

    // WebDAV: 507 with the reason.
    assert_eq!(dav(&k, &jan, "MKCOL", "/dav/outbox/d/", &[])?.0, 201);
    let huge_file = format!("@{}", w.join("huge.pdf").display());
    let (status, body) = dav(&k, &jan, "PUT", "/dav/outbox/d/huge.pdf", &["--data-binary", &huge_file])?;
    assert_eq!(status, 507, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("no room"));

    // The rest goes on: signing in, withdrawing, redeeming and downloading.
    let out = k.sftp_batch(&jan, w, "ls outbox\nrmdir outbox/d\n")?;
    assert!(out.status.success(), "sign-in and withdrawal: {}", text(&out));
    let got = w.join("got.pdf");
    piet_redeems_and_downloads(&k, "dossier-12.pdf", &got)?;
    assert_eq!(sha256(&got)?, sha256(&w.join("dossier-12.pdf"))?);
    let ready = |k: &Koerier| -> Result<u16, Error> {
        let out = browser::curl(&["-o", "/dev/null", "-w", "%{http_code}", &k.url("/readyz")])?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0))
    };
    assert_eq!(ready(&k)?, 200, "below the reserve the folder still takes a write");

    // Filled to the last byte by someone else: not ready, until there is room.
    let filler = k.path().join("data/filler");
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=1M", "count=64", "status=none"])
        .arg(format!("of={}", filler.display()))
        .status()?;
    assert_eq!(ready(&k)?, 503, "a folder that takes no write is not ready");
    std::fs::remove_file(&filler)?;
    assert_eq!(ready(&k)?, 200);

    // Room again: reput resumes where the upload stopped.
    disk.resize(256)?;
    let out = k.sftp_batch(&jan, w, "reput huge.pdf outbox/z/huge.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sftp_size(&k, &jan, w, "outbox/z", "huge.pdf")?, Some(huge.len() as u64));
    let out = k.sftp_batch(&jan, w, "get outbox/z/huge.pdf back.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sha256(&w.join("back.pdf"))?, sha256(&w.join("huge.pdf"))?, "the resumed upload arrives whole");
    let out = k.sftp_batch(&jan, w, "get outbox/e/dossier-12.pdf earlier.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sha256(&w.join("earlier.pdf"))?, sha256(&w.join("dossier-12.pdf"))?, "nothing earlier is damaged");
    k.stop()?;
    drop(disk);
    Ok(())
}

/// The files under `<data>/<sub>/`, one level of shards down for `blobs`.
fn stored_files(k: &Koerier, sub: &str) -> Result<usize, Error> {
    if let Some(objects) = stored_objects(k.path(), sub)? {
        return Ok(objects);
    }
    let root = k.path().join("data").join(sub);
    let Ok(entries) = std::fs::read_dir(&root) else { return Ok(0) };
    Ok(entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => std::fs::read_dir(e.path()).map_or(0, |d| d.count()),
            _ => 1,
        })
        .sum())
}

/// A WebDAV PUT is stored whole or not at all: a document a kill left
/// unfinished or absent is put again, whole.
fn put_again(k: &Koerier, jan: &User, w: &Path, i: usize, name: &str) -> Result<(), Error> {
    let file = w.join(name).to_string_lossy().into_owned();
    let (status, _) = dav(k, jan, "PUT", &format!("/dav/outbox/d{i}/{name}"), &["-T", &file])?;
    assert!(matches!(status, 201 | 204), "point {i}: {status}");
    Ok(())
}

/// `kill -9` at many points of uploads over OpenSSH `sftp` and WebDAV (curl),
/// 1 KiB to 300 MiB (`KOERIER_KILL_POINTS`, 100 by default): after each
/// restart a document is absent, unfinished (listed with what was sealed,
/// not sendable) or whole (byte for byte); an unfinished SFTP upload resumes
/// with `reput` from where it stopped (never 0 once a chunk was sealed) and
/// a WebDAV one is put again; at the end every document reads back whole,
/// and after a purge no staging file is left and every blob belongs to a
/// document.
#[test]
fn kill_9_anywhere_in_an_upload_loses_nothing_and_leaves_nothing() -> TestResult {
    need("sha256sum")?;
    let points: usize = std::env::var("KOERIER_KILL_POINTS").ok().and_then(|p| p.parse().ok()).unwrap_or(100);
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    std::fs::write(w.join("message.txt"), MESSAGE)?;
    // None a whole number of chunks: what a cut upload has sealed is always
    // less than the whole.
    const SIZES: [usize; 5] = [1 << 10, (70 << 10) + 123, (1 << 20) + 123, (5 << 20) + 123, (30 << 20) + 123];
    let size_of = |i: usize| if i % 50 == 49 { (300 << 20) + 123 } else { SIZES[i % SIZES.len()] };
    let mut batch = String::new();
    for i in 0..points {
        let mut doc = pdf(&format!("point {i}"));
        let fill = size_of(i).saturating_sub(doc.len());
        doc.extend((0..fill).map(|b| ((b as u32 ^ i as u32).wrapping_mul(2_654_435_761) >> 24) as u8));
        std::fs::write(w.join(format!("d{i}.pdf")), &doc)?;
        batch.push_str(&format!("mkdir outbox/d{i}\nput message.txt outbox/d{i}/message.txt\n"));
    }
    let out = k.sftp_batch(&jan, w, &batch)?;
    assert!(out.status.success(), "{}", text(&out));

    let (mut resumed_from_sealed, mut whole_at_kill) = (0, 0);
    for i in 0..points {
        let (name, size) = (format!("d{i}.pdf"), size_of(i) as u64);
        let over_webdav = i % 2 == 1;
        // Kill somewhere between the start and a little after the likely end.
        let likely = Duration::from_millis(200 + size / (60 << 10));
        let at = likely.mul_f64(((i * 37) % 100) as f64 / 100.0);
        let mut client = if over_webdav {
            let credentials = format!("{}:{}", jan.email, jan.password);
            std::process::Command::new("curl")
                .args(["-sk", "-o", "/dev/null", "-u", &credentials, "-T"])
                .arg(w.join(&name))
                .arg(k.url(&format!("/dav/outbox/d{i}/{name}")))
                .spawn()?
        } else {
            std::fs::write(w.join("put.txt"), format!("put {name} outbox/d{i}/{name}\n"))?;
            std::process::Command::new("sftp")
                .args(k.ssh_options(&jan))
                .args(["-P", &k.port.to_string(), "-b"])
                .arg(w.join("put.txt"))
                .arg("127.0.0.1")
                .current_dir(w)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()?
        };
        std::thread::sleep(at);
        std::process::Command::new("kill").args(["-KILL", &k.pid().ok_or("not running")?.to_string()]).status()?;
        k.reap()?;
        let _ = client.kill();
        client.wait()?;
        k.start()?;

        let listed = sftp_size(&k, &jan, w, &format!("outbox/d{i}"), &name)?;
        match listed {
            Some(s) if s == size => {
                whole_at_kill += 1;
                let out = k.sftp_batch(&jan, w, &format!("get outbox/d{i}/{name} back.pdf\n"))?;
                assert!(out.status.success(), "point {i}: {}", text(&out));
                assert_eq!(sha256(&w.join("back.pdf"))?, sha256(&w.join(&name))?, "point {i}: listed whole, is whole");
            }
            Some(s) => {
                assert!(s < size, "point {i}: {s} of {size}");
                let out = k.sftp_batch(&jan, w, &format!("rename outbox/d{i} sent/d{i}\n"))?;
                assert!(!out.status.success(), "point {i}: a draft with an unfinished document was sent");
                if over_webdav {
                    put_again(&k, &jan, w, i, &name)?;
                } else {
                    resumed_from_sealed += usize::from(s > 0);
                    let out = k.sftp_batch(&jan, w, &format!("reput {name} outbox/d{i}/{name}\n"))?;
                    assert!(out.status.success(), "point {i}: reput from {s}: {}", text(&out));
                }
            }
            None => put_again(&k, &jan, w, i, &name)?,
        }
        assert_eq!(sftp_size(&k, &jan, w, &format!("outbox/d{i}"), &name)?, Some(size), "point {i}: whole in the end");
    }
    let mut batch = String::new();
    for i in 0..points {
        batch.push_str(&format!("get outbox/d{i}/d{i}.pdf back-{i}.pdf\n"));
    }
    let out = k.sftp_batch(&jan, w, &batch)?;
    assert!(out.status.success(), "{}", text(&out));
    for i in 0..points {
        assert_eq!(sha256(&w.join(format!("back-{i}.pdf")))?, sha256(&w.join(format!("d{i}.pdf")))?, "document {i}");
    }
    k.stop()?;
    let (staging, blobs) = (stored_files(&k, "staging")?, stored_files(&k, "blobs")?);
    k.ok(&["purge"], None)?;
    let expected_blobs = (0..points).filter(|i| size_of(*i) as u64 > gateway::store::INLINE_MAX).count();
    eprintln!(
        "kill -9 at {points} points: {whole_at_kill} whole at the kill, {resumed_from_sealed} SFTP uploads resumed \
         from what was sealed; before the purge {staging} staging files and {blobs} blobs"
    );
    assert_eq!(stored_files(&k, "staging")?, 0, "no staging file left");
    assert_eq!(stored_files(&k, "blobs")?, expected_blobs, "a blob for every document larger than one chunk, no other");
    assert!(
        resumed_from_sealed > 0 || points < 10,
        "some SFTP upload was cut after a sealed chunk and resumed from it"
    );
    Ok(())
}

/// How many objects a test server keeps under `folder` (`blobs`, `staging`)
/// of its prefix in the S3 server, when `KOERIER_TEST_STORE=s3`; `None`
/// when its documents are in its data folder. Listed with boto3 from the
/// peers' Python environment (moto brings it).
fn stored_objects(
    dir: &std::path::Path,
    folder: &str,
) -> Result<Option<usize>, Box<dyn std::error::Error + Send + Sync>> {
    let env = crate::ports::store_env(dir)?;
    let (Some((_, url)), Some((_, endpoint))) = (env.first(), env.get(1)) else { return Ok(None) };
    let prefix = format!("{}/{folder}/", url.trim_start_matches("s3://koerier-test/"));
    let python =
        std::env::var("KOERIER_TEST_PYTHON").map_err(|_| "KOERIER_TEST_PYTHON is not set: run scripts/test")?;
    let script = "import boto3, sys\n\
        s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')\n\
        n = sum(p.get('KeyCount', 0) for p in s3.get_paginator('list_objects_v2').paginate(Bucket='koerier-test', Prefix=sys.argv[2]))\n\
        print(n)\n";
    let out = std::process::Command::new(python).args(["-c", script, endpoint, &prefix]).output()?;
    if !out.status.success() {
        return Err(format!("listing the S3 server: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(Some(String::from_utf8_lossy(&out.stdout).trim().parse()?))
}
