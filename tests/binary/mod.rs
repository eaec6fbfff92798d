//! Running the real binary in a test: the embedded default in a folder of the
//! test's own, whatever the environment of the test run says.

pub mod mail;

use std::path::Path;
use std::process::{Command, Output};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Run `koerier` with these arguments in `dir`.
pub fn koerier(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_koerier"))
        .args(args)
        .current_dir(dir)
        .env_remove("KOERIER_DATABASE_URL")
        .env_remove("KOERIER_DATA_DIR")
        .env("KOERIER_LOG", "warn")
        .output()
}

/// The standard output of a command that must have succeeded.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
