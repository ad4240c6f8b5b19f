"""Database connections of one server process stay bounded under load (issue 23, part 1).

A uvicorn process of the example site on PostgreSQL; the test counts the process's own TCP
connections to PostgreSQL (psutil, every 10 ms) while clients load it:

- with the site's pool (``OPTIONS["pool"]``, ``max_size`` 4 here), 64 concurrent API
  requests and 80 sockets connecting and sending at once never take more than 4
  connections, and no request gets 503: Django runs each HTTP request in a thread of its
  own, so without the pool (persistent connections, as the site had them) the same load
  opens about one connection per request in flight;
- the WebSocket side's database work runs on one thread (Channels'
  ``database_sync_to_async`` is thread-sensitive and nothing gives a socket a thread of
  its own), so even with persistent connections and no pool, 80 sockets use one
  connection (and the notification worker's thread, when it runs, one of its own).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

from smartcampus_chat.testing.wire import client_frame, parse_server_frame, room_path
from tests.servers import Site, open_ws, seed_site, site_env

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES, reason="connections are counted on PostgreSQL"),
]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POOL = 4
HTTP_IN_FLIGHT = 64
SOCKETS = 80
USERS = 8  # MAX_CONNECTIONS_PER_USER is 30.

TOKEN = """
import django
django.setup()
from rest_framework.authtoken.models import Token
print(Token.objects.get_or_create(user_id={user_id})[0].key)
"""


class PeakConnections:
    """The most TCP connections ``pid`` held to PostgreSQL's port at once."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.port = urlsplit(os.environ["DATABASE_URL"]).port or 5432
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self) -> int:
        return sum(
            1
            for conn in self.process.net_connections(kind="tcp")
            if conn.raddr and conn.raddr.port == self.port and conn.status == "ESTABLISHED"
        )

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.count())

    @contextmanager
    def watching(self) -> Iterator[PeakConnections]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def serve(tmp_path: Path, env: dict[str, str]) -> Iterator[Site]:
    site = seed_site({**site_env(tmp_path, redis_url=REDIS_URL), **env}, users=USERS)
    with site.serving(processes=1):
        yield site


@pytest.fixture
def pooled_site(tmp_path: Path) -> Iterator[Site]:
    yield from serve(tmp_path, {"SCCHAT_MP_DB_POOL_MAX_SIZE": str(POOL)})


@pytest.fixture(params=["off", "thread"])
def persistent_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """No pool, connections kept for 60 s: the example site's old settings; with and
    without the notification worker thread (which keeps one connection of its own)."""
    env = {"SCCHAT_MP_CONN_MAX_AGE": "60", "SCCHAT_MP_NOTIFY_WORKER": request.param}
    yield from serve(tmp_path, env)


def api_requests(site: Site) -> list[int]:
    """``HTTP_IN_FLIGHT`` concurrent ``GET api/rooms/`` with a token; their statuses."""
    token = site.run_django(TOKEN.format(user_id=site.users[0]))
    headers = {"Authorization": f"Token {token}"}
    url = f"http://127.0.0.1:{site.ports[0]}/chat/api/rooms/"
    start = threading.Barrier(HTTP_IN_FLIGHT)
    statuses: list[int] = []

    def one() -> None:
        start.wait()
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=one) for _ in range(HTTP_IN_FLIGHT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


async def sockets_send(site: Site) -> int:
    """``SOCKETS`` sockets open at once, each sends one message at once; acks received."""
    port, path = site.ports[0], room_path(site.room)
    sockets = await asyncio.gather(
        *(open_ws(port, site.users[i % USERS], path) for i in range(SOCKETS))
    )
    try:
        await asyncio.gather(
            *(
                ws.send(client_frame(type="message.send", id=1, content="hi", client_id=f"c{i}"))
                for i, ws in enumerate(sockets)
            )
        )

        async def acked(ws: object) -> bool:
            while True:
                frame = parse_server_frame(await ws.recv())  # type: ignore[attr-defined]
                if frame.get("type") in ("ack", "error") and frame.get("id") == 1:
                    return bool(frame["type"] == "ack")

        results = await asyncio.wait_for(asyncio.gather(*(acked(ws) for ws in sockets)), 60)
        return sum(results)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


def test_a_pool_bounds_the_process_connections(pooled_site: Site) -> None:
    server = PeakConnections(pooled_site.servers[0][1].pid)
    with server.watching():
        statuses = api_requests(pooled_site)
        acks = asyncio.run(sockets_send(pooled_site))
    assert sorted(set(statuses)) == [200], json.dumps(statuses)
    assert acks == SOCKETS
    assert 0 < server.peak <= POOL


def test_socket_database_work_uses_one_connection(
    persistent_site: Site, request: pytest.FixtureRequest
) -> None:
    """One for the sockets; the notification worker's thread, when it runs, one more."""
    server = PeakConnections(persistent_site.servers[0][1].pid)
    with server.watching():
        acks = asyncio.run(sockets_send(persistent_site))
    assert acks == SOCKETS
    if request.node.callspec.params["persistent_site"] == "thread":
        assert 1 <= server.peak <= 2
    else:
        assert server.peak == 1
