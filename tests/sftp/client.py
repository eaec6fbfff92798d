"""paramiko against koerier's SFTP door: one action per run, arguments as
JSON on stdin, the outcome as JSON on stdout (see tests/sftp.rs)."""
import hashlib
import json
import os
import socket
import subprocess
import sys
import time

import paramiko

args = json.load(sys.stdin)
HOST = args.get("host", "127.0.0.1")
PORT = args["port"]


def connect(user=args["user"], password=args["password"]):
    t = paramiko.Transport((HOST, PORT))
    t.connect(username=user, password=password)
    return t, paramiko.SFTPClient.from_transport(t)


def refused(fn):
    try:
        fn()
    except Exception:  # any refusal: an exception, a closed channel, a timeout
        return "refused"
    return "accepted"


def cut_upload():
    t, s = connect()
    with open(args["file"], "rb") as f:
        data = f.read(args["bytes"])
    handle = s.open(args["path"], "wb")
    handle.set_pipelined(False)
    written = 0
    while written < len(data):
        piece = data[written:written + 32768]
        handle.write(piece)
        written += len(piece)
    if "kill" in args:
        # The server is killed while the file is open: nothing is suspended.
        os.kill(args["kill"], 9)
        time.sleep(0.5)
    t.sock.close()  # the connection drops without a close of the file
    return {"written": written}


def stored_size(s, path):
    """The size the server reports once the cut connection has been dealt
    with: two stats half a second apart that agree."""
    last = None
    for _ in range(40):
        size = s.stat(path).st_size
        if size == last:
            return size
        last = size
        time.sleep(0.5)
    return last


def winscp_upload():
    """WinSCP's default upload of a file over 100 KB ("transfer to temporary
    filename", winscp.net/eng/docs/resume): write `name.filepart`, lose the
    connection part-way, reconnect, stat the .filepart and append the rest
    from its size, set the times (SETSTAT), RENAME it to `name`."""
    part = args["dir"] + "/" + args["name"] + ".filepart"
    with open(args["file"], "rb") as f:
        data = f.read()
    t, s = connect()
    handle = s.open(part, "wb")
    handle.set_pipelined(False)
    for at in range(0, args["cut_at"], 32768):
        handle.write(data[at:min(at + 32768, args["cut_at"])])
    t.sock.close()  # the connection drops without a close of the file

    t, s = connect()
    offset = stored_size(s, part)
    with s.open(part, "a") as handle:  # WRITE|APPEND|CREAT: appends from the remote size
        handle.write(data[offset:])
    mtime = os.stat(args["file"]).st_mtime
    s.utime(part, (mtime, mtime))
    s.rename(part, args["dir"] + "/" + args["name"])
    listing = {a.filename: a.st_size for a in s.listdir_attr(args["dir"])}
    with s.open(args["dir"] + "/" + args["name"], "rb") as f:
        back = f.read()
    t.close()
    return {"resumed_from": offset, "listing": listing, "sha256": hashlib.sha256(back).hexdigest()}


def put():
    """Upload a file as paramiko does (pipelined writes, then close); the
    server's words when it refuses."""
    t, s = connect()
    try:
        s.put(args["file"], args["path"])
        outcome = {"ok": True}
    except IOError as e:
        outcome = {"ok": False, "error": str(e)}
    t.close()
    return outcome


def mkdir():
    t, s = connect()
    s.mkdir(args["path"])
    t.close()
    return {"ok": True}


def probe():
    t, s = connect()
    listing = [n for n in s.listdir("/outbox")]
    errors = []
    for path in args["paths"]:
        try:
            s.stat(path)
            errors.append("found")
        except IOError as e:
            errors.append("%s %s" % (type(e).__name__, e.errno))
    t.close()
    return {"listing": listing, "errors": errors}


