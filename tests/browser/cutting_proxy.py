"""A TCP proxy for the browser tests: forwards 127.0.0.1:<listen> to
127.0.0.1:<target> (TLS passes through untouched), optionally at a limited
rate, and cuts the connection that carries the client's <cut>th byte, once,
as a network that drops would. Prints its port, then "cut at <n>" when it
cuts, and serves until killed.
Usage: python3 cutting_proxy.py <target-port> <cut-after-bytes|0> <bytes-per-second|0>"""

import asyncio
import sys

TARGET, CUT, RATE = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sent = 0
cut_done = CUT == 0


async def pipe(reader, writer, back, upstream):
    global sent, cut_done
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if upstream:
                sent += len(data)
                if not cut_done and sent >= CUT:
                    cut_done = True
                    writer.transport.abort()
                    back.transport.abort()
                    print(f"cut at {sent}", flush=True)
                    return
                if RATE:
                    await asyncio.sleep(len(data) / RATE)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(
        pipe(client_reader, server_writer, client_writer, True),
        pipe(server_reader, client_writer, server_writer, False),
    )


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
