"""Presence at lecture scale (issue #23, part 3; docs/protocol.md, "Presence").

A room's presence changes within ``PRESENCE_BATCH_INTERVAL`` reach its sockets as one
``presence.batch`` (each user's last state), a single change as the ``presence`` frame it
always was, and with the interval at 0 every change at once as before. After a
channel-layer outage every socket gets each room's presence as it is now.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.protocol.frames import Presence, PresenceBatch
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.realtime import events
from smartcampus_chat.realtime.hub import LAYER_RESUMED_TYPE, Hub, Message, get_hub
from smartcampus_chat.testing import ChatCommunicator, open_room
from smartcampus_chat.ws.handlers import history
from tests.realtime import wait_for
from tests.test_layer_recovery import OutageLayer, drop_publishes, outage_over, recover

pytestmark = [pytest.mark.django_db(transaction=True)]

db = database_sync_to_async
PRESENCE_TYPES = frozenset({"presence", "presence.batch"})


@pytest.fixture
def batching(settings: Any) -> float:
    """Presence gathered over an interval far longer than the changes the test makes take
    to publish: the number of frames does not depend on the machine's speed."""
    interval = 1.5
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PRESENCE_BATCH_INTERVAL": interval}
    return interval


def states(frames: list[dict[str, Any]]) -> dict[str, bool]:
    """Each user's presence after ``frames`` are applied in order, by name."""
    state: dict[str, bool] = {}
    for frame in frames:
        if frame["type"] == "presence":
            state[frame["user"]["name"]] = frame["online"]
        elif frame["type"] == "presence.batch":
            names = [change["user"]["name"] for change in frame["changes"]]
            assert len(names) == len(set(names)), f"a user twice in one batch: {frame}"
            for change in frame["changes"]:
                state[change["user"]["name"]] = change["online"]
    return state


async def presence_frames(client: ChatCommunicator, quiet: float) -> list[dict[str, Any]]:
    """The presence frames ``client`` receives until none comes for ``quiet`` seconds."""
    frames = []
    while True:
        # Not a read with a timeout: asgiref's communicator cancels the application then.
        if not client.pending and await client.receive_nothing(timeout=quiet):
            return frames
        frame = await client.receive_frame(timeout=5, skip=frozenset())
        if frame["type"] in PRESENCE_TYPES:
            frames.append(frame)


async def settled(interval: float) -> None:
    """The test's first socket's arrival has been handed out, and nothing else is pending.

    Each test runs on its own event loop, so with its own hub: the first frame it hands
    out is that arrival. Waiting for an empty queue alone is not enough: over Redis the
    arrival may still be on its way to the hub (then it joins the next change's batch).
    """
    coalescer = get_hub().presence
    await wait_for(lambda: coalescer.flushed >= 1 and not coalescer.pending, timeout=interval + 3)


async def members(make_user: Any, room: ChatRoom, count: int) -> list[Any]:
    users = []
    for n in range(count):
        user = await db(make_user)(f"student{n}", first_name=f"Student{n}")
        await db(services.do_join_room)(user, room)
        users.append(user)
    return users


