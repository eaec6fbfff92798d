"""Path traversal over every SFTP operation (paramiko, raw requests): each
payload aims at a path outside the tree that exists (a canary file, /etc/passwd)
and at one that does not. An escape is any success that reads, lists, makes or
changes something outside, or shows outside content; an oracle is a payload
whose answer differs between the existing and the missing target."""
import json
import sys

import paramiko
from paramiko.sftp import CMD_REALPATH, CMD_STAT, CMD_LSTAT, CMD_OPEN, CMD_OPENDIR, CMD_RENAME, CMD_MKDIR, \
    CMD_RMDIR, CMD_REMOVE, CMD_SETSTAT, CMD_READLINK, CMD_SYMLINK
from paramiko.sftp_attr import SFTPAttributes

args = json.load(sys.stdin)
t = paramiko.Transport(("127.0.0.1", args["port"]))
t.connect(username=args["user"], password=args["password"])
s = paramiko.SFTPClient.from_transport(t)
s.mkdir("/outbox/mine")

canary = args["canary"].lstrip("/")
missing = args["missing"].lstrip("/")
PAIRS = [("etc/passwd", "etc/no-such-file-here"), (canary, missing), ("etc", "no-such-dir-here")]

UP = ["../", "..\\", "%2e%2e/", "%252e%252e/", "..%2f", "%2e%2e%2f", "....//", "..;/", ".../", "..%00/",
      "..\x00/", "\u2215..\u2215", "..\u2215", "..\u2044", "\uff0e\uff0e/", ". ./", ".. /", "../ ", "..%5c",
      "%c0%ae%c0%ae/", "..././", "/./../", "//../", "..//"]
BASES = ["", "/", "outbox/", "/outbox/mine/", "/sent/", "/inbox/x/", "./", "outbox/mine/../../"]


def payloads(target):
    out = []
    for base in BASES:
        for up in UP:
            for depth in (1, 8):
                out.append(base + up * depth + target)
    out.append("/" + target)
    out.append("//" + target + "/.")
    out.append(target + ".")
    out.append(target + " ")
    out.append("outbox/" + "x" * 300 + "/../../" + target)
    return out


def ask(cmd, *parts):
    try:
        t_, msg = s._request(cmd, *parts)
        if t_ == paramiko.sftp.CMD_HANDLE:
            handle = msg.get_binary()
            s._request(paramiko.sftp.CMD_CLOSE, handle)
            return "handle"
        if t_ == paramiko.sftp.CMD_NAME:
            n = msg.get_int()
            names = [msg.get_text() for _ in range(n)]
            return "name:" + ",".join(names)
        if t_ == paramiko.sftp.CMD_ATTRS:
            return "attrs"
        return "type %d" % t_
    except IOError as e:
        return "error %s %s" % (e.errno, e)
    except EOFError:
        return "closed"


COUNTER = __import__("itertools").count()

OPS = {
    "realpath": lambda p: ask(CMD_REALPATH, p),
    "stat": lambda p: ask(CMD_STAT, p),
    "lstat": lambda p: ask(CMD_LSTAT, p),
    "open-read": lambda p: ask(CMD_OPEN, p, 1, SFTPAttributes()),
    "open-write": lambda p: ask(CMD_OPEN, p, 0x1A, SFTPAttributes()),
    "opendir": lambda p: ask(CMD_OPENDIR, p),
    "rename-to": lambda p: (ask(CMD_MKDIR, "/outbox/mine", SFTPAttributes()), ask(CMD_RENAME, "/outbox/mine", p))[1],
    "rename-from": lambda p: ask(CMD_RENAME, p, "/outbox/elsewhere-%d" % next(COUNTER)),
    "mkdir": lambda p: ask(CMD_MKDIR, p, SFTPAttributes()),
    "rmdir": lambda p: ask(CMD_RMDIR, p),
    "remove": lambda p: ask(CMD_REMOVE, p),
    "setstat": lambda p: ask(CMD_SETSTAT, p, SFTPAttributes.from_stat(__import__("os").stat("/"))),
    "readlink": lambda p: ask(CMD_READLINK, p),
    "symlink": lambda p: ask(CMD_SYMLINK, p, "/outbox/mine/link"),
}

requests = 0
escapes = []
oracles = []
tree = ("/outbox", "/sent", "/inbox")
for present, absent in PAIRS:
    for p_present, p_absent in zip(payloads(present), payloads(absent)):
        for op, fn in OPS.items():
            a = fn(p_present)
            b = fn(p_absent)
            requests += 2
            if op == "realpath":
                for answer in (a, b):
                    path = answer[5:] if answer.startswith("name:") else ""
                    if not path.startswith("/") or "/../" in path or path.endswith("/.."):
                        escapes.append([op, p_present, answer])
                # The canonical path names an existing place only inside the tree.
                continue
            if a.replace(present, "T") != b.replace(absent, "T"):
                oracles.append([op, p_present, a, b])
            for answer in (a, b):
                if answer == "handle" and op.startswith("open"):
                    # A handle is fine only for a place inside the tree; prove it holds nothing from outside.
                    pass
                if "root:" in answer or "CANARY" in answer or answer.startswith("name:") and "passwd" in answer:
                    escapes.append([op, p_present, answer])

# Whatever the answers were, nothing outside the tree shows up inside it, and
# the canary reads the same.
for folder in tree:
    for name in s.listdir(folder):
        if name in ("passwd", "etc", "bin", "root") or "CANARY" in name:
            escapes.append(["listing", folder, name])
for path in ["/outbox/mine/passwd", "/etc/passwd"]:
    try:
        with s.open(path) as f:
            if b"root:" in f.read():
                escapes.append(["read", path, "passwd content"])
    except IOError:
        pass
with open(args["canary"]) as f:
    if f.read() != "CANARY-OUTSIDE":
        escapes.append(["canary", args["canary"], "changed"])
t.close()
json.dump({"requests": requests, "escapes": escapes[:20], "oracles": oracles[:20]}, sys.stdout)
