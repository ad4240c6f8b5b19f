"""The fan-out hub: bounded per-socket output, slow readers, layer trouble.

No timed assertions: every wait polls a condition with a generous deadline.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.realtime.hub import CLOSE_TOO_SLOW, Hub, Message, Outbox
from smartcampus_chat.testing import open_room
from smartcampus_chat.ws import consumer as consumers
from tests.realtime import wait_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Socket:
    """A subscriber writing to an :class:`Outbox` over a fake ASGI ``send``.

    ``stalled``: the client reads nothing, so ``websocket.send`` never returns (the
    transport's buffer is full); a close still goes out (uvicorn writes it to a paused
    transport when the writer is cancelled).
    """

    def __init__(self, limit: int, *, stalled: bool = False) -> None:
        self.stalled = stalled
        self.texts: list[str] = []
        self.closes: list[Message] = []
        self.most_pending = 0
        self.outbox = Outbox(self.send, limit)

    async def send(self, message: Message) -> None:
        if message["type"] == "websocket.close":
            self.closes.append(message)
            return
        if self.stalled:
            await asyncio.Event().wait()
        self.texts.append(message["text"])

    def deliver(self, message: Message) -> None:
        self.outbox.offer(message["frame"])
        self.most_pending = max(self.most_pending, len(self.outbox))


def frame(n: int) -> Message:
    return {"type": "chat.frame", "frame": f'{{"n":{n}}}', "group": "room"}


async def test_a_reader_that_never_reads_is_closed_and_does_not_delay_others() -> None:
    layer = InMemoryChannelLayer(capacity=10_000)
    hub = Hub(layer, asyncio.get_running_loop())
    limit = 20
    fast, slow = Socket(limit), Socket(limit, stalled=True)
    await hub.subscribe(fast, ["room"])
    await hub.subscribe(slow, ["room"])
    try:
        for n in range(10 * limit):
            await layer.group_send("room", frame(n))
        await wait_for(lambda: len(fast.texts) == 10 * limit)
        assert fast.texts == [f'{{"n":{n}}}' for n in range(10 * limit)]
        await wait_for(lambda: slow.closes)
        assert slow.closes == [
            {"type": "websocket.close", "code": CLOSE_TOO_SLOW, "reason": "too slow; resume"}
        ]
        # Memory stayed bounded: never more than ``limit`` frames waited for the slow one.
        assert slow.most_pending <= limit
        assert slow.outbox.overflowed
        assert len(slow.outbox) == 0
        assert not slow.texts
    finally:
        await hub.stop()
        await slow.outbox.aclose()


async def test_own_answers_wait_for_room_instead_of_closing() -> None:
    gate = asyncio.Event()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        await gate.wait()
        sent.append(message)

    outbox = Outbox(send, 4)
    putter = asyncio.ensure_future(
        asyncio.gather(*(outbox.put({"type": "websocket.send", "text": str(n)}) for n in range(10)))
    )
    await wait_for(lambda: len(outbox) == 3)  # Half full, plus the one being written.
    assert not putter.done()
    assert not outbox.overflowed
    gate.set()
    await putter
    await wait_for(lambda: len(sent) == 10)
    assert [m["text"] for m in sent] == [str(n) for n in range(10)]


@pytest.mark.django_db(transaction=True)
async def test_slow_socket_is_closed_with_4008_then_resumes_without_gap(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "SEND_QUEUE_MAX_FRAMES": 4,
        "SEND_RATE_BURST": 1000,
    }
    await database_sync_to_async(services.do_join_room)(bob, public_room)
    gate = asyncio.Event()
    gate.set()
    gated = False

    def gated_send(send: Any) -> Any:
        async def wrapper(message: Message) -> None:
            if message["type"] == "websocket.send":
                await gate.wait()
            await send(message)

        return wrapper if gated else send

    monkeypatch.setattr(consumers, "raw_send", gated_send)
    gated = True
    slow = await open_room(bob, public_room.slug)
    gated = False
    fast = await open_room(alice, public_room.slug)
    gate.clear()  # From now on bob's client reads nothing.
    for n in range(12):
        await database_sync_to_async(services.do_send_message)(alice, public_room, f"m{n}")
    got = [(await fast.receive_frame("message.new"))["message"]["seq"] for _ in range(12)]
    assert got == list(range(1, 13))
    gate.set()
    assert await slow.wait_closed() == CLOSE_TOO_SLOW
    seen = [f["message"]["event_seq"] for f in slow.frames if f["type"] == "message.new"]
    assert seen == list(range(1, len(seen) + 1))
    assert len(seen) < 12
    await slow.disconnect()
    again = await open_room(bob, public_room.slug, event_seq=seen[-1] if seen else 0)
    await again.receive_frame("participants")
    replayed = []
    while (next_frame := await again.receive_frame())["type"] != "resumed":
        replayed.append(next_frame["message"]["event_seq"])
    assert seen + replayed == list(range(1, 13))
    await again.disconnect()
    await fast.disconnect()


class FlakyLayer(InMemoryChannelLayer):
    """Leaving a group fails the first ``failures`` times (a full Redis pool...)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def group_discard(self, group: str, channel: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Too many connections")
        await super().group_discard(group, channel)


async def test_failing_to_leave_a_group_is_logged_and_retried(caplog: Any) -> None:
    layer = FlakyLayer(failures=1)
    hub = Hub(layer, asyncio.get_running_loop())
    sock = Socket(10)
    await hub.subscribe(sock, ["a", "b"])
    await hub.unsubscribe(sock, ["a", "b"])  # Does not raise.
    assert hub.stale == {"a"}
    assert "Could not leave a" in caplog.text
    await hub.rejoin()
    assert hub.stale == set()
    assert hub.channel not in layer.groups.get("a", {})
    assert hub.channel not in layer.groups.get("b", {})
    # Messages of a group without local sockets are ignored, not failed on.
    hub.deliver({"type": "chat.frame", "frame": "{}", "group": "a"})
    await hub.stop()
    caplog.clear()


@pytest.mark.redis
async def test_mass_disconnect_on_redis_with_a_small_pool_leaves_no_membership() -> None:
    prefix = f"scchat-test-{uuid.uuid4().hex[:8]}"
    layer = RedisChannelLayer(hosts=[{"address": REDIS_URL, "max_connections": 3}], prefix=prefix)
    hub = Hub(layer, asyncio.get_running_loop())
    sockets = [Socket(10) for _ in range(60)]
    groups = [f"g{n}" for n in range(60)]
    try:
        await asyncio.gather(*(hub.subscribe(s, [g]) for s, g in zip(sockets, groups, strict=True)))
        await asyncio.gather(
            *(hub.unsubscribe(s, [g]) for s, g in zip(sockets, groups, strict=True))
        )
        assert hub.groups == {}
        assert hub.stale == set()
        connection = layer.connection(0)
        for group in groups:
            assert await connection.zcard(layer._group_key(group)) == 0
    finally:
        await hub.stop()
        await layer.flush()
        await layer.close_pools()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def throwaway_redis() -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A redis-server of this test's own (it gets killed); never the shared one."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="scchat-redis-")
    argv = [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", workdir]
    procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL)]
    yield port, procs
    for proc in procs:
        proc.kill()
        proc.wait()
    shutil.rmtree(workdir, ignore_errors=True)


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


