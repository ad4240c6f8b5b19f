"""PostgreSQL becomes unreachable under light load, then comes back (docs/reliability.md,
item 11).

The example site's ``DATABASE_URL`` points at a :class:`~tests.servers.TcpProxy` in front
of PostgreSQL, with persistent connections (``CONN_MAX_AGE=60`` as in campus.settings).
The proxy drops every connection and refuses new ones for ``DB_OUTAGE_SECONDS`` (5 s
here, 30 s for the long variant). Senders must get error frames, nothing may be acked
that was not stored, every client_id must be stored exactly once, no process may die, and
sends must succeed again once the proxy is restored, without restarting anything.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import (
    ChatClient,
    RedisServer,
    Site,
    TcpProxy,
    env_float,
    poll,
    proxied_url,
    redis_server,
    seed_site,
    site_env,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

__all__ = ["redis_server"]

OUTAGE = env_float("DB_OUTAGE_SECONDS", 5)
#: Sends must be acked again this long after the database is back.
RECOVER_WITHIN = 5.0


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", 5432)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def db_site(tmp_path: Path, redis_server: RedisServer, proxy: TcpProxy) -> Iterator[Site]:
    direct = os.environ["DATABASE_URL"]
    site = seed_site(site_env(tmp_path, redis_url=redis_server.url, database_url=direct), 3)
    site.env = {
        **site.env,
        "SCCHAT_MP_DATABASE_URL": proxied_url(direct, proxy.port),
        "SCCHAT_MP_CONN_MAX_AGE": "60",
    }
    try:
        site.start_server()
        site.start_server()
        yield site
    finally:
        site.stop()


async def talk(client: ChatClient, stop: asyncio.Event, sent: list[str]) -> None:
    """About 5 sends a second, at most 3 unacked, retried every second; reconnects."""
    last_retry = time.monotonic()
    while not stop.is_set():
        if not client.connected:
            client.reconnects += 1
            await client.connect(timeout=OUTAGE + 30)
        if len(client.outstanding) < 3:
            sent.append(await client.send(f"{client.name} {len(sent)}"))
        if time.monotonic() - last_retry > 1:
            await client.retry_outstanding()
            last_retry = time.monotonic()
        await asyncio.sleep(0.2)


async def test_database_unreachable(db_site: Site, proxy: TcpProxy) -> None:
    site = db_site
    clients = [
        ChatClient(f"c{n}", user, site.room, [site.ports[n % 2]])
        for n, user in enumerate(site.users)
    ]
    for client in clients:
        await client.connect()
    stop = asyncio.Event()
    sent: dict[str, list[str]] = {client.name: [] for client in clients}
    acked_at: dict[str, float] = {}
    tasks = [asyncio.create_task(talk(c, stop, sent[c.name])) for c in clients]
    try:
        await asyncio.sleep(1.5)
        assert all(c.acks for c in clients), "no traffic before the outage"
        before = {cid for c in clients for cid in c.acks}
        errors_before = sum(len(c.errors) for c in clients)
        proxy.cut()
        await asyncio.sleep(OUTAGE)
        assert site.alive(), "a server process died during the outage"
        during = {cid for c in clients for cid in c.acks} - before
        errors_during = sum(len(c.errors) for c in clients) - errors_before
        codes = sorted({e["code"] for c in clients for e in c.errors})
        proxy.restore()
        back = time.monotonic()
        known = {cid for c in clients for cid in c.acks}

        def recovered() -> bool:
            for c in clients:
                if c.name not in acked_at and set(c.acks) - known:
                    acked_at[c.name] = time.monotonic() - back
            return len(acked_at) == len(clients)

        await poll(recovered, RECOVER_WITHIN, "sends acked again after the database returned")
        await asyncio.sleep(1)
        stop.set()
        await asyncio.gather(*tasks)
        assert site.alive(), "a server process died"
        for client in clients:
            if not client.connected:
                await client.connect()
            await client.retry_outstanding()
        await poll(lambda: not any(c.outstanding for c in clients), 15, "every send acked")

        rows = site.messages()
        stored = {row[3]: row[0] for row in rows}
        assert len(stored) == len(rows), "a client_id was stored twice"
        for client in clients:
            for client_id, message in client.acks.items():
                assert stored.get(client_id) == message["id"], "acked but not stored"
        assert {cid for ids in sent.values() for cid in ids} == set(stored)
        top = max(row[2] for row in rows)
        for client in clients:
            await client.resync()
        await poll(lambda: all(c.last == top for c in clients), 10, "every client complete")
        final = {row[0]: row[2] for row in rows}
        for client in clients:
            assert client.applied == final, client.name
            assert client.duplicates == 0, client.name
            assert client.disorder == 0, client.name
        print(
            f"\nstored {len(rows)}; during the {OUTAGE} s outage: {len(during)} acks, "
            f"{errors_during} error frames {codes}, proxy refused {proxy.refused} connections; "
            f"first ack after restore (s): {acked_at}; reconnects "
            f"{[c.reconnects for c in clients]}, close codes "
            f"{sorted({code for c in clients for code in c.closes}, key=str)}"
        )
        assert errors_during > 0, "senders got no error frame while the database was away"
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        for client in clients:
            await client.close()


if os.environ.get("DB_OUTAGE_SECONDS"):
    pytestmark.append(pytest.mark.timeout(120 + 2 * OUTAGE))
