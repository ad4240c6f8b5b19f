"""One socket's ``message.send`` frames pipelined into the group commit (issue #23, part 2).

Through the real socket path: a client sends many frames without waiting for answers.
Each test checks one promise of :mod:`smartcampus_chat.ws.pipeline`: the messages take
their ``seq`` in frame order and the answers come in frame order, sends of one socket
share transactions, an error stays in its place, a retry is stored once, a frame of another
kind sees the sends before it stored, at most ``SEND_PIPELINE_DEPTH`` are in flight, and
no send is stored after the socket learnt that its access was revoked. The suite runs it
on SQLite and, with ``DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import Group

from smartcampus_chat import services
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType
from smartcampus_chat.realtime import events
from smartcampus_chat.services.batcher import SendBatcher, get_batcher
from smartcampus_chat.testing import ChatCommunicator, open_room, open_user

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async
Frame = dict[str, Any]


def _stored(room: ChatRoom) -> list[tuple[int, str, str]]:
    return list(
        ChatMessage.objects.filter(room=room)
        .order_by("seq")
        .values_list("seq", "content", "client_id")
    )


async def _send_all(client: ChatCommunicator, count: int, prefix: str, **fields: Any) -> None:
    """``count`` sends written at once, none waiting for an answer."""
    for number in range(count):
        await client.send_frame(
            type="message.send",
            content=f"{prefix} {number}",
            client_id=f"{prefix}-{number}",
            id=f"{prefix}{number}",
            **fields,
        )


async def _answers(client: ChatCommunicator, count: int, timeout: float = 20) -> list[Frame]:
    """The next ``count`` answers (``ack`` / ``error``), in the order they came."""
    answers: list[Frame] = []
    deadline = time.monotonic() + timeout
    while len(answers) < count:
        frame = await client.receive_until(
            lambda f: f["type"] in ("ack", "error"), timeout=max(0.01, deadline - time.monotonic())
        )
        answers.append(frame)
    return answers


class Gate:
    """The process's send batcher stores nothing until :meth:`open`: its batch waits in the
    database thread, as behind a slow commit. ``sizes``: each batch's size as it started.
    (The database thread is busy meanwhile: the test reads nothing from the database.)"""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.sizes: list[int] = []

    def open(self) -> None:
        self.event.set()

    async def started(self, batches: int) -> None:
        """Wait until ``batches`` batches reached the gate."""
        for _ in range(300):
            if len(self.sizes) >= batches:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.sizes)} batches started, expected {batches}")


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate()
    real = SendBatcher.__init__

    def gated_init(self: SendBatcher, loop: asyncio.AbstractEventLoop) -> None:
        real(self, loop)
        store = self.work

        def work(requests: list[Any]) -> list[Any]:
            gate.sizes.append(len(requests))
            if not gate.event.wait(20):
                raise TimeoutError("the test never opened the gate")
            return store(requests)

        self.work = work

    monkeypatch.setattr(SendBatcher, "__init__", gated_init)
    try:
        yield gate
    finally:
        gate.open()


async def test_pipelined_sends_keep_frame_order_and_answer_in_frame_order(
    alice: Any, public_room: ChatRoom, no_rate_limits: Any
) -> None:
    count = 300
    client = await open_room(alice, public_room.slug)
    batcher = get_batcher()
    batches = batcher.batches
    try:
        await _send_all(client, count, "m")
        answers = await _answers(client, count)
        await client.receive_until(
            lambda f: f["type"] == "message.new" and f["message"]["seq"] == count, timeout=10
        )
    finally:
        await client.disconnect()
    assert [a["type"] for a in answers] == ["ack"] * count, answers[:3]
    assert [a["id"] for a in answers] == [f"m{n}" for n in range(count)]
    assert [a["client_id"] for a in answers] == [f"m-{n}" for n in range(count)]
    assert [a["message"]["seq"] for a in answers] == list(range(1, count + 1))
    stored = await db(_stored)(public_room)
    assert stored == [(n + 1, f"m {n}", f"m-{n}") for n in range(count)]
    # One socket's sends shared transactions (one commit each would be 300 batches).
    assert batcher.batches - batches <= count // 4, batcher.batches - batches
    # Each ack came before its own message.new (the frame the send caused).
    order = [
        (f["type"], f["message"]["seq"])
        for f in client.frames
        if f["type"] in ("ack", "message.new")
    ]
    for seq in range(1, count + 1):
        assert order.index(("ack", seq)) < order.index(("message.new", seq)), seq


async def test_pipelined_sends_to_several_rooms_keep_each_rooms_order(
    alice: Any, bob: Any, public_room: ChatRoom, no_rate_limits: Any
) -> None:
    other = await db(services.do_create_room)(alice, name="Other", room_type=RoomType.PUBLIC)
    client = await open_user(alice)
    try:
        for number in range(60):
            room = (public_room, other)[number % 2]
            await client.send_frame(
                type="message.send", room=room.slug, content=f"r {number}", id=number
            )
        answers = await _answers(client, 60)
    finally:
        await client.disconnect()
    assert [a["id"] for a in answers] == list(range(60))
    assert all(a["type"] == "ack" for a in answers)
    for offset, room in enumerate((public_room, other)):
        stored = await db(_stored)(room)
        assert [content for _, content, _ in stored] == [f"r {n}" for n in range(offset, 60, 2)]


async def test_an_error_stays_in_its_place_and_the_others_are_stored(
    alice: Any, public_room: ChatRoom, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sends per transaction, one token per transaction: in each batch of two the
    second send is refused (``rate_limited``) and the first stored. A socket that stored
    its sends one by one would never meet the limit here."""
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "SEND_BATCH_MAX": 2,
        "SEND_RATE_BURST": 1,
        "SEND_RATE_PER_SECOND": 1.0,
    }
    clock = [10_000_000]

    def now_ms() -> int:
        clock[0] += 1000  # A second between two takes: one token each time.
        return clock[0]

    monkeypatch.setattr(ratelimit, "_now_ms", now_ms)
    count = 12
    client = await open_room(alice, public_room.slug)
    try:
        await _send_all(client, count, "e")
        answers = await _answers(client, count)
    finally:
        await client.disconnect()
    assert [a["id"] for a in answers] == [f"e{n}" for n in range(count)]
    codes = [a["type"] if a["type"] == "ack" else a["code"] for a in answers]
    assert set(codes) == {"ack", "rate_limited"}, codes
    # A refusal in the middle: something after it was stored.
    assert "ack" in codes[codes.index("rate_limited") :], codes
    acked = [a["client_id"] for a in answers if a["type"] == "ack"]
    stored = await db(_stored)(public_room)
    assert [client_id for _, _, client_id in stored] == acked
    assert [seq for seq, _, _ in stored] == list(range(1, len(acked) + 1))


