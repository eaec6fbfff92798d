//! Outsiders in the browser, end to end against the real binary: a person
//! asked for documents answers on the page the request mail links to, with
//! the plain form (no JavaScript) and with the resumable upload (tus 1.0.0,
//! played by curl as the protocol's requests), and an upload begun in one
//! door is finished in the other (OpenSSH `sftp reput`, paramiko). The
//! documents reach the requester byte for byte.

#[path = "binary/browser.rs"]
mod browser;
#[path = "sftp/mod.rs"]
mod door;
#[path = "binary/mail.rs"]
mod mail;
mod ports;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use browser::{Browser, base64, browse, header};
use door::{Error, Koerier, TestResult, User, need, pdf, text, wait_until};
use serde_json::json;

/// A PDF of `len` bytes whose bytes do not repeat: many 64 KiB chunks.
fn pdf_of(marker: &str, len: usize) -> Vec<u8> {
    let mut doc = pdf(marker);
    let mut x = 0x9e37_79b9u32;
    while doc.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        doc.extend_from_slice(&x.to_le_bytes());
    }
    doc.truncate(len);
    doc
}

/// Jan asks Piet for documents; returns Jan and the request mail.
fn asked(k: &mut Koerier, language: &str) -> Result<(User, mail::RequestMail), Error> {
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    std::fs::write(k.path().join("vraag.txt"), "Stuur de stukken van dossier 12.")?;
    k.ok(
        &["request", "--from", &jan.email, "--to", "Piet Pieters <piet@example.org>", "--language", language]
            .into_iter()
            .chain(["--text-file", "vraag.txt"])
            .collect::<Vec<_>>(),
        None,
    )?;
    let dir = k.path().join("data/mail");
    assert!(wait_until(Duration::from_secs(30), || mail::request_mail(&dir, "piet@example.org").is_ok()));
    Ok((jan, mail::request_mail(&dir, "piet@example.org")?))
}

/// A tus request with the request's secret as its capability:
/// (status, headers, body).
fn tus(b: &Browser, secret: &str, args: &[&str]) -> Result<(u16, String, Vec<u8>), Error> {
    let auth = format!("Authorization: Bearer {secret}");
    let mut all = vec!["-H", "Tus-Resumable: 1.0.0", "-H", auth.as_str()];
    all.extend_from_slice(args);
    b.request(&all)
}

