"""The fault tests' reference client (tests/servers.py::ChatClient) against a stub server.

A client that reconnects while a drop is still closing the old socket must not wait for the
new socket's reader: that hung the reconnect soak (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.servers import ChatClient


@pytest.fixture
async def stub_port() -> AsyncIterator[int]:
    """A WebSocket server that starts every connection like a room replay, then waits."""

    async def handler(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "participants", "room": "r", "participants": []}))
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        yield next(iter(server.sockets)).getsockname()[1]


async def test_a_drop_overlapping_a_reconnect_ends(stub_port: int) -> None:
    client = ChatClient("c", 1, "r", [stub_port])
    await client.connect()
    old = client.ws
    assert old is not None
    gate = asyncio.Event()
    close = old.close

    async def slow_close() -> None:
        await gate.wait()
        await close()

    old.close = slow_close  # type: ignore[method-assign]
    drop = asyncio.create_task(client.drop())
    await asyncio.sleep(0)  # The drop cleared ``ws`` and is closing the old socket.
    assert not client.connected
    await client.connect()  # A sender reconnects meanwhile.
    new = client.ws
    gate.set()
    await asyncio.wait_for(drop, 5)
    assert client.ws is new, "the drop closed the new socket"
    await client.close()
