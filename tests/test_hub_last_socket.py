"""A process's last socket comes and goes under traffic: the hub never wedges (issue #14, 0).

Two uvicorn processes of the example site on the Redis layer. Four users post into the room
through process B the whole time; one user opens a room socket on process A, pings it,
waits for a live message, and closes it, again and again: each close leaves process A with
no socket at all. Before the fix, the hub stopped its receive loop when the last socket
left, awaiting a cancelled channels-redis ``receive()`` under the hub's lock; when that
receive swallowed the cancellation, the lock stayed held, every later socket on A was
"connected but silent", and A no longer stopped on SIGTERM (docs/reliability.md).

Each new socket must get its ``pong`` and a live ``message.new``; at the end process A
must stop on SIGTERM within a few seconds.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from smartcampus_chat.testing.wire import client_frame, parse_server_frame
from tests.servers import (
    ChatClient,
    Site,
    env_int,
    open_ws,
    seed_site,
    site_env,
    stop_talking,
    talk,
)

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CYCLES = env_int("HUB_LAST_SOCKET_CYCLES", 40)
#: Generous bounds for a loaded 2-core machine; a wedged hub never delivers at all.
FRAME_WITHIN = 10.0
STOP_WITHIN = 8.0
HOLD = float(os.environ["HUB_LAST_SOCKET_HOLD"]) if os.environ.get("HUB_LAST_SOCKET_HOLD") else None


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    env = site_env(tmp_path, redis_url=REDIS_URL)
    # Whatever source tree this run imports (``PYTHONPATH=src``, or an old tree to show the
    # test fails there) is the one the servers run.
    extra = [
        str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    ]
    env["PYTHONPATH"] = os.pathsep.join([*extra, env["PYTHONPATH"]])
    with seed_site(env, users=5).serving() as site:
        yield site


async def frame_of(ws: ClientConnection, kind: str, what: str, cycle: int) -> dict[str, Any]:
    deadline = time.monotonic() + FRAME_WITHIN
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"cycle {cycle}: no {what} within {FRAME_WITHIN} s")
        try:
            frame = parse_server_frame(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            continue
        if frame["type"] == kind:
            return frame


def stop_within(process: subprocess.Popen[bytes], seconds: float) -> float | None:
    """SIGTERM ``process``; the seconds it took to exit, or None (it was then killed)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None
    return time.monotonic() - started


async def test_the_last_socket_coming_and_going_under_traffic_never_wedges_the_hub(
    site: Site,
) -> None:
    (port_a, process_a), (port_b, _) = site.servers
    cycler, *posters = site.users
    clients = [ChatClient(f"p{n}", user, site.room, [port_b]) for n, user in enumerate(posters)]
    stop = asyncio.Event()
    sent: list[str] = []
    for client in clients:
        await client.connect()
    tasks = [asyncio.create_task(talk(c, stop, sent, reconnect_within=30)) for c in clients]
    try:
        for cycle in range(1, CYCLES + 1):
            ws = await open_ws(port_a, cycler, f"/ws/chat/{site.room}/")
            try:
                await ws.send(client_frame(type="ping", id=cycle))
                pong = await frame_of(ws, "pong", "pong", cycle)
                assert pong["id"] == cycle
                # The hub of process A delivers what process B's users post.
                await frame_of(ws, "message.new", "live message.new", cycle)
                # Close at a random point of the hub's receive loop.
                await asyncio.sleep(HOLD if HOLD is not None else random.uniform(0.0, 0.3))
            finally:
                await ws.close()
            assert process_a.poll() is None, "process A died"
    finally:
        await stop_talking(stop, tasks, clients)
    took = stop_within(process_a, STOP_WITHIN)
    assert took is not None, f"process A did not stop within {STOP_WITHIN} s of SIGTERM"
