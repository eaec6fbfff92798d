"""paramiko as the SFTP door of the behaviour table (tests/cross/table.rs):
the operations of one scenario as JSON on stdin, run in order over one
connection; the door's answer to each as JSON on stdout, a list."""
import errno
import json
import sys
import time

import paramiko
from paramiko.sftp import CMD_CLOSE

args = json.load(sys.stdin)


def connect():
    t = paramiko.Transport((args.get("host", "127.0.0.1"), args["port"]))
    t.connect(username=args["user"], password=args["password"])
    return t, paramiko.SFTPClient.from_transport(t)


def close(s, f):
    """paramiko's close() ignores the server's answer to CLOSE, and the door
    may refuse a finished document in that answer: ask for it ourselves."""
    f.flush()
    f._closed = True
    s._request(CMD_CLOSE, f.handle)


def put(s, path, data):
    f = s.open(path, "wb")
    try:
        f.write(data)
    except IOError:
        f.close()
        raise
    close(s, f)


def cut(path, size):
    """An upload whose connection drops before the file is closed; then wait
    (up to 10 s) until the server has noticed and shows what it stored."""
    t, s = connect()
    data = b"%PDF-1.4\n" + bytes((i * 2654435761 >> 24) & 255 for i in range(size - 9))
    f = s.open(path, "wb")
    f.set_pipelined(False)
    for at in range(0, size, 32768):
        f.write(data[at:at + 32768])
    t.sock.close()
    t, s = connect()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if s.stat(path).st_size > 0:
                break
        except IOError:
            pass
        time.sleep(0.2)
    t.close()


def run(s, op):
    kind, path = op["op"], op.get("path")
    if kind == "mkdir":
        s.mkdir(path)
    elif kind == "put":
        put(s, path, bytes(op["data"]))
    elif kind == "rename":
        s.rename(path, op["to"])
    elif kind == "delete":
        s.remove(path)
    elif kind == "rmdir":
        s.rmdir(path)
    elif kind == "list":
        return {"listing": [[a.filename, a.st_size] for a in s.listdir_attr(path)]}
    elif kind == "read":
        with s.open(path, "rb") as f:
            return {"bytes": list(f.read())}
    elif kind == "stat":
        s.stat(path)
    elif kind == "cut":
        cut(path, op["size"])
    else:
        raise ValueError("unknown operation %r" % kind)
    return {}


def answer(s, op):
    try:
        out = run(s, op)
        out["status"] = "ok"
        return out
    except IOError as e:
        if e.errno == errno.ENOENT:
            return {"status": "no such file", "message": e.strerror}
        if e.errno == errno.EACCES:
            return {"status": "permission denied", "message": e.strerror}
        return {"status": "failure", "message": str(e.args[0]) if e.args else ""}
    except Exception as e:  # a dropped connection, a protocol error: not a refusal
        return {"status": "error", "message": "%s: %s" % (type(e).__name__, e)}


t, s = connect()
json.dump([answer(s, op) for op in args["ops"]], sys.stdout)
t.close()
