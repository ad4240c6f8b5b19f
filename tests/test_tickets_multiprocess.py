"""One ticket, two uvicorn processes sharing a Redis cache: the second process refuses it.

A ticket copied from a log must not open a socket on another worker of the same site:
redeeming is an atomic ``cache.add`` in the shared cache, not a per-process memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from smartcampus_chat.realtime.tickets import issue_ticket
from smartcampus_chat.testing.wire import parse_server_frame, room_path
from tests.servers import Site, seed_site, site_env

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with seed_site(site_env(tmp_path, redis_url=REDIS_URL), users=1).serving() as site:
        yield site


async def _open(port: int, path: str) -> ClientConnection:
    return await connect(
        f"ws://127.0.0.1:{port}{path}",
        origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        open_timeout=5,
        close_timeout=1,
    )


async def _first_frame_or_close(ws: ClientConnection) -> dict[str, object] | int | None:
    try:
        frame = parse_server_frame(await ws.recv())
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    assert isinstance(frame, dict)
    return frame


async def test_a_ticket_used_on_one_process_is_refused_by_the_other(site: Site) -> None:
    (port_a, _), (port_b, _) = site.servers
    ticket = issue_ticket(SimpleNamespace(pk=site.users[0]))
    path = room_path(site.room, event_seq=0, ticket=ticket)
    first = await _open(port_a, path)
    try:
        frame = await _first_frame_or_close(first)
        assert isinstance(frame, dict), f"the first use was refused: {frame}"
        second = await _open(port_b, path)
        try:
            assert await _first_frame_or_close(second) == 4001
        finally:
            await second.close()
    finally:
        await first.close()
