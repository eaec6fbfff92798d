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

/// OpenSSH `sftp -b` as `user` against the node listening on `port`.
fn sftp_at(k: &Koerier, user: &door::User, port: u16, cwd: &Path, batch: &str) -> Result<String, door::Error> {
    std::fs::write(cwd.join("batch.txt"), batch)?;
    let out = Command::new("sftp")
        .args(k.ssh_options(user))
        .args(["-P", &port.to_string(), "-b", "batch.txt", "127.0.0.1"])
        .current_dir(cwd)
        .output()?;
    if out.status.success() { Ok(text(&out)) } else { Err(format!("sftp on {port}: {}", text(&out)).into()) }
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

/// The documents in an S3 server, every node without a disk of its own for
/// them: on PostgreSQL three nodes with separate, empty data folders (on
/// SQLite, one node by design, restarted in their place). A message is
/// composed over SFTP on node A, which is killed with `kill -9` in the
/// middle of a 20 MB upload; `reput` on node B continues after what A had
/// sent to the store (never at 0); the message is finished and sent by
/// WebDAV on node C, where a lock taken on B holds; Kees downloads it on A,
/// restarted, and by a range on B. No node holds a blob or a staging file on
/// its disk.
#[test]
fn on_an_object_store_a_message_is_begun_on_one_node_finished_on_another_and_read_on_a_third() -> TestResult {
    door::need("sftp")?;
    let mut k = Koerier::new()?;
    on_object_store(&mut k)?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    let kees = k.user("kees@minvws.nl", "Kees de Vries", "staff")?;
    let three = on_postgres();
    let keys = tempfile::tempdir()?;
    shared_keys(keys.path())?;
    if three {
        for (setting, value) in cluster_node(&k, keys.path())? {
            k.set(setting, &value);
        }
    }
    k.start()?;
    // Nodes B and C: their own empty data folders and ports (on SQLite, A's).
    let mut others = Vec::new();
    let mut folders = vec![k.path().join("data")];
    for name in ["node-b", "node-c"] {
        if !three {
            others.push((k.port, k.https, None));
            continue;
        }
        let (https, sftp) = (ports::free_port()?, ports::free_port()?);
        let folder = k.path().join(name);
        let child = k
            .command(&["serve"])
            .env("KOERIER_DATA_DIR", &folder)
            .env("KOERIER_HTTPS_LISTEN", format!("127.0.0.1:{https}"))
            .env("KOERIER_SFTP_LISTEN", format!("127.0.0.1:{sftp}"))
            .spawn()?;
        let running = Running(child);
        wait_for_port(https)?;
        wait_for_port(sftp)?;
        folders.push(folder);
        others.push((sftp, https, Some(running)));
    }
    let (b_sftp, b_https) = (others[0].0, others[0].1);
    let (c_https, a_sftp) = (others[1].1, k.port);

    let work = tempfile::tempdir()?;
    let w = work.path();
    let mut big = door::pdf("jaarplan").to_vec();
    big.extend((0..20_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    std::fs::write(w.join("plan.pdf"), &big)?;
    sftp_at(&k, &jan, a_sftp, w, "mkdir outbox/plan\n")?;
    let pid = k.pid().ok_or("node A runs")?;
    let cut = k.paramiko(
        "client.py",
        serde_json::json!({"user": jan.email, "password": jan.password, "action": "cut-upload", "port": a_sftp,
                           "path": "/outbox/plan/plan.pdf", "file": w.join("plan.pdf"), "bytes": 18_000_000,
                           "kill": pid}),
    )?;
    assert_eq!(cut["written"], 18_000_000);
    k.reap()?;
    if !three {
        k.start()?;
    }

    // Node B sees what A had sent to the store, and `reput` goes on from it.
    let listed = sftp_at(&k, &jan, b_sftp, w, "ls -l outbox/plan\n")?;
    let stored: u64 = listed
        .lines()
        .find(|l| l.ends_with("plan.pdf"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|s| s.parse().ok())
        .ok_or(format!("plan.pdf is listed: {listed}"))?;
    assert!(stored >= 8 << 20 && stored.is_multiple_of(65_536), "A had sent at least a part: {stored}");
    sftp_at(&k, &jan, b_sftp, w, "reput plan.pdf outbox/plan/plan.pdf\n")?;

    // Node C: the message over WebDAV, and the MOVE into /sent sends it.
    let curl = |port: u16, user: &door::User, args: &[&str]| -> Result<(String, Vec<u8>), door::Error> {
        let out = Command::new("curl")
            .args(["-sk", "-o", "-", "-w", "\n%{http_code}", "-u", &format!("{}:{}", user.email, user.password)])
            .args(args.iter().map(|a| a.replace("{base}", &format!("https://127.0.0.1:{port}"))))
            .output()?;
        let mut body = out.stdout;
        let at = body.iter().rposition(|b| *b == b'\n').unwrap_or(0);
        let status = String::from_utf8_lossy(&body[at + 1..]).into_owned();
        body.truncate(at);
        Ok((status, body))
    };
    let message = "To: Kees <kees@minvws.nl>\nSubject: Jaarplan\n\nHet jaarplan.\n";
    let (status, _) =
        curl(c_https, &jan, &["-X", "PUT", "--data-binary", message, "{base}/dav/outbox/plan/message.txt"])?;
    assert!(status.starts_with('2'), "message.txt on C: {status}");
    // A lock taken on B (as Office takes one) holds on C, and C lets it go.
    let lockinfo = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><D:lockinfo xmlns:D=\"DAV:\">\
         <D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>\
         <D:owner><D:href>JAN-PC\\jan</D:href></D:owner></D:lockinfo>";
    let (status, body) = curl(
        b_https,
        &jan,
        &[
            "-X",
            "LOCK",
            "-H",
            "Depth: 0",
            "-H",
            "Timeout: Second-3600",
            "--data-binary",
            lockinfo,
            "{base}/dav/outbox/plan/message.txt",
        ],
    )?;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert!(status == "200" || status == "201", "LOCK on B: {status} {body}");
    let token = body
        .split("opaquelocktoken:")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(|t| format!("opaquelocktoken:{}", t.trim()))
        .ok_or(format!("a lock token in {body}"))?;
    let (status, _) =
        curl(c_https, &jan, &["-X", "PUT", "--data-binary", message, "{base}/dav/outbox/plan/message.txt"])?;
    assert_eq!(status, "423", "the lock taken on B holds on C");
    let (status, _) = curl(
        c_https,
        &jan,
        &[
            "-X",
            "PUT",
            "-H",
            &format!("If: (<{token}>)"),
            "--data-binary",
            message,
            "{base}/dav/outbox/plan/message.txt",
        ],
    )?;
    assert!(status.starts_with('2'), "with its token on C: {status}");
    let (status, _) = curl(
        c_https,
        &jan,
        &["-X", "UNLOCK", "-H", &format!("Lock-Token: <{token}>"), "{base}/dav/outbox/plan/message.txt"],
    )?;
    assert_eq!(status, "204", "UNLOCK on C");
    let (status, body) =
        curl(c_https, &jan, &["-X", "MOVE", "-H", "Destination: {base}/dav/sent/plan/", "{base}/dav/outbox/plan/"])?;
    assert!(status == "201" || status == "204", "sent on C: {status} {}", String::from_utf8_lossy(&body));

    // Kees reads it on A (restarted) and by a range on B.
    if three {
        k.start()?;
    }
    sftp_at(&k, &kees, a_sftp, w, "get inbox/plan/plan.pdf received.pdf\n")?;
    assert!(std::fs::read(w.join("received.pdf"))? == big, "byte for byte on A");
    let (status, piece) =
        curl(b_https, &kees, &["-H", "Range: bytes=10000000-10000099", "{base}/dav/inbox/plan/plan.pdf"])?;
    assert_eq!(status, "206");
    assert!(piece == big[10_000_000..10_000_100], "the range on B");
    k.stop()?;
    drop(others);
    for folder in &folders {
        let held: Vec<_> = files_under(folder)
            .into_iter()
            .filter(|f| f.components().any(|c| c.as_os_str() == "blobs" || c.as_os_str() == "staging"))
            .collect();
        assert!(held.is_empty(), "no document on a node's disk: {held:?}");
    }
    Ok(())
}
