"""REFERENCE SERVER (ceiling): a bare asyncio ``websockets`` server, no Django, no layer.

Clients connect to ``/room/<n>``; every text frame a client sends is relayed unchanged to
every connection of that room, sender included, with ``websockets.broadcast()`` (the frame
is encoded once and written to each socket without awaiting it).

    python -m bench.reference.bare_ws --port 8101
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve

ROOMS: defaultdict[str, set[ServerConnection]] = defaultdict(set)


async def handler(ws: ServerConnection) -> None:
    room = ws.request.path if ws.request is not None else "/"
    members = ROOMS[room]
    members.add(ws)
    try:
        async for frame in ws:
            broadcast(members, frame)
    finally:
        members.discard(ws)


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handler, host, port, compression=None, max_size=65536, ping_interval=None, backlog=4096
    ):
        await stop


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):
        runner(main(args.host, args.port))


if __name__ == "__main__":
    run()
