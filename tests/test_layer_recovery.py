"""After channel-layer trouble the hub re-joins its groups and sockets make up for what they missed.

channels-redis forgets every group membership when Redis restarts empty, and whatever was
published while Redis was away is gone. The hub must re-join *after* Redis is back (not
merely try once while it is still down), and each socket must then get the changes it
missed and lose the access it lost meanwhile (docs/reliability.md, "Redis outage").
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.realtime.hub import LAYER_RESUMED_TYPE, Hub, Message, get_hub
from smartcampus_chat.testing import ChatCommunicator, open_room, open_user
from tests.realtime import wait_for


class OutageLayer(InMemoryChannelLayer):
    """An in-memory layer that can go down and come back empty, like a restarted Redis.

    While down, ``receive`` and ``group_add`` raise. ``up_after_failed_joins``: the layer
    comes back right after that many failed re-joins, between the hub's re-join attempt and
    its next ``receive`` — the moment a hub that tries to re-join only once got wrong.
    """

    def __init__(self, up_after_failed_joins: int) -> None:
        super().__init__()
        self.down = asyncio.Event()
        self.up_after_failed_joins = up_after_failed_joins
        self.failed_joins = 0

    def go_down(self) -> None:
        self.groups.clear()
        self.down.set()

    async def receive(self, channel: str) -> dict[str, Any]:
        if self.down.is_set():
            raise ConnectionError("Connection refused")
        getter = asyncio.ensure_future(super().receive(channel))
        outage = asyncio.ensure_future(self.down.wait())
        done, _pending = await asyncio.wait({getter, outage}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            outage.cancel()
            return getter.result()
        getter.cancel()
        raise ConnectionError("Connection reset by peer")

    async def group_add(self, group: str, channel: str) -> None:
        if self.down.is_set():
            self.failed_joins += 1
            if self.failed_joins >= self.up_after_failed_joins:
                self.down.clear()
            raise ConnectionError("Connection refused")
        await super().group_add(group, channel)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    def deliver(self, message: Message) -> None:
        self.messages.append(message)


async def test_the_hub_rejoins_after_the_layer_is_back_and_tells_every_subscriber() -> None:
    layer = OutageLayer(up_after_failed_joins=3)
    hub = Hub(layer, asyncio.get_running_loop())
    first, second = Recorder(), Recorder()
    await hub.subscribe(first, ["room", "user"])
    await hub.subscribe(second, ["room"])
    try:
        layer.go_down()
        await wait_for(lambda: hub.recoveries == 1, timeout=10)
        assert layer.failed_joins == 3
        assert hub.receive_errors >= 1
        assert set(layer.groups) == {"room", "user"}, "memberships not restored"
        resumed = [m for m in first.messages if m["type"] == LAYER_RESUMED_TYPE]
        assert len(resumed) == 1, "one notice per subscriber, whatever it follows"
        assert [m["type"] for m in second.messages] == [LAYER_RESUMED_TYPE]
        await layer.group_send("room", {"type": "chat.frame", "frame": "{}", "group": "room"})
        await wait_for(lambda: len(second.messages) == 2)
        assert hub.task is not None
        assert not hub.task.done()
    finally:
        await hub.stop()


def drop_publishes() -> list[str]:
    """From now on every group send of the app's layer is lost (Redis is away)."""
    layer = get_channel_layer()
    assert isinstance(layer, InMemoryChannelLayer)
    dropped: list[str] = []

    async def drop(group: str, message: dict[str, Any]) -> None:
        dropped.append(group)

    layer.group_send = drop  # type: ignore[method-assign]
    return dropped


def outage_over() -> None:
    """Redis is back, empty: sends go through again and every membership is forgotten."""
    layer = get_channel_layer()
    assert isinstance(layer, InMemoryChannelLayer)
    if "group_send" in vars(layer):
        del layer.group_send
    layer.groups.clear()


async def recover() -> None:
    """What the hub does once the layer answers again (receive errors end in this)."""
    hub = get_hub()
    await hub._recover()
    assert hub.recoveries >= 1


def message_seqs(frames: list[dict[str, Any]]) -> list[int]:
    return [f["message"]["event_seq"] for f in frames if f["type"] == "message.new"]


async def collect_messages(client: ChatCommunicator, count: int) -> list[dict[str, Any]]:
    frames = []
    while len(frames) < count:
        frame = await client.receive_frame(timeout=5)
        if frame["type"] == "message.new":
            frames.append(frame)
    return frames


@pytest.mark.django_db(transaction=True)
async def test_sockets_get_what_was_published_while_the_layer_was_away(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await database_sync_to_async(services.do_join_room)(bob, public_room)
    await database_sync_to_async(services.do_send_message)(alice, public_room, "before")
    room_socket = await open_room(bob, public_room.slug, event_seq=0)
    list_socket = await open_user(bob)
    try:
        before = await collect_messages(room_socket, 1)
        dropped = drop_publishes()
        for n in range(3):
            await database_sync_to_async(services.do_send_message)(alice, public_room, f"lost {n}")
        assert dropped, "the publishes did not go through the layer"
        await room_socket.assert_no_frame(0.3, ignore=frozenset({"resumed"}))
        outage_over()
        await recover()

        missed = await collect_messages(room_socket, 3)
        assert [f["message"]["content"] for f in missed] == ["lost 0", "lost 1", "lost 2"]
        first = before[0]["message"]["event_seq"]
        assert message_seqs(missed) == [first + 1, first + 2, first + 3], "no gap, in order"
        listed = await collect_messages(list_socket, 3)
        assert [f["message"]["content"] for f in listed] == ["lost 0", "lost 1", "lost 2"]

        # Live delivery works again and nothing is sent twice.
        await database_sync_to_async(services.do_send_message)(alice, public_room, "after")
        (live,) = await collect_messages(room_socket, 1)
        assert live["message"]["content"] == "after"
        assert live["message"]["event_seq"] == first + 4
        await room_socket.assert_no_frame(0.3, ignore=frozenset({"presence", "participant.joined"}))
    finally:
        outage_over()
        await room_socket.disconnect()
        await list_socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_access_lost_while_the_layer_was_away_is_enforced_on_recovery(
    alice: Any, bob: Any, make_user: Any, group_room: ChatRoom, group: Any
) -> None:
    carol = await database_sync_to_async(make_user)("carol")
    for user in (bob, carol):
        await database_sync_to_async(user.groups.add)(group)
        await database_sync_to_async(services.do_join_room)(user, group_room)
    removed = await open_room(bob, group_room.slug)
    deactivated = await open_room(carol, group_room.slug)
    listing = await open_user(bob)
    dropped = drop_publishes()
    try:
        await database_sync_to_async(bob.groups.remove)(group)
        carol.is_active = False
        await database_sync_to_async(carol.save)()
        await asyncio.sleep(0)
        assert dropped, "the notices did not go through the layer"
        outage_over()
        await recover()
        assert await removed.wait_closed(5) == 4003
        assert await deactivated.wait_closed(5) == 4001
        gone = await listing.receive_until(lambda f: f["type"] == "room.removed", timeout=5)
        assert gone["room"] == group_room.slug
    finally:
        outage_over()
        for client in (removed, deactivated, listing):
            await client.disconnect()
