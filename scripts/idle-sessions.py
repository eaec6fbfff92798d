"""Hold many signed-in, idle SFTP sessions open against a running koerier
and print the server's resident memory before, with them all open, and
after they closed. Used by scripts/bench-idle; arguments as JSON on stdin:
port, user, password, sessions, per_address (sessions per source address,
127.0.0.x), pid (the server's)."""
import concurrent.futures
import json
import sys
import time

import paramiko

args = json.load(sys.stdin)


def resident():
    with open("/proc/%d/status" % args["pid"]) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def open_one(i):
    source = "127.0.%d.%d" % (2 + i // args["per_address"] // 250, 1 + i // args["per_address"] % 250)
    sock = __import__("socket").create_connection(("127.0.0.1", args["port"]), source_address=(source, 0))
    t = paramiko.Transport(sock)
    t.connect(username=args["user"], password=args["password"])
    s = paramiko.SFTPClient.from_transport(t)
    s.listdir("/")
    return t


before = resident()
started = time.monotonic()
sessions = []
failed = 0
with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
    futures = [pool.submit(open_one, i) for i in range(args["sessions"])]
    for f in futures:
        try:
            sessions.append(f.result())
        except Exception:  # a refusal: counted, the rest go on
            failed += 1
opened = time.monotonic() - started
time.sleep(5)
held = resident()
for t in sessions:
    t.close()
time.sleep(10)
after = resident()
print(json.dumps({"sessions": len(sessions), "failed": failed, "seconds_to_open": round(opened, 1),
                  "resident_before": before, "resident_held": held, "resident_after": after}))
