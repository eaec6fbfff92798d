"""A real SMTP server for koerier's tests: aiosmtpd on a loopback port.

Each message it accepts is written to the folder as <n>.eml (the bytes as
received) and <n>.json (parsed back with Python's email package: headers and
every text part), each written under a temporary name and renamed. Prints
"ready <port>" once it listens; stops on SIGTERM or SIGINT.

usage: smtp_peer.py --port PORT --dir FOLDER
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import sys

from aiosmtpd.controller import Controller


def write_atomically(path, data):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def parse(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({"type": part.get_content_type(), "body": part.get_content()})
    return {
        "message_id": msg.get("Message-ID", ""),
        "from": str(msg.get("From", "")),
        "to": str(msg.get("To", "")),
        "subject": str(msg.get("Subject", "")),
        "content_type": msg.get_content_type(),
        "parts": parts,
    }


class Keep:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        n = next(self.counter)
        # Files are named by arrival and by a nonce, so a restarted server
        # never overwrites what an earlier one kept.
        stem = os.path.join(self.folder, "%s-%06d" % (os.getpid(), n))
        parsed = parse(raw)
        parsed["rcpt_tos"] = list(envelope.rcpt_tos)
        write_atomically(stem + ".eml", raw)
        write_atomically(stem + ".json", json.dumps(parsed).encode())
        return "250 OK kept"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Keep(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready %d" % args.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