def ssh_refusals():
    out = {}

    def preauth(send):
        """Sends one connection-layer message before authenticating and
        says whether the server then ended the connection."""
        t = paramiko.Transport(("127.0.0.1", PORT))
        t.start_client(timeout=10)
        try:
            try:
                send(t)
            except Exception:  # the refusal itself: the connection's end is what counts
                pass
            deadline = time.time() + 5
            while t.is_active() and time.time() < deadline:
                time.sleep(0.05)
            return "still connected" if t.is_active() else "disconnected"
        finally:
            t.close()

    out["preauth_session"] = preauth(lambda t: t.open_session(timeout=3))
    out["preauth_global"] = preauth(lambda t: t.global_request("keepalive@openssh.com", wait=False))
    t, _ = connect()

    def run(cmd):
        ch = t.open_session(timeout=5)
        ch.settimeout(5)
        if cmd is None:
            ch.invoke_shell()
        else:
            ch.exec_command(cmd)
        data = ch.recv(100)
        if not data and ch.recv_exit_status() != 0:
            raise RuntimeError("nothing ran")

    out["exec"] = refused(lambda: run("id"))
    out["shell"] = refused(lambda: run(None))
    out["direct_tcpip"] = refused(lambda: t.open_channel("direct-tcpip", ("127.0.0.1", PORT), ("127.0.0.1", 1), timeout=5))
    t.close()
    out["wrong_password"] = refused(lambda: connect(password="wrong"))

    def tries(wrong):
        """`wrong` wrong passwords, then the right one, on one connection."""
        t = paramiko.Transport(("127.0.0.1", PORT))
        t.start_client(timeout=10)
        for _ in range(wrong):
            try:
                t.auth_password(args["user"], "wrong")
            except paramiko.AuthenticationException:
                pass
        t.auth_password(args["user"], args["password"])
        admitted = t.is_authenticated()
        t.close()
        if not admitted:
            raise RuntimeError("not signed in")

    out["fourth_try"] = refused(lambda: tries(3))
    out["third_try"] = refused(lambda: tries(2))
    return out


def disable_between():
    t, s = connect()
    before = "outbox" in s.listdir("/")
    s.listdir("/outbox")
    c = args["disable"]
    env = dict(os.environ)
    env.update(c["env"])
    subprocess.run(c["argv"], cwd=c["cwd"], env=env, check=True, capture_output=True)
    try:
        s.listdir("/outbox")
        after = "still allowed"
    except IOError as e:
        after = str(e)
    t.close()
    return {"before": before, "after": after}


def request_answer():
    """Signed in with a request's user name and secret: what the tree shows,
    a document put into the draft, the draft moved into /sent."""
    t, s = connect()
    out = {"root": sorted(s.listdir("/")), "outbox": s.listdir("/outbox"), "sent_before": s.listdir("/sent")}
    try:
        s.listdir("/inbox")
        out["inbox"] = "listed"
    except IOError as e:
        out["inbox"] = "%s %s" % (type(e).__name__, e.errno)
    draft = "/outbox/" + out["outbox"][0]
    with s.open(draft + "/message.txt") as f:
        out["message"] = f.read().decode()
    s.put(args["file"], draft + "/" + args["name"])
    out["draft"] = sorted(s.listdir(draft))
    s.rename(draft, "/sent/" + out["outbox"][0])
    out["outbox_after"] = s.listdir("/outbox")
    out["sent"] = s.listdir("/sent")
    out["sent_files"] = sorted(s.listdir("/sent/" + out["outbox"][0]))
    t.close()
    out["wrong_secret"] = refused(lambda: connect(password=args["password"][::-1]))
    out["other_user"] = refused(lambda: connect(user="request-aaaaaaaaaaaaaaaaaaaaaaaaaa"))
    return out


ACTIONS = {
    "cut-upload": cut_upload,
    "mkdir": mkdir,
    "put": put,
    "probe": probe,
    "request-answer": request_answer,
    "ssh-refusals": ssh_refusals,
    "winscp-upload": winscp_upload,
    "disable-between": disable_between,
}
json.dump(ACTIONS[args["action"]](), sys.stdout)
