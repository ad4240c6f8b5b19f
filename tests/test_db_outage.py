"""PostgreSQL becomes unreachable under light load, then comes back (docs/reliability.md,
item 11).

The example site's ``DATABASE_URL`` points at a :class:`~tests.servers.TcpProxy` in front
of PostgreSQL, with persistent connections (``CONN_MAX_AGE=60``, the hardest case: a cut
leaves them broken).
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
    RedisServer,
    Site,
    TcpProxy,
    Traffic,
    ack_everything,
    assert_every_client_complete,
    assert_stored_once,
    env_float,
    poll,
    proxied_url,
    seed_site,
    site_env,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

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
    with site.serving():
        yield site


async def test_database_unreachable(db_site: Site, proxy: TcpProxy) -> None:
    site = db_site
    acked_at: dict[str, float] = {}
    async with Traffic(site, reconnect_within=OUTAGE + 30) as traffic:
        clients = traffic.clients
        await asyncio.sleep(1.5)
        # Traffic flows before the cut: a send of every client acked. Waited for, not
        # assumed after 1.5 s: on a loaded machine a fresh server's first round trips take
        # longer (what is measured is the outage, below).
        await poll(lambda: all(c.acks for c in clients), 30, "traffic before the outage")
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
        await traffic.stop()
        assert site.alive(), "a server process died"
        await ack_everything(clients)
        rows = assert_stored_once(site, traffic)
        await assert_every_client_complete(clients, rows)
        print(
            f"\nstored {len(rows)}; during the {OUTAGE} s outage: {len(during)} acks, "
            f"{errors_during} error frames {codes}, proxy refused {proxy.refused} connections; "
            f"first ack after restore (s): {acked_at}; reconnects "
            f"{[c.reconnects for c in clients]}, close codes "
            f"{sorted({code for c in clients for code in c.closes}, key=str)}"
        )
        assert errors_during > 0, "senders got no error frame while the database was away"


if os.environ.get("DB_OUTAGE_SECONDS"):
    pytestmark.append(pytest.mark.timeout(120 + 2 * OUTAGE))
