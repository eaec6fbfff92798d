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

/// Connects to `127.0.0.1:<port>`, sends a PROXY header naming `client`
/// (`v1` or `v2`), then relays stdin and stdout: what a load balancer does,
/// for OpenSSH's `ProxyCommand`; or, given a request, speaks TLS and prints
/// the answer's status line (an HTTP client behind the balancer).
const BALANCER: &str = r#"
import socket, ssl, struct, sys, threading, ipaddress
port, version, client = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
ip = ipaddress.ip_address(client)
if version == "v1":
    family = "TCP4" if ip.version == 4 else "TCP6"
    dest = "127.0.0.1" if ip.version == 4 else "::1"
    s.sendall(f"PROXY {family} {client} {dest} 40123 {port}\r\n".encode())
else:
    dest = ipaddress.ip_address("127.0.0.1" if ip.version == 4 else "::1")
    body = ip.packed + dest.packed + struct.pack("!HH", 40123, port)
    fam = 0x11 if ip.version == 4 else 0x21
    s.sendall(b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body)
if len(sys.argv) > 4:
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(sys.argv[4].encode().decode("unicode_escape").encode())
    # The whole answer (Connection: close), as a client that downloads does.
    answer = b""
    while True:
        data = t.recv(65536)
        if not data: break
        answer += data
    print(answer.split(b"\r\n")[0].decode())
    sys.exit(0)
def up():
    while True:
        data = sys.stdin.buffer.read1(65536)
        if not data: break
        s.sendall(data)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while True:
    data = s.recv(65536)
    if not data: break
    sys.stdout.buffer.write(data); sys.stdout.buffer.flush()
"#;

/// Behind a load balancer (`KOERIER_TRUSTED_PROXIES`), the report names the
/// client the balancer names, by every door: a download over SFTP through a
/// PROXY v1 header, over WebDAV through a v2 header (IPv6), and over WebDAV
/// with `X-Forwarded-For`.
#[test]
fn behind_a_balancer_the_report_names_each_client_not_the_balancer() -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    k.set("KOERIER_TRUSTED_PROXIES", "127.0.0.1, ::1");
    std::fs::write(k.path().join("nota.pdf"), b"%PDF-1.4\n% nota\n%%EOF\n")?;
    let sent = k.ok(&["send", "--from", &jan.email, "--to", &kees.email, "--subject", "Nota", "nota.pdf"], None)?;
    let name = sent.lines().find_map(|l| l.strip_prefix("sent ")?.split(';').next()).ok_or("no name")?.to_owned();
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    std::fs::write(w.join("balancer.py"), BALANCER)?;
    let balancer = w.join("balancer.py").to_string_lossy().into_owned();

    // SFTP through the balancer, the client named in a v1 header.
    let inbox = k.sftp_batch(&kees, w, "ls inbox\n")?;
    let folder = text(&inbox).lines().filter_map(|l| l.trim().strip_prefix("inbox/")).next().map(str::to_owned);
    let folder = folder.ok_or(format!("no folder in {}", text(&inbox)))?;
    let proxy_command = format!("ProxyCommand=python3 {balancer} {} v1 192.0.2.44", k.port);
    std::fs::write(w.join("get.txt"), format!("get inbox/{folder}/nota.pdf over-sftp.pdf\n"))?;
    let out = Command::new("sftp")
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
        .args(["-o", "LogLevel=ERROR", "-o", &proxy_command, "-o", "IdentitiesOnly=yes", "-i"])
        .arg(&kees.key)
        .args(["-o", &format!("User={}", kees.email), "-b", "get.txt", "balanced"])
        .current_dir(w)
        .output()?;
    assert!(out.status.success() && w.join("over-sftp.pdf").is_file(), "{}", text(&out));

    // WebDAV through a v2 header naming an IPv6 client.
    let auth = data_encoding::BASE64.encode(format!("{}:{}", kees.email, kees.password).as_bytes());
    let request = format!(
        "GET /dav/inbox/{folder}/nota.pdf HTTP/1.1\\r\\nHost: localhost\\r\\nAuthorization: Basic {auth}\\r\\nConnection: close\\r\\n\\r\\n"
    );
    let out =
        Command::new("python3").args([&balancer, &k.https.to_string(), "v2", "2001:db8::9", &request]).output()?;
    assert!(text(&out).contains("200"), "{}", text(&out));

    // WebDAV with X-Forwarded-For from the balancer (here: this machine).
    let out = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-u", &format!("{}:{}", kees.email, kees.password)])
        .args(["-H", "X-Forwarded-For: 198.51.100.23", &k.url(&format!("/dav/inbox/{folder}/nota.pdf"))])
        .output()?;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    k.stop()?;

    let proof = k.ok(&["report", "message", "--account", &jan.email, &name, "--proof", "--output", "-"], None)?;
    for client in ["192.0.2.44", "2001:db8::9", "198.51.100.23"] {
        assert!(proof.contains(client), "the report names {client}: {proof}");
    }
    assert!(!proof.contains("\"127.0.0.1\""), "not the balancer: {proof}");
    Ok(())
}

/// A process killed when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) -> Result<(), door::Error> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            return Err(format!("nothing listens on {port}").into());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok(())
}

