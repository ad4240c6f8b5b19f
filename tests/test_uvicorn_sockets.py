"""The package's uvicorn WebSocket protocol for many idle sockets
(smartcampus_chat/infra/uvicorn_sockets.py; docs/deployment.md, "Idle sockets").

Its receive queue and write gate against the semantics uvicorn relies on, and the protocol
in a real uvicorn server: the handshake is dropped once answered, frames go both ways, a
paused transport holds sends until it drains. Autobahn's cases 1-7 and the protocol's edges
run against it in tests/test_ws_conformance.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.http11 import Request, Response

from smartcampus_chat.infra.uvicorn_sockets import ReceiveQueue, WebSocketProtocol, WriteGate


async def test_the_queue_hands_items_out_in_order_and_keeps_nothing_once_empty() -> None:
    queue: ReceiveQueue[int] = ReceiveQueue()
    assert queue.empty()
    assert queue.qsize() == 0
    for n in range(3):
        queue.put_nowait(n)
    assert queue.qsize() == 3
    assert [await queue.get() for _ in range(3)] == [0, 1, 2]
    assert queue.empty()
    assert (queue._items, queue._getters) == (None, None)


async def test_a_waiting_getter_is_woken_by_a_put() -> None:
    queue: ReceiveQueue[str] = ReceiveQueue()
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.put_nowait("frame")
    assert await asyncio.wait_for(getter, 1) == "frame"
    assert queue._getters is None


async def test_two_getters_each_get_one_item() -> None:
    queue: ReceiveQueue[int] = ReceiveQueue()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait(1)
    queue.put_nowait(2)
    assert sorted(await asyncio.wait_for(asyncio.gather(first, second), 1)) == [1, 2]


async def test_a_cancelled_getter_takes_nothing() -> None:
    """Woken, then cancelled before it ran: the item stays, for the next getter."""
    queue: ReceiveQueue[str] = ReceiveQueue()
    cancelled = asyncio.ensure_future(queue.get())
    other = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("kept")
    cancelled.cancel()
    assert await asyncio.wait_for(other, 1) == "kept"
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    queue.put_nowait("next")
    assert await queue.get() == "next"


async def test_the_gate_holds_waiters_while_closed_and_lets_them_through_when_set() -> None:
    gate = WriteGate()
    assert gate.is_set()
    assert await gate.wait() is True  # Open: no wait.
    gate.clear()
    waiters = [asyncio.ensure_future(gate.wait()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    gate.set()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True, True]
    assert gate._waiters is None


async def test_a_cancelled_waiter_leaves_the_gate_clean() -> None:
    gate = WriteGate()
    gate.clear()
    waiter = asyncio.ensure_future(gate.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not gate._waiters
    gate.set()
    assert gate.is_set()


# --- In a real uvicorn -----------------------------------------------------------------------


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI WebSocket application answering each text frame with it, then the number of
    frames it received."""
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    count = 0
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        count += 1
        await send({"type": "websocket.send", "text": f"{message['text']} {count}"})


@contextlib.asynccontextmanager
async def serving(application: Any = echo) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    """A uvicorn of ``application`` with the package's protocol, on a free port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(application, ws=WebSocketProtocol, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[listener]))
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn sets a flag, no event)
            await asyncio.sleep(0.01)
        yield server, port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        listener.close()


def protocols(server: uvicorn.Server) -> list[WebSocketProtocol]:
    return [c for c in server.server_state.connections if isinstance(c, WebSocketProtocol)]


async def test_the_protocol_serves_frames_and_keeps_no_handshake() -> None:
    headers = {"X-Big": "x" * 4000}
    async with (
        serving() as (server, port),
        connect(f"ws://127.0.0.1:{port}/", additional_headers=headers) as ws,
    ):
        await ws.send("hello")
        assert await asyncio.wait_for(ws.recv(), 5) == "hello 1"
        (protocol,) = protocols(server)
        assert [hasattr(protocol, name) for name in ("request", "response")] == [False, False]
        # Nor does anything else (websockets' suspended parser still holds the request),
        # but the client's own request, in this process too.
        # By type(): isinstance() raises on gc's dead weak proxies.
        kinds = (Request, Response)
        alive = [o for o in gc.get_objects() if type(o) in kinds and o is not ws.request]
        assert [dict(o.headers) for o in alive if "X-Big" in o.headers] == []
        assert isinstance(protocol.queue, ReceiveQueue)
        assert protocol.queue.empty()
        # The application still has the headers: they are in its scope.
        assert (b"x-big", b"x" * 4000) in protocol.scope["headers"]
        for _ in range(2, 50):
            await ws.send("again")
        replies = [await asyncio.wait_for(ws.recv(), 5) for _ in range(2, 50)]
        assert replies == [f"again {n}" for n in range(2, 50)]


async def test_a_paused_transport_holds_the_applications_sends_until_it_drains() -> None:
    async with serving() as (server, port), connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send("first")
        assert await asyncio.wait_for(ws.recv(), 5) == "first 1"
        (protocol,) = protocols(server)
        protocol.pause_writing()  # As the transport does when its buffer is full.
        await ws.send("held")
        with pytest.raises(asyncio.TimeoutError):  # On 3.10 not the builtin TimeoutError.
            await asyncio.wait_for(ws.recv(), 0.5)
        protocol.resume_writing()
        assert await asyncio.wait_for(ws.recv(), 5) == "held 2"


async def test_a_refused_handshake_is_answered_and_the_socket_closed() -> None:
    async def refuse(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.close"})

    async with serving(refuse) as (server, port):
        with pytest.raises(Exception, match="403"):
            await connect(f"ws://127.0.0.1:{port}/", open_timeout=5)
        await asyncio.sleep(0.1)
        assert protocols(server) == []
