"""One client that tries to take both doors down: many HTTPS connections
that send a POST's headers and then trickle its body a byte a second, and
many SSH connections that send their version and then stall, all from one
source address (or, with "per_address", spread over 127.0.x.y, that many
from each: many clients). Arguments as JSON on stdin; prints "ready" once
every connection has been tried, then one JSON line: what became of each.

Outcomes: "dropped" (closed before a byte was answered), "crowded" (HTTPS
answered 503 with the reason; SSH a "koerier: ..." line before any version),
"cut" (admitted, then closed by the server; with the seconds it was held),
"held" (still open when the script gave up)."""
import asyncio
import json
import ssl
import sys
import time

args = json.load(sys.stdin)
HOST = args["host"]
GIVE_UP = args["give_up_after"]
PER_ADDRESS = args.get("per_address")
sources = {"https": 0, "ssh": 0}


def source(door):
    """The address the next connection of `door` comes from."""
    if not PER_ADDRESS:
        return (args["source"], 0)
    n = sources[door] // PER_ADDRESS
    sources[door] += 1
    return ("127.0.%d.%d" % (2 + n // 250, 1 + n % 250), 0)

TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE

tried = 0
all_tried = asyncio.Event()


def one_more_tried():
    global tried
    tried += 1
    if tried == args["https"] + args["ssh"]:
        all_tried.set()


async def read_to_end(reader):
    data = b""
    try:
        while True:
            piece = await reader.read(65536)
            if not piece:
                return data
            data += piece
    except (ConnectionError, ssl.SSLError, OSError):
        return data


async def slow_body():
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(HOST, args["https_port"], ssl=TLS, local_addr=source("https")), 10)
    except (OSError, ssl.SSLError, asyncio.TimeoutError):
        one_more_tried()
        return {"outcome": "dropped"}
    one_more_tried()
    started = time.monotonic()
    writer.write(b"POST /l/" + b"x" * 43 + b"/code HTTP/1.1\r\nHost: koerier\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
    answer = asyncio.ensure_future(read_to_end(reader))
    while not answer.done() and time.monotonic() - started < GIVE_UP:
        try:
            writer.write(b"a")
            await writer.drain()
        except (OSError, ssl.SSLError):
            pass
        await asyncio.wait({answer}, timeout=1)
    if not answer.done():
        answer.cancel()
        writer.close()
        return {"outcome": "held"}
    data = answer.result()
    writer.close()
    head = data.split(b"\r\n", 1)[0]
    if b" 503 " in head + b" " and b"too many connections" in data:
        return {"outcome": "crowded"}
    return {"outcome": "cut", "seconds": time.monotonic() - started, "answer": head.decode(errors="replace")}


async def stalled_ssh():
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(HOST, args["sftp_port"], local_addr=source("ssh")), 10)
    except (OSError, asyncio.TimeoutError):
        one_more_tried()
        return {"outcome": "dropped"}
    one_more_tried()
    started = time.monotonic()
    try:
        first = await asyncio.wait_for(reader.readline(), GIVE_UP)
    except (OSError, asyncio.TimeoutError):
        first = b""
    if first.startswith(b"koerier: "):
        writer.close()
        return {"outcome": "crowded", "line": first.decode().strip()}
    if not first.startswith(b"SSH-"):
        writer.close()
        return {"outcome": "dropped"}
    writer.write(b"SSH-2.0-stall\r\n")
    try:
        await asyncio.wait_for(read_to_end(reader), GIVE_UP)
    except asyncio.TimeoutError:
        writer.close()
        return {"outcome": "held"}
    writer.close()
    return {"outcome": "cut", "seconds": time.monotonic() - started}


async def main():
    tasks = [asyncio.ensure_future(slow_body()) for _ in range(args["https"])]
    tasks += [asyncio.ensure_future(stalled_ssh()) for _ in range(args["ssh"])]
    await all_tried.wait()
    print("ready", flush=True)
    results = await asyncio.gather(*tasks)
    print(json.dumps({"https": results[:args["https"]], "ssh": results[args["https"]:]}), flush=True)


asyncio.run(main())
