//! Staff in the browser, end to end against the real binary: signing in and
//! out, and the overview of sent and received messages with its states, its
//! search and its pages; with curl as the requests and in Chromium by
//! keyboard, with axe-core on every page state.

#[path = "binary/browser.rs"]
mod browser;
#[path = "sftp/mod.rs"]
mod door;
mod ports;

use browser::{Browser, browse, header};
use door::{Koerier, TestResult, User, pdf, text};
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
        assert!(said("signed-out").contains(if lang == "nl" { "uitgelogd" } else { "signed out" }), "{seen}");
        let walk = seen["walks"]["home"].as_array().cloned().unwrap_or_default();
        assert!(walk.iter().all(|r| r["outlined"] == true), "every control shows its focus: {walk:?}");
    }
    k.stop()
}

fn sent_tab(lang: &str) -> &'static str {
    if lang == "nl" { "Verzonden berichten" } else { "Sent messages" }
}