async def test_a_retry_inside_the_pipeline_is_stored_once(
    alice: Any, public_room: ChatRoom, no_rate_limits: Any
) -> None:
    client = await open_room(alice, public_room.slug)
    try:
        for number, client_id in enumerate(["a", "b", "a", "c", "b", "a"]):
            await client.send_frame(
                type="message.send", content=f"text {client_id}", client_id=client_id, id=number
            )
        answers = await _answers(client, 6)
        await client.assert_no_frame(timeout=0.3, ignore=frozenset({"presence", "message.new"}))
    finally:
        await client.disconnect()
    assert [a["type"] for a in answers] == ["ack"] * 6
    ids = {a["client_id"]: a["message"]["id"] for a in answers[:4] if a["id"] in (0, 1, 3)}
    assert [a["message"]["id"] for a in answers] == [ids[c] for c in "abacba"]
    assert [a["message"]["seq"] for a in answers] == [1, 2, 1, 3, 2, 1]
    assert await db(_stored)(public_room) == [
        (1, "text a", "a"),
        (2, "text b", "b"),
        (3, "text c", "c"),
    ]
    news = [f for f in client.frames if f["type"] == "message.new"]
    assert [f["message"]["client_id"] for f in news] == ["a", "b", "c"]


async def test_a_frame_of_another_kind_waits_for_the_sends_before_it(
    alice: Any, public_room: ChatRoom, no_rate_limits: Any, gate: Gate
) -> None:
    """An edit of the last send, written right after it, finds it stored (the sends' batch
    is held back until the edit has been read: without the wait the edit would look for a
    message not stored yet)."""
    first = await db(services.do_send_message)(alice, public_room, "before")
    count = 20
    client = await open_room(alice, public_room.slug)
    try:
        await _send_all(client, count, "s")
        # Message ids are allocated in order: the last send's id is known in advance.
        await client.send_frame(
            type="message.edit", message_id=first.message.pk + count, content="edited", id="edit"
        )
        await client.send_frame(type="ping", id="ping")
        await gate.started(1)
        await asyncio.sleep(0.2)  # The edit is read and waits: the sends are not stored.
        assert len(client.input_queue._queue) == 1  # type: ignore[attr-defined]  # the ping
        gate.open()
        answers = await _answers(client, count + 1)
        pong = await client.receive_frame("pong", skip=frozenset({"message.edited", "message.new"}))
    finally:
        await client.disconnect()
    assert [a["id"] for a in answers] == [f"s{n}" for n in range(count)] + ["edit"]
    assert answers[-1]["type"] == "ack", answers[-1]
    assert answers[-1]["message"]["content"] == "edited"
    assert answers[-1]["message"]["seq"] == count + 1
    assert pong["id"] == "ping"
    # The pong (a frame after the edit) came after every answer before it.
    ids = [f.get("id") for f in client.frames if f["type"] in ("ack", "error", "pong")]
    assert ids == [f"s{n}" for n in range(count)] + ["edit", "ping"]


