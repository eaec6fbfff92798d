"""An HTTP SMS gateway for koerier's tests, on a loopback port.

Answers the requests in the order of --plan (comma-separated: a status such
as 200 or 500, or "hang" to keep the client waiting --hang seconds and then
close without an answer); after the plan, 200. Every request is appended to
<dir>/requests.jsonl with what it answered ("accepted" for a success status),
its Idempotency-Key, Authorization and body. Prints "ready <port>".

usage: sms_peer.py --port PORT --dir FOLDER [--plan 500,hang,200] [--hang 3]
"""

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"n": 0}


def make_handler(folder, plan, hang):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8", "replace")
            with lock:
                n = state["n"]
                state["n"] += 1
            step = plan[n] if n < len(plan) else "200"
            record = {
                "n": n,
                "method": self.command,
                "path": self.path,
                "idempotency_key": self.headers.get("Idempotency-Key"),
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "body": body,
                "answer": "accepted" if step in ("200", "201", "202", "204") else step,
            }
            with lock:
                with open(os.path.join(folder, "requests.jsonl"), "a") as f:
                    f.write(json.dumps(record) + "\n")
            if step == "hang":
                time.sleep(hang)
                self.close_connection = True
                return
            status = int(step)
            payload = b'{"status": "ok"}' if status < 300 else b'{"error": "planned"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = handle_any
        do_PUT = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--plan", default="")
    ap.add_argument("--hang", type=float, default=3.0)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    plan = [p.strip() for p in args.plan.split(",") if p.strip()]
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.dir, plan, args.hang))
    server.daemon_threads = True
    print("ready %d" % args.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
