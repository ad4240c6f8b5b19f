"""The hub never waits on a layer call that ignores its cancellation (issue #14, item 0).

channels-redis' ``receive()`` can swallow a cancellation and go on waiting
(docs/reliability.md, "A cancelled receive that never ends"). These layers do it on
purpose, deterministically: the hub must still let the last socket leave, deliver to the
next one, stop in bounded time, notice a receive that no longer receives, and say so on
the health endpoint.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.test import AsyncClient
from django.urls import reverse

from smartcampus_chat.realtime import hub as hub_module
from smartcampus_chat.realtime.hub import Hub, Message
from tests.realtime import wait_for


class SwallowingLayer(InMemoryChannelLayer):
    """``receive()`` swallows every cancellation and goes on waiting for a message (until
    ``swallow`` is cleared, so that the test's event loop can end even on the old hub)."""

    def __init__(self) -> None:
        super().__init__()
        self.swallowed = 0
        self.swallow = True

    async def receive(self, channel: str) -> dict[str, Any]:
        while True:
            try:
                return await super().receive(channel)
            except asyncio.CancelledError:
                if not self.swallow:
                    raise
                self.swallowed += 1


class DeafLayer(SwallowingLayer):
    """The first channel's ``receive()`` hears nothing and ignores cancellation until
    ``hear`` is set (then it waits for a message): a stuck receive. Later channels work."""

    def __init__(self) -> None:
        super().__init__()
        self.deaf: str | None = None
        self.hear = asyncio.Event()

    async def new_channel(self, prefix: str = "specific.") -> str:
        channel = await super().new_channel(prefix)
        if self.deaf is None:
            self.deaf = channel
        return channel

    async def receive(self, channel: str) -> dict[str, Any]:
        if channel == self.deaf:
            while not self.hear.is_set():
                try:
                    await self.hear.wait()
                except asyncio.CancelledError:
                    if not self.swallow:
                        raise
                    self.swallowed += 1
        return await super().receive(channel)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    def deliver(self, message: Message) -> None:
        self.messages.append(message)


async def within(seconds: float, awaitable: Any) -> bool:
    """Whether ``awaitable`` completes within ``seconds``; never waits longer (unlike
    ``wait_for``, whose cancellation the old hub swallowed)."""
    task = asyncio.ensure_future(awaitable)
    await asyncio.wait({task}, timeout=seconds)
    if task.done():
        task.result()
        return True
    return False


def frame(n: int) -> Message:
    return {"type": "chat.frame", "frame": f'{{"n":{n}}}', "group": "room"}


@pytest.fixture(autouse=True)
def _short_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # ``raising=False``: the same tests run against the hub before the fix.
    monkeypatch.setattr(hub_module, "STOP_TIMEOUT", 0.2, raising=False)
    monkeypatch.setattr(hub_module, "LAYER_CALL_TIMEOUT", 2.0, raising=False)


async def test_last_socket_leaving_never_blocks_and_the_next_socket_gets_messages() -> None:
    layer = SwallowingLayer()
    hub = Hub(layer, asyncio.get_running_loop())
    try:
        for cycle in range(20):
            sock = Recorder()
            assert await within(5, hub.subscribe(sock, ["room"])), f"cycle {cycle}: blocked"
            await layer.group_send("room", frame(cycle))
            await wait_for(lambda s=sock: s.messages, timeout=5)  # type: ignore[misc]
            assert [m["frame"] for m in sock.messages] == [f'{{"n":{cycle}}}']
            # The process's last socket leaves: before the fix this cancelled the receive
            # under the lock and waited for it forever.
            assert await within(5, hub.unsubscribe(sock, ["room"])), f"cycle {cycle}: wedged"
        assert not hub.lock.locked()
        assert await within(10, hub.stop())
    finally:
        layer.swallow = False
        await within(10, hub.stop())


async def test_stop_ends_a_receive_that_swallows_its_cancellation() -> None:
    layer = SwallowingLayer()
    hub = Hub(layer, asyncio.get_running_loop())
    try:
        await hub.subscribe(Recorder(), ["room"])
        await asyncio.sleep(0.05)  # The receive loop waits in the layer.
        receiver = getattr(hub, "receiver", hub.task)  # The old hub had no supervisor.
        assert receiver is not None
        assert await within(5, hub.stop())
        # The swallowed cancellation was noticed when the hub's wake-up message came in.
        assert layer.swallowed >= 1
        assert receiver.done()
    finally:
        layer.swallow = False


async def test_a_stuck_receive_is_replaced_and_delivery_resumes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    layer = DeafLayer()
    hub = Hub(layer, asyncio.get_running_loop())
    hub.probe_interval = 0.1
    hub.probe_timeout = 0.5
    sock = Recorder()
    caplog.set_level(logging.WARNING, logger="smartcampus_chat.realtime.hub")
    try:
        await hub.subscribe(sock, ["room"])
        stuck_channel = hub.channel
        await layer.group_send("room", frame(1))  # Lost in the stuck receive's channel.
        await wait_for(lambda: hub.restarts >= 1 and hub.channel != stuck_channel, timeout=10)
        assert "Hub receive loop stuck" in caplog.text
        # Told to catch up (from the database, in the real consumer), then live again.
        await wait_for(
            lambda: any(m["type"] == hub_module.LAYER_RESUMED_TYPE for m in sock.messages)
        )
        await layer.group_send("room", frame(2))
        await wait_for(lambda: any(m.get("frame") == '{"n":2}' for m in sock.messages))
        # The stuck channel left the group.
        assert stuck_channel not in layer.groups.get("room", {})
        await wait_for(lambda: hub.last_probe_rtt is not None, timeout=5)
        assert hub.health()["healthy"]
        # At the end, the abandoned receive (once it hears again) is woken up and ends:
        # the process's exit waits for every task.
        (abandoned, _channel), *_ = hub.abandoned
        layer.hear.set()
        assert await within(10, hub.stop())
        assert abandoned.done()
    finally:
        layer.hear.set()
        layer.swallow = False
        await within(10, hub.stop())


async def get_health(client: AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get(reverse("smartcampus_chat:health"))
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response.status_code, response.json()


async def test_health_endpoint_healthy_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    client = AsyncClient()
    # No hub in this process yet: nothing to be wedged.
    monkeypatch.setattr(hub_module, "_hub", None)
    assert await get_health(client) == (
        200,
        {"status": "ok", "problems": [], "hub": {"started": False}},
    )
    hub = Hub(InMemoryChannelLayer(), asyncio.get_running_loop())
    hub.probe_interval = 0.05
    monkeypatch.setattr(hub_module, "_hub", hub)
    try:
        await hub.subscribe(Recorder(), ["room"])
        await wait_for(lambda: hub.last_probe_rtt is not None)
        status, body = await get_health(client)
        assert status == 200
        assert body["status"] == "ok"
        assert body["problems"] == []
        assert body["hub"]["receive_loop_alive"] is True
        assert body["hub"]["last_probe_round_trip"] >= 0
        assert body["hub"]["lock_held_for"] == 0
        # Nothing about users, rooms or groups.
        assert "room" not in str(body)
        # The last socket leaves: the hub keeps receiving and stays healthy.
        await hub.unsubscribe(next(iter([hub.groups["room"]])), ["room"])  # type: ignore[list-item]
        status, body = await get_health(client)
        assert (status, body["hub"]["receive_loop_alive"]) == (200, True)
        assert (await client.post(reverse("smartcampus_chat:health"))).status_code == 405
    finally:
        await hub.stop()


async def test_health_endpoint_reports_a_wedged_hub(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The old bug's state: the lock held for good by an unsubscribe waiting on a cancelled
    receive. Also a receive loop that is gone."""
    monkeypatch.setattr(hub_module, "LOCK_HELD_WARNING", 0.3)
    caplog.set_level(logging.WARNING, logger="smartcampus_chat.realtime.hub")
    client = AsyncClient()
    hub = Hub(SwallowingLayer(), asyncio.get_running_loop())
    hub.probe_interval = 0.05
    monkeypatch.setattr(hub_module, "_hub", hub)
    await hub.subscribe(Recorder(), ["room"])
    release = asyncio.Event()

    async def wedge() -> None:
        async with hub._locked():
            await release.wait()

    wedged = asyncio.create_task(wedge())
    try:
        await wait_for(lambda: hub.lock.locked())
        await asyncio.sleep(0.4)
        status, body = await get_health(client)
        assert status == 503
        assert body["status"] == "unhealthy"
        assert "hub lock held too long" in body["problems"]
        assert body["hub"]["lock_held_for"] > 0.3
        await wait_for(lambda: "Hub lock held for" in caplog.text)
        release.set()
        await wedged
        assert (await get_health(client))[0] == 200
        # A receive loop that died is unhealthy too.
        receiver = hub.receiver
        assert receiver is not None
        monkeypatch.setattr(hub_module, "RECEIVE_BACKOFF_MAX", 60.0)  # Not restarted yet.
        # A layer that honours the cancellation: on Python 3.10 (no Task.cancelling()) a
        # loop cancelled from outside the hub would otherwise go on receiving.
        hub.layer.swallow = False  # type: ignore[attr-defined]
        receiver.cancel()
        await wait_for(lambda: receiver.done())
        status, body = await get_health(client)
        assert status == 503
        assert "receive loop not running" in body["problems"]
    finally:
        release.set()
        hub.layer.swallow = False  # type: ignore[attr-defined]
        await within(10, hub.stop())
