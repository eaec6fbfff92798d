//! A recipient's browser, played by curl against the real HTTPS listener: a
//! cookie jar of its own, the CSRF token of the page it was given, the code
//! posted as the form posts it, downloads to files. Shared by the tests that
//! end on the web (`tests/web.rs`, the cross-door scenarios).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A real curl against the self-signed certificate (`-k`). A missing curl
/// fails with what to do.
pub fn curl(args: &[&str]) -> Result<Output, Error> {
    match Command::new("curl").args(["-sk", "--max-time", "120"]).args(args).output() {
        Ok(out) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("curl is needed by the tests that use the web and is not installed: run scripts/setup".into())
        }
        Err(e) => Err(e.into()),
    }
}

/// A header's value from `curl -i`/`-D` output (case-insensitive).
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// SHA-256 of a file, by `sha256sum`.
pub fn sha256(path: &Path) -> Result<String, Error> {
    let out = Command::new("sha256sum").arg(path).output()?;
    if !out.status.success() {
        return Err(format!("sha256sum {}: {}", path.display(), String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?.split_whitespace().next().unwrap_or_default().to_owned())
}

/// One browser: its cookie jar and the headers of its last answer, in `dir`.
pub struct Browser {
    pub jar: PathBuf,
    head: PathBuf,
}

impl Browser {
    pub fn new(dir: &Path, name: &str) -> Browser {
        Browser { jar: dir.join(format!("{name}.cookies")), head: dir.join(format!("{name}.head")) }
    }

    /// A request with the jar; returns (status, headers, body).
    pub fn request(&self, args: &[&str]) -> Result<(u16, String, Vec<u8>), Error> {
        let jar = self.jar.to_string_lossy().into_owned();
        let head = self.head.to_string_lossy().into_owned();
        let mut all = vec!["-b", &jar, "-c", &jar, "-D", &head];
        all.extend_from_slice(args);
        let out = curl(&all)?;
        let head = std::fs::read_to_string(&self.head)?;
        // The final answer's status, after any `100 Continue`.
        let status = head
            .lines()
            .filter(|l| l.starts_with("HTTP/"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u16>().ok())
            .rfind(|s| *s >= 200)
            .unwrap_or(0);
        Ok((status, head, out.stdout))
    }

    /// The CSRF token in a page (the hidden field).
    pub fn csrf(page: &[u8]) -> Result<String, Error> {
        let page = String::from_utf8_lossy(page);
        let at = page.find("name=\"csrf\" value=\"").ok_or("no CSRF field on the page")?;
        Ok(page[at + 19..].chars().take_while(|c| c.is_ascii_hexdigit()).collect())
    }

    /// Open `link`, and post `code` with the page's CSRF token as its form
    /// does: the session that opens the documents, or why not.
    pub fn redeem(&self, link: &str, code: &str) -> Result<(), Error> {
        let (status, _, page) = self.request(&[link])?;
        if status != 200 {
            return Err(format!("{link} answered {status}: {}", String::from_utf8_lossy(&page)).into());
        }
        let form = format!("csrf={}&code={code}", Browser::csrf(&page)?);
        let (status, head, page) = self.request(&["-d", &form, &format!("{link}/code")])?;
        // A refused code is sent back to the code form (`#code`).
        if status != 303 || header(&head, "location").is_none_or(|l| l.contains('#')) {
            return Err(format!("the code was not taken ({status}): {head}{}", String::from_utf8_lossy(&page)).into());
        }
        Ok(())
    }

    /// Download `name` from a redeemed link into `to`; the status.
    pub fn download(&self, link: &str, name: &str, to: &Path) -> Result<u16, Error> {
        let url = format!("{link}/d/{}", name.replace(' ', "%20"));
        Ok(self.request(&["-o", &to.to_string_lossy(), &url])?.0)
    }
}

/// Run a plan of steps in Chromium (`tests/browser/flows.mjs`): what it saw.
pub fn browse(plan: &serde_json::Value, dir: &Path) -> Result<serde_json::Value, Error> {
    for program in ["node", "chromium"] {
        if Command::new("sh").args(["-c", &format!("command -v {program}")]).output()?.stdout.is_empty() {
            return Err(
                format!("{program} is needed by the browser tests and is not installed: run scripts/setup").into()
            );
        }
    }
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    for module in ["playwright-core", "axe-core"] {
        if !browser_dir.join("node_modules").join(module).is_dir() {
            return Err(format!("{module} is not installed in tests/browser: run scripts/setup").into());
        }
    }
    static PLANS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let file = dir.join(format!("plan-{}.json", PLANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    std::fs::write(&file, serde_json::to_vec(plan)?)?;
    let run = Command::new("node").arg(browser_dir.join("flows.mjs")).arg(&file).current_dir(&browser_dir).output()?;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&run.stdout)?;
    assert!(seen.get("error").is_none(), "the browser stopped: {}", seen["error"]);
    // Every state checked has no WCAG 2.1 A or AA violation.
    for (state, violations) in seen["axe"].as_object().into_iter().flatten() {
        assert_eq!(violations, &serde_json::json!([]), "axe-core in {state}");
    }
    assert_eq!(seen["console"], serde_json::json!([]), "no script errors");
    Ok(seen)
}

/// Standard base64 (the tus metadata of a request).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            match i <= chunk.len() {
                true => out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize])),
                false => out.push('='),
            }
        }
    }
    out
}
