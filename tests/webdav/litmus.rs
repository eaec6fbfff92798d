//! litmus, the WebDAV protocol test suite, through the full stack against
//! `/dav/outbox/`: litmus makes its `litmus/` collection there, which is a
//! new draft, and runs every suite inside it. The rules of SPEC section 3 make
//! some tests fail by design (litmus' names have no extension; a draft holds
//! no folders); the pass counts are asserted so that they cannot drop.

use std::collections::BTreeMap;
use std::process::Command;

use crate::server::{self, JAN, PASSWORD, Server, TestResult};

/// Passes per suite measured with this door; a change that loses one fails.
const EXPECTED: [(&str, u32); 5] = [("basic", 8), ("copymove", 5), ("props", 9), ("locks", 7), ("http", 3)];

/// `suite -> (passed, failed)` from litmus' summary lines.
fn summaries(output: &str) -> BTreeMap<String, (u32, u32)> {
    let mut out = BTreeMap::new();
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("<- summary for `") else { continue };
        let Some((suite, counts)) = rest.split_once("':") else { continue };
        let number = |label: &str| {
            counts.split([',', ':', '.']).find_map(|part| part.trim().strip_suffix(label)?.trim().parse::<u32>().ok())
        };
        out.insert(suite.to_owned(), (number("passed").unwrap_or(0), number("failed").unwrap_or(0)));
    }
    out
}

#[test]
fn litmus_passes_what_the_rules_allow() -> TestResult {
    server::need("litmus")?;
    let s = Server::start(&[])?;
    let out = Command::new("litmus")
        .arg("-k")
        .arg(s.url("/dav/outbox/"))
        .args([JAN, PASSWORD])
        .current_dir(s.dir.path())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{text}");
    let counts = summaries(&text);
    let total: u32 = counts.values().map(|(p, _)| p).sum();
    eprintln!("litmus passes: {counts:?}, {total} in total");
    for (suite, expected) in EXPECTED {
        let passed = counts.get(suite).map(|(p, _)| *p).unwrap_or(0);
        assert!(passed >= expected, "litmus {suite}: {passed} passes, expected at least {expected}");
    }
    Ok(())
}
