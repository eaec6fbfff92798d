//! Loopback ports for the servers and peers a test starts, and the store
//! their documents are kept in.
//!
//! Asking the kernel for a free port (`bind` to port 0, then let go) races: a
//! test running beside this one, or a client's source port, can take the same
//! port before our server binds it, and the test then talks to someone else's
//! server. So ports come from below the kernel's ephemeral range (32768 and
//! up), which neither of those ever uses, each handed out once per test
//! process and checked free at the time.

use std::sync::atomic::{AtomicU32, Ordering};

const FIRST: u32 = 20_000;
const COUNT: u32 = 12_000;

static HANDED_OUT: AtomicU32 = AtomicU32::new(0);

/// A loopback port no other test of this process has had, free right now.
pub fn free_port() -> Result<u16, Box<dyn std::error::Error + Send + Sync>> {
    // Test programs run one after another; starting where the process id
    // points keeps one from reusing the ports the last one left in TIME_WAIT.
    let start = std::process::id() % COUNT;
    for _ in 0..COUNT {
        let n = HANDED_OUT.fetch_add(1, Ordering::Relaxed);
        let port = u16::try_from(FIRST + (start + n) % COUNT)?;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free loopback port between 20000 and 32000".into())
}

/// Settings that keep a test server's documents in the S3 server that
/// `scripts/test` starts, under a prefix of the server's own (its folder's
/// name), when `KOERIER_TEST_STORE=s3`; none otherwise (its data folder).
#[allow(dead_code, reason = "used by the test programs that start servers, not by all that take ports")]
pub fn store_env(dir: &std::path::Path) -> Result<Vec<(String, String)>, Box<dyn std::error::Error + Send + Sync>> {
    if std::env::var("KOERIER_TEST_STORE").as_deref() != Ok("s3") {
        return Ok(Vec::new());
    }
    let endpoint = std::env::var("KOERIER_TEST_S3_ENDPOINT").map_err(
        |_| "KOERIER_TEST_STORE=s3 needs KOERIER_TEST_S3_ENDPOINT: run scripts/test, which starts an S3 server (moto)",
    )?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(vec![
        ("KOERIER_STORE_URL".to_owned(), format!("s3://koerier-test/doors-{name}")),
        ("KOERIER_S3_ENDPOINT".to_owned(), endpoint),
        ("KOERIER_S3_REGION".to_owned(), "us-east-1".to_owned()),
    ])
}
