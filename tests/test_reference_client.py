"""The fault tests' reference client (tests/servers.py::ChatClient) against a stub server.

A client that reconnects while a drop is still closing the old socket must not wait for the
new socket's reader: that hung the reconnect soak (docs/reliability.md). A resume refused
with an error (the database or the cache away) is sent again: a client that waited for its
replay forever failed the outage tests (no live frame, no final resync).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.servers import ChatClient, poll


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


def _message(event_seq: int) -> str:
    """A valid ``message.new`` (the client checks every frame against the protocol)."""
    message = {
        "id": event_seq,
        "room": "r",
        "seq": event_seq,
        "event_seq": event_seq,
        "kind": "user",
        "sender": None,
        "content": f"message {event_seq}",
        "content_html": f"<p>message {event_seq}</p>",
        "created_at": "2026-12-06T00:00:00Z",
        "is_edited": False,
        "edited_at": None,
        "is_deleted": False,
        "deleted_at": None,
        "reply_to": None,
        "reply": None,
        "reactions": [],
        "pinned_at": None,
        "attachments": [],
        "client_id": None,
    }
    return json.dumps({"type": "message.new", "message": message})


async def _replay(ws: ServerConnection, seqs: range, frame_id: object = None) -> None:
    await ws.send(json.dumps({"type": "participants", "room": "r", "participants": []}))
    for event_seq in seqs:
        await ws.send(_message(event_seq))
    answer = {"type": "resumed", "room": "r", "event_seq": seqs[-1], "truncated": False}
    await ws.send(json.dumps({**answer, "id": frame_id}))


async def test_a_refused_resume_is_sent_again() -> None:
    """A gap, a resume answered ``unavailable``: the client asks again after
    ``retry_after``, gets the replay and applies live frames again."""
    resumes: list[dict[str, object]] = []

    async def handler(ws: ServerConnection) -> None:
        await _replay(ws, range(1, 2))
        await ws.send(_message(3))  # Event 2 was lost on the way: a gap.
        first = json.loads(await ws.recv())
        resumes.append(first)
        refusal = {"type": "error", "code": "unavailable", "message": "away"}
        await ws.send(json.dumps({**refusal, "id": first.get("id"), "retry_after": 0.05}))
        again = json.loads(await ws.recv())
        resumes.append(again)
        await _replay(ws, range(2, 4), again.get("id"))
        await ws.send(_message(4))
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        client = ChatClient("c", 1, "r", [next(iter(server.sockets)).getsockname()[1]])
        await client.connect()
        try:
            await poll(lambda: client.last == 4, 5, "the replay after the refused resume")
        finally:
            await client.close()
    assert [frame["type"] for frame in resumes] == ["resume", "resume"]
    assert [frame["event_seq"] for frame in resumes] == [1, 1]
    assert client.applied == {1: 1, 2: 2, 3: 3, 4: 4}
    assert client.gaps == 1
    assert len(client.live_times) == 1  # Event 4: live again after the replay.
