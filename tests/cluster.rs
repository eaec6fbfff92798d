//! One of many nodes: a node given `KOERIER_CLUSTER=1` makes nothing of its
//! own (no key, no file of mail), says at start all it lacks, and uses the
//! keys it is given; and any node whose master key is not the database's
//! refuses to start.

#[path = "sftp/mod.rs"]
mod door;
mod ports;

use std::path::Path;
use std::process::Command;

use door::{Koerier, TestResult, text};

fn run(cmd: &mut Command) -> Result<(bool, String), door::Error> {
    let out = cmd.output()?;
    Ok((
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    ))
}

fn on_postgres() -> bool {
    std::env::var("KOERIER_TEST_DATABASE").is_ok_and(|d| d != "sqlite")
}

#[test]
fn a_node_of_a_cluster_names_everything_it_lacks_before_it_makes_anything() -> TestResult {
    let mut k = Koerier::new()?;
    let fresh = k.path().join("node-b");
    k.set("KOERIER_DATA_DIR", &fresh.to_string_lossy());
    k.set("KOERIER_CLUSTER", "1");
    for args in [&["config", "check"][..], &["serve"][..]] {
        let (ok, said) = run(&mut k.command(args))?;
        assert!(!ok, "{args:?} refused: {said}");
        for lacking in [
            "KOERIER_MASTER_KEY",
            "KOERIER_SSH_HOST_KEY_FILE",
            "KOERIER_REPORT_SIGNING_KEY_FILE",
            "KOERIER_HTTPS_CERT",
            "KOERIER_SMTP_URL",
            "KOERIER_SMS_URL",
        ] {
            assert!(said.contains(lacking), "{args:?} names {lacking}: {said}");
        }
        assert_eq!(said.contains("PostgreSQL"), !on_postgres(), "a cluster shares one PostgreSQL: {said}");
    }
    assert!(!fresh.exists(), "nothing made: not even the data folder");
    Ok(())
}

#[test]
fn a_node_with_another_master_key_refuses_to_start_and_changes_nothing() -> TestResult {
    let k = Koerier::new()?;
    k.ok(
        &["account", "create", "--email", "jan@minvws.nl", "--name", "Jan", "--password-stdin"],
        Some("een lang wachtwoord voor jan\n"),
    )?;
    let other = "YSFZe6Hvhcv19/hIpnBLtBp/+LoLivZsD7PNg/g7BsA=";
    let (ok, said) = run(k.command(&["account", "list"]).env("KOERIER_MASTER_KEY", other))?;
    assert!(!ok && said.contains("the master key is not the one this database was made with"), "{said}");
    let (ok, said) = run(k.command(&["serve"]).env("KOERIER_MASTER_KEY", other))?;
    assert!(!ok && said.contains("master key"), "serve refused: {said}");
    let listed = k.ok(&["account", "list"], None)?;
    assert!(listed.contains("jan@minvws.nl"), "the right key still opens all: {listed}");
    Ok(())
}

/// The keys a cluster's nodes share, made as an operator makes them.
fn shared_keys(dir: &Path) -> Result<(), door::Error> {
    let made = |cmd: &mut Command| -> Result<(), door::Error> {
        let out = cmd.current_dir(dir).output()?;
        if out.status.success() { Ok(()) } else { Err(format!("{cmd:?}: {}", text(&out)).into()) }
    };
    made(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f", "ssh_host_ed25519_key"]))?;
    made(Command::new("openssl").args(["genpkey", "-algorithm", "ed25519", "-out", "report-signing.key"]))?;
    made(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        "tls.key",
        "-out",
        "tls.crt",
    ]))?;
    std::fs::write(dir.join("master.key"), "a29lcmllciBjbHVzdGVyIHRlc3QgbWFzdGVyIGtleSEh")?;
    Ok(())
}

#[test]
fn a_node_of_a_cluster_serves_with_the_keys_it_is_given_and_makes_none() -> TestResult {
    let mut k = Koerier::new()?;
    let keys = tempfile::tempdir()?;
    shared_keys(keys.path())?;
    // The organisation's master key: the one its database was made with.
    std::fs::copy(k.path().join("data/keys/master.key"), keys.path().join("master.key"))?;
    let key = |name: &str| keys.path().join(name).to_string_lossy().into_owned();
    let fresh = k.path().join("node-b");
    for (setting, value) in [
        ("KOERIER_DATA_DIR", fresh.to_string_lossy().into_owned()),
        ("KOERIER_CLUSTER", "1".into()),
        ("KOERIER_MASTER_KEY_FILE", key("master.key")),
        ("KOERIER_SSH_HOST_KEY_FILE", key("ssh_host_ed25519_key")),
        ("KOERIER_REPORT_SIGNING_KEY_FILE", key("report-signing.key")),
        ("KOERIER_HTTPS_CERT", key("tls.crt")),
        ("KOERIER_HTTPS_KEY", key("tls.key")),
        ("KOERIER_SMTP_URL", "smtp://127.0.0.1:1".into()),
        ("KOERIER_SMS_URL", "https://127.0.0.1:1/sms".into()),
    ] {
        k.set(setting, &value);
    }
    if !on_postgres() {
        let (ok, said) = run(&mut k.command(&["serve"]))?;
        assert!(!ok && said.contains("PostgreSQL"), "on SQLite a cluster node does not start: {said}");
        return Ok(());
    }
    k.start()?;
    let scanned =
        Command::new("ssh-keyscan").args(["-t", "ed25519", "-p", &k.port.to_string(), "127.0.0.1"]).output()?;
    let given = std::fs::read_to_string(keys.path().join("ssh_host_ed25519_key.pub"))?;
    let blob = given.split_whitespace().nth(1).ok_or("a public key line")?;
    assert!(String::from_utf8_lossy(&scanned.stdout).contains(blob), "the given host key: {}", text(&scanned));
    let shown = k.ok(&["report", "key"], None)?;
    let public = Command::new("sh")
        .arg("-c")
        .arg("openssl pkey -in report-signing.key -pubout -outform DER | tail -c 32 | base64")
        .current_dir(keys.path())
        .output()?;
    let public = String::from_utf8_lossy(&public.stdout).trim().to_owned();
    assert!(shown.contains(&public) && shown.contains("report-signing.key"), "{shown} vs {public}");
    k.stop()?;
    let made: Vec<_> =
        std::fs::read_dir(fresh.join("keys")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(made.is_empty(), "no key made on the node's disk: {made:?}");
    assert!(!fresh.join("mail").exists() && !fresh.join("sms").exists(), "no mail or SMS files");
    Ok(())
}