async def test_the_hub_survives_a_redis_restart(
    throwaway_redis: tuple[int, list[subprocess.Popen[bytes]]], caplog: Any
) -> None:
    port, procs = throwaway_redis
    await wait_for(lambda: _ping(port))
    layer = RedisChannelLayer(hosts=[f"redis://127.0.0.1:{port}/0"])
    hub = Hub(layer, asyncio.get_running_loop())
    sock = Socket(100)
    await hub.subscribe(sock, ["room"])
    try:
        await layer.group_send("room", frame(1))
        await wait_for(lambda: sock.texts == ['{"n":1}'])
        procs[0].kill()
        procs[0].wait()
        await wait_for(lambda: hub.receive_errors > 0, timeout=30)
        procs.append(
            await asyncio.to_thread(subprocess.Popen, procs[0].args, stdout=subprocess.DEVNULL)
        )
        await wait_for(lambda: _ping(port))
        # Redis came back empty: the hub re-joins its groups and delivers again.

        async def delivered_again() -> bool:
            try:
                await layer.group_send("room", frame(2))
            except Exception:
                return False
            await asyncio.sleep(0.05)
            return '{"n":2}' in sock.texts

        await wait_for(delivered_again, timeout=30)
        assert hub.task is not None
        assert not hub.task.done()
        assert "Channel layer receive failed" in caplog.text
    finally:
        await hub.stop()
        await layer.close_pools()
        caplog.clear()
