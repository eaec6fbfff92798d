//! litmus, the WebDAV protocol test suite, through the full stack against
//! `/dav/outbox/`: litmus makes its `litmus/` collection there, which is a
//! new draft, and runs every suite inside it, collections (folders of the
//! draft, `[rules] folders = "zip"`) included. The pass counts are asserted
//! so that they cannot drop, and a failure must be one listed here with the
//! rule behind it: there is none.

use std::collections::BTreeMap;
use std::process::Command;

use crate::server::{self, JAN, PASSWORD, Server, TestResult};

/// Every test of every suite litmus runs. litmus' resources without an
/// extension (`res`, `lockme`) are temporary files of the draft, with full
/// file behaviour; its collections are folders of the draft.
const EXPECTED: [(&str, u32); 5] = [("basic", 16), ("copymove", 13), ("props", 30), ("locks", 41), ("http", 3)];

/// Every litmus test that fails, with the rule that makes it fail. Tests
/// that litmus skips after one of these are not run at all.
const RULED_OUT: [(&str, &str, &str); 0] = [];

/// `(suite, test)` of every failure in litmus' output.
fn failures(output: &str) -> Vec<(String, String)> {
    let mut suite = String::new();
    let mut out = Vec::new();
    for line in output.lines() {
        if let Some(rest) = line.trim().strip_prefix("-> running `") {
            suite = rest.trim_end_matches("':").to_owned();
            continue;
        }
        // litmus writes each test's line twice (the second with the result).
        let Some((head, _why)) = line.rsplit_once(" FAIL") else { continue };
        let name = head.rsplit(". ").next().unwrap_or("").trim_end_matches('.').trim();
        if !name.is_empty() {
            out.push((suite.clone(), name.to_owned()));
        }
    }
    out
}

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
    let failed = failures(&text);
    let failed_count: u32 = counts.values().map(|(_, f)| f).sum();
    assert_eq!(failed.len(), failed_count as usize, "every failure was read from the output: {failed:?}");
    for (suite, test) in &failed {
        let rule = RULED_OUT.iter().find(|(s, t, _)| s == suite && t == test).map(|(_, _, rule)| rule);
        assert!(rule.is_some(), "litmus {suite}/{test} failed, and no rule of SPEC section 3 explains it");
        eprintln!("litmus {suite}/{test} fails by rule: {}", rule.unwrap_or(&""));
    }
    Ok(())
}