@pytest.mark.usefixtures("channel_layer")
async def test_a_room_filling_up_gets_few_frames_with_everyones_final_state(
    batching: float, bob: Any, make_user: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    students = await members(make_user, public_room, 12)
    watcher = await open_room(bob, public_room.slug)
    await settled(batching)  # Bob's own arrival: not in what he is about to see.
    sockets = list(await asyncio.gather(*(open_room(u, public_room.slug) for u in students)))
    try:
        arrived = await presence_frames(watcher, quiet=batching + 1)
        assert states(arrived) == {f"Student{n}": True for n in range(12)}
        assert any(f["type"] == "presence.batch" for f in arrived), arrived
        assert len(arrived) < len(students), "one frame per arrival: nothing was gathered"
        # Half of them leave, and they are told as offline; the others stay online.
        await asyncio.gather(*(s.disconnect() for s in sockets[:6]))
        left = await presence_frames(watcher, quiet=batching + 1)
        assert states(left) == {f"Student{n}": False for n in range(6)}
        assert len(left) < 6
        # A student's own socket got the others' arrivals too (a batch may name oneself).
        seen = states(await presence_frames(sockets[6], quiet=0.2))
        assert seen.get("Student0") is False
    finally:
        await asyncio.gather(*(s.disconnect() for s in sockets[6:]))
        await watcher.disconnect()


@pytest.mark.usefixtures("channel_layer")
async def test_a_single_change_in_an_interval_is_a_presence_frame_not_sent_to_its_user(
    batching: float, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    watcher = await open_room(bob, public_room.slug)
    await settled(batching)
    tab = await open_room(alice, public_room.slug)
    try:
        (online,) = await presence_frames(watcher, quiet=batching + 0.5)
        assert online["type"] == "presence"
        assert (online["user"]["name"], online["online"]) == ("Alice", True)
        assert await presence_frames(tab, quiet=0.2) == [], "one's own presence came back"
    finally:
        await tab.disconnect()
        await watcher.disconnect()


@pytest.mark.usefixtures("channel_layer")
async def test_with_the_interval_at_0_every_change_is_its_own_frame_at_once(
    bob: Any, make_user: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PRESENCE_BATCH_INTERVAL": 0}
    await db(services.do_join_room)(bob, public_room)
    students = await members(make_user, public_room, 4)
    watcher = await open_room(bob, public_room.slug)
    sockets = list(await asyncio.gather(*(open_room(u, public_room.slug) for u in students)))
    try:
        arrived = await presence_frames(watcher, quiet=0.5)
        assert [f["type"] for f in arrived] == ["presence"] * 4
        assert states(arrived) == {f"Student{n}": True for n in range(4)}
    finally:
        await asyncio.gather(*(s.disconnect() for s in sockets))
        await watcher.disconnect()


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    def deliver(self, message: Message) -> None:
        self.messages.append(message)


async def test_the_hub_keeps_each_users_last_state_of_the_interval(
    batching: float, alice: Any, bob: Any, make_user: Any
) -> None:
    """Through the hub's own receive loop: online then offline is offline (with the new
    ``last_seen``), and a user who ends where they started is still named."""
    carol = await db(make_user)("carol", first_name="Carol")
    layer = InMemoryChannelLayer()
    hub = Hub(layer, asyncio.get_running_loop())
    room = Recorder()
    other = Recorder()
    await hub.subscribe(room, ["scchat.room.1"])
    await hub.subscribe(other, ["scchat.room.2"])
    start, later = timezone.now(), timezone.now() + timedelta(seconds=1)
    sent = [
        (1, alice, True, start),
        (1, bob, True, start),
        (1, alice, False, later),
        (2, carol, True, start),
        (1, carol, False, start),
        (1, carol, True, later),
    ]
    try:
        for room_id, user, online, when in sent:
            frame = Presence(room=f"r{room_id}", user=user_ref(user), online=online, last_seen=when)
            group = events.room_group(room_id)
            await layer.group_send(
                group, {**events.layer_message(frame, room_id=room_id), "group": group}
            )
        await wait_for(lambda: room.messages and other.messages, timeout=batching + 3)
        (batch,) = room.messages
        assert batch["frame_type"] == "presence.batch"
        assert "sender_id" not in batch, "a batch goes to everyone of the room"
        frame = PresenceBatch.model_validate_json(batch["frame"])
        assert frame.room == "r1"
        got = [(c.user.name, c.online, c.last_seen) for c in frame.changes]
        assert got == [("Bob", True, start), ("Alice", False, later), ("Carol", True, later)]
        (single,) = other.messages
        assert single["frame_type"] == "presence"
        assert single["sender_id"] == carol.pk
        assert hub.presence.flushed == 2
    finally:
        await hub.stop()


@pytest.mark.usefixtures("channel_layer")
@pytest.mark.parametrize("interval", [0, 1.5])
async def test_presence_is_right_again_after_a_layer_outage(
    interval: float, alice: Any, bob: Any, make_user: Any, public_room: ChatRoom, settings: Any
) -> None:
    """Alice leaves and Carol arrives while Redis is away: their ``presence`` frames are
    lost; once the hub is back Bob's socket is told who is online now."""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PRESENCE_BATCH_INTERVAL": interval}
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] != "channels.layers.InMemoryChannelLayer":
        pytest.skip("the outage is simulated on the in-memory layer (tests/test_redis_outage.py)")
    carol = await db(make_user)("carol", first_name="Carol")
    for user in (alice, bob, carol):
        await db(services.do_join_room)(user, public_room)
    watcher = await open_room(bob, public_room.slug)
    leaving = await open_room(alice, public_room.slug)
    await watcher.receive_until(lambda f: f["type"] in PRESENCE_TYPES, timeout=interval + 3)
    dropped = drop_publishes()
    try:
        await leaving.disconnect()
        arriving = await open_room(carol, public_room.slug)
        await wait_for(lambda: len(dropped) >= 2)
        assert await presence_frames(watcher, quiet=interval + 0.3) == [], "not lost"
        outage_over()
        await recover()
        snapshot = await watcher.receive_frame("presence.batch", timeout=5)
        assert snapshot["room"] == public_room.slug
        assert states([snapshot]) == {"Alice": False, "Bob": True, "Carol": True}
        # Live presence works again.
        await arriving.disconnect()
        after = await presence_frames(watcher, quiet=interval + 0.5)
        assert states(after) == {"Carol": False}
    finally:
        outage_over()
        await watcher.disconnect()


async def test_presence_held_when_the_layer_fails_goes_out_before_the_catch_up_notice(
    settings: Any,
) -> None:
    """What the hub was gathering is older than what sockets read after the outage: it is
    handed out before they are told to catch up, never after their snapshot. (An interval
    far longer than the test: only the recovery hands it out.)"""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PRESENCE_BATCH_INTERVAL": 60}
    layer = OutageLayer(up_after_failed_joins=2)
    hub = Hub(layer, asyncio.get_running_loop())
    room = Recorder()
    await hub.subscribe(room, ["scchat.room.1"])
    message = {
        "type": "chat.frame",
        "frame": Presence(
            room="r1",
            user={"id": 7, "username": None, "name": "Seven"},
            online=True,
            last_seen=timezone.now(),
        ).model_dump_json(),
        "frame_type": "presence",
        "room_id": 1,
        "sender_id": 7,
        "group": "scchat.room.1",
    }
    try:
        await layer.group_send("scchat.room.1", message)
        await wait_for(lambda: hub.presence.pending)
        layer.go_down()
        await wait_for(lambda: hub.recoveries == 1, timeout=10)
        assert [m["type"] for m in room.messages] == ["chat.frame", LAYER_RESUMED_TYPE]
        assert room.messages[1]["recovery"], "the notice names its recovery"
        assert not hub.presence.timers
    finally:
        await hub.stop()


@pytest.mark.usefixtures("channel_layer")
async def test_the_sockets_of_a_process_share_one_presence_read_per_room(
    alice: Any, bob: Any, make_user: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    if get_channel_layer().__class__ is not InMemoryChannelLayer:
        pytest.skip("the outage is simulated on the in-memory layer")
    reads: list[int] = []
    real = history._presence_now

    def counted(room_id: int, slug: str) -> str:
        reads.append(room_id)
        return real(room_id, slug)

    monkeypatch.setattr(history, "_presence_now", counted)
    users = [alice, bob, *(await members(make_user, public_room, 3))]
    for user in users[:2]:
        await db(services.do_join_room)(user, public_room)
    sockets = [await open_room(user, public_room.slug) for user in users]
    try:
        drop_publishes()
        outage_over()
        await recover()
        for client in sockets:
            snapshot = await client.receive_frame("presence.batch", timeout=5)
            assert len(snapshot["changes"]) == 5
        assert reads == [public_room.pk], "one read for the room's five sockets"
    finally:
        outage_over()
        for client in sockets:
            await client.disconnect()
