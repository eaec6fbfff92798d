//! Staff in the browser, end to end against the real binary: signing in and
//! out, and the overview of sent and received messages with its states, its
//! search and its pages; with curl as the requests and in Chromium by
//! keyboard, with axe-core on every page state.

#![recursion_limit = "256"]

#[path = "binary/browser.rs"]
mod browser;
#[path = "sftp/mod.rs"]
mod door;
#[path = "binary/mail.rs"]
mod mail;
mod ports;
#[path = "binary/sms.rs"]
mod sms;

use browser::{Browser, base64, browse, header};
use std::time::Duration;

use door::{Koerier, TestResult, User, pdf, text, wait_until};
use serde_json::json;

/// Jan has sent Kees one message and Piet (outside) another, from the
/// command line, as any door would.
fn sent(k: &Koerier) -> Result<(User, User), door::Error> {
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    let dir = k.path();
    std::fs::write(dir.join("jaarverslag.pdf"), pdf("jaarverslag"))?;
    std::fs::write(dir.join("brief.pdf"), pdf("brief"))?;
    let to_kees = ["send", "--from", "jan@minvws.nl", "--to", "Kees de Vries <kees@minvws.nl>"];
    k.ok(
        &[&to_kees[..], &["--subject", "Jaarverslag 2026", "--reference", "JV-26", "jaarverslag.pdf"]].concat(),
        None,
    )?;
    let to_piet = ["send", "--from", "jan@minvws.nl", "--to", "Piet Puk <piet@example.org>", "--phone", "0612345678"];
    k.ok(&[&to_piet[..], &["--subject", "Uw dossier", "brief.pdf"]].concat(), None)?;
    Ok((jan, kees))
}

