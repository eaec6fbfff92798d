//! One of many nodes: a node given `KOERIER_CLUSTER=1` makes nothing of its
//! own (no key, no file of mail), says at start all it lacks, and uses the
//! keys it is given; and any node whose master key is not the database's
//! refuses to start.

#[path = "binary/browser.rs"]
mod browser;
#[path = "sftp/mod.rs"]
mod door;
#[path = "binary/mail.rs"]
mod mail;
mod peers;
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

/// Keeps this server's documents under a prefix of their own in the test
/// bucket of the S3 server `scripts/test` starts; the prefix.
fn on_object_store(k: &mut Koerier) -> Result<String, door::Error> {
    let endpoint = std::env::var("KOERIER_TEST_S3_ENDPOINT").map_err(|_| {
        "KOERIER_TEST_S3_ENDPOINT is not set: run scripts/test, which starts an S3 server (moto) with the bucket koerier-test"
    })?;
    let prefix =
        format!("cluster-{}", k.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    k.set("KOERIER_STORE_URL", &format!("s3://koerier-test/{prefix}"));
    k.set("KOERIER_S3_ENDPOINT", &endpoint);
    k.set("KOERIER_S3_REGION", "us-east-1");
    Ok(prefix)
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
            "KOERIER_STORE_URL",
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

/// The settings of a node of `k`'s cluster with the keys in `keys` (made by
/// [`shared_keys`]), whose master key becomes the one `k`'s database was
/// made with; mail and SMS to services that are not there.
fn cluster_node(k: &Koerier, keys: &Path) -> Result<Vec<(&'static str, String)>, door::Error> {
    std::fs::copy(k.path().join("data/keys/master.key"), keys.join("master.key"))?;
    let key = |name: &str| keys.join(name).to_string_lossy().into_owned();
    Ok(vec![
        ("KOERIER_CLUSTER", "1".to_owned()),
        ("KOERIER_MASTER_KEY_FILE", key("master.key")),
        ("KOERIER_SSH_HOST_KEY_FILE", key("ssh_host_ed25519_key")),
        ("KOERIER_REPORT_SIGNING_KEY_FILE", key("report-signing.key")),
        ("KOERIER_HTTPS_CERT", key("tls.crt")),
        ("KOERIER_HTTPS_KEY", key("tls.key")),
        ("KOERIER_SMTP_URL", "smtp://127.0.0.1:1".to_owned()),
        ("KOERIER_SMS_URL", "https://127.0.0.1:1/sms".to_owned()),
    ])
}

#[test]
fn a_node_of_a_cluster_serves_with_the_keys_it_is_given_and_makes_none() -> TestResult {
    let mut k = Koerier::new()?;
    on_object_store(&mut k)?;
    let keys = tempfile::tempdir()?;
    shared_keys(keys.path())?;
    let fresh = k.path().join("node-b");
    k.set("KOERIER_DATA_DIR", &fresh.to_string_lossy());
    for (setting, value) in cluster_node(&k, keys.path())? {
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
    on_object_store(&mut k)?;
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

/// Files (not folders) anywhere under `dir`.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { found.extend(files_under(&path)) } else { found.push(path) }
    }
    found
}

/// A node of a [`Balanced`] cluster: its data folder and listeners.
struct Node {
    folder: std::path::PathBuf,
    https: u16,
    sftp: u16,
    process: Option<Running>,
}

/// The nodes of one cluster behind HAProxy, run with `docs/haproxy.cfg` as
/// it is but for a `server` line per node beyond two (as its comment says)
/// and a runtime socket, through which a test takes nodes out of service as
/// an operator does. On PostgreSQL three nodes with separate, empty data
/// folders and the shared keys; on SQLite (one node by design) one, which
/// stands in for all three: node `i` is node `i % n`.
struct Balanced<'k> {
    k: &'k Koerier,
    nodes: Vec<Node>,
    /// The balancer's HTTPS and SFTP ports on 127.0.0.1.
    https: u16,
    sftp: u16,
    socket: std::path::PathBuf,
    _haproxy: Running,
    /// The keys every node is given.
    _keys: tempfile::TempDir,
}

const SERVERS: [&str; 3] = ["a", "b", "c"];

impl<'k> Balanced<'k> {
    /// The balancer's ports, to be given to `start` once `k` has the
    /// settings that depend on them (`KOERIER_PUBLIC_URL`).
    fn ports() -> Result<(u16, u16), door::Error> {
        Ok((ports::free_port()?, ports::free_port()?))
    }

    /// Starts the nodes with `k`'s settings, the cluster's and then `own`,
    /// then HAProxy on `(https, sftp)`, and waits until it sees every node up.
    fn start(
        k: &'k mut Koerier,
        (https, sftp): (u16, u16),
        own: &[(&str, String)],
    ) -> Result<Balanced<'k>, door::Error> {
        let keys = tempfile::tempdir()?;
        shared_keys(keys.path())?;
        k.set("KOERIER_TRUSTED_PROXIES", "127.0.0.1");
        let many = on_postgres();
        if many {
            for (setting, value) in cluster_node(k, keys.path())? {
                k.set(setting, &value);
            }
        }
        for (setting, value) in own {
            k.set(setting, value);
        }
        let k: &'k Koerier = k;
        let mut nodes = Vec::new();
        for (i, name) in SERVERS.iter().enumerate().take(if many { 3 } else { 1 }) {
            let folder = if many { k.path().join(format!("node-{name}")) } else { k.path().join("data") };
            let mut node = Node { folder, https: ports::free_port()?, sftp: ports::free_port()?, process: None };
            if i == 0 || many {
                Self::run(k, &mut node)?;
            }
            nodes.push(node);
        }
        let socket = k.path().join("haproxy.sock");
        let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/haproxy.cfg"))?;
        let mut config = String::new();
        for line in docs.lines() {
            let server = line.trim_start().strip_prefix("server ").and_then(|rest| rest.split_whitespace().next());
            if server.is_some_and(|s| s != "a") {
                continue;
            }
            if line == "global" {
                config.push_str(&format!("global\n    stats socket {} mode 600 level admin\n", socket.display()));
                continue;
            }
            config.push_str(line);
            config.push('\n');
            if server.is_some() {
                // One line per node, as the file's comment says for more nodes.
                for name in SERVERS.iter().take(nodes.len()).skip(1) {
                    let upper = name.to_uppercase();
                    config.push_str(
                        &line
                            .replace("server a ", &format!("server {name} "))
                            .replace("NODE_A_", &format!("NODE_{upper}_")),
                    );
                    config.push('\n');
                }
            }
        }
        std::fs::write(k.path().join("haproxy.cfg"), config)?;
        let mut haproxy = Command::new("haproxy");
        haproxy
            .arg("-db")
            .arg("-f")
            .arg(k.path().join("haproxy.cfg"))
            .env("KOERIER_LB_HTTPS", format!("127.0.0.1:{https}"))
            .env("KOERIER_LB_SFTP", format!("127.0.0.1:{sftp}"));
        for (name, node) in SERVERS.iter().zip(&nodes) {
            let upper = name.to_uppercase();
            haproxy
                .env(format!("KOERIER_NODE_{upper}_HTTPS"), format!("127.0.0.1:{}", node.https))
                .env(format!("KOERIER_NODE_{upper}_SFTP"), format!("127.0.0.1:{}", node.sftp))
                .env(format!("KOERIER_NODE_{upper}_HTTPS_PORT"), node.https.to_string());
        }
        // Its log beside the nodes' folders.
        let log = std::fs::File::create(k.path().join("haproxy.log"))?;
        haproxy.stdout(log.try_clone()?).stderr(log);
        let haproxy = Running(haproxy.spawn().map_err(|e| format!("haproxy (scripts/setup installs it): {e}"))?);
        wait_for_port(https)?;
        wait_for_port(sftp)?;
        let balanced = Balanced { k, nodes, https, sftp, socket, _haproxy: haproxy, _keys: keys };
        for i in 0..balanced.nodes.len() {
            balanced.wait_until_seen(i, true)?;
        }
        Ok(balanced)
    }

    fn run(k: &Koerier, node: &mut Node) -> Result<(), door::Error> {
        let child = k
            .command(&["serve"])
            .env("KOERIER_DATA_DIR", &node.folder)
            .env("KOERIER_HTTPS_LISTEN", format!("127.0.0.1:{}", node.https))
            .env("KOERIER_SFTP_LISTEN", format!("127.0.0.1:{}", node.sftp))
            .stdout(std::process::Stdio::null())
            .spawn()?;
        node.process = Some(Running(child));
        wait_for_port(node.https)?;
        wait_for_port(node.sftp)
    }

    /// A command to HAProxy's runtime API; its answer.
    fn haproxy(&self, command: &str) -> Result<String, door::Error> {
        use std::io::{Read, Write};
        let mut stream = std::os::unix::net::UnixStream::connect(&self.socket)?;
        stream.write_all(format!("{command}\n").as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// Waits until HAProxy sees node `i` up (or down) in both backends.
    fn wait_until_seen(&self, i: usize, up: bool) -> Result<(), door::Error> {
        let server = SERVERS[i % self.nodes.len()];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            // `show stat` is CSV: proxy, server, …, the 18th column the status.
            let stat = self.haproxy("show stat")?;
            let states: Vec<&str> = stat
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split(',').collect();
                    (f.len() > 17 && f[0].starts_with("koerier_") && f[1] == server).then(|| f[17])
                })
                .collect();
            if states.len() == 2 && states.iter().all(|s| s.starts_with("UP") == up) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "HAProxy does not see node {server} {}: {states:?}",
                    if up { "up" } else { "down" }
                )
                .into());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Every connection through the balancer to node `i` from now on (the
    /// others in maintenance, as an operator pins a client to a node),
    /// which is started first if it does not run.
    fn only(&mut self, i: usize) -> Result<(), door::Error> {
        let n = self.nodes.len();
        if self.nodes[i % n].process.is_none() {
            Self::run(self.k, &mut self.nodes[i % n])?;
        }
        // The chosen node in first, so that the balancer is never without one.
        let order = std::iter::once(i % n).chain((0..n).filter(|j| *j != i % n));
        for j in order {
            let state = if j == i % n { "ready" } else { "maint" };
            for backend in ["koerier_https", "koerier_sftp"] {
                self.haproxy(&format!("set server {backend}/{} state {state}", SERVERS[j]))?;
            }
        }
        self.wait_until_seen(i, true)
    }

    /// Node `i` killed with SIGKILL.
    fn kill(&mut self, i: usize) -> Result<(), door::Error> {
        let n = self.nodes.len();
        drop(self.nodes[i % n].process.take());
        Ok(())
    }

    /// The process id of node `i`.
    fn pid(&self, i: usize) -> Option<u32> {
        self.nodes[i % self.nodes.len()].process.as_ref().map(|p| p.0.id())
    }

    /// `https://127.0.0.1:<balancer>`.
    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.https)
    }

    /// OpenSSH `sftp -b` as `user` through the balancer, from `source`.
    fn sftp(&self, user: &door::User, source: &str, cwd: &Path, batch: &str) -> Result<String, door::Error> {
        std::fs::write(cwd.join("batch.txt"), batch)?;
        let out = Command::new("sftp")
            .args(self.k.ssh_options(user))
            .args([
                "-o",
                &format!("BindAddress={source}"),
                "-P",
                &self.sftp.to_string(),
                "-b",
                "batch.txt",
                "127.0.0.1",
            ])
            .current_dir(cwd)
            .output()?;
        if out.status.success() {
            Ok(text(&out))
        } else {
            Err(format!("sftp through the balancer: {}", text(&out)).into())
        }
    }

    /// curl through the balancer from `source` as `user` (`{base}` in the
    /// arguments the balancer's URL): the status and the body.
    fn curl(&self, source: &str, user: Option<(&str, &str)>, args: &[&str]) -> Result<(String, Vec<u8>), door::Error> {
        let mut curl = Command::new("curl");
        curl.args(["-sk", "--interface", source, "-o", "-", "-w", "\n%{http_code}"]);
        if let Some((name, password)) = user {
            curl.args(["-u", &format!("{name}:{password}")]);
        }
        let out = curl.args(args.iter().map(|a| a.replace("{base}", &self.url()))).output()?;
        let mut body = out.stdout;
        let at = body.iter().rposition(|b| *b == b'\n').unwrap_or(0);
        let status = String::from_utf8_lossy(&body[at + 1..]).into_owned();
        body.truncate(at);
        Ok((status, body))
    }

    /// Stops every node (SIGTERM) and asserts that none kept a document or
    /// a staging file on its disk.
    fn stop(mut self) -> Result<(), door::Error> {
        for node in &mut self.nodes {
            if let Some(process) = node.process.take() {
                Command::new("kill").args(["-TERM", &process.0.id().to_string()]).status()?;
                let mut process = process;
                process.0.wait()?;
            }
            let held: Vec<_> = files_under(&node.folder)
                .into_iter()
                .filter(|f| f.components().any(|c| c.as_os_str() == "blobs" || c.as_os_str() == "staging"))
                .collect();
            assert!(held.is_empty(), "no document on a node's disk: {held:?}");
        }
        Ok(())
    }
}

