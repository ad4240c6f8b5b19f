"""The app shell's connections (issue #16): what a user's sockets cost the server.
 the shell keeps one all-rooms socket per user (``ws/chat/``, following
every joined room) and a room socket only while a room the user has not joined is open.
The alternative is two sockets per user: the all-rooms one for the sidebar plus one for
the open room. N users (1,000; quick: 200), each a member of ``ROOMS_PER_USER`` rooms,
open their all-rooms socket (50 handshakes in flight), then each a room socket as well;
memory per user is the server's RSS growth divided by N, from a baseline taken with
``WARM_UP`` sockets open (as the ``idle`` workload does).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import websockets

from bench import django_side
from bench.runner import RunContext, serve
from bench.targets import select

TITLE = "App shell: memory per user"
ROOMS = 20
ROOMS_PER_USER = 5
WARM_UP = 20


async def _open(port: int, paths: list[str], concurrency: int) -> list[Any]:
    """Open a socket on each path (at most ``concurrency`` handshakes at once)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(path: str) -> Any:
        async with gate:
            socket = await websockets.connect(
                f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=120
            )
            # The server accepts, then may close with a code: wait for its first frame or
            # a short quiet time, so the socket is really set up before RSS is read.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(socket.recv(), timeout=0.5)
            return socket

    return list(await asyncio.gather(*(one(path) for path in paths)))


def _paths(served: Any, user_ids: list[int], room: bool) -> list[str]:
    tickets = django_side.call(served.database_url, django_side.mint_tickets, user_ids)
    paths = []
    for index, ticket in enumerate(tickets):
        where = f"bench-room-{index % ROOMS}/" if room else ""
        paths.append(f"/ws/chat/{where}?v=1&ticket={ticket}")
    return paths


async def _measure(served: Any, users: list[int]) -> dict[str, float]:
    """RSS growth per user: all-rooms sockets first, then a room socket each as well."""
    warm = await _open(served.port, _paths(served, users[:WARM_UP], False), 20)
    await asyncio.sleep(1.0)
    base = served.sampler.rss()
    everyone = users[WARM_UP:]
    started = time.perf_counter()
    main = await _open(served.port, _paths(served, everyone, False), 50)
    handshakes = time.perf_counter() - started
    await asyncio.sleep(2.0)
    one_socket = served.sampler.rss()
    rooms = await _open(served.port, _paths(served, everyone, True), 50)
    await asyncio.sleep(2.0)
    two_sockets = served.sampler.rss()
    for socket in warm + main + rooms:
        await socket.close()
    return {
        "one": (one_socket - base) / len(everyone) / 1024,
        "two": (two_sockets - base) / len(everyone) / 1024,
        "handshakes_per_s": len(everyone) / handshakes,
    }


def run(ctx: RunContext) -> list[dict[str, Any]]:
    count = ctx.connections or (200 if ctx.quick else 1000)
    rows = []
    for target in select(ctx.target_names, ["app-uvicorn-redis"]):
        ctx.log(f"shell-memory {target.name}: {count} users")
        with serve(ctx, target, rooms=ROOMS, users=count + WARM_UP) as served:
            users = served.user_ids
            django_side.call(
                served.database_url, django_side.join_rooms, users, ROOMS, ROOMS_PER_USER
            )

            figures = asyncio.run(_measure(served, users))
            rows.append(
                {
                    "workload": "shell-memory",
                    "target": target.name,
                    "users": count,
                    "rooms_per_user": ROOMS_PER_USER,
                    "kib_per_user_one_socket": round(figures["one"], 1),
                    "kib_per_user_two_sockets": round(figures["two"], 1),
                    "saved_pct": round(100 * (1 - figures["one"] / figures["two"]), 1)
                    if figures["two"]
                    else None,
                }
            )
    return rows