/// `POST /tus` for `name` of `len` bytes: the upload's address.
fn tus_create(k: &Koerier, b: &Browser, secret: &str, name: &str, len: usize) -> Result<String, Error> {
    let meta = format!("Upload-Metadata: filename {}", base64(name.as_bytes()));
    let length = format!("Upload-Length: {len}");
    let (status, head, body) = tus(b, secret, &["-X", "POST", "-H", &length, "-H", &meta, &k.url("/tus")])?;
    assert_eq!(status, 201, "{head}{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&head, "upload-offset"), Some("0"));
    let location = header(&head, "location").ok_or("no Location")?;
    Ok(k.url(location))
}

/// `PATCH` the bytes of `file` from `from` to its end: the new offset.
fn tus_patch(b: &Browser, secret: &str, url: &str, file: &Path, from: u64, extra: &[&str]) -> Result<u64, Error> {
    let rest = file.with_extension(format!("from-{from}"));
    let bytes = std::fs::read(file)?;
    std::fs::write(&rest, &bytes[usize::try_from(from)?..])?;
    let offset = format!("Upload-Offset: {from}");
    let body = format!("@{}", rest.display());
    let mut args = vec!["-X", "PATCH", "-H", &offset, "-H", "Content-Type: application/offset+octet-stream"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--data-binary", &body, url]);
    let (status, head, body) = tus(b, secret, &args)?;
    assert_eq!(status, 204, "{head}{}", String::from_utf8_lossy(&body));
    Ok(header(&head, "upload-offset").ok_or("no Upload-Offset")?.parse()?)
}

/// The secret of the link after `path` (`/d/`, `/report/`) in the first
/// mail to `to` that has one, once it has been written.
fn mailed_secret(k: &Koerier, to: &str, path: &str) -> Result<String, Error> {
    let secret = mail::mailed_secret(&k.path().join("data/mail"), to, &k.url(path));
    Ok(secret.ok_or(format!("no mail to {to} with a link under {path}"))?)
}

/// The first unfinished upload of the request (`GET /tus`), once one with a
/// stored byte is listed.
fn first_unfinished(k: &Koerier, b: &Browser, secret: &str) -> Result<serde_json::Value, Error> {
    let mut listed = json!(null);
    let settled = wait_until(Duration::from_secs(10), || {
        listed = tus(b, secret, &[&k.url("/tus")])
            .ok()
            .and_then(|(_, _, body)| serde_json::from_slice(&body).ok())
            .unwrap_or(json!(null));
        listed["uploads"][0]["offset"].as_u64().unwrap_or(0) > 0
    });
    assert!(settled, "an unfinished upload is listed with what was stored: {listed}");
    Ok(listed["uploads"][0].clone())
}

/// OpenSSH `sftp -b` signed in with a user name and password (the request's
/// secret), given by `SSH_ASKPASS`; `BatchMode=no` before `-b` so that the
/// password is asked for at all.
fn sftp_with_password(k: &Koerier, user: &str, password: &str, cwd: &Path, batch: &str) -> Result<String, Error> {
    need("sftp")?;
    let askpass = cwd.join("askpass.sh");
    std::fs::write(&askpass, format!("#!/bin/sh\necho '{password}'\n"))?;
    Command::new("chmod").arg("700").arg(&askpass).status()?;
    std::fs::write(cwd.join("batch.txt"), batch)?;
    let out = Command::new("sftp")
        .args(["-o", "BatchMode=no", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
        .args(["-o", "LogLevel=ERROR", "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1"])
        .args(["-o", &format!("User={user}"), "-P", &k.port.to_string(), "-b", "batch.txt", "127.0.0.1"])
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .current_dir(cwd)
        .output()?;
    assert!(out.status.success(), "sftp {batch}: {}", text(&out));
    Ok(text(&out))
}

/// Jan fetches the answer from his inbox with OpenSSH and it is `expected`.
fn jan_receives(k: &Koerier, jan: &User, w: &Path, name: &str, expected: &[u8]) -> TestResult {
    let out = k.sftp_batch(jan, w, &format!("get inbox/*/{name} received-{name}\n"))?;
    assert!(out.status.success(), "{}", text(&out));
    let got = std::fs::read(w.join(format!("received-{name}")))?;
    assert!(got == expected, "{name} arrives byte for byte ({} of {} bytes)", got.len(), expected.len());
    Ok(())
}

#[test]
fn a_requested_outsider_answers_on_the_page_without_javascript() -> TestResult {
    let mut k = Koerier::new()?;
    let (jan, asked) = asked(&mut k, "nl")?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let page_url = k.url(&format!("/r/{}", asked.secret));
    let b = Browser::new(w, "piet");

    // The page: who asked, their text, the user name for an SFTP program.
    let (status, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(html.contains("Documenten insturen") && html.contains("Jan Jansen &lt;jan@minvws.nl&gt;"), "{html}");
    assert!(html.contains("Stuur de stukken van dossier 12.") && html.contains(&asked.user), "{html}");
    let door = format!("<code>127.0.0.1</code>, poort <code>{}</code>", asked.port);
    assert!(html.contains(&door), "where the SFTP door is, as the mail says: {html}");
    assert!(html.contains(r#"enctype="multipart/form-data""#) && html.contains(r#"type="file""#), "{html}");
    let (_, _, english) = b.request(&[&format!("{page_url}?lang=en")])?;
    assert!(String::from_utf8_lossy(&english).contains("Send documents"));

    // Sending too soon, or with a subject past its limit: the core's
    // reason, whole, in the page's language.
    let send = format!("{page_url}/send");
    assert_eq!(b.request(&["-d", "subject=Te vroeg", &send])?.0, 303);
    let (_, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Het bericht bevat nog geen documenten; voeg er minstens één toe"), "{html}");
    let long = format!("subject={}&lang=en", "x".repeat(501));
    assert_eq!(b.request(&["-d", &long, &send])?.0, 303);
    let (_, _, page) = b.request(&[&format!("{page_url}?lang=en")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("The subject may be at most 500 characters"), "{html}");

    // Two documents in one plain form; the second is refused with its
    // reason, the first is kept; the result shows once, after a redirect.
    std::fs::write(w.join("brief.pdf"), pdf("brief"))?;
    std::fs::write(w.join("setup.exe"), b"MZ")?;
    let form = format!("{page_url}/documents");
    let (brief, setup) = (
        format!("documents=@{}", w.join("brief.pdf").display()),
        format!("documents=@{}", w.join("setup.exe").display()),
    );
    let (status, head, _) = b.request(&["-F", &brief, "-F", &setup, &form])?;
    assert_eq!((status, header(&head, "location")), (303, Some(format!("/r/{}", asked.secret).as_str())));
    let (_, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Bestanden van het type .exe zijn niet toegestaan"), "{html}");
    assert!(html.contains("Toegevoegd: brief.pdf") && html.contains(r#"<span class="name">brief.pdf</span>"#));
    let (_, _, again) = b.request(&[&page_url])?;
    assert!(!String::from_utf8_lossy(&again).contains("role=\"alert\""), "a reload shows the note no more");

    // 100 MiB through the plain form: streamed, nothing held in memory.
    let big = pdf_of("honderd", 100 << 20);
    std::fs::write(w.join("groot.pdf"), &big)?;
    let (status, _, _) = b.request(&["-F", &format!("documents=@{}", w.join("groot.pdf").display()), &form])?;
    assert_eq!(status, 303);

    // A plain upload cut off keeps what was stored, to be continued by tus.
    let cut = pdf_of("afgebroken", 40 << 20);
    std::fs::write(w.join("afgebroken.pdf"), &cut)?;
    let part = format!("documents=@{}", w.join("afgebroken.pdf").display());
    let _ = b.request(&["--limit-rate", "4M", "--max-time", "3", "-F", &part, &form]);
    let listed = first_unfinished(&k, &b, &asked.secret)?;
    assert_eq!(listed["name"], "afgebroken.pdf");
    let held = listed["offset"].as_u64().unwrap_or(0);
    let url = k.url(listed["url"].as_str().unwrap_or_default());
    let length = format!("Upload-Length: {}", cut.len());
    let done = tus_patch(&b, &asked.secret, &url, &w.join("afgebroken.pdf"), held, &["-H", &length])?;
    assert_eq!(done, cut.len() as u64, "continued from {held} to the end");

    // Removing, and a form from another site.
    let (status, _, _) = b.request(&["-d", "name=brief.pdf", &format!("{page_url}/remove")])?;
    assert_eq!(status, 303);
    let (status, _, _) =
        b.request(&["-H", "Sec-Fetch-Site: cross-site", "-d", "subject=x", &format!("{page_url}/send")])?;
    assert_eq!(status, 403, "a form posted from another site changes nothing");

    // Send: the page then says it was sent, and Jan is told and receives.
    let (status, _, _) =
        b.request(&["-d", "subject=Dossier 12&reference=K-12&text=Alstublieft", &format!("{page_url}/send")])?;
    assert_eq!(status, 303);
    let (_, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Uw documenten zijn verstuurd aan") && html.contains("K-12"), "{html}");
    let told = wait_until(Duration::from_secs(30), || {
        mail::mails(&k.path().join("data/mail")).unwrap_or_default().iter().any(|m| {
            mail::header(m, "To") == Some("jan@minvws.nl")
                && mail::header(m, "Subject").is_some_and(|s| s.contains("12"))
        })
    });
    assert!(told, "Jan is told: {:?}", mail::mails(&k.path().join("data/mail")));
    jan_receives(&k, &jan, w, "groot.pdf", &big)?;
    jan_receives(&k, &jan, w, "afgebroken.pdf", &cut)?;
    let out = k.sftp_batch(&jan, w, "ls inbox/*\n")?;
    assert!(!text(&out).contains("brief.pdf"), "the removed document is not sent: {}", text(&out));
    k.stop()
}

#[test]
fn an_upload_begun_in_the_browser_is_finished_with_sftp_and_the_other_way_round() -> TestResult {
    let mut k = Koerier::new()?;
    let (jan, asked) = asked(&mut k, "en")?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let b = Browser::new(w, "piet");

    // tus: the server speaks 1.0.0 with creation, termination, expiration.
    let (status, head, _) = tus(&b, &asked.secret, &["-X", "OPTIONS", &k.url("/tus")])?;
    assert_eq!(status, 204);
    assert_eq!(header(&head, "tus-extension"), Some("creation,termination,expiration"));
    let (status, _, _) = b.request(&["-X", "POST", "-H", "Tus-Resumable: 0.2.2", &k.url("/tus")])?;
    assert_eq!(status, 412, "another version of the protocol");

    // Begun in the browser: 1 MiB and 100 bytes sent, whole chunks kept.
    let first = pdf_of("browser first", 3_000_000);
    std::fs::write(w.join("eerste.pdf"), &first)?;
    let url = tus_create(&k, &b, &asked.secret, "eerste.pdf", first.len())?;
    std::fs::write(w.join("part.pdf"), &first[..(1 << 20) + 100])?;
    let held = tus_patch(&b, &asked.secret, &url, &w.join("part.pdf"), 0, &[])?;
    assert_eq!(held, 1 << 20, "the offset acknowledged is whole sealed chunks");
    let (status, head, _) = tus(&b, &asked.secret, &["-I", &url])?;
    assert_eq!((status, header(&head, "upload-offset")), (200, Some("1048576")));
    assert_eq!(header(&head, "upload-length"), Some("3000000"));
    assert!(header(&head, "upload-expires").is_some_and(|e| e.ends_with(" GMT")), "{head}");
    // A PATCH past the offset is a conflict; a wrong capability is refused.
    let (status, _, body) = tus(
        &b,
        &asked.secret,
        &["-X", "PATCH", "-H", "Upload-Offset: 2000000", "-H", "Content-Type: application/offset+octet-stream"]
            .into_iter()
            .chain(["--data-binary", "x", &url])
            .collect::<Vec<_>>(),
    )?;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    let wrong: String = asked.secret.chars().rev().collect();
    assert_eq!(tus(&b, &wrong, &["-I", &url])?.0, 401, "a wrong capability");

    // ...and finished with OpenSSH `reput` at the offset the store holds.
    sftp_with_password(&k, &asked.user, &asked.secret, w, "reput eerste.pdf outbox/answer/eerste.pdf\n")?;
    let (_, head, _) = tus(&b, &asked.secret, &["-I", &url])?;
    assert_eq!(header(&head, "upload-offset"), Some("3000000"), "complete: {head}");

    // Begun over SFTP (paramiko cut off at 1.5 MB), finished in the browser,
    // which declares the length the SFTP client never gave.
    let second = pdf_of("sftp first", 2_500_000);
    std::fs::write(w.join("tweede.pdf"), &second)?;
    let cut = k.paramiko(
        "client.py",
        json!({"user": asked.user, "password": asked.secret, "action": "cut-upload",
               "path": "/outbox/answer/tweede.pdf", "file": w.join("tweede.pdf"), "bytes": 1_500_000}),
    )?;
    assert_eq!(cut["written"], 1_500_000);
    let listed = first_unfinished(&k, &b, &asked.secret)?;
    assert_eq!((listed["name"].as_str(), listed["length"].as_u64()), (Some("tweede.pdf"), None));
    let held = listed["offset"].as_u64().unwrap_or(0);
    assert!(held <= 1_500_000);
    let url = k.url(listed["url"].as_str().unwrap_or_default());
    let length = format!("Upload-Length: {}", second.len());
    assert_eq!(tus_patch(&b, &asked.secret, &url, &w.join("tweede.pdf"), held, &["-H", &length])?, 2_500_000);

    // The core's refusals reach the client with their reason, in its language.
    let meta = format!("Upload-Metadata: filename {}", base64(b"tool.exe"));
    let create = ["-X", "POST", "-H", "Upload-Length: 10", "-H", meta.as_str()];
    let (status, _, body) = tus(
        &b,
        &asked.secret,
        &create.into_iter().chain(["-H", "Accept-Language: nl", &k.url("/tus")]).collect::<Vec<_>>(),
    )?;
    assert_eq!(status, 422);
    assert!(
        String::from_utf8_lossy(&body).starts_with("Bestanden van het type .exe"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _, body) = tus(
        &b,
        &asked.secret,
        &create.into_iter().chain(["-H", "Accept-Language: en-GB,en;q=0.9", &k.url("/tus")]).collect::<Vec<_>>(),
    )?;
    assert_eq!(status, 422);
    assert!(String::from_utf8_lossy(&body).starts_with("Files of type .exe"));
    let check = k.url("/tus/check?name=eerste.pdf");
    let (status, _, body) = tus(&b, &asked.secret, &["-H", "Accept-Language: en", &check])?;
    assert_eq!(status, 422, "a name taken is refused before a byte is sent");
    assert!(String::from_utf8_lossy(&body).contains("already called 'eerste.pdf'"));
    assert_eq!(tus(&b, &asked.secret, &[&k.url("/tus/check?name=derde.pdf")])?.0, 204);
    let meta = format!("Upload-Metadata: filename {}", base64(b"huge.pdf"));
    let (status, _, _) =
        tus(&b, &asked.secret, &["-X", "POST", "-H", "Upload-Length: 200000000000", "-H", &meta, &k.url("/tus")])?;
    assert_eq!(status, 413, "more than the message may hold is refused before a byte is sent");

    // Terminated: an unfinished upload given up is gone.
    let third = tus_create(&k, &b, &asked.secret, "derde.pdf", 1000)?;
    assert_eq!(tus(&b, &asked.secret, &["-X", "DELETE", &third])?.0, 204);
    assert_eq!(tus(&b, &asked.secret, &["-I", &third])?.0, 404);

    // Sent from the page: both arrive whole.
    let (status, _, _) = b.request(&["-d", "subject=Answer", &k.url(&format!("/r/{}/send", asked.secret))])?;
    assert_eq!(status, 303);
    jan_receives(&k, &jan, w, "eerste.pdf", &first)?;
    jan_receives(&k, &jan, w, "tweede.pdf", &second)?;
    // Once answered, the capability uploads nothing more.
    let meta = format!("Upload-Metadata: filename {}", base64(b"late.pdf"));
    let (status, _, _) =
        tus(&b, &asked.secret, &["-X", "POST", "-H", "Upload-Length: 10", "-H", &meta, &k.url("/tus")])?;
    assert_eq!(status, 409);
    k.stop()
}

#[test]
fn the_landing_page_speaks_the_browser_language_and_names_no_empty_setting() -> TestResult {
    let mut k = Koerier::new()?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let b = Browser::new(work.path(), "visitor");
    let (status, _, page) = b.request(&["-H", "Accept-Language: en-US,en;q=0.9", &k.url("/")])?;
    let html = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(html.contains(r#"<html lang="en">"#) && html.contains("Exchange documents securely"), "{html}");
    assert!(html.contains("pdf") && html.contains("?lang=nl"), "the allowed types and the other language: {html}");
    assert!(!html.contains("helpdesk"), "no helpdesk sentence without a number: {html}");
    let (_, _, page) = b.request(&["-H", "Accept-Language: de,nl;q=0.5", &k.url("/")])?;
    assert!(String::from_utf8_lossy(&page).contains("Veilig documenten uitwisselen"));
    assert_eq!(b.request(&[&k.url("/static/logo")])?.0, 404, "no logo set, none served");
    k.stop()?;
    let logo = work.path().join("logo.svg");
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40"/></svg>"#;
    std::fs::write(&logo, svg)?;
    k.set("KOERIER_BRANDING__HELPDESK_PHONE", "070 340 50 60");
    k.set("KOERIER_BRANDING__SERVICE_NAME", "Veilig Verzenden");
    k.set("KOERIER_BRANDING__ORGANISATION", "Inspectie Gezondheidszorg en Jeugd");
    k.set("KOERIER_BRANDING__LOGO_FILE", &logo.display().to_string());
    k.start()?;
    for path in ["/?lang=nl", "/deliver?lang=nl", "/r/not-a-link", "/no/such/page"] {
        let (_, _, page) = b.request(&[&k.url(path)])?;
        let html = String::from_utf8_lossy(&page);
        assert!(html.contains("Bel de helpdesk:") && html.contains("070 340 50 60"), "{path}: {html}");
        assert!(html.contains("Veilig Verzenden"), "{path}: {html}");
        assert!(html.contains("Inspectie Gezondheidszorg en Jeugd"), "{path}: the organisation: {html}");
        assert!(html.contains(r#"<img src="/static/logo" alt="">"#), "{path}: the logo: {html}");
    }
    let (status, head, body) = b.request(&[&k.url("/static/logo")])?;
    assert_eq!((status, body.as_slice()), (200, svg.as_bytes()), "the operator's file, as it is");
    assert_eq!(header(&head, "content-type"), Some("image/svg+xml"));
    assert_eq!(header(&head, "cross-origin-resource-policy"), Some("cross-origin"), "mail readers may show it");
    assert!(header(&head, "content-security-policy").is_some_and(|csp| csp.contains("default-src 'none'")));
    k.stop()
}

/// Piet delivers to the organisation's default contact (flow C): the start
/// form, the mail that proves his address, the upload page, the
/// confirmation, the mail with the report link, and the report showing
/// "not downloaded" and then, after the contact downloaded, when.
#[test]
fn the_public_delivers_to_the_contact_point_and_follows_the_report() -> TestResult {
    let mut k = Koerier::new()?;
    k.set("KOERIER_BRANDING__CONTACT_NAME", "Meldpunt");
    k.set("KOERIER_BRANDING__CONTACT_EMAIL", "meldpunt@minvws.nl");
    let meldpunt = k.user("meldpunt@minvws.nl", "Meldpunt", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let b = Browser::new(w, "piet");
    let mails = k.path().join("data/mail");

    // The form offers the default contact.
    let (status, _, page) = b.request(&[&k.url("/deliver?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(html.contains(r#"value="meldpunt@minvws.nl""#) && html.contains(r#"value="Meldpunt""#), "{html}");

    // A contact outside the organisation, and a broken address, are refused
    // on the form, with what was typed kept.
    let outside = "name=Piet&email=piet@example.org&contact_name=X&contact_email=x@example.com&lang=nl";
    let (status, head, _) = b.request(&["-d", outside, &k.url("/deliver")])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/deliver?lang=nl")));
    let (_, _, page) = b.request(&[&k.url("/deliver?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Dit is geen e-mailadres van de organisatie") && html.contains("x@example.com"), "{html}");
    assert!(html.contains(r#"value="piet@example.org""#) && html.contains(r#"aria-invalid="true""#), "{html}");
    let (status, _, _) =
        b.request(&["-d", "name=Piet&email=piet-at-example&contact_email=meldpunt@minvws.nl", &k.url("/deliver")])?;
    assert_eq!(status, 303);
    let (_, _, page) = b.request(&[&k.url("/deliver?lang=nl")])?;
    assert!(String::from_utf8_lossy(&page).contains("Dit e-mailadres klopt niet"));
    assert!(mail::mails(&mails)?.is_empty(), "nothing was mailed for a refused start");

    // The start: a page that says where the link went, and the mail.
    let start =
        "name=Piet Pieters&email=piet@example.org&contact_name=Meldpunt&contact_email=meldpunt@minvws.nl&lang=nl";
    let (status, head, _) = b.request(&["-d", start, &k.url("/deliver")])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/deliver/check?lang=nl")));
    let (_, _, page) = b.request(&[&k.url("/deliver/check?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Kijk in uw e-mail") && html.contains("piet@example.org"), "{html}");
    assert!(dutch_moment(&html), "until when, in the words and time of the Netherlands: {html}");
    let secret = mailed_secret(&k, "piet@example.org", "/d/")?;

    // The link opens the upload page, addressed to the contact.
    let page_url = k.url(&format!("/d/{secret}"));
    let (status, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(
        html.contains("Documenten versturen aan de organisatie")
            && html.contains("Meldpunt &lt;meldpunt@minvws.nl&gt;"),
        "{html}"
    );
    assert!(!html.contains("Gebruikersnaam"), "a delivery has no SFTP user name: {html}");
    let doc = pdf_of("melding", 2_000_000);
    std::fs::write(w.join("melding.pdf"), &doc)?;
    let part = format!("documents=@{}", w.join("melding.pdf").display());
    assert_eq!(b.request(&["-F", &part, &format!("{page_url}/documents")])?.0, 303);
    let (status, _, _) = b.request(&["-d", "subject=Melding&reference=M-1", &format!("{page_url}/send")])?;
    assert_eq!(status, 303);
    let (_, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Uw documenten zijn verstuurd aan") && html.contains("link naar de rapportage"), "{html}");

    // The confirmation mail links to the report: not downloaded yet...
    let report_url = k.url(&format!("/report/{}", mailed_secret(&k, "piet@example.org", "/report/")?));
    let (status, _, page) = b.request(&[&report_url])?;
    let html = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(html.contains("melding.pdf") && html.contains("Nog niet gedownload"), "{html}");
    // ...and once the contact downloaded, when.
    let out = k.sftp_batch(&meldpunt, w, "get inbox/*/melding.pdf got.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    assert!(std::fs::read(w.join("got.pdf"))? == doc, "the document arrives byte for byte");
    let (_, _, page) = b.request(&[&report_url])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Gedownload op") && !html.contains("Nog niet gedownload"), "{html}");
    assert!(dutch_moment(&html), "when, in the words and time of the Netherlands: {html}");
    let (status, head, pdf) = b.request(&[&format!("{report_url}/pdf?lang=nl")])?;
    assert_eq!(status, 200);
    assert_eq!(header(&head, "content-type"), Some("application/pdf"));
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    k.stop()
}

/// Whether a text gives a moment as `6 december 2026 om 21:05` (the
/// operator's zone, in words), not as UTC.
fn dutch_moment(text: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    !text.contains("UTC")
        && text.split(" om ").skip(1).any(|after| {
            let hm = after.get(..5).unwrap_or_default();
            hm.len() == 5
                && hm.as_bytes()[2] == b':'
                && hm.bytes().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit())
        })
        && MONTHS.iter().any(|m| text.contains(&format!(" {m} 20")))
}

/// The words a page uses in a language.
struct Words {
    lang: &'static str,
    deliver: &'static str,
    name: &'static str,
    email: &'static str,
    send_link: &'static str,
    choose: &'static str,
    subject: &'static str,
    send: &'static str,
    sent: &'static str,
    not_downloaded: &'static str,
    downloaded: &'static str,
}

const NL: Words = Words {
    lang: "nl",
    deliver: "Documenten versturen",
    name: "Uw naam",
    email: "E-mailadres",
    send_link: "Stuur mij de link",
    choose: "kies bestanden",
    subject: "Onderwerp",
    send: "Verstuur document(en)",
    sent: "Uw documenten zijn verstuurd aan",
    not_downloaded: "Nog niet gedownload",
    downloaded: "Gedownload op",
};

const EN: Words = Words {
    lang: "en",
    deliver: "Send documents",
    name: "Your name",
    email: "Email address",
    send_link: "Send me the link",
    choose: "choose files",
    subject: "Subject",
    send: "Send document(s)",
    sent: "Your documents were sent to",
    not_downloaded: "Not downloaded yet",
    downloaded: "Downloaded on",
};

/// Flow C in Chromium by keyboard alone, from the landing page to the
/// report, with axe-core on every page state: in Dutch on a desktop and in
/// English on a phone.
#[test]
fn in_chromium_a_newcomer_delivers_by_keyboard_and_sees_the_report() -> TestResult {
    let mut k = Koerier::new()?;
    k.set("KOERIER_BRANDING__CONTACT_NAME", "Meldpunt");
    k.set("KOERIER_BRANDING__CONTACT_EMAIL", "meldpunt@minvws.nl");
    k.set("KOERIER_BRANDING__HELPDESK_PHONE", "070 340 50 60");
    let work = tempfile::tempdir()?;
    let w = work.path();
    // The operator's organisation and logo in every page's header, for axe too.
    let logo = w.join("logo.svg");
    std::fs::write(
        &logo,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#154273"/></svg>"##,
    )?;
    k.set("KOERIER_BRANDING__ORGANISATION", "Inspectie Gezondheidszorg en Jeugd");
    k.set("KOERIER_BRANDING__LOGO_FILE", &logo.display().to_string());
    let meldpunt = k.user("meldpunt@minvws.nl", "Meldpunt", "staff")?;
    k.start()?;
    for (words, viewport, who) in [(&NL, "desktop", "piet"), (&EN, "phone", "pat")] {
        let shots = w.join(format!("{}-{viewport}", words.lang));
        std::fs::create_dir_all(&shots)?;
        let email = format!("{who}@example.org");
        let start = browse(
            &json!({"viewport": viewport, "out": shots, "locale": words.lang, "steps": [
                {"goto": k.url(&format!("/?lang={}", words.lang))}, {"axe": "landing"}, {"shot": "landing"},
                {"walk": 30, "name": "landing"},
                {"tabTo": words.deliver}, {"key": "Enter"}, {"waitUrl": "/deliver"}, {"axe": "start"},
                {"tabTo": words.name}, {"type": who}, {"tabTo": words.email}, {"type": email},
                {"tabTo": words.send_link}, {"key": "Enter"}, {"waitUrl": "/deliver/check"},
                {"axe": "check"}, {"text": "check"}, {"shot": "check"},
            ]}),
            w,
        )?;
        assert!(start["texts"]["check"].as_str().unwrap_or_default().contains(&email), "{start}");
        let walk = start["walks"]["landing"].as_array().cloned().unwrap_or_default();
        assert!(walk.iter().all(|r| r["outlined"] == true), "every control shows its focus: {walk:?}");
        assert!(walk.iter().any(|r| r["name"].as_str().unwrap_or_default().contains("070 340 50 60")), "{walk:?}");

        let page = k.url(&format!("/d/{}", mailed_secret(&k, &email, "/d/")?));
        let (a, b) = (w.join(format!("{who}-brief.pdf")), w.join(format!("{who}-bijlage.pdf")));
        std::fs::write(&a, pdf_of("brief", 300_000))?;
        std::fs::write(&b, pdf_of("bijlage", 5_000_000))?;
        let sent = browse(
            &json!({"viewport": viewport, "out": shots, "locale": words.lang, "steps": [
                {"goto": page}, {"axe": "upload"}, {"shot": "upload"},
                {"chooseFiles": {"control": words.choose, "paths": [a, b]}},
                {"waitSelector": format!("ul.documents li:has-text('{who}-bijlage.pdf')")},
                {"axe": "uploaded"}, {"shot": "uploaded"},
                {"tabTo": words.subject}, {"type": "Melding"},
                {"tabTo": words.send}, {"key": "Enter"}, {"waitText": words.sent},
                {"axe": "sent"}, {"text": "sent"}, {"shot": "sent"},
            ]}),
            w,
        )?;
        assert!(sent["texts"]["sent"].as_str().unwrap_or_default().contains("meldpunt@minvws.nl"), "{sent}");

        let report = mailed_secret(&k, &email, "/report/")?;
        let report = k.url(&format!("/report/{report}?lang={}", words.lang));
        let before = browse(
            &json!({"viewport": viewport, "out": shots, "steps": [
            {"goto": report}, {"axe": "report"}, {"text": "report"}, {"shot": "report"}]}),
            w,
        )?;
        assert!(before["texts"]["report"].as_str().unwrap_or_default().contains(words.not_downloaded), "{before}");
        let got = k.sftp_batch(&meldpunt, w, &format!("get inbox/*/{who}-bijlage.pdf {who}-got.pdf\n"))?;
        assert!(got.status.success(), "{}", text(&got));
        assert!(std::fs::read(w.join(format!("{who}-got.pdf")))? == std::fs::read(&b)?, "byte for byte");
        let after = browse(
            &json!({"viewport": viewport, "out": shots, "steps": [
            {"goto": report}, {"text": "report"}]}),
            w,
        )?;
        assert!(after["texts"]["report"].as_str().unwrap_or_default().contains(words.downloaded), "{after}");
        for shot in
            start["shots"].as_array().into_iter().flatten().chain(sent["shots"].as_array().into_iter().flatten())
        {
            let bytes = std::fs::read(shot.as_str().unwrap_or_default())?;
            assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000, "a real screenshot: {shot}");
        }
    }
    k.stop()
}

/// Flow B in Chromium: the requested outsider answers on the page, once
/// with the upload script and once without JavaScript (the plain form), in
/// both languages; Jan receives every document whole.
#[test]
fn in_chromium_a_requested_outsider_answers_with_and_without_javascript() -> TestResult {
    let mut k = Koerier::new()?;
    let (jan, asked) = asked(&mut k, "nl")?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let page = k.url(&format!("/r/{}", asked.secret));
    let doc = pdf_of("zonder script", 3_000_000);
    std::fs::write(w.join("plain.pdf"), &doc)?;
    let plain = browse(
        &json!({"javascript": false, "out": w, "steps": [
            {"goto": format!("{page}?lang=en")}, {"axe": "request-no-js"}, {"walk": 40, "name": "request"},
            {"setFiles": {"selector": "#files", "paths": [w.join("plain.pdf")]}},
            {"click": {"role": "button", "name": "Upload"}},
            {"waitSelector": "ul.documents li:has-text('plain.pdf')"}, {"axe": "request-no-js-added"},
            {"shot": "request-no-js"},
        ]}),
        w,
    )?;
    let walk = plain["walks"]["request"].as_array().cloned().unwrap_or_default();
    assert!(
        walk.iter().any(|r| r["name"].as_str().unwrap_or_default().starts_with("input:Choose documents")),
        "{walk:?}"
    );
    let scripted = pdf_of("met script", 12_000_000);
    std::fs::write(w.join("scripted.pdf"), &scripted)?;
    let answered = browse(
        &json!({"viewport": "phone", "out": w, "steps": [
            {"goto": page}, {"axe": "request"}, {"shot": "request-phone"},
            {"chooseFiles": {"control": "kies bestanden", "paths": [w.join("scripted.pdf")]}},
            {"waitSelector": "ul.documents li:has-text('scripted.pdf')"}, {"axe": "request-added"},
            {"tabTo": "Verstuur document(en)"}, {"key": "Enter"}, {"waitText": "Uw documenten zijn verstuurd aan"},
            {"axe": "answered"}, {"text": "answered"},
        ]}),
        w,
    )?;
    assert!(answered["texts"]["answered"].as_str().unwrap_or_default().contains("jan@minvws.nl"), "{answered}");
    jan_receives(&k, &jan, w, "plain.pdf", &doc)?;
    jan_receives(&k, &jan, w, "scripted.pdf", &scripted)?;
    k.stop()
}

/// A proxy between the browser and the server (`tests/browser/cutting_proxy.py`):
/// at `rate` bytes a second, cutting the connection that carries byte `cut`
/// once (0: none). Killed when dropped.
struct Proxy {
    child: std::process::Child,
    port: u16,
    said: std::io::BufReader<std::process::ChildStdout>,
}

impl Proxy {
    fn start(target: u16, cut: u64, rate: u64) -> Result<Proxy, Error> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/cutting_proxy.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([target.to_string(), cut.to_string(), rate.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        let mut said = std::io::BufReader::new(child.stdout.take().ok_or("the proxy has no output")?);
        std::io::BufRead::read_line(&mut said, &mut line)?;
        Ok(Proxy { port: line.trim().parse()?, child, said })
    }

    /// The next line the proxy printed (`cut at <n>` once it cut).
    fn said(&mut self) -> Result<String, Error> {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut self.said, &mut line)?;
        Ok(line.trim().to_owned())
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tus-js-client, in Node, as a second and independent client of the
/// endpoint: PATCHes of 5,000,000 bytes, which the server acknowledges in
/// whole 64 KiB chunks, so the client goes on from the offsets it is given.
#[test]
fn tus_js_client_uploads_what_the_page_sends() -> TestResult {
    need("node")?;
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !browser_dir.join("node_modules/tus-js-client").is_dir() {
        return Err("tus-js-client is not installed in tests/browser: run scripts/setup".into());
    }
    let mut k = Koerier::new()?;
    let (jan, asked) = asked(&mut k, "en")?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let doc = pdf_of("tus-js-client", 23_000_000);
    std::fs::write(w.join("client.pdf"), &doc)?;
    let run = Command::new("node")
        .arg(browser_dir.join("tus-client.mjs"))
        .args([k.url("/tus"), asked.secret.clone(), w.join("client.pdf").to_string_lossy().into_owned()])
        .args(["client.pdf", "5000000"])
        .env("NODE_TLS_REJECT_UNAUTHORIZED", "0")
        .env("NODE_NO_WARNINGS", "1")
        .current_dir(&browser_dir)
        .output()?;
    let said: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap_or(json!(null));
    assert!(run.status.success() && said["url"].is_string(), "{said} {}", String::from_utf8_lossy(&run.stderr));
    let b = Browser::new(w, "piet");
    let (status, _, _) = b.request(&["-d", "subject=Via tus", &k.url(&format!("/r/{}/send", asked.secret))])?;
    assert_eq!(status, 303);
    jan_receives(&k, &jan, w, "client.pdf", &doc)?;
    k.stop()
}

/// The page's upload over a network that drops and over a slow one: a
/// connection cut mid-upload is resumed by the script by itself; a pause
/// holds the upload and a resume finishes it; after a reload, choosing the
/// same file again continues at the server's offset. Every document reaches
/// Jan whole.
#[test]
fn in_chromium_an_upload_survives_a_cut_a_pause_and_a_reload() -> TestResult {
    let mut k = Koerier::new()?;
    let (jan, asked) = asked(&mut k, "nl")?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let path = format!("/r/{}", asked.secret);
    let (cut, paused, reloaded) =
        (pdf_of("afgebroken", 20_000_000), pdf_of("gepauzeerd", 16_000_000), pdf_of("herladen", 16_000_000));
    std::fs::write(w.join("cut.pdf"), &cut)?;
    std::fs::write(w.join("paused.pdf"), &paused)?;
    std::fs::write(w.join("reloaded.pdf"), &reloaded)?;

    // Cut once after 8 MB have gone up.
    let mut dropping = Proxy::start(k.https, 8_000_000, 0)?;
    browse(
        &json!({"out": w, "steps": [
            {"goto": dropping.url(&path)},
            {"chooseFiles": {"control": "kies bestanden", "paths": [w.join("cut.pdf")]}},
            {"waitSelector": "ul.documents li:has-text('cut.pdf')"},
        ]}),
        w,
    )?;
    assert!(dropping.said()?.starts_with("cut at "), "the connection was cut mid-upload");
    drop(dropping);

    // 3 MB a second: time to pause, and to reload halfway.
    let slow = Proxy::start(k.https, 0, 3_000_000)?;
    let seen = browse(
        &json!({"out": w, "steps": [
            {"goto": slow.url(&path)},
            {"chooseFiles": {"control": "kies bestanden", "paths": [w.join("paused.pdf")]}},
            {"sleep": 1500}, {"click": {"role": "button", "name": "Pauzeren"}},
            {"waitText": "Gepauzeerd"}, {"sleep": 1500}, {"text": "paused"}, {"axe": "paused"},
            {"click": {"role": "button", "name": "Hervatten"}},
            {"waitSelector": "ul.documents li:has-text('paused.pdf')"},
            {"chooseFiles": {"control": "kies bestanden", "paths": [w.join("reloaded.pdf")]}},
            {"sleep": 2500}, {"goto": slow.url(&path)},
            {"waitText": "Onvoltooide uploads"}, {"axe": "unfinished"},
            {"chooseFiles": {"control": "kies bestanden", "paths": [w.join("reloaded.pdf")]}},
            {"waitText": "gaat verder vanaf"},
            {"waitSelector": "ul.documents li:has-text('reloaded.pdf')"},
        ]}),
        w,
    )?;
    assert!(seen["texts"]["paused"].as_str().unwrap_or_default().contains("Gepauzeerd"), "{seen}");
    drop(slow);
    let (status, _, _) = Browser::new(w, "piet").request(&["-d", "subject=x", &k.url(&format!("{path}/send"))])?;
    assert_eq!(status, 303);
    jan_receives(&k, &jan, w, "cut.pdf", &cut)?;
    jan_receives(&k, &jan, w, "paused.pdf", &paused)?;
    jan_receives(&k, &jan, w, "reloaded.pdf", &reloaded)?;
    k.stop()
}

/// Past 2 GB in a browser: a 3 GiB (sparse) document chosen in Chromium goes
/// up through tus in 64 MiB PATCHes, and what Jan receives has its SHA-256.
#[test]
fn in_chromium_a_document_past_2_gb_uploads_whole() -> TestResult {
    need("sha256sum")?;
    let mut k = Koerier::new()?;
    let (jan, asked) = asked(&mut k, "en")?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let big = w.join("drie.pdf");
    {
        let mut f = std::fs::File::create(&big)?;
        std::io::Write::write_all(&mut f, &pdf("three gibibytes"))?;
        f.set_len(3 << 30)?;
    }
    browse(
        &json!({"out": w, "steps": [
            {"goto": k.url(&format!("/r/{}?lang=en", asked.secret))},
            {"chooseFiles": {"control": "choose files", "paths": [big]}},
            {"waitSelector": "ul.documents li:has-text('drie.pdf')", "timeout": 900_000},
        ]}),
        w,
    )?;
    let (status, _, _) =
        Browser::new(w, "piet").request(&["-d", "subject=big", &k.url(&format!("/r/{}/send", asked.secret))])?;
    assert_eq!(status, 303);
    let out = k.sftp_batch(&jan, w, "get inbox/*/drie.pdf received.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::metadata(w.join("received.pdf"))?.len(), 3 << 30);
    assert_eq!(browser::sha256(&w.join("received.pdf"))?, browser::sha256(&big)?, "SHA-256 at the recipient");
    k.stop()
}