/// A real SMTP server and SMS gateway for a cluster's nodes.
struct Delivery {
    smtp: peers::SmtpPeer,
    sms: peers::SmsPeer,
    _dir: tempfile::TempDir,
}

impl Delivery {
    fn start() -> Result<Delivery, door::Error> {
        let dir = tempfile::tempdir()?;
        let smtp = peers::SmtpPeer::start(&dir.path().join("smtp"), ports::free_port()?)?;
        let sms = peers::SmsPeer::start(&dir.path().join("sms"), "", 0)?;
        Ok(Delivery { smtp, sms, _dir: dir })
    }

    /// The nodes' settings that send mail and SMS to these peers, with links
    /// to the balancer at `lb` ([`Balanced::ports`]).
    fn settings(smtp: &peers::SmtpPeer, sms: &peers::SmsPeer, lb: (u16, u16)) -> Vec<(&'static str, String)> {
        vec![
            ("KOERIER_SMTP_URL", smtp.url()),
            ("KOERIER_SMS_URL", sms.url()),
            ("KOERIER_PUBLIC_URL", format!("https://127.0.0.1:{}", lb.0)),
        ]
    }
}

/// A PDF header and `bytes` random bytes after it, written to `path`.
fn random_pdf(path: &Path, bytes: u64) -> Result<(), door::Error> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(&door::pdf("random"))?;
    let copied = std::io::copy(&mut std::io::Read::take(std::fs::File::open("/dev/urandom")?, bytes), &mut file)?;
    if copied == bytes { Ok(()) } else { Err(format!("{copied} random bytes of {bytes}").into()) }
}