#[test]
fn staff_sign_in_see_what_they_sent_and_received_and_sign_out() -> TestResult {
    let mut k = Koerier::new()?;
    let (jan, kees) = sent(&k)?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let b = Browser::new(w, "jan");

    // Not signed in: the overview leads to the sign-in page.
    let (status, head, _) = b.request(&[&k.url("/home?lang=nl")])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?lang=nl")));
    let (status, _, page) = b.request(&[&k.url("/signin?lang=nl")])?;
    assert_eq!(status, 200);
    let csrf = Browser::csrf(&page)?;

    // A wrong password: back to the form, the address kept, nothing told
    // about which part was wrong; a form without its token is refused.
    let wrong = format!("csrf={csrf}&lang=nl&email=jan@minvws.nl&password=wrong");
    let (status, head, _) = b.request(&["-d", &wrong, &k.url("/signin")])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?lang=nl")));
    let (_, _, page) = b.request(&[&k.url("/signin?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(
        html.contains("Het e-mailadres of het wachtwoord klopt niet.") && html.contains(r#"value="jan@minvws.nl""#)
    );
    let forged = format!("csrf={}&email=jan@minvws.nl&password={}", "0".repeat(64), jan.password);
    let (_, head, _) = b.request(&["-d", &forged, &k.url("/signin")])?;
    assert!(!head.contains("__Host-koerier-staff="), "no session without the form's token: {head}");

    // Signed in: the overview of what Jan sent, newest first.
    let right = format!("csrf={csrf}&lang=nl&email=Jan@MinVWS.nl&password={}", jan.password);
    let (status, head, _) = b.request(&["-d", &right, &k.url("/signin")])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/home?lang=nl")));
    let cookie = head.lines().find(|l| l.to_lowercase().contains("__host-koerier-staff=")).unwrap_or_default();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let (status, _, page) = b.request(&[&k.url("/home?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(html.contains("Ingelogd als <strong>Jan Jansen</strong>"), "{html}");
    let (piet, kees_at) = (html.find("Piet Puk").unwrap_or(0), html.find("Kees de Vries").unwrap_or(0));
    assert!(piet > 0 && kees_at > piet, "both, the later first: {html}");
    assert!(html.contains("Jaarverslag 2026") && html.contains("JV-26"), "{html}");
    assert_eq!(html.matches("Verzonden, nog niet gedownload").count(), 2, "{html}");
    assert!(html.contains(" om "), "when, in the operator's zone: {html}");

    // Kees downloads; Jan sees when. Kees sees it among what he received.
    let out = k.sftp_batch(&kees, w, "get inbox/*/jaarverslag.pdf got.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    let (_, _, page) = b.request(&[&k.url("/home?lang=nl&q=jaarverslag")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Gedownload op") && !html.contains("Piet Puk"), "found, and downloaded: {html}");
    // Its report: who downloaded what, when, from where, through which door;
    // the PDF, which `koerier report verify` accepts.
    let html = html.replace("&#x2f;", "/").replace("&amp;", "&");
    let report = html.split("href=\"").find_map(|rest| rest.split('"').next().filter(|h| h.contains("/messages/")));
    let report = k.url(report.ok_or("no link to the report")?);
    let (status, _, page) = b.request(&[&report])?;
    let html = String::from_utf8_lossy(&page);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Downloads") && html.contains("kees@minvws.nl") && html.contains("SFTP"), "{html}");
    assert!(html.contains("Gebeurtenissen") && html.contains("verstuurd"), "the events: {html}");
    let pdf_url = report.replace("?lang=nl", "/pdf?lang=en");
    let (status, head, pdf) = b.request(&[&pdf_url])?;
    assert_eq!((status, header(&head, "content-type")), (200, Some("application/pdf")), "{head}");
    std::fs::write(w.join("report.pdf"), &pdf)?;
    let verified = k.ok(&["report", "verify", &w.join("report.pdf").to_string_lossy()], None)?;
    assert!(verified.contains("the proof is valid") && verified.contains("kees@minvws.nl"), "{verified}");
    let kb_report = Browser::new(w, "nosy");
    assert_eq!(kb_report.request(&[&report])?.0, 303, "not signed in: to the sign-in page");
    let (status, _, pdf) = b.request(&[&k.url("/overview/pdf?lang=nl&from=2020-01-01&to=2099-12-31")])?;
    assert!(status == 200 && pdf.starts_with(b"%PDF"), "the overview");
    let (status, _, page) = b.request(&[&k.url("/overview/pdf?lang=nl&from=2026-12-31&to=2026-01-01")])?;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&page).contains("Deze periode klopt niet"));
    let (_, _, page) = b.request(&[&k.url("/home?lang=en&q=nothing+like+this")])?;
    assert!(String::from_utf8_lossy(&page).contains("No messages found for"), "in English too");
    let kb = Browser::new(w, "kees");
    let (_, _, page) = kb.request(&[&k.url("/signin?lang=en")])?;
    let form = format!("csrf={}&lang=en&email=kees@minvws.nl&password={}", Browser::csrf(&page)?, kees.password);
    assert_eq!(kb.request(&["-d", &form, &k.url("/signin")])?.0, 303);
    let (_, _, page) = kb.request(&[&k.url("/home?lang=en&side=received")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Jan Jansen &lt;jan@minvws.nl&gt;") && html.contains("Downloaded on"), "{html}");
    assert!(!html.contains("Uw dossier"), "only what was sent to Kees: {html}");
    // A report is for the sender and the recipient: Kees sees his, and
    // Jan's message to Piet is not found, as if it did not exist.
    let (_, _, page) = b.request(&[&k.url("/home?lang=nl")])?;
    let jans = String::from_utf8_lossy(&page).replace("&#x2f;", "/").replace("&amp;", "&");
    let links: Vec<&str> =
        jans.split("href=\"").filter_map(|r| r.split('"').next()).filter(|h| h.starts_with("/messages/")).collect();
    assert_eq!(links.len(), 2, "{jans}");
    let seen: Vec<u16> = links.iter().map(|l| kb.request(&[&k.url(l)]).map(|r| r.0)).collect::<Result<_, _>>()?;
    assert_eq!(seen, [404, 200], "Piet's (newest) not found for Kees, his own shown");

    // Signing out: a form from another site changes nothing; then the
    // session is over, on this browser and for the token wherever it is.
    let (_, _, page) = b.request(&[&k.url("/home?lang=nl")])?;
    let csrf = Browser::csrf(&page)?;
    let out = format!("csrf={csrf}&lang=nl");
    let (_, head, _) = b.request(&["-H", "Sec-Fetch-Site: cross-site", "-d", &out, &k.url("/signout")])?;
    assert_eq!(header(&head, "location"), Some("/home?lang=nl"), "refused: {head}");
    assert_eq!(b.request(&[&k.url("/home?lang=nl")])?.0, 200, "still signed in");
    let token = std::fs::read_to_string(&b.jar)?
        .lines()
        .find(|l| l.contains("__Host-koerier-staff"))
        .and_then(|l| l.split('\t').nth(6))
        .unwrap_or_default()
        .to_owned();
    let (status, head, _) = b.request(&["-d", &out, &k.url("/signout")])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?lang=nl")));
    let (_, _, page) = b.request(&[&k.url("/signin?lang=nl")])?;
    assert!(String::from_utf8_lossy(&page).contains("U bent uitgelogd."));
    let stolen = format!("Cookie: __Host-koerier-staff={token}");
    let (status, head, _) = browser::curl(&["-s", "-k", "-D", "-", "-o", "/dev/null", "-H", &stolen, &k.url("/home")])
        .map(|o| (o.status, String::from_utf8_lossy(&o.stdout).into_owned(), ()))?;
    assert!(status.success() && head.contains(" 303") && head.contains("/signin"), "the token opens nothing: {head}");
    k.stop()
}

/// A browser signed in as `user`, with the CSRF token of its pages.
fn signed_in(k: &Koerier, w: &std::path::Path, user: &User, name: &str) -> Result<(Browser, String), door::Error> {
    let b = Browser::new(w, name);
    let (csrf, to) = password_step(k, &b, user)?;
    assert_eq!(to, "/home?lang=nl", "signed in");
    Ok((b, csrf))
}

/// The sign-in form with `user`'s address and password: the form's token
/// and where the answer leads.
fn password_step(k: &Koerier, b: &Browser, user: &User) -> Result<(String, String), door::Error> {
    let (_, _, page) = b.request(&[&k.url("/signin?lang=nl")])?;
    let csrf = Browser::csrf(&page)?;
    let form = format!("csrf={csrf}&lang=nl&email={}&password={}", user.email, user.password);
    let (status, head, _) = b.request(&["-d", &form, &k.url("/signin")])?;
    assert_eq!(status, 303);
    Ok((csrf, header(&head, "location").unwrap_or_default().to_owned()))
}

/// Jan sends a message from the browser: a draft the drive shows too,
/// documents through the plain form and through tus, the rules answered on
/// the page in Dutch with what he typed kept, then sent to Piet outside
/// with the code by SMS.
#[test]
fn staff_send_a_message_in_the_browser() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let (b, csrf) = signed_in(&k, w, &jan, "jan")?;

    // "Verstuur een bericht": a draft, on the page and in the drive.
    let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}&lang=nl"), &k.url("/drafts")])?;
    let page_path = header(&head, "location").unwrap_or_default().trim_end_matches("?lang=nl").to_owned();
    assert!(status == 303 && page_path.starts_with("/drafts/"), "{head}");
    let page_url = k.url(&page_path);
    let (status, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(html.contains("<code>bericht-1</code>") && html.contains("Ingelogd als"), "{html}");
    let listed = k.sftp_batch(&jan, w, "ls outbox\n")?;
    assert!(text(&listed).contains("bericht-1"), "the same draft in the drive: {}", text(&listed));

    // Documents: the plain form (its token in the address), a refused type
    // with its reason, and one through tus with the page's capability.
    std::fs::write(w.join("brief.pdf"), pdf("brief"))?;
    std::fs::write(w.join("setup.exe"), b"MZ")?;
    let form = format!("{page_url}/documents?lang=nl&csrf={csrf}");
    let parts = [
        format!("documents=@{}", w.join("brief.pdf").display()),
        format!("documents=@{}", w.join("setup.exe").display()),
    ];
    assert_eq!(b.request(&["-F", &parts[0], "-F", &parts[1], &form])?.0, 303);
    let (_, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Bestanden van het type .exe zijn niet toegestaan") && html.contains("brief.pdf"), "{html}");
    let forged = format!("{page_url}/documents?lang=nl&csrf={}", "0".repeat(64));
    assert_eq!(b.request(&["-F", &parts[0], &forged])?.0, 403, "no token, no upload");
    let draft_id = page_path.trim_start_matches("/drafts/");
    let capability = format!("Authorization: Bearer draft:{draft_id}:{csrf}");
    let bijlage = pdf("bijlage");
    std::fs::write(w.join("bijlage.pdf"), &bijlage)?;
    let meta = format!("Upload-Metadata: filename {}", base64(b"bijlage.pdf"));
    let length = format!("Upload-Length: {}", bijlage.len());
    let tus = ["-H", "Tus-Resumable: 1.0.0", "-H", &capability, "-H", &meta, "-H", &length, "-X", "POST"];
    let (status, head, _) = b.request(&[&tus[..], &[&k.url("/tus")]].concat())?;
    assert_eq!(status, 201, "{head}");
    let upload = k.url(header(&head, "location").unwrap_or_default());
    let body = format!("@{}", w.join("bijlage.pdf").display());
    let patch = [
        "-H",
        "Tus-Resumable: 1.0.0",
        "-H",
        &capability,
        "-H",
        "Upload-Offset: 0",
        "-H",
        "Content-Type: application/offset+octet-stream",
        "-X",
        "PATCH",
        "--data-binary",
        &body,
    ];
    assert_eq!(b.request(&[&patch[..], &[&upload]].concat())?.0, 204);
    // Kees can use neither Jan's draft nor Jan's token for it.
    let (kb, kees_csrf) = signed_in(&k, w, &kees, "kees")?;
    let theirs = format!("Authorization: Bearer draft:{draft_id}:{kees_csrf}");
    let (status, _, _) = kb.request(&[
        "-H",
        "Tus-Resumable: 1.0.0",
        "-H",
        &theirs,
        "-H",
        &meta,
        "-H",
        &length,
        "-X",
        "POST",
        &k.url("/tus"),
    ])?;
    assert_eq!(status, 404, "another's draft is not found");
    let (status, _, _) = kb.request(&[
        "-H",
        "Tus-Resumable: 1.0.0",
        "-H",
        &capability,
        "-H",
        &meta,
        "-H",
        &length,
        "-X",
        "POST",
        &k.url("/tus"),
    ])?;
    assert_eq!(status, 401, "a token that is not this browser's");

    // Send to Piet outside without his number: refused with the core's
    // reason, what was typed kept; with it, sent.
    let send = format!("{page_url}/send");
    let fields =
        "to_name=Piet Puk&to_email=piet@example.org&language=en&subject=Uw dossier&reference=D-1&text=Zie bijlage";
    let (status, _, _) = b.request(&["-d", &format!("csrf={csrf}&lang=nl&action=send&{fields}"), &send])?;
    assert_eq!(status, 303);
    let (_, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("is van buiten de organisatie: vul het mobiele nummer in"), "{html}");
    assert!(html.contains(r#"value="Uw dossier""#) && html.contains(r#"value="en" checked"#), "kept: {html}");
    let bad = format!("csrf={csrf}&lang=nl&action=send&{fields}&to_phone=12");
    b.request(&["-d", &bad, &send])?;
    let (_, _, page) = b.request(&[&page_url])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Dit mobiele nummer klopt niet"), "{html}");
    let good = format!("csrf={csrf}&lang=nl&action=send&{fields}&to_phone=06 12345678");
    let (status, head, _) = b.request(&["-d", &good, &send])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/home?side=sent&lang=nl")));
    let (_, _, page) = b.request(&[&k.url("/home?side=sent&lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Het bericht is verstuurd aan Piet Puk &lt;piet@example.org&gt;."), "{html}");
    assert!(html.contains("Uw dossier") && html.contains("Verzonden, nog niet gedownload"), "{html}");
    assert_eq!(b.request(&[&page_url])?.0, 404, "a sent message has no draft page");
    let sms = k.path().join("data/sms");
    let texted = wait_until(Duration::from_secs(30), || std::fs::read_dir(&sms).map(|d| d.count()).unwrap_or(0) == 1);
    assert!(texted, "the code went to Piet's phone");
    let sent = k.sftp_batch(&jan, w, "ls sent/bericht-1\n")?;
    assert!(text(&sent).contains("brief.pdf") && text(&sent).contains("bijlage.pdf"), "{}", text(&sent));

    // A second draft, deleted.
    let (_, head, _) = b.request(&["-d", &format!("csrf={csrf}&lang=nl"), &k.url("/drafts")])?;
    let second = k.url(header(&head, "location").unwrap_or_default().trim_end_matches("?lang=nl"));
    assert!(second.ends_with(|c: char| c.is_ascii_alphanumeric()));
    let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}&lang=nl"), &format!("{second}/discard")])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/home?side=sent&lang=nl")));
    assert_eq!(b.request(&[&second])?.0, 404);
    k.stop()
}

/// By keyboard alone in Chromium: sign in, look at both lists, search, sign
/// out; axe-core on every state, Dutch on a desktop and English on a phone.
#[test]
fn in_chromium_staff_sign_in_and_find_a_message_by_keyboard() -> TestResult {
    let mut k = Koerier::new()?;
    let (jan, _) = sent(&k)?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    for (lang, viewport, words) in [
        (
            "nl",
            "desktop",
            [
                "Log in",
                "E-mailadres",
                "Wachtwoord",
                "Inloggen",
                "klopt niet",
                "Ontvangen berichten",
                "Zoeken op",
                "Uitloggen",
            ],
        ),
        (
            "en",
            "phone",
            [
                "Sign in",
                "Email address",
                "Password",
                "Sign in",
                "is not right",
                "Received messages",
                "Search by",
                "Sign out",
            ],
        ),
    ] {
        let [landing_link, email, password, submit, refused, received, search, sign_out] = words;
        let shots = w.join(format!("{lang}-{viewport}"));
        std::fs::create_dir_all(&shots)?;
        let seen = browse(
            &json!({"viewport": viewport, "out": shots, "locale": lang, "steps": [
                {"goto": k.url(&format!("/register?lang={lang}"))}, {"axe": "register"}, {"shot": "register"},
                {"goto": k.url(&format!("/forgot?lang={lang}"))}, {"axe": "forgot"},
                {"goto": k.url(&format!("/?lang={lang}"))},
                {"tabTo": landing_link}, {"key": "Enter"}, {"waitUrl": "/signin"}, {"axe": "signin"}, {"shot": "signin"},
                {"tabTo": email}, {"type": "jan@minvws.nl"}, {"tabTo": password}, {"type": "wrong"},
                {"tabTo": submit}, {"key": "Enter"}, {"waitText": refused}, {"axe": "wrong"}, {"text": "wrong"},
                {"tabTo": password}, {"type": jan.password}, {"tabTo": submit}, {"key": "Enter"},
                {"waitUrl": "/home"}, {"axe": "home"}, {"shot": "home"}, {"text": "home"},
                {"walk": 40, "name": "home"},
                {"tabTo": received}, {"key": "Enter"}, {"waitUrl": "side=received"}, {"axe": "received"},
                {"text": "received"},
                {"tabTo": sent_tab(lang)}, {"key": "Enter"}, {"waitUrl": "side=sent"},
                {"tabTo": search}, {"type": "jaarverslag"}, {"key": "Enter"}, {"waitUrl": "q=jaarverslag"},
                {"axe": "found"}, {"text": "found"}, {"shot": "found"},
                {"tabTo": "Jaarverslag 2026"}, {"key": "Enter"}, {"waitUrl": "/messages/"},
                {"axe": "report"}, {"text": "report"}, {"shot": "report"},
                {"goto": k.url(&format!("/overview?lang={lang}"))}, {"axe": "overview"},
                {"goto": k.url(&format!("/requests?lang={lang}"))}, {"axe": "requests"},
                {"goto": k.url(&format!("/settings?lang={lang}"))}, {"axe": "settings"}, {"shot": "settings"},
                {"goto": k.url(&format!("/addressbook?lang={lang}"))}, {"axe": "addressbook"},
                {"goto": k.url(&format!("/templates?lang={lang}"))}, {"axe": "templates"},
                {"tabTo": sign_out}, {"key": "Enter"}, {"waitUrl": "/signin"}, {"axe": "signed-out"},
                {"text": "signed-out"},
            ]}),
            w,
        )?;
        let texts = &seen["texts"];
        let said = |state: &str| texts[state].as_str().unwrap_or_default().to_owned();
        assert!(said("home").contains("Jaarverslag 2026") && said("home").contains("Uw dossier"), "{seen}");
        assert!(said("received").contains(if lang == "nl" { "Nog geen berichten" } else { "No messages yet" }));
        assert!(said("found").contains("Jaarverslag 2026") && !said("found").contains("Uw dossier"), "{seen}");
        assert!(said("report").contains("Kees de Vries") && said("report").contains("jaarverslag.pdf"), "{seen}");
        assert!(said("signed-out").contains(if lang == "nl" { "uitgelogd" } else { "signed out" }), "{seen}");
        let walk = seen["walks"]["home"].as_array().cloned().unwrap_or_default();
        assert!(walk.iter().all(|r| r["outlined"] == true), "every control shows its focus: {walk:?}");
    }
    k.stop()
}

fn sent_tab(lang: &str) -> &'static str {
    if lang == "nl" { "Verzonden berichten" } else { "Sent messages" }
}

/// Sending in Chromium by keyboard alone, documents through the page's
/// script (tus, with the draft page's capability), axe-core on the page
/// before and after; Kees receives the document byte for byte.
#[test]
fn in_chromium_staff_send_a_message_by_keyboard() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let doc: Vec<u8> = pdf("jaarplan").into_iter().chain((0..3_000_000u32).map(|i| (i % 251) as u8)).collect();
    std::fs::write(w.join("jaarplan.pdf"), &doc)?;
    let shots = w.join("compose");
    std::fs::create_dir_all(&shots)?;
    let seen = browse(
        &json!({"viewport": "desktop", "out": shots, "locale": "nl", "steps": [
            {"goto": k.url("/signin?lang=nl")},
            {"tabTo": "E-mailadres"}, {"type": "jan@minvws.nl"}, {"tabTo": "Wachtwoord"}, {"type": jan.password},
            {"tabTo": "Inloggen"}, {"key": "Enter"}, {"waitUrl": "/home"},
            {"tabTo": "Verstuur een bericht"}, {"key": "Enter"}, {"waitUrl": "/drafts/"},
            {"axe": "compose"}, {"shot": "compose"},
            {"chooseFiles": {"control": "kies bestanden", "paths": [w.join("jaarplan.pdf")]}},
            {"waitSelector": "ul.documents li:has-text('jaarplan.pdf')"},
            {"axe": "uploaded"}, {"shot": "uploaded"},
            {"tabTo": "E-mailadres van de ontvanger"}, {"type": "kees@minvws.nl"},
            {"tabTo": "Onderwerp"}, {"type": "Jaarplan"},
            {"tabTo": "Verstuur bericht"}, {"key": "Enter"}, {"waitUrl": "/home"},
            {"axe": "sent"}, {"text": "sent"}, {"shot": "sent"},
        ]}),
        w,
    )?;
    let sent = seen["texts"]["sent"].as_str().unwrap_or_default();
    assert!(sent.contains("Het bericht is verstuurd aan kees@minvws.nl") && sent.contains("Jaarplan"), "{seen}");
    let got = k.sftp_batch(&kees, w, "get inbox/*/jaarplan.pdf got.pdf\n")?;
    assert!(got.status.success(), "{}", text(&got));
    assert!(std::fs::read(w.join("got.pdf"))? == doc, "byte for byte");
    k.stop()
}

/// The secret of the link under `path` in the last mail to `to`.
fn mailed(k: &Koerier, to: &str, path: &str) -> Result<String, door::Error> {
    let secret = mail::mailed_secret(&k.path().join("data/mail"), to, &k.url(path));
    Ok(secret.ok_or(format!("no mail to {to} with a link under {path}"))?)
}

/// A new staff member registers, proves the address from the mail, signs
/// in; an address outside the organisation, passwords that differ and a
/// link used twice are refused; "forgot password" answers alike for every
/// address and its link works once.
#[test]
fn staff_register_verify_and_reset_a_forgotten_password() -> TestResult {
    let mut k = Koerier::new()?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let b = Browser::new(w, "anna");
    let (_, _, page) = b.request(&[&k.url("/register?lang=nl")])?;
    let csrf = Browser::csrf(&page)?;
    let register = |email: &str, again: &str| -> Result<String, door::Error> {
        let form = format!(
            "csrf={csrf}&lang=nl&name=Anna de Boer&email={email}&password=zes paarse olifanten&password_again={again}"
        );
        let (status, head, _) = b.request(&["-d", &form, &k.url("/register")])?;
        assert_eq!(status, 303);
        let to = header(&head, "location").unwrap_or_default().to_owned();
        let (_, _, page) = b.request(&[&k.url(&to)])?;
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    let html = register("anna@example.org", "zes paarse olifanten")?;
    assert!(html.contains("Dit is geen e-mailadres van de organisatie") && html.contains("Anna de Boer"), "{html}");
    let html = register("anna@minvws.nl", "zes paarse olifanten!")?;
    assert!(html.contains("De twee wachtwoorden zijn niet gelijk"), "{html}");
    let html = register("anna@minvws.nl", "zes paarse olifanten")?;
    assert!(html.contains("Kijk in uw e-mail") && html.contains("anna@minvws.nl") && html.contains(" om "), "{html}");

    // The link opens a page with a button (a mail scanner uses nothing up).
    let secret = mailed(&k, "anna@minvws.nl", "/verify/")?;
    let verify = k.url(&format!("/verify/{secret}"));
    let (status, _, page) = b.request(&[&verify])?;
    assert_eq!(status, 200);
    assert_eq!(b.request(&[&verify])?.0, 200, "opening it twice uses nothing");
    let form = format!("csrf={}&lang=nl", Browser::csrf(&page)?);
    let (status, head, _) = b.request(&["-d", &form, &verify])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?lang=nl")));
    let (_, _, page) = b.request(&[&k.url("/signin?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Uw e-mailadres is bevestigd") && html.contains(r#"value="anna@minvws.nl""#), "{html}");
    let (status, _, page) = b.request(&["-d", &form, &verify])?;
    assert_eq!(status, 410, "used once: {}", String::from_utf8_lossy(&page));
    let anna = User { email: "anna@minvws.nl".into(), password: "zes paarse olifanten".into(), key: w.join("none") };
    signed_in(&k, w, &anna, "anna-in")?;

    // Forgot password: one answer for any address; a mail only to Anna.
    let forgot = |email: &str| -> Result<String, door::Error> {
        let (_, _, page) = b.request(&[&k.url("/forgot?lang=en")])?;
        let form = format!("csrf={}&lang=en&email={email}", Browser::csrf(&page)?);
        assert_eq!(b.request(&["-d", &form, &k.url("/forgot")])?.0, 303);
        let (_, _, page) = b.request(&[&k.url("/forgot?lang=en")])?;
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    let unknown = forgot("nobody@minvws.nl")?;
    let known = forgot("anna@minvws.nl")?;
    assert!(unknown.contains("If there is an account with this email address"), "{unknown}");
    assert_eq!(unknown.replace("nobody", ""), known.replace("anna", ""), "the same page either way");
    let reset = k.url(&format!("/reset/{}", mailed(&k, "anna@minvws.nl", "/reset/")?));
    let (status, _, page) = b.request(&[&reset])?;
    assert_eq!(status, 200);
    let csrf = Browser::csrf(&page)?;
    let set = format!("csrf={csrf}&lang=en&password=zeven groene giraffen&password_again=zeven groene giraffen");
    let (status, head, _) = b.request(&["-d", &set, &reset])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?lang=en")));
    assert_eq!(b.request(&["-d", &set, &reset])?.0, 410, "a reset link works once");
    assert_eq!(b.request(&[&reset])?.0, 410);
    let anna = User { password: "zeven groene giraffen".into(), ..anna };
    signed_in(&k, w, &anna, "anna-again")?;
    k.stop()
}

/// Jan asks Piet for documents in the browser; Piet answers on his page;
/// the answer is in Jan's received messages and the request is answered.
/// A colleague is not asked (sent to directly); a withdrawn request's
/// link opens nothing; Kees cannot withdraw Jan's.
#[test]
fn staff_ask_for_documents_and_withdraw_a_request() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let (b, csrf) = signed_in(&k, w, &jan, "jan")?;
    let ask = |to_name: &str, to_email: &str| -> Result<String, door::Error> {
        let form =
            format!("csrf={csrf}&lang=nl&to_name={to_name}&to_email={to_email}&language=en&text=Graag het rapport");
        let (status, head, _) = b.request(&["-d", &form, &k.url("/requests")])?;
        assert_eq!((status, header(&head, "location")), (303, Some("/requests?lang=nl")));
        let (_, _, page) = b.request(&[&k.url("/requests?lang=nl")])?;
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    let html = ask("Kees", "kees@minvws.nl")?;
    assert!(html.contains("Dit is een adres van de organisatie") && html.contains(r#"value="kees@minvws.nl""#));
    let html = ask("Piet Puk", "piet@example.org")?;
    assert!(html.contains("Het verzoek is verstuurd aan Piet Puk &lt;piet@example.org&gt;."), "{html}");
    assert!(html.contains("Open") && html.contains("Intrekken"), "{html}");
    let piet =
        mail::mailed_secret(&k.path().join("data/mail"), "piet@example.org", &k.url("/r/")).ok_or("no request mail")?;

    // Piet answers in his browser (the plain form).
    let pb = Browser::new(w, "piet");
    let page = k.url(&format!("/r/{piet}"));
    std::fs::write(w.join("rapport.pdf"), pdf("rapport"))?;
    let part = format!("documents=@{}", w.join("rapport.pdf").display());
    assert_eq!(pb.request(&["-F", &part, &format!("{page}/documents")])?.0, 303);
    assert_eq!(pb.request(&["-d", "subject=Rapport", &format!("{page}/send")])?.0, 303);
    let (_, _, home) = b.request(&[&k.url("/home?lang=nl&side=received")])?;
    let home = String::from_utf8_lossy(&home);
    assert!(home.contains("Piet Puk &lt;piet@example.org&gt;") && home.contains("Rapport"), "in Jan's inbox: {home}");
    let (_, _, list) = b.request(&[&k.url("/requests?lang=nl")])?;
    assert!(String::from_utf8_lossy(&list).contains("Beantwoord"));

    // A second request, withdrawn: its link opens nothing; only Jan may.
    ask("Lisa", "lisa@example.org")?;
    let lisa = mail::mailed_secret(&k.path().join("data/mail"), "lisa@example.org", &k.url("/r/")).ok_or("no mail")?;
    let (_, _, list) = b.request(&[&k.url("/requests?lang=nl")])?;
    let list = String::from_utf8_lossy(&list).replace("&#x2f;", "/");
    let action = list.split("action=\"").filter_map(|r| r.split('"').next()).find(|a| a.ends_with("/withdraw"));
    let action = k.url(action.ok_or("no withdraw form")?);
    let (kb, kees_csrf) = signed_in(&k, w, &kees, "kees")?;
    assert_eq!(kb.request(&["-d", &format!("csrf={kees_csrf}&lang=nl"), &action])?.0, 404, "not Kees's");
    assert_eq!(b.request(&["-d", &format!("csrf={csrf}&lang=nl"), &action])?.0, 303);
    let (_, _, list) = b.request(&[&k.url("/requests?lang=nl")])?;
    let list = String::from_utf8_lossy(&list);
    assert!(list.contains("Het verzoek is ingetrokken") && list.contains("Ingetrokken"), "{list}");
    let (status, _, gone) = Browser::new(w, "lisa").request(&[&k.url(&format!("/r/{lisa}"))])?;
    assert!(status >= 400 && String::from_utf8_lossy(&gone).contains("verlopen"), "{status}");
    k.stop()
}

/// Settings: a new name in the header; an SSH key added in the browser
/// signs in with OpenSSH `sftp`, and removed no more; an app password made
/// in the browser (shown once) opens the drive over WebDAV until revoked; a
/// new password ends the other sessions.
#[test]
fn staff_settings_name_password_keys_and_app_passwords_work_at_every_door() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let (b, csrf) = signed_in(&k, w, &jan, "jan")?;
    let (other, _) = signed_in(&k, w, &jan, "jan-elsewhere")?;
    let post = |path: &str, form: &str| -> Result<String, door::Error> {
        let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}&lang=nl&{form}"), &k.url(path)])?;
        assert_eq!((status, header(&head, "location")), (303, Some("/settings?lang=nl")), "{path}: {head}");
        let (_, _, page) = b.request(&[&k.url("/settings?lang=nl")])?;
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    let html = post("/settings/name", "name=Jan de Wit")?;
    assert!(html.contains("Uw naam is opgeslagen") && html.contains("<strong>Jan de Wit</strong>"), "{html}");

    // An SSH key from the browser signs in over SFTP.
    let key = w.join("id_laptop");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "jan@laptop", "-f"])
        .arg(&key)
        .status()?;
    assert!(made.success());
    let public = std::fs::read_to_string(key.with_extension("pub"))?;
    let form = format!("label=Laptop&key={}", percent(public.trim()));
    let (status, _, _) = b.request(&["-d", &format!("csrf={csrf}&lang=nl&{form}"), &k.url("/settings/keys")])?;
    assert_eq!(status, 303);
    let (_, _, page) = b.request(&[&k.url("/settings?lang=nl")])?;
    let html = String::from_utf8_lossy(&page).into_owned();
    assert!(html.contains("De sleutel is toegevoegd: SHA256:") && html.contains("Laptop"), "{html}");
    let laptop = User { email: jan.email.clone(), password: jan.password.clone(), key: key.clone() };
    let out = k.sftp_batch(&laptop, w, "ls\n")?;
    assert!(out.status.success() && text(&out).contains("outbox"), "signed in with the new key: {}", text(&out));
    let html = html.replace("&#x2f;", "/");
    // The row of the key named Laptop (the one made with the account is listed too).
    let row = html.split("<tr>").find(|row| row.contains("Laptop")).ok_or("no row of the key")?;
    let remove = row
        .split("action=\"")
        .filter_map(|r| r.split('"').next())
        .find(|a| a.ends_with("/remove"))
        .ok_or("no remove")?;
    let html = post(remove, "")?;
    assert!(html.contains("De sleutel is verwijderd"), "{html}");
    let after = k.sftp_batch(&laptop, w, "ls\n")?;
    assert!(!after.status.success(), "the removed key signs in no more: {} {html}", text(&after));
    let (status, _, _) =
        b.request(&["-d", &format!("csrf={csrf}&lang=nl&label=x&key=not a key"), &k.url("/settings/keys")])?;
    assert_eq!(status, 303);
    let (_, _, page) = b.request(&[&k.url("/settings?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("Dit is geen publieke SSH-sleutel"), "refused, saying why in Dutch: {html}");

    // An app password, shown once, opens WebDAV until revoked.
    let html = post("/settings/app-passwords", "label=Laptop")?;
    let secret = html
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .ok_or("no secret shown")?
        .to_owned();
    assert!(secret.starts_with("kdav-"), "{secret}");
    let (_, _, again) = b.request(&[&k.url("/settings?lang=nl")])?;
    assert!(!String::from_utf8_lossy(&again).contains(&secret), "shown once");
    let dav = |credentials: &str| -> Result<String, door::Error> {
        let out = browser::curl(&[
            "-sk",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-u",
            credentials,
            "-X",
            "PROPFIND",
            "-H",
            "Depth: 0",
            &k.url("/dav/"),
        ])?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert_eq!(dav(&format!("jan@minvws.nl:{secret}"))?, "207");
    let html = String::from_utf8_lossy(&again).replace("&#x2f;", "/");
    let revoke = html
        .split("action=\"")
        .filter_map(|r| r.split('"').next())
        .find(|a| a.ends_with("/revoke"))
        .ok_or("no revoke")?
        .to_owned();
    let html = post(&revoke, "")?;
    assert!(html.contains("Het app-wachtwoord is ingetrokken"), "{html}");
    assert_eq!(dav(&format!("jan@minvws.nl:{secret}"))?, "401");

    // A new password: the wrong current one is refused; then the other
    // browser's session is over, this one goes on.
    let html = post(
        "/settings/password",
        "current=wrong&password=een nieuw lang wachtwoord&password_again=een nieuw lang wachtwoord",
    )?;
    assert!(html.contains("Het huidige wachtwoord klopt niet"), "{html}");
    let change =
        format!("current={}&password=een nieuw lang wachtwoord&password_again=een nieuw lang wachtwoord", jan.password);
    let html = post("/settings/password", &change)?;
    assert!(html.contains("Uw wachtwoord is gewijzigd"), "{html}");
    assert_eq!(b.request(&[&k.url("/home?lang=nl")])?.0, 200, "this session goes on");
    assert_eq!(other.request(&[&k.url("/home?lang=nl")])?.0, 303, "the other one ended");
    k.stop()
}

/// A form value, percent-encoded.
fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => char::from(b).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The address book and a default template: a new message in the browser
/// and a folder made over SFTP both start from the template; a contact
/// picked fills the recipient and number; both lists change and empty.
#[test]
fn staff_keep_an_address_book_and_a_default_template_that_fills_new_messages() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let (b, csrf) = signed_in(&k, w, &jan, "jan")?;
    let post = |path: &str, form: &str| -> Result<(u16, Option<String>), door::Error> {
        let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}&lang=nl&{form}"), &k.url(path)])?;
        Ok((status, header(&head, "location").map(str::to_owned)))
    };
    let page = |path: &str| -> Result<String, door::Error> {
        let (_, _, page) = b.request(&[&k.url(path)])?;
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    post("/addressbook", "to_name=Piet Puk&to_email=piet@example.org&to_phone=06 12345678")?;
    let html = page("/addressbook?lang=nl")?;
    assert!(html.contains("Het adres is opgeslagen") && html.contains("+31612345678"), "{html}");
    post("/addressbook", "to_name=X&to_email=x@example.org&to_phone=12")?;
    assert!(page("/addressbook?lang=nl")?.contains("Dit mobiele nummer klopt niet"));
    post(
        "/templates",
        "name=Standaard&subject=Uw documenten&reference=REF&text=Zie bijlage.&language=en&is_default=yes",
    )?;
    let html = page("/templates?lang=nl")?;
    assert!(html.contains("De template is opgeslagen") && html.contains("Standaard (standaard)"), "{html}");
    post("/templates", &format!("name={}", "x".repeat(101)))?;
    assert!(page("/templates?lang=nl")?.contains("mag hoogstens 100 tekens"), "the rule, in Dutch");

    // A new message in the browser starts from the default template.
    let (_, location) = post("/drafts", "")?;
    let draft = location.ok_or("no draft")?.trim_end_matches("?lang=nl").to_owned();
    let html = page(&draft)?;
    assert!(
        html.contains(r#"value="Uw documenten""#)
            && html.contains("Zie bijlage.")
            && html.contains(r#"value="en" checked"#),
        "{html}"
    );
    let (status, _) = post(&format!("{draft}/contact"), "email=piet@example.org")?;
    assert_eq!(status, 303);
    let html = page(&draft)?;
    assert!(html.contains("Ingevuld uit Piet Puk") && html.contains(r#"value="piet@example.org""#), "{html}");
    assert!(html.contains(r#"value="+31 6 12345678""#) || html.contains("+31612345678"), "the number too: {html}");

    // A folder made over SFTP starts from it as well.
    let out = k.sftp_batch(&jan, w, "mkdir outbox/nieuw\nget outbox/nieuw/message.txt nieuw.txt\n")?;
    assert!(out.status.success(), "{}", text(&out));
    let made = std::fs::read_to_string(w.join("nieuw.txt"))?;
    assert!(made.contains("Subject: Uw documenten") && made.contains("Zie bijlage."), "{made}");

    // Both lists change.
    post("/addressbook/remove", "email=piet@example.org")?;
    assert!(page("/addressbook?lang=nl")?.contains("Nog geen adressen"));
    post("/templates/remove", "name=Standaard")?;
    assert!(page("/templates?lang=nl")?.contains("Nog geen templates"));
    let (status, _) = post("/templates/remove", "name=Standaard")?;
    assert_eq!(status, 404, "gone, as another's would be");
    k.stop()
}

/// The first run: an empty service prints a setup link to its log and
/// nowhere else; the page makes the organisation, its domains and the first
/// admin, who then signs in; the link then opens nothing, and the
/// organisation's name is on every page.
#[test]
fn the_first_run_leads_the_operator_from_the_log_to_a_signed_in_admin() -> TestResult {
    let mut k = Koerier::new()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let log = w.join("serve.log");
    k.start_logged(&log)?;
    let mut link = None;
    wait_until(Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        link = text.split_whitespace().find(|word| word.contains("/setup/")).map(str::to_owned);
        link.is_some()
    });
    let link = link.ok_or("no setup link in the log")?;
    assert!(link.starts_with(&k.url("/setup/")), "{link}");
    browse(
        &json!({"viewport": "desktop", "out": w, "locale": "nl", "steps": [
        {"goto": link}, {"axe": "setup"}, {"walk": 20, "name": "setup"}]}),
        w,
    )?;
    let b = Browser::new(w, "operator");
    let (status, _, page) = b.request(&[&link])?;
    assert_eq!(status, 200);
    let csrf = Browser::csrf(&page)?;
    let form = |email: &str| {
        format!(
            "csrf={csrf}&lang=nl&organisation=Inspectie Gezondheidszorg en Jeugd&domains=igj.nl%0Aminvws.nl\
             &name=Beheer&email={email}&password=beheer met een lang wachtwoord&password_again=beheer met een lang wachtwoord"
        )
    };
    let (status, _, _) = b.request(&["-d", &form("beheer@example.org"), &link])?;
    assert_eq!(status, 303);
    let (_, _, page) = b.request(&[&link])?;
    let html = String::from_utf8_lossy(&page);
    assert!(
        html.contains("must be at one of the organisation") && html.contains("igj.nl"),
        "kept, with the reason: {html}"
    );
    let (status, head, _) = b.request(&["-d", &form("beheer@igj.nl"), &link])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?lang=nl")));
    let (_, _, page) = b.request(&[&k.url("/signin?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(
        html.contains("De organisatie is ingericht") && html.contains("Inspectie Gezondheidszorg en Jeugd"),
        "{html}"
    );
    let admin =
        User { email: "beheer@igj.nl".into(), password: "beheer met een lang wachtwoord".into(), key: w.join("none") };
    let (ab, csrf) = signed_in(&k, w, &admin, "admin")?;

    // The admin page: a partner account with a key that signs in over
    // SFTP, a staff account disabled and enabled, a role, a domain.
    let post = |path: &str, form: &str| -> Result<String, door::Error> {
        let (status, head, _) = ab.request(&["-d", &format!("csrf={csrf}&lang=nl&{form}"), &k.url(path)])?;
        assert_eq!((status, header(&head, "location")), (303, Some("/admin?lang=nl")), "{path}");
        let (_, _, page) = ab.request(&[&k.url("/admin?lang=nl")])?;
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    let html = post("/admin/accounts", "name=Partner BV&email=upload@partner.example&role=partner")?;
    assert!(html.contains("Het account is aangemaakt") && html.contains("<code class=\"secret\">"), "{html}");
    let key = w.join("partner_key");
    let made =
        std::process::Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&key).status()?;
    assert!(made.success());
    let public = std::fs::read_to_string(key.with_extension("pub"))?;
    let html = post("/admin/keys", &format!("email=upload@partner.example&key={}", percent(public.trim())))?;
    assert!(html.contains("De sleutel is toegevoegd: SHA256:"), "{html}");
    let partner = User { email: "upload@partner.example".into(), password: String::new(), key };
    let out = k.sftp_batch(&partner, w, "ls\n")?;
    assert!(out.status.success(), "the partner signs in with the key: {}", text(&out));
    post("/admin/accounts", "name=Kees&email=kees@igj.nl&role=staff")?;
    let html = post("/admin/disable", "email=kees@igj.nl")?;
    assert!(html.contains("uitgeschakeld"), "{html}");
    let html = post("/admin/disable", "email=beheer@igj.nl")?;
    assert!(html.contains("cannot disable their own account"), "{html}");
    post("/admin/enable", "email=kees@igj.nl")?;
    let html = post("/admin/role", "email=kees@igj.nl&role=admin")?;
    assert!(html.contains("Opgeslagen"), "{html}");
    let html = post("/admin/domains", "domain=rivm.nl")?;
    assert!(html.contains("rivm.nl"), "{html}");
    let html = post("/admin/domains/remove", "domain=rivm.nl")?;
    assert!(!html.contains("<li>rivm.nl"), "{html}");
    browse(
        &json!({"viewport": "desktop", "out": w, "locale": "nl", "steps": [
        {"goto": k.url("/signin?lang=nl")}, {"tabTo": "E-mailadres"}, {"type": admin.email},
        {"tabTo": "Wachtwoord"}, {"type": admin.password}, {"tabTo": "Inloggen"}, {"key": "Enter"},
        {"waitUrl": "/home"}, {"tabTo": "Beheer"}, {"key": "Enter"}, {"waitUrl": "/admin"}, {"axe": "admin"}]}),
        w,
    )?;
    assert_eq!(b.request(&[&link])?.0, 410, "the link opens nothing now");
    let staff = k.user("jan@minvws.nl", "Jan", "staff")?;
    let (jb, _) = signed_in(&k, w, &staff, "jan")?;
    assert_eq!(jb.request(&[&k.url("/admin?lang=nl")])?.0, 403, "staff have no admin page");
    let domains = k.ok(&["domain", "list"], None)?;
    assert!(domains.contains("igj.nl") && domains.contains("minvws.nl"), "{domains}");
    // A restart with an admin prints no link.
    k.stop()?;
    let again = w.join("again.log");
    k.start_logged(&again)?;
    std::thread::sleep(Duration::from_secs(1));
    assert!(!std::fs::read_to_string(&again)?.contains("/setup/"), "no second setup");
    k.stop()
}

/// The code an authenticator app shows for `secret` (as the page shows it)
/// `steps` time steps of 30 seconds from now.
fn app_code(secret: &str, steps: i64) -> Result<String, door::Error> {
    let typed: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes: [u8; 20] = data_encoding::BASE32_NOPAD.decode(typed.as_bytes())?.try_into().map_err(|_| "160 bits")?;
    let app = totp_rs::Builder::new().with_secret(totp_rs::Secret::new_stack(bytes)).build()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    Ok(app.generate(now.saturating_add_signed(steps * 30)).to_string())
}

/// What a page shows between `from` and the next `<`.
fn shown<'a>(html: &'a str, from: &str) -> Option<&'a str> {
    html.split(from).nth(1).and_then(|r| r.split('<').next())
}

/// Switch on the second step in the browser `b`: its secret and recovery codes.
fn switch_on(k: &Koerier, b: &Browser, csrf: &str) -> Result<(String, Vec<String>), door::Error> {
    let page = |b: &Browser| -> Result<String, door::Error> {
        let (status, _, page) = b.request(&[&k.url("/settings/second-step?lang=nl")])?;
        assert_eq!(status, 200);
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    assert!(page(b)?.contains("Tweestapsverificatie aanzetten"));
    let post = |path: &str, form: &str| -> Result<String, door::Error> {
        let (status, head, _) = b.request(&["-d", &format!("csrf={csrf}&lang=nl&{form}"), &k.url(path)])?;
        let back = (status, header(&head, "location"));
        assert_eq!(back, (303, Some("/settings/second-step?lang=nl")), "{path}: {head}");
        page(b)
    };
    let html = post("/settings/second-step/begin", "")?;
    assert!(html.contains("<svg role=\"img\" aria-label=\"QR-code voor uw authenticator-app\""), "{html}");
    let secret = shown(&html, "id=\"totp-secret\">").ok_or("no key shown")?.to_owned();
    let html = post("/settings/second-step/confirm", "code=000000")?;
    assert!(html.contains("Deze code klopt niet"), "{html}");
    // The code of the step before: the sign-in after this takes the next one.
    let html = post("/settings/second-step/confirm", &format!("code={}", app_code(&secret, -1)?))?;
    assert!(html.contains("Tweestapsverificatie staat aan"), "{html}");
    let codes: Vec<String> =
        html.split("<li><code>").skip(1).filter_map(|r| r.split('<').next()).map(str::to_owned).collect();
    assert_eq!(codes.len(), 10, "{html}");
    let again = page(b)?;
    assert!(!again.contains(&codes[0]) && again.contains("Herstelcodes nog niet gebruikt: 10"), "shown once");
    Ok((secret, codes))
}

/// TOTP: switched on in the settings (QR code, key, a wrong code refused,
/// ten recovery codes shown once), then asked at every sign-in after the
/// password, a code taken once, a recovery code as well; the password no
/// longer opens WebDAV. When the admin requires it, a colleague without it
/// is led to its setup and opens nothing else.
#[test]
fn staff_switch_on_the_second_step_and_the_admin_can_require_it() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    let anna = k.user("anna@minvws.nl", "Anna Admin", "admin")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let (b, csrf) = signed_in(&k, w, &jan, "jan")?;
    let (secret, codes) = switch_on(&k, &b, &csrf)?;

    let code_page = |b: &Browser| -> Result<String, door::Error> {
        assert_eq!(password_step(&k, b, &jan)?.1, "/signin/code?lang=nl", "the code is asked");
        assert_eq!(b.request(&[&k.url("/home?lang=nl")])?.0, 303, "not signed in yet");
        let (status, _, page) = b.request(&[&k.url("/signin/code?lang=nl")])?;
        assert_eq!(status, 200);
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    let answer = |b: &Browser, code: &str| -> Result<(u16, Option<String>), door::Error> {
        let (_, _, page) = b.request(&[&k.url("/signin/code?lang=nl")])?;
        let form = format!("csrf={}&lang=nl&code={code}", Browser::csrf(&page)?);
        let (status, head, _) = b.request(&["-d", &form, &k.url("/signin/code")])?;
        Ok((status, header(&head, "location").map(str::to_owned)))
    };
    let phone = Browser::new(w, "jan-phone");
    let html = code_page(&phone)?;
    assert!(html.contains("autocomplete=\"one-time-code\"") && html.contains("herstelcodes"), "{html}");
    assert_eq!(answer(&phone, "123456")?, (303, Some("/signin/code?lang=nl".into())));
    let (_, _, page) = phone.request(&[&k.url("/signin/code?lang=nl")])?;
    assert!(String::from_utf8_lossy(&page).contains("Deze code klopt niet"));
    let now = app_code(&secret, 0)?;
    assert_eq!(answer(&phone, &now)?, (303, Some("/home?lang=nl".into())));
    assert_eq!(phone.request(&[&k.url("/home?lang=nl")])?.0, 200, "signed in with both steps");

    // The same code again is spent; a recovery code works, once.
    let other = Browser::new(w, "jan-other");
    code_page(&other)?;
    assert_eq!(answer(&other, &now)?.1.as_deref(), Some("/signin/code?lang=nl"), "a code works once");
    assert_eq!(answer(&other, &codes[0].to_uppercase())?.1.as_deref(), Some("/home?lang=nl"));
    let third = Browser::new(w, "jan-third");
    code_page(&third)?;
    assert_eq!(answer(&third, &codes[0])?.1.as_deref(), Some("/signin/code?lang=nl"), "once");

    // Over WebDAV the password opens nothing now.
    let out = browser::curl(&[
        "-sk",
        "-w",
        "%{http_code}",
        "-u",
        &format!("{}:{}", jan.email, jan.password),
        "-X",
        "PROPFIND",
        "-H",
        "Depth: 0",
        &k.url("/dav/"),
    ])?;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.ends_with("401") && said.contains("app password"), "the password alone, and why: {said}");

    // The admin requires it: Kees, without it, is led to its setup.
    let (admin, admin_csrf) = signed_in(&k, w, &anna, "anna")?;
    let (_, _, page) = admin.request(&[&k.url("/admin?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    let unticked = "name=\"require\" type=\"checkbox\" value=\"on\" aria-describedby=\"require-hint\">";
    assert!(html.contains("Verplicht voor alle medewerkers") && html.contains(unticked), "{html}");
    let form = format!("csrf={admin_csrf}&lang=nl&require=on");
    assert_eq!(admin.request(&["-d", &form, &k.url("/admin/second-step")])?.0, 303);
    // The admin too: the rule is for every account with pages.
    let (status, head, _) = admin.request(&[&k.url("/admin?lang=nl")])?;
    assert_eq!((status, header(&head, "location")), (303, Some("/settings/second-step?lang=nl")));
    let (kb, kees_csrf) = signed_in(&k, w, &kees, "kees")?;
    for path in ["/home?lang=nl", "/settings?lang=nl", "/addressbook?lang=nl"] {
        let (status, head, _) = kb.request(&[&k.url(path)])?;
        assert_eq!((status, header(&head, "location")), (303, Some("/settings/second-step?lang=nl")), "{path}");
    }
    let (_, _, page) = kb.request(&[&k.url("/settings/second-step?lang=nl")])?;
    assert!(String::from_utf8_lossy(&page).contains("Uw organisatie vraagt een tweede stap"), "said why");
    switch_on(&k, &kb, &kees_csrf)?;
    assert_eq!(kb.request(&[&k.url("/home?lang=nl")])?.0, 200, "set up, the pages open");
    let (_, _, page) = kb.request(&[&k.url("/settings/second-step?lang=nl")])?;
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("uitzetten kan daarom niet") && !html.contains("/settings/second-step/off"), "{html}");
    k.stop()
}

/// The second step in Chromium by keyboard, in both languages, axe-core on
/// every state: off, being set up (the QR code), the code asked at sign-in
/// (the field has the focus), on.
#[test]
fn in_chromium_the_second_step_is_set_up_and_asked_by_keyboard() -> TestResult {
    let mut k = Koerier::new()?;
    let users = [
        ("nl", k.user("jan@minvws.nl", "Jan Jansen", "staff")?, k.user("kees@minvws.nl", "Kees de Vries", "staff")?),
        ("en", k.user("piet@minvws.nl", "Piet Pieters", "staff")?, k.user("anna@minvws.nl", "Anna Smit", "staff")?),
    ];
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    for (lang, on, off) in &users {
        let (b, csrf) = signed_in(&k, w, on, lang)?;
        let (secret, _) = switch_on(&k, &b, &csrf)?;
        let (begin, scan, sign_in, sign_out, on_text) = match *lang {
            "nl" => ("Tweestapsverificatie aanzetten", "Scan deze QR-code", "Inloggen", "Uitloggen", "Staat aan"),
            _ => ("Switch on two-step verification", "Scan this QR code", "Sign in", "Sign out", "On: after"),
        };
        let shots = w.join(format!("second-{lang}"));
        std::fs::create_dir_all(&shots)?;
        let password_steps = |user: &User| {
            vec![
                json!({"goto": k.url(&format!("/signin?lang={lang}"))}),
                json!({"tabTo": if *lang == "nl" { "E-mailadres" } else { "Email address" }}),
                json!({"type": user.email}),
                json!({"tabTo": if *lang == "nl" { "Wachtwoord" } else { "Password" }}),
                json!({"type": user.password}),
                json!({"tabTo": sign_in}),
                json!({"key": "Enter"}),
            ]
        };
        let mut steps = password_steps(off);
        steps.extend([
            json!({"waitUrl": "/home"}),
            json!({"goto": k.url(&format!("/settings/second-step?lang={lang}"))}),
            json!({"axe": "off"}),
            json!({"tabTo": begin}),
            json!({"key": "Enter"}),
            json!({"waitText": scan}),
            json!({"axe": "setup"}),
            json!({"shot": "setup"}),
            json!({"tabTo": sign_out}),
            json!({"key": "Enter"}),
            json!({"waitUrl": "/signin"}),
        ]);
        steps.extend(password_steps(on));
        // A code of this step: the setup took the one before.
        let code = app_code(&secret, 0)?;
        steps.extend([
            json!({"waitUrl": "/signin/code"}),
            json!({"axe": "code"}),
            json!({"shot": "code"}),
            json!({"type": code}),
            json!({"key": "Enter"}),
            json!({"waitUrl": "/home"}),
            json!({"goto": k.url(&format!("/settings/second-step?lang={lang}"))}),
            json!({"axe": "on"}),
            json!({"text": "on"}),
        ]);
        let seen = browse(&json!({"viewport": "desktop", "out": shots, "locale": lang, "steps": steps}), w)?;
        let on_page = seen["texts"]["on"].as_str().unwrap_or_default();
        assert!(on_page.contains(on_text), "{seen}");
    }
    k.stop()
}

/// The `action` of the form or the `href` of the link whose row contains
/// `row` and whose target ends with `tail` (slashes unescaped).
fn target(html: &str, row: &str, tail: &str) -> Option<String> {
    let html = html.replace("&#x2f;", "/");
    html.split("<tr")
        .filter(|r| r.contains(row))
        .flat_map(|r| r.split(['"', '?']).map(str::to_owned).collect::<Vec<_>>())
        .find(|part| part.starts_with('/') && part.ends_with(tail))
}

/// Kees, signed in, reaches none of Jan's things through any page: his
/// message to someone else, his draft, his SSH key, his app password, his
/// request, his contact and his template, by every URL that takes an id or
/// a name, read or written. Each is refused (404, as for what does not
/// exist) and all of Jan's things are as they were.
#[test]
fn a_staff_member_reaches_nothing_of_another_through_any_page() -> TestResult {
    let mut k = Koerier::new()?;
    let (jan_user, kees_user) = sent(&k)?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let (jan, jan_csrf) = signed_in(&k, w, &jan_user, "jan")?;
    let (kees, kees_csrf) = signed_in(&k, w, &kees_user, "kees")?;
    let page = |b: &Browser, path: &str| -> Result<String, door::Error> {
        let (status, _, body) = b.request(&[&k.url(path)])?;
        assert_eq!(status, 200, "{path}");
        Ok(String::from_utf8_lossy(&body).into_owned())
    };
    let jan_post = |path: &str, form: &str| -> Result<(u16, String), door::Error> {
        let (status, head, _) = jan.request(&["-d", &format!("csrf={jan_csrf}&lang=nl&{form}"), &k.url(path)])?;
        Ok((status, header(&head, "location").unwrap_or_default().to_owned()))
    };

    // Jan's things: a message to Piet, a draft with a document, a key, an
    // app password, a request, a contact and a template.
    let message = target(&page(&jan, "/home?lang=nl")?, "Uw dossier", "").ok_or("no message link")?;
    let message = message.trim_end_matches('/').to_owned();
    assert!(message.starts_with("/messages/"), "{message}");
    let (status, draft) = jan_post("/drafts", "")?;
    assert_eq!(status, 303);
    let draft = draft.split('?').next().unwrap_or_default().to_owned();
    std::fs::write(w.join("nota.pdf"), pdf("nota"))?;
    let upload = format!("{}/documents?csrf={jan_csrf}&lang=nl", k.url(&draft));
    assert_eq!(jan.request(&["-F", &format!("documents=@{}", w.join("nota.pdf").display()), &upload])?.0, 303);
    jan_post("/settings/app-passwords", "label=Laptop")?;
    let settings = page(&jan, "/settings?lang=nl")?;
    let key = target(&settings, "jan@minvws.nl", "/remove").ok_or("no key")?;
    let app = target(&settings, "Laptop", "/revoke").ok_or("no app password")?;
    jan_post("/requests", "to_name=Lisa&to_email=lisa@example.org&language=nl&text=Graag")?;
    let request = target(&page(&jan, "/requests?lang=nl")?, "lisa@example.org", "/withdraw").ok_or("no request")?;
    jan_post("/addressbook", "to_name=Carla&to_email=carla@example.org&to_phone=0612345678")?;
    jan_post("/templates", "name=Jaarstukken&subject=Jaarstukken 2026&language=nl")?;

    // Every page and form that takes one of them, as Kees.
    let form = |extra: &str| format!("csrf={kees_csrf}&lang=nl{extra}");
    let gets = [message.clone(), format!("{message}/pdf"), draft.clone()];
    let into_draft = format!("{}/documents?csrf={kees_csrf}&lang=nl", k.url(&draft));
    let (status, _, _) = kees.request(&["-F", &format!("documents=@{}", w.join("nota.pdf").display()), &into_draft])?;
    assert_eq!(status, 404, "a document into Jan's draft");
    let posts = [
        (format!("{draft}/remove"), form("&name=nota.pdf")),
        (format!("{draft}/send"), form("&action=send&to_email=kees@minvws.nl&subject=x")),
        (format!("{draft}/send"), form("&action=save&subject=overgenomen")),
        (format!("{draft}/discard"), form("")),
        (format!("{draft}/contact"), form("&email=carla@example.org")),
        (format!("{draft}/template"), form("&name=Jaarstukken")),
        (key.clone(), form("")),
        (app.clone(), form("")),
        (request.clone(), form("")),
    ];
    for path in &gets {
        let (status, _, body) = kees.request(&[&k.url(path)])?;
        assert_eq!(status, 404, "GET {path}: {}", String::from_utf8_lossy(&body));
    }
    for (path, body) in &posts {
        let (status, head, _) = kees.request(&["-d", body, &k.url(path)])?;
        assert_eq!(status, 404, "POST {path}: {head}");
    }
    // The address book and templates are each one's own: Kees's removal of
    // a name he does not have leaves Jan's.
    kees.request(&["-d", &form("&email=carla@example.org"), &k.url("/addressbook/remove")])?;
    kees.request(&["-d", &form("&name=Jaarstukken"), &k.url("/templates/remove")])?;
    assert!(!page(&kees, "/addressbook?lang=nl")?.contains("carla@example.org"));
    assert!(!page(&kees, "/templates?lang=nl")?.contains("Jaarstukken"));
    // Nor through the upload endpoint with his own token for Jan's draft.
    let draft_id = draft.trim_start_matches("/drafts/");
    let (status, _, _) = kees.request(&[
        "-H",
        &format!("Authorization: Bearer draft:{draft_id}:{kees_csrf}"),
        "-H",
        "Tus-Resumable: 1.0.0",
        "-H",
        "Upload-Length: 3",
        "-H",
        "Upload-Metadata: filename bS5wZGY=",
        "-X",
        "POST",
        &k.url("/tus"),
    ])?;
    assert!(matches!(status, 401 | 403 | 404), "tus for Jan's draft: {status}");
    // Kees's own overview knows nothing of Jan's message to Piet.
    for side in ["sent", "received"] {
        assert!(!page(&kees, &format!("/home?lang=nl&side={side}&q=dossier"))?.contains("Uw dossier"), "{side}");
    }

    // Jan's things are as they were.
    assert!(page(&jan, &format!("{message}?lang=nl"))?.contains("brief.pdf"));
    let draft_page = page(&jan, &format!("{draft}?lang=nl"))?;
    assert!(draft_page.contains("nota.pdf") && !draft_page.contains("overgenomen"), "{draft_page}");
    let settings = page(&jan, "/settings?lang=nl")?;
    assert_eq!(target(&settings, "jan@minvws.nl", "/remove"), Some(key));
    assert_eq!(target(&settings, "Laptop", "/revoke"), Some(app));
    assert_eq!(target(&page(&jan, "/requests?lang=nl")?, "lisa@example.org", "/withdraw"), Some(request));
    assert!(page(&jan, "/addressbook?lang=nl")?.contains("carla@example.org"));
    assert!(page(&jan, "/templates?lang=nl")?.contains("Jaarstukken"));
    k.stop()
}

/// A new staff member's first day in Chromium, by keyboard, in Dutch and in
/// English, axe-core on every page: register, the verification link from the mail, sign in,
/// send two documents to Piet outside; Piet opens his mail's link, types the
/// SMS code and downloads both; Lotte's overview says "downloaded", the
/// report lists Piet's downloads, its PDF downloads and `koerier report
/// verify` accepts it. Then she asks Lisa for documents; Lisa answers in her
/// browser and the document is in Lotte's inbox, byte for byte.
#[test]
fn in_chromium_a_new_staff_members_first_day_from_registering_to_a_verified_report() -> TestResult {
    for lang in ["nl", "en"] {
        first_day(lang)?;
    }
    Ok(())
}

/// The words a person looks for on the pages of the first day, in `lang`.
fn first_day_words(lang: &str) -> std::collections::HashMap<&'static str, &'static str> {
    let pairs: [(&str, &str, &str); 24] = [
        ("your_name", "Uw naam", "Your name"),
        ("email", "E-mailadres", "Email address"),
        ("password", "Wachtwoord", "Password"),
        ("password_again", "Wachtwoord nogmaals", "Password again"),
        ("create", "Account aanmaken", "Create account"),
        ("check_mail", "Kijk in uw e-mail", "Check your e-mail"),
        ("confirm", "Bevestigen", "Confirm"),
        ("confirmed", "Uw e-mailadres is bevestigd", "Your email address is confirmed"),
        ("sign_in", "Inloggen", "Sign in"),
        ("new_message", "Verstuur een bericht", "Send a message"),
        ("choose", "kies bestanden", "choose files"),
        ("to_name", "Naam van de ontvanger", "Recipient's name"),
        ("to_email", "E-mailadres van de ontvanger", "Recipient's email address"),
        ("to_phone", "Mobiel nummer van de ontvanger", "Recipient's mobile number"),
        ("subject", "Onderwerp", "Subject"),
        ("send", "Verstuur bericht", "Send message"),
        ("not_downloaded", "Verzonden, nog niet gedownload", "Sent, not downloaded yet"),
        ("sms_code", "Code uit de sms", "Code from the text message"),
        ("download", "Downloaden", "Download"),
        ("downloaded", "Gedownload op", "Downloaded on"),
        ("report_pdf", "Download rapportage", "Download report"),
        ("ask", "Verstuur verzoek", "Send request"),
        ("send_documents", "Verstuur document(en)", "Send document(s)"),
        ("answered", "Uw documenten zijn verstuurd aan", "Your documents were sent to"),
    ];
    pairs.iter().map(|(key, nl, en)| (*key, if lang == "nl" { *nl } else { *en })).collect()
}

fn first_day(lang: &str) -> TestResult {
    let t = first_day_words(lang);
    let mut k = Koerier::new()?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let password = "drie blauwe fietsen op het dak";
    let (plan, letter) = (pdf_of_size("plan", 2_000_000), pdf("brief aan Piet"));
    std::fs::write(w.join("plan.pdf"), &plan)?;
    std::fs::write(w.join("brief.pdf"), &letter)?;
    let run = |name: &str, steps: serde_json::Value| -> Result<serde_json::Value, door::Error> {
        let out = w.join(name);
        std::fs::create_dir_all(&out)?;
        browse(&json!({"viewport": "desktop", "out": out, "locale": lang, "steps": steps}), w)
    };
    let sign_in = [
        json!({"goto": k.url(&format!("/signin?lang={lang}"))}),
        json!({"tabTo": t["email"]}),
        json!({"type": "lotte@minvws.nl"}),
        json!({"tabTo": t["password"]}),
        json!({"type": password}),
        json!({"tabTo": t["sign_in"]}),
        json!({"key": "Enter"}),
        json!({"waitUrl": "/home"}),
    ];

    run(
        "register",
        json!([
            {"goto": k.url(&format!("/register?lang={lang}"))},
            {"tabTo": t["your_name"]}, {"type": "Lotte de Graaf"}, {"tabTo": t["email"]}, {"type": "lotte@minvws.nl"},
            {"tabTo": t["password"]}, {"type": password}, {"tabTo": t["password_again"]}, {"type": password},
            {"tabTo": t["create"]}, {"key": "Enter"}, {"waitText": t["check_mail"]}, {"axe": "check-mail"},
        ]),
    )?;
    let verify = mailed(&k, "lotte@minvws.nl", "/verify/")?;
    let mut steps = vec![
        json!({"goto": k.url(&format!("/verify/{verify}?lang={lang}"))}),
        json!({"axe": "verify"}),
        json!({"tabTo": t["confirm"]}),
        json!({"key": "Enter"}),
        json!({"waitText": t["confirmed"]}),
    ];
    steps.extend(sign_in.clone());
    steps.extend([
        json!({"tabTo": t["new_message"]}),
        json!({"key": "Enter"}),
        json!({"waitUrl": "/drafts/"}),
        json!({"chooseFiles": {"control": t["choose"], "paths": [w.join("plan.pdf"), w.join("brief.pdf")]}}),
        json!({"waitSelector": "ul.documents li:has-text('brief.pdf')"}),
        json!({"waitSelector": "ul.documents li:has-text('plan.pdf')"}),
        json!({"tabTo": t["to_name"]}),
        json!({"type": "Piet Puk"}),
        json!({"tabTo": t["to_email"]}),
        json!({"type": "piet@example.org"}),
        json!({"tabTo": t["to_phone"]}),
        json!({"type": "06 12345678"}),
        json!({"tabTo": t["subject"]}),
        json!({"type": "Uw plan"}),
        json!({"axe": "filled"}),
        json!({"tabTo": t["send"]}),
        json!({"key": "Enter"}),
        json!({"waitUrl": "/home"}),
        json!({"axe": "sent"}),
        json!({"text": "sent"}),
    ]);
    let seen = run("send", json!(steps))?;
    let sent = seen["texts"]["sent"].as_str().unwrap_or_default();
    assert!(sent.contains("Uw plan") && sent.contains(t["not_downloaded"]), "{seen}");

    // Piet: the link from his mail, the code from his SMS, both documents.
    let link = mailed(&k, "piet@example.org", "/l/")?;
    let sms = k.path().join("data/sms");
    assert!(wait_until(Duration::from_secs(30), || std::fs::read_dir(&sms).map(|d| d.count()).unwrap_or(0) == 1));
    let (code, to) = sms::latest_code(&sms)?;
    assert_eq!(to, "+31612345678");
    let got = (w.join("got-plan.pdf"), w.join("got-brief.pdf"));
    run(
        "redeem",
        json!([
            {"goto": k.url(&format!("/l/{link}?lang={lang}"))}, {"axe": "code"},
            {"tabTo": t["sms_code"]}, {"type": code}, {"key": "Enter"}, {"waitText": "brief.pdf"},
            {"axe": "download"},
            {"download": {"control": format!("{} plan.pdf", t["download"]), "save": got.0}},
            {"download": {"control": format!("{} brief.pdf", t["download"]), "save": got.1}},
        ]),
    )?;
    assert!(std::fs::read(&got.0)? == plan && std::fs::read(&got.1)? == letter, "byte for byte");

    // Lotte: downloaded, the report lists it, its PDF verifies.
    let report_pdf = w.join("rapportage.pdf");
    let mut steps = sign_in.to_vec();
    steps.extend([
        json!({"waitText": t["downloaded"]}),
        json!({"axe": "downloaded"}),
        json!({"tabTo": "Uw plan"}),
        json!({"key": "Enter"}),
        json!({"waitUrl": "/messages/"}),
        json!({"axe": "report"}),
        json!({"text": "report"}),
        json!({"download": {"control": t["report_pdf"], "save": report_pdf}}),
        json!({"goto": k.url(&format!("/requests?lang={lang}"))}),
        json!({"tabTo": t["to_name"]}),
        json!({"type": "Lisa Smit"}),
        json!({"tabTo": t["to_email"]}),
        json!({"type": "lisa@example.org"}),
        json!({"tabTo": t["ask"]}),
        json!({"key": "Enter"}),
        json!({"waitText": "lisa@example.org"}),
        json!({"axe": "asked"}),
    ]);
    let seen = run("report", json!(steps))?;
    let report = seen["texts"]["report"].as_str().unwrap_or_default();
    assert!(report.contains("piet@example.org") && report.contains("plan.pdf"), "{seen}");
    assert!(report.matches("sms").count() + report.matches("SMS").count() >= 1, "proven by the SMS code: {report}");
    let verified = k.ok(&["report", "verify", &report_pdf.to_string_lossy()], None)?;
    assert!(verified.contains("the proof is valid"), "{verified}");

    // Lisa answers in her browser; the document is in Lotte's inbox.
    let outbox = k.path().join("data/mail");
    let written = || mail::request_mail(&outbox, "lisa@example.org").is_ok();
    assert!(wait_until(Duration::from_secs(30), written), "the request mail to Lisa");
    let asked = mail::request_mail(&outbox, "lisa@example.org")?;
    let answer = pdf_of_size("antwoord van Lisa", 1_500_000);
    std::fs::write(w.join("antwoord.pdf"), &answer)?;
    run(
        "answer",
        json!([
            {"goto": k.url(&format!("/r/{}?lang={lang}", asked.secret))}, {"axe": "request"},
            {"chooseFiles": {"control": t["choose"], "paths": [w.join("antwoord.pdf")]}},
            {"waitSelector": "ul.documents li:has-text('antwoord.pdf')"},
            {"tabTo": t["send_documents"]}, {"key": "Enter"}, {"waitText": t["answered"]},
            {"axe": "answered"},
        ]),
    )?;
    let mut steps = sign_in.to_vec();
    steps.extend([
        json!({"goto": k.url(&format!("/home?lang={lang}&side=received"))}),
        json!({"axe": "received"}),
        json!({"text": "received"}),
    ]);
    let seen = run("inbox", json!(steps))?;
    assert!(seen["texts"]["received"].as_str().unwrap_or_default().contains("lisa@example.org"), "{seen}");
    let key = w.join("lotte-key");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "lotte", "-f"])
        .arg(&key)
        .status()?;
    assert!(made.success());
    k.ok(&["account", "add-key", "--email", "lotte@minvws.nl", &key.with_extension("pub").to_string_lossy()], None)?;
    let lotte = User { email: "lotte@minvws.nl".into(), password: password.into(), key };
    let got = k.sftp_batch(&lotte, w, "get inbox/*/antwoord.pdf from-lisa.pdf\n")?;
    assert!(got.status.success(), "{}", text(&got));
    assert!(std::fs::read(w.join("from-lisa.pdf"))? == answer, "byte for byte");
    k.stop()
}

/// A PDF of about `size` bytes that starts with a real PDF header.
fn pdf_of_size(words: &str, size: usize) -> Vec<u8> {
    let mut bytes = pdf(words);
    bytes.extend((0..size.saturating_sub(bytes.len())).map(|i| (i % 251) as u8));
    bytes
}

/// Without JavaScript the staff pages still work: sign in, a new message,
/// a document through the plain form, sent; the overview, a report and the
/// settings, with axe-core on each.
#[test]
fn in_chromium_without_javascript_staff_send_a_message() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let doc = pdf_of_size("zonder script", 1_000_000);
    std::fs::write(w.join("nota.pdf"), &doc)?;
    let seen = browse(
        &json!({"javascript": false, "out": w, "locale": "nl", "steps": [
            {"goto": k.url("/signin?lang=nl")}, {"axe": "signin"},
            {"tabTo": "E-mailadres"}, {"type": "jan@minvws.nl"}, {"tabTo": "Wachtwoord"}, {"type": jan.password},
            {"tabTo": "Inloggen"}, {"key": "Enter"}, {"waitUrl": "/home"}, {"axe": "home"},
            {"tabTo": "Verstuur een bericht"}, {"key": "Enter"}, {"waitUrl": "/drafts/"}, {"axe": "draft"},
            {"setFiles": {"selector": "#files", "paths": [w.join("nota.pdf")]}},
            {"tabTo": "Uploaden"}, {"key": "Enter"},
            {"waitSelector": "ul.documents li:has-text('nota.pdf')"}, {"axe": "added"},
            {"tabTo": "E-mailadres van de ontvanger"}, {"type": "kees@minvws.nl"},
            {"tabTo": "Onderwerp"}, {"type": "Nota"},
            {"tabTo": "Verstuur bericht"}, {"key": "Enter"}, {"waitUrl": "/home"}, {"axe": "sent"}, {"text": "sent"},
            {"tabTo": "Nota"}, {"key": "Enter"}, {"waitUrl": "/messages/"}, {"axe": "report"},
            {"goto": k.url("/settings?lang=nl")}, {"axe": "settings"},
            {"goto": k.url("/settings/second-step?lang=nl")}, {"axe": "second-step"},
        ]}),
        w,
    )?;
    assert!(seen["texts"]["sent"].as_str().unwrap_or_default().contains("Het bericht is verstuurd"), "{seen}");
    let got = k.sftp_batch(&kees, w, "get inbox/*/nota.pdf got.pdf\n")?;
    assert!(got.status.success(), "{}", text(&got));
    assert!(std::fs::read(w.join("got.pdf"))? == doc, "byte for byte");
    k.stop()
}

/// Wrong passwords count in one store whichever door they come by: two
/// over SFTP, two over WebDAV and two on the sign-in page reach the
/// account's limit (six here), and then even the right password on the
/// page is refused, saying why.
#[test]
fn sign_in_failures_over_sftp_webdav_and_the_web_count_together() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.set("KOERIER_RULES__ACCOUNT_FAILURES_PER_HOUR", "6");
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    let askpass = w.join("askpass.sh");
    std::fs::write(&askpass, "#!/bin/sh\necho 'not the password'\n")?;
    std::process::Command::new("chmod").arg("700").arg(&askpass).status()?;
    std::fs::write(w.join("batch.txt"), "ls\n")?;
    for _ in 0..2 {
        let out = std::process::Command::new("sftp")
            .args(["-o", "BatchMode=no", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
            .args(["-o", "LogLevel=ERROR", "-o", "PreferredAuthentications=password"])
            .args(["-o", "NumberOfPasswordPrompts=1", "-o", "User=jan@minvws.nl", "-P", &k.port.to_string()])
            .args(["-b", "batch.txt", "127.0.0.1"])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
            .current_dir(w)
            .output()?;
        assert!(!out.status.success(), "a wrong password over SFTP");
        let out = browser::curl(&[
            "-sk",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-u",
            "jan@minvws.nl:not the password",
            "-X",
            "PROPFIND",
            "-H",
            "Depth: 0",
            &k.url("/dav/"),
        ])?;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "401", "a wrong password over WebDAV");
    }
    let b = Browser::new(w, "jan");
    let try_password = |password: &str| -> Result<String, door::Error> {
        let (_, _, page) = b.request(&[&k.url("/signin?lang=nl")])?;
        let form = format!("csrf={}&lang=nl&email=jan@minvws.nl&password={password}", Browser::csrf(&page)?);
        let (status, head, _) = b.request(&["-d", &form, &k.url("/signin")])?;
        assert_eq!((status, header(&head, "location")), (303, Some("/signin?lang=nl")), "not signed in");
        let (_, _, page) = b.request(&[&k.url("/signin?lang=nl")])?;
        Ok(String::from_utf8_lossy(&page).into_owned())
    };
    for _ in 0..2 {
        assert!(try_password("not the password")?.contains("klopt niet"));
    }
    let html = try_password(&jan.password)?;
    assert!(html.contains("Te veel mislukte pogingen"), "{html}");
    k.stop()
}
