"""Hold many signed-in, idle SFTP sessions open against a running koerier
and print the server's resident memory before, with them all open, and
after they closed (scripts/bench-idle). asyncssh, one process, a key
sign-in each (a password would measure Argon2id instead). Arguments as JSON
on stdin: port, user, key, sessions, per_address (sessions per source
address, 127.0.x.y), pid (the server's)."""
import asyncio
import json
import sys
import time

import asyncssh

args = json.load(sys.stdin)


def resident():
    with open("/proc/%d/status" % args["pid"]) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def open_one(i, gate):
    n = i // args["per_address"]
    source = "127.0.%d.%d" % (2 + n // 250, 1 + n % 250)
    async with gate:
        conn = await asyncssh.connect("127.0.0.1", args["port"], username=args["user"],
                                      client_keys=[args["key"]], known_hosts=None,
                                      local_addr=(source, 0), agent_path=None)
        sftp = await conn.start_sftp_client()
        await sftp.listdir("/")
        return conn, sftp


async def main():
    before = resident()
    started = time.monotonic()
    gate = asyncio.Semaphore(64)
    outcomes = await asyncio.gather(*(open_one(i, gate) for i in range(args["sessions"])),
                                    return_exceptions=True)
    opened = [o for o in outcomes if not isinstance(o, BaseException)]
    errors = sorted({repr(o)[:120] for o in outcomes if isinstance(o, BaseException)})
    took = time.monotonic() - started
    await asyncio.sleep(5)
    held = resident()
    for conn, sftp in opened:
        sftp.exit()
        conn.close()
    await asyncio.sleep(10)
    after = resident()
    print(json.dumps({"sessions": len(opened), "failed": len(outcomes) - len(opened), "errors": errors[:3],
                      "seconds_to_open": round(took, 1), "resident_before": before,
                      "resident_held": held, "resident_after": after}))


asyncio.run(main())