/// The six-digit code in an SMS gateway's request.
fn code_in(request: &serde_json::Value) -> Option<String> {
    let body = request["body"].as_str()?;
    body.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).map(str::to_owned)
}

/// The mails an SMTP server accepted for `to`.
fn mails_to(smtp: &peers::SmtpPeer, to: &str) -> Result<Vec<serde_json::Value>, door::Error> {
    Ok(smtp
        .messages()?
        .into_iter()
        .filter(|m| m["rcpt_tos"].as_array().is_some_and(|r| r.iter().any(|a| a == to)))
        .collect())
}

/// The acceptance of a cluster: the documents in an S3 server, three nodes
/// behind HAProxy with separate, empty data folders (on SQLite, one node by
/// design, restarted in their place). A message is begun over SFTP through
/// the balancer pinned to node A, which is killed with `kill -9` in the
/// middle of a 200 MiB upload; `reput` through the balancer on node B goes
/// on after what A had sent to the store (never at 0); the message is
/// finished and sent by WebDAV on node C, where a lock taken on B holds; an
/// outsider redeems the link on A (restarted) and downloads with the same
/// browser session on B and C; the report names the outsider's address, not
/// the balancer's. No node keeps anything on its disk.
#[test]
fn behind_haproxy_a_message_is_begun_on_one_node_finished_on_another_and_redeemed_across_two() -> TestResult {
    door::need("sftp")?;
    let mut k = Koerier::new()?;
    on_object_store(&mut k)?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let Delivery { smtp, sms, .. } = &Delivery::start()?;
    let lb = Balanced::ports()?;
    let mut c = Balanced::start(&mut k, lb, &Delivery::settings(smtp, sms, lb))?;
    let (a, b, node_c) = (0, 1, 2);
    let work = tempfile::tempdir()?;
    let w = work.path();
    random_pdf(&w.join("plan.pdf"), 200 << 20)?;
    let big = std::fs::read(w.join("plan.pdf"))?;

    // Begun on A, which is killed after 180 MiB.
    c.only(a)?;
    c.sftp(&jan, "127.0.0.1", w, "mkdir outbox/plan\n")?;
    let cut = c.k.paramiko(
        "client.py",
        serde_json::json!({"user": jan.email, "password": jan.password, "action": "cut-upload", "port": c.sftp,
                           "path": "/outbox/plan/plan.pdf", "file": w.join("plan.pdf"), "bytes": 180 << 20,
                           "kill": c.pid(a).ok_or("node A runs")?}),
    )?;
    assert_eq!(cut["written"], 180 << 20);
    c.kill(a)?;

    // B sees what A had sent to the store, and `reput` goes on from it.
    c.only(b)?;
    let listed = c.sftp(&jan, "127.0.0.1", w, "ls -l outbox/plan\n")?;
    let stored: u64 = listed
        .lines()
        .find(|l| l.ends_with("plan.pdf"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|s| s.parse().ok())
        .ok_or(format!("plan.pdf is listed: {listed}"))?;
    assert!(stored >= 8 << 20 && stored.is_multiple_of(65_536), "A had sent at least a part: {stored}");
    c.sftp(&jan, "127.0.0.1", w, "reput plan.pdf outbox/plan/plan.pdf\n")?;

    // C: the envelope over WebDAV, while a lock taken on B holds; the MOVE
    // into /sent sends it.
    let jan_dav = Some((jan.email.as_str(), jan.password.as_str()));
    let message = "To: Piet <piet@example.org>\nPhone: +31 6 12345678\nSubject: Jaarplan\n\nHet jaarplan.\n";
    let envelope = "{base}/dav/outbox/plan/message.txt";
    c.only(node_c)?;
    let (status, _) = c.curl("127.0.0.1", jan_dav, &["-X", "PUT", "--data-binary", message, envelope])?;
    assert!(status.starts_with('2'), "message.txt on C: {status}");
    c.only(b)?;
    let lockinfo = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><D:lockinfo xmlns:D=\"DAV:\">\
         <D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>\
         <D:owner><D:href>JAN-PC\\jan</D:href></D:owner></D:lockinfo>";
    let lock = ["-X", "LOCK", "-H", "Depth: 0", "-H", "Timeout: Second-3600", "--data-binary", lockinfo, envelope];
    let (status, body) = c.curl("127.0.0.1", jan_dav, &lock)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert!(status == "200" || status == "201", "LOCK on B: {status} {body}");
    let token = body
        .split("opaquelocktoken:")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(|t| format!("opaquelocktoken:{}", t.trim()))
        .ok_or(format!("a lock token in {body}"))?;
    c.only(node_c)?;
    let (status, _) = c.curl("127.0.0.1", jan_dav, &["-X", "PUT", "--data-binary", message, envelope])?;
    assert_eq!(status, "423", "the lock taken on B holds on C");
    let with_token = format!("If: (<{token}>)");
    let (status, _) =
        c.curl("127.0.0.1", jan_dav, &["-X", "PUT", "-H", &with_token, "--data-binary", message, envelope])?;
    assert!(status.starts_with('2'), "with its token on C: {status}");
    let (status, _) =
        c.curl("127.0.0.1", jan_dav, &["-X", "UNLOCK", "-H", &format!("Lock-Token: <{token}>"), envelope])?;
    assert_eq!(status, "204", "UNLOCK on C");
    let (status, body) = c.curl(
        "127.0.0.1",
        jan_dav,
        &["-X", "MOVE", "-H", "Destination: {base}/dav/sent/plan/", "{base}/dav/outbox/plan/"],
    )?;
    assert!(status == "201" || status == "204", "sent on C: {status} {}", String::from_utf8_lossy(&body));

    // Piet, at 127.0.0.5, redeems the link on A (restarted) and downloads
    // with the same browser session on B, and a range on C.
    let link = peers::wait_until(std::time::Duration::from_secs(60), || {
        mails_to(smtp, "piet@example.org").is_ok_and(|m| !m.is_empty())
    });
    assert!(link, "the link mail reaches the SMTP server");
    let mail = mails_to(smtp, "piet@example.org")?.remove(0);
    let secret = mail::secret_after(peers::part(&mail, "text/plain").unwrap_or_default(), "/l/")
        .ok_or(format!("a link in {mail}"))?;
    let code = sms.requests()?.iter().rev().find_map(code_in).ok_or("an SMS with a code")?;
    const PIET: &str = "127.0.0.5";
    let piet = browser::Browser::new(w, "piet");
    let link = format!("{}/l/{secret}", c.url());
    c.only(a)?;
    let (status, _, page) = piet.request(&["--interface", PIET, &link])?;
    assert_eq!(status, 200, "the link on A");
    let form = format!("csrf={}&code={code}", browser::Browser::csrf(&page)?);
    let (status, head, _) = piet.request(&["--interface", PIET, "-d", &form, &format!("{link}/code")])?;
    assert!(status == 303 && browser::header(&head, "location").is_some_and(|l| !l.contains('#')), "{head}");
    c.only(b)?;
    let received = w.join("received.pdf");
    let url = format!("{link}/d/plan.pdf");
    let (status, _, _) = piet.request(&["--interface", PIET, "-o", &received.to_string_lossy(), &url])?;
    assert_eq!(status, 200, "the download on B, in the session begun on A");
    assert!(std::fs::read(&received)? == big, "byte for byte");
    c.only(node_c)?;
    let (status, _, piece) = piet.request(&["--interface", PIET, "-H", "Range: bytes=10000000-10000099", &url])?;
    assert_eq!(status, 206, "a range on C");
    assert!(piece == big[10_000_000..10_000_100], "the range on C");

    let proof = c.k.ok(&["report", "message", "--account", &jan.email, "plan", "--proof", "--output", "-"], None)?;
    assert!(proof.contains(PIET), "the report names Piet's address: {proof}");
    let many = c.nodes.len() > 1;
    let folders: Vec<_> = c.nodes.iter().map(|n| n.folder.clone()).collect();
    c.stop()?;
    if many {
        for folder in folders {
            assert_eq!(files_under(&folder), Vec::<std::path::PathBuf>::new(), "nothing on a node's disk");
        }
    }
    Ok(())
}

/// Three nodes behind HAProxy (on SQLite one), every request to the next
/// node: 30 messages sent over WebDAV are each delivered once to the real
/// SMTP server and the SMS gateway, a draft whose upload window closes is
/// aborted once (one mail), and 20 wrong passwords from one client lock out
/// that client's address only.
#[test]
fn behind_haproxy_nodes_deliver_each_mail_once_abort_a_window_once_and_lock_out_one_address() -> TestResult {
    let mut k = Koerier::new()?;
    on_object_store(&mut k)?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    let Delivery { smtp, sms, .. } = &Delivery::start()?;
    let lb = Balanced::ports()?;
    let mut own = Delivery::settings(smtp, sms, lb);
    own.extend([("KOERIER_UPLOAD_WINDOW", "30s".to_owned()), ("KOERIER_JOBS_INTERVAL", "1s".to_owned())]);
    let c = Balanced::start(&mut k, lb, &own)?;
    let jan_dav = Some((jan.email.as_str(), jan.password.as_str()));
    let dav = |args: &[&str]| -> TestResult {
        let (status, body) = c.curl("127.0.0.1", jan_dav, args)?;
        assert!(status.starts_with('2'), "{args:?}: {status} {}", String::from_utf8_lossy(&body));
        Ok(())
    };

    // A draft left to its window.
    dav(&["-X", "MKCOL", "{base}/dav/outbox/laat/"])?;
    dav(&["-X", "PUT", "--data-binary", "%PDF-1.4\n% laat\n%%EOF\n", "{base}/dav/outbox/laat/stuk.pdf"])?;
    // 30 messages, each request to the next node.
    for i in 0..30 {
        let folder = format!("{{base}}/dav/outbox/m{i}/");
        dav(&["-X", "MKCOL", &folder])?;
        let document = format!("%PDF-1.4\n% stuk {i}\n%%EOF\n");
        dav(&["-X", "PUT", "--data-binary", &document, &format!("{folder}stuk.pdf")])?;
        let message = format!("To: Piet <piet@example.org>\nPhone: +31 6 12345678\nSubject: Bericht {i}\n\nStukken.\n");
        dav(&["-X", "PUT", "--data-binary", &message, &format!("{folder}message.txt")])?;
        dav(&["-X", "MOVE", "-H", &format!("Destination: {{base}}/dav/sent/m{i}/"), &folder])?;
    }
    let stat = c.haproxy("show stat")?;
    for server in SERVERS.iter().take(c.nodes.len()) {
        // `show stat` CSV: the 8th column is the sessions a server had in all.
        let sessions: u64 = stat
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f.len() > 7 && f[0] == "koerier_https" && f[1] == *server)
            .and_then(|f| f[7].parse().ok())
            .ok_or(format!("node {server} in {stat}"))?;
        assert!(sessions >= 30, "the requests went round the nodes: {server} had {sessions}");
    }

    let aborted = |m: &serde_json::Value| m["subject"].as_str().is_some_and(|s| s.ends_with(": laat"));
    let arrived = peers::wait_until(std::time::Duration::from_secs(120), || {
        mails_to(smtp, "piet@example.org").is_ok_and(|m| m.len() >= 30)
            && mails_to(smtp, "jan@minvws.nl").is_ok_and(|m| m.iter().any(aborted))
    });
    assert!(arrived, "30 link mails and the window's; the SMTP server has {}", smtp.count());
    // Every node's deliverer and jobs have had several more rounds.
    std::thread::sleep(std::time::Duration::from_secs(5));
    let piet = mails_to(smtp, "piet@example.org")?;
    for i in 0..30 {
        let subject = format!("Bericht {i}");
        let n = piet.iter().filter(|m| m["subject"].as_str().is_some_and(|s| s.ends_with(&subject))).count();
        assert_eq!(n, 1, "{subject} delivered once");
    }
    assert_eq!(piet.len(), 30, "nothing else, nothing twice");
    let codes = sms.requests()?;
    assert_eq!(codes.iter().filter(|r| r["answer"] == "accepted").count(), 30, "one SMS per message: {codes:?}");
    let jan_mails = mails_to(smtp, "jan@minvws.nl")?;
    assert_eq!(jan_mails.iter().filter(|m| aborted(m)).count(), 1, "the window aborted once: {jan_mails:?}");

    // 20 wrong passwords from 127.0.0.2, each to the next node: 15 are
    // tried, then the address is refused, the right password too; from
    // 127.0.0.3 the same account signs in.
    let propfind = ["-X", "PROPFIND", "-H", "Depth: 0", "{base}/dav/"];
    for i in 0..20 {
        let (status, _) = c.curl("127.0.0.2", Some((&kees.email, "not the password of kees")), &propfind)?;
        assert_eq!(status, if i < 15 { "401" } else { "429" }, "wrong password {i}");
    }
    let right = Some((kees.email.as_str(), kees.password.as_str()));
    let (status, _) = c.curl("127.0.0.2", right, &propfind)?;
    assert_eq!(status, "429", "the address that guessed is refused");
    let (status, _) = c.curl("127.0.0.3", right, &propfind)?;
    assert_eq!(status, "207", "another address signs in");
    c.stop()
}