/// Behind HAProxy with the configuration of `docs/haproxy.cfg` as it is
/// (TCP pass-through, PROXY v2, health checks on `/readyz`): on PostgreSQL
/// two nodes of a cluster with the same keys serve as one, and when one
/// stops the other serves on; on SQLite (one node by design) one node.
/// WebDAV and SFTP through the balancer, the host key the shared one.
#[test]
fn behind_haproxy_the_nodes_serve_as_one_and_one_may_stop() -> TestResult {
    let mut k = Koerier::new()?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let keys = tempfile::tempdir()?;
    shared_keys(keys.path())?;
    std::fs::copy(k.path().join("data/keys/master.key"), keys.path().join("master.key"))?;
    let key = |name: &str| keys.path().join(name).to_string_lossy().into_owned();
    let two = on_postgres();
    let mut shared = vec![
        ("KOERIER_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ("KOERIER_SSH_HOST_KEY_FILE", key("ssh_host_ed25519_key")),
        ("KOERIER_REPORT_SIGNING_KEY_FILE", key("report-signing.key")),
        ("KOERIER_HTTPS_CERT", key("tls.crt")),
        ("KOERIER_HTTPS_KEY", key("tls.key")),
    ];
    if two {
        shared.extend([
            ("KOERIER_CLUSTER", "1".to_owned()),
            ("KOERIER_MASTER_KEY_FILE", key("master.key")),
            ("KOERIER_SMTP_URL", "smtp://127.0.0.1:1".to_owned()),
            ("KOERIER_SMS_URL", "https://127.0.0.1:1/sms".to_owned()),
        ]);
    }
    for (setting, value) in &shared {
        k.set(setting, value);
    }
    let document: Vec<u8> = b"%PDF-1.4\n".iter().copied().chain((0..300_000u32).map(|i| (i % 251) as u8)).collect();
    std::fs::write(k.path().join("jaarplan.pdf"), &document)?;
    k.ok(&["send", "--from", "jan@minvws.nl", "--to", &kees.email, "--subject", "Plan", "jaarplan.pdf"], None)?;
    k.start()?;
    let (b_https, b_sftp) = (ports::free_port()?, ports::free_port()?);
    let node_b = if two {
        let child = k
            .command(&["serve"])
            .env("KOERIER_HTTPS_LISTEN", format!("127.0.0.1:{b_https}"))
            .env("KOERIER_SFTP_LISTEN", format!("127.0.0.1:{b_sftp}"))
            .spawn()?;
        let running = Running(child);
        wait_for_port(b_https)?;
        wait_for_port(b_sftp)?;
        Some(running)
    } else {
        None
    };
    let (lb_https, lb_sftp) = (ports::free_port()?, ports::free_port()?);
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/haproxy.cfg");
    let haproxy = Running(
        Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .env("KOERIER_LB_HTTPS", format!("127.0.0.1:{lb_https}"))
            .env("KOERIER_LB_SFTP", format!("127.0.0.1:{lb_sftp}"))
            .env("KOERIER_NODE_A_HTTPS", format!("127.0.0.1:{}", k.https))
            .env("KOERIER_NODE_A_SFTP", format!("127.0.0.1:{}", k.port))
            .env("KOERIER_NODE_A_HTTPS_PORT", k.https.to_string())
            .env("KOERIER_NODE_B_HTTPS", format!("127.0.0.1:{b_https}"))
            .env("KOERIER_NODE_B_SFTP", format!("127.0.0.1:{b_sftp}"))
            .env("KOERIER_NODE_B_HTTPS_PORT", b_https.to_string())
            .spawn()
            .map_err(|e| format!("haproxy (scripts/setup installs it): {e}"))?,
    );
    wait_for_port(lb_https)?;
    wait_for_port(lb_sftp)?;
    // The health checks see the nodes up.
    std::thread::sleep(std::time::Duration::from_secs(3));

    let work = tempfile::tempdir()?;
    let w = work.path();
    let inbox = k.sftp_batch(&kees, w, "ls inbox\n")?;
    let folder = text(&inbox).lines().filter_map(|l| l.trim().strip_prefix("inbox/")).next().map(str::to_owned);
    let folder = folder.ok_or(format!("no folder in {}", text(&inbox)))?;
    let ssh_options = k.ssh_options(&kees);
    let through = |round: usize| -> TestResult {
        let file = w.join(format!("dav-{round}.pdf"));
        let url = format!("https://127.0.0.1:{lb_https}/dav/inbox/{folder}/jaarplan.pdf");
        let out = Command::new("curl")
            .args(["-sk", "-o"])
            .arg(&file)
            .args(["-w", "%{http_code}", "-u", &format!("{}:{}", kees.email, kees.password), &url])
            .output()?;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "WebDAV through the balancer, round {round}");
        assert!(std::fs::read(&file)? == document, "byte for byte");
        std::fs::write(w.join("get.txt"), format!("get inbox/{folder}/jaarplan.pdf sftp-{round}.pdf\n"))?;
        let out = Command::new("sftp")
            .args(&ssh_options)
            .args(["-o", "BatchMode=yes", "-P", &lb_sftp.to_string(), "-b", "get.txt", "127.0.0.1"])
            .current_dir(w)
            .output()?;
        assert!(out.status.success(), "SFTP through the balancer, round {round}: {}", text(&out));
        assert!(std::fs::read(w.join(format!("sftp-{round}.pdf")))? == document, "byte for byte");
        Ok(())
    };
    for round in 0..4 {
        through(round)?;
    }
    let scanned =
        Command::new("ssh-keyscan").args(["-t", "ed25519", "-p", &lb_sftp.to_string(), "127.0.0.1"]).output()?;
    let given = std::fs::read_to_string(keys.path().join("ssh_host_ed25519_key.pub"))?;
    let blob = given.split_whitespace().nth(1).ok_or("a public key line")?;
    assert!(String::from_utf8_lossy(&scanned.stdout).contains(blob), "the shared host key: {}", text(&scanned));
    if two {
        // One node stops; the other serves every request.
        k.stop()?;
        for round in 4..8 {
            through(round)?;
        }
    }
    drop(haproxy);
    drop(node_b);
    k.stop()
}