async def test_no_more_than_the_depth_is_in_flight(
    alice: Any, public_room: ChatRoom, no_rate_limits: Any, settings: Any, gate: Gate
) -> None:
    depth = 5
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEND_PIPELINE_DEPTH": depth}
    client = await open_room(alice, public_room.slug)
    batcher = get_batcher()
    try:
        await client.send_frame(type="message.send", content="d 0", client_id="d-0", id="d0")
        await gate.started(1)  # The first send is being stored (held at the gate).
        for number in range(1, 30):
            await client.send_frame(
                type="message.send", content=f"d {number}", client_id=f"d-{number}", id=f"d{number}"
            )
        observed = []
        for _ in range(20):
            await asyncio.sleep(0.02)
            observed.append(gate.sizes[0] + len(batcher.pending))
        # In flight: the one being stored and those queued behind it, up to the depth; the
        # socket reads no more frames meanwhile (they wait in its input queue).
        assert observed == [depth] * 20, observed
        assert len(client.input_queue._queue) == 30 - depth  # type: ignore[attr-defined]
        gate.open()
        answers = await _answers(client, 30)
    finally:
        await client.disconnect()
    assert [a["id"] for a in answers] == [f"d{n}" for n in range(30)]
    assert all(a["type"] == "ack" for a in answers)
    assert len(await db(_stored)(public_room)) == 30


async def _access_changed(user: Any) -> None:
    """What :func:`events.notify_access_changed` publishes after its commit (called here
    on the event loop: the database thread is held at the gate)."""
    group = events.user_group(user.pk)
    await get_channel_layer().group_send(
        group, {"type": events.ACCESS_CHANGED_TYPE, "group": group}
    )


def _quietly_remove(user: Any, group: Group) -> None:
    """Take ``user`` out of ``group`` without any signal (as raw SQL would)."""
    rows = Group.user_set.through.objects.filter(user=user, group=group)
    rows._raw_delete(rows.db)


async def test_no_send_is_stored_after_the_socket_learnt_of_a_revocation(
    make_user: Callable[..., Any],
    group: Group,
    settings: Any,
    no_rate_limits: Any,
    gate: Gate,
) -> None:
    """Sends in flight when the socket hears that its access changed: the one already in
    the database completes (as a send being stored always did); those still waiting for a
    batch are taken back, checked again after the decision, and never stored."""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "REVALIDATE_FRAME_AGE": 60}
    owner = await db(make_user)("owner", is_staff=True)
    alice = await db(make_user)("alice")
    await db(alice.groups.add)(group)
    room = await db(services.do_create_room)(
        owner, name="Robots", room_type=RoomType.GROUP, group=group
    )
    await db(services.do_join_room)(alice, room)
    client = await open_room(alice, room.slug)
    batcher = get_batcher()
    try:
        await db(_quietly_remove)(alice, group)  # Revoked; nobody told the socket yet.
        await _send_all(client, 1, "r")
        await gate.started(1)  # The first send is being stored (held at the gate).
        for number in range(1, 10):
            await client.send_frame(
                type="message.send", content=f"r {number}", client_id=f"r-{number}", id=f"r{number}"
            )
        for _ in range(100):  # Queued behind it.
            if len(batcher.pending) == 9:
                break
            await asyncio.sleep(0.01)
        assert len(batcher.pending) == 9
        # The hub tells the socket (the real path: the layer, the hub, the socket's inbox).
        await _access_changed(alice)
        for _ in range(100):
            if not batcher.pending:
                break
            await asyncio.sleep(0.01)
        assert batcher.pending == [], "the socket's queued sends were not taken back"
        gate.open()
        assert await client.wait_closed(timeout=5) == 4003
    finally:
        await client.disconnect()
    stored = await db(_stored)(room)
    assert [client_id for _, _, client_id in stored] == ["r-0"]
    acks = [f["id"] for f in client.frames if f["type"] == "ack"]
    assert acks in ([], ["r0"])
    # Nothing was left behind to be stored later.
    await asyncio.sleep(0.2)
    assert await db(_stored)(room) == stored