/// A process's memory figure from `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
fn memory(pid: u32, figure: &str) -> Result<u64, door::Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix(figure)?.strip_prefix(':')?.trim().strip_suffix(" kB")?.parse::<u64>().ok())
        .ok_or(format!("{figure} in /proc/{pid}/status"))?;
    Ok(kib * 1024)
}

/// A 1 GiB upload into the object store streams as a multipart upload: the
/// node's peak memory stays a small fraction of the document (a part of
/// 8 MiB and a batch of sealed records at a time, not the document), and
/// the document's last bytes read back.
#[test]
fn on_an_object_store_a_1_gib_upload_keeps_the_node_s_memory_flat() -> TestResult {
    door::need("sftp")?;
    let mut k = Koerier::new()?;
    on_object_store(&mut k)?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let work = tempfile::tempdir()?;
    let w = work.path();
    random_pdf(&w.join("groot.pdf"), 1 << 30)?;
    let pid = k.pid().ok_or("the node runs")?;
    let before = memory(pid, "VmRSS")?;
    let out = k.sftp_batch(&jan, w, "mkdir outbox/groot\nput groot.pdf outbox/groot/groot.pdf\n")?;
    assert!(out.status.success(), "{}", text(&out));
    let peak = memory(pid, "VmHWM")?;
    const BUDGET: u64 = 160 << 20;
    assert!(peak < BUDGET, "peak {} MiB for a 1 GiB upload (before it {} MiB)", peak >> 20, before >> 20);

    let size = std::fs::metadata(w.join("groot.pdf"))?.len();
    let range = format!("{}-{}", size - 100, size - 1);
    let out = Command::new("curl")
        .args(["-sk", "-r", &range, "-u", &format!("{}:{}", jan.email, jan.password)])
        .arg(k.url("/dav/outbox/groot/groot.pdf"))
        .output()?;
    let mut tail = Vec::new();
    let mut file = std::fs::File::open(w.join("groot.pdf"))?;
    std::io::Seek::seek(&mut file, std::io::SeekFrom::End(-100))?;
    std::io::Read::read_to_end(&mut file, &mut tail)?;
    assert!(out.stdout == tail, "the last 100 bytes read back");
    k.stop()
}
