"""Reconnect catch-up soak (docs/reliability.md, item 12).

``SOAK_CLIENTS`` clients (10) on one room, spread over two uvicorn processes, send
``SOAK_MESSAGES`` messages (300) between them while a chaos task closes a random client's
socket every ~2 s (client side). Each client reconnects to a random process and resumes
from its last ``event_seq``; unacked sends are retried with their ``client_id``. In the end
every client holds exactly the stored messages: 0 lost, 0 duplicated, live numbers in
order (the reference client counts any frame that is not the next number).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import (
    ChatClient,
    RedisServer,
    Site,
    env_int,
    poll,
    seed_site,
    settle,
    site_env,
)

pytestmark = [pytest.mark.redis, pytest.mark.slow]

CLIENTS = env_int("SOAK_CLIENTS", 10)
MESSAGES = env_int("SOAK_MESSAGES", 300)
#: Messages per second over all clients: slow enough that the chaos task drops sockets
#: mid-stream (about 5 drops in the normal suite).
RATE = env_int("SOAK_RATE", 30)


@pytest.fixture
def soak_site(tmp_path: Path, redis_server: RedisServer) -> Iterator[Site]:
    env = site_env(tmp_path, redis_url=redis_server.url)
    with seed_site(env, users=CLIENTS).serving() as site:
        yield site


async def send_share(client: ChatClient, count: int) -> None:
    """Send ``count`` messages, at most 5 unacked; reconnect whenever the socket is gone."""
    sent = 0
    last_retry = time.monotonic()
    while sent < count or client.outstanding:
        if not client.connected:
            client.reconnects += 1
            await client.connect()
            last_retry = time.monotonic()
        if sent < count and len(client.outstanding) < 5:
            await client.send(f"{client.name} {sent}")
            sent += 1
            await asyncio.sleep(CLIENTS / RATE)
            continue
        if time.monotonic() - last_retry > 2:
            await client.retry_outstanding()
            last_retry = time.monotonic()
        await asyncio.sleep(0.01)


async def chaos(clients: list[ChatClient], stop: asyncio.Event) -> int:
    drops = 0
    while not stop.is_set():
        await asyncio.sleep(random.uniform(1.5, 2.5))
        victim = random.choice(clients)
        if victim.connected:
            await victim.drop()
            drops += 1
    return drops


async def test_reconnect_catch_up(soak_site: Site) -> None:
    site = soak_site
    clients = [
        ChatClient(f"c{n}", user, site.room, site.ports) for n, user in enumerate(site.users)
    ]
    for client in clients:
        await client.connect()
    started = time.monotonic()
    stop = asyncio.Event()
    chaos_task = asyncio.create_task(chaos(clients, stop))
    shares = [MESSAGES // CLIENTS + (n < MESSAGES % CLIENTS) for n in range(CLIENTS)]
    try:
        await asyncio.gather(*(send_share(c, k) for c, k in zip(clients, shares, strict=True)))
        stop.set()
        # The chaos task ends within one period (a bound, so that a hang fails, not stalls).
        drops = await asyncio.wait_for(chaos_task, 30)
        elapsed = time.monotonic() - started
        for client in clients:
            if not client.connected:
                await client.connect()

        rows = site.messages()
        assert len(rows) == MESSAGES, "lost or doubled sends"
        assert len({row[3] for row in rows}) == MESSAGES
        assert [row[1] for row in rows] == list(range(1, MESSAGES + 1))
        final = {row[0]: row[2] for row in rows}
        top = max(final.values())
        # Clients behind after the last frame (a doorbell lost with no later frame to show
        # the gap) catch up with one resume, as a client does on its periodic ping.
        await settle(lambda: all(c.last == top for c in clients), 5)
        behind = [c.name for c in clients if c.last != top]
        for client in clients:
            if client.last != top:
                await client.resync()
        await poll(lambda: all(c.last == top for c in clients), 30, "every client complete")
        for client in clients:
            assert client.applied == final, f"{client.name} lost messages"
            assert client.duplicates == 0, client.name
            assert client.disorder == 0, client.name
        print(
            f"\n{CLIENTS} clients x {MESSAGES} messages in {elapsed:.1f} s: {drops} drops, "
            f"{sum(c.reconnects for c in clients)} reconnects, "
            f"{sum(c.gaps for c in clients)} gap resumes, errors "
            f"{sorted({e['code'] for c in clients for e in c.errors})}, behind at the end "
            f"{behind}; 0 lost, 0 duplicated"
        )
    finally:
        stop.set()
        chaos_task.cancel()
        for client in clients:
            await client.close()


if os.environ.get("SOAK_MESSAGES"):
    pytestmark.append(pytest.mark.timeout(0))