async def test_a_check_that_keeps_access_lets_the_paused_sends_go_on_in_order(
    alice: Any, public_room: ChatRoom, no_rate_limits: Any, gate: Gate
) -> None:
    """The sweeper's re-check (or any change that keeps access) pauses the sends and lets
    them go on, in their order, with their answers in their places."""
    client = await open_room(alice, public_room.slug)
    batcher = get_batcher()
    try:
        await _send_all(client, 1, "k")
        await gate.started(1)
        for number in range(1, 10):
            await client.send_frame(
                type="message.send", content=f"k {number}", client_id=f"k-{number}", id=f"k{number}"
            )
        for _ in range(100):
            if len(batcher.pending) == 9:
                break
            await asyncio.sleep(0.01)
        assert len(batcher.pending) == 9
        await _access_changed(alice)
        for _ in range(100):
            if not batcher.pending:
                break
            await asyncio.sleep(0.01)
        assert batcher.pending == []  # Paused: taken back while access is decided again.
        gate.open()
        answers = await _answers(client, 10)
    finally:
        await client.disconnect()
    assert [(a["type"], a["id"]) for a in answers] == [("ack", f"k{n}") for n in range(10)]
    stored = await db(_stored)(public_room)
    assert [client_id for _, _, client_id in stored] == [f"k-{n}" for n in range(10)]


async def test_on_the_list_socket_a_lost_room_refuses_its_paused_sends_and_not_the_others(
    make_user: Callable[..., Any],
    group: Group,
    public_room: ChatRoom,
    settings: Any,
    no_rate_limits: Any,
    gate: Gate,
) -> None:
    """``ws/chat/`` with sends in flight to two rooms when access to one of them goes: the
    paused sends to that room are answered ``not_found`` in their places and not stored;
    those to the other room are stored, in order."""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "REVALIDATE_FRAME_AGE": 60}
    owner = await db(make_user)("owner", is_staff=True)
    amy = await db(make_user)("amy")
    await db(amy.groups.add)(group)
    lost = await db(services.do_create_room)(
        owner, name="Robots", room_type=RoomType.GROUP, group=group
    )
    await db(services.do_join_room)(amy, lost)
    await db(services.do_join_room)(amy, public_room)
    client = await open_user(amy)
    batcher = get_batcher()
    rooms = [public_room, lost] * 5
    try:
        for room in (public_room, lost):  # Each room's access read now, not at the gate.
            await client.send_frame(type="typing", room=room.slug, state="started", id=room.slug)
            await client.receive_until(lambda f, r=room: f.get("id") == r.slug)
        await db(_quietly_remove)(amy, group)
        await client.send_frame(type="message.send", room=public_room.slug, content="x", id=0)
        await gate.started(1)
        for number, room in enumerate(rooms[1:], start=1):
            await client.send_frame(
                type="message.send", room=room.slug, content=f"x {number}", id=number
            )
        for _ in range(100):
            if len(batcher.pending) == 9:
                break
            await asyncio.sleep(0.01)
        assert len(batcher.pending) == 9
        await _access_changed(amy)
        for _ in range(100):
            if not batcher.pending:
                break
            await asyncio.sleep(0.01)
        gate.open()
        answers = await _answers(client, 10)
    finally:
        await client.disconnect()
    assert [a["id"] for a in answers] == list(range(10))
    kinds = [a["type"] if a["type"] == "ack" else a["code"] for a in answers]
    assert kinds == ["ack", "not_found"] * 5
    assert any(f["type"] == "room.removed" and f["room"] == lost.slug for f in client.frames)
    assert await db(_stored)(lost) == []
    stored = await db(_stored)(public_room)
    assert [content for _, content, _ in stored] == ["x", "x 2", "x 4", "x 6", "x 8"]
