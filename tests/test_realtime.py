"""The WebSocket protocol end to end, on the in-memory layer and on real Redis.

Every test runs once per channel layer (the conftest's ``channel_layer`` fixture); the Redis
runs are marked ``redis`` and use a prefix of their own so that parallel runs cannot
cross-talk.
Every frame received is validated against the protocol schema (tests/realtime.py).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import user_logged_out
from django.core import signing
from django.utils import timezone

from courses.models import Enrolment
from smartcampus_chat import services
from smartcampus_chat.exceptions import RateLimited
from smartcampus_chat.models import ChatConnection, ChatMessage, ChatParticipant, ChatRoom
from smartcampus_chat.realtime import events, presence, tickets
from smartcampus_chat.services import batcher
from smartcampus_chat.testing import NOISE, ChatCommunicator, Closed, open_room, open_user
from smartcampus_chat.ws import consumer as consumers
from tests.realtime import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("channel_layer")]

db = database_sync_to_async


@pytest.fixture
def carol(make_user: Any) -> Any:
    return make_user("carol", first_name="Carol")


def send_text(room: ChatRoom, user: Any, content: str) -> ChatMessage:
    return services.do_send_message(user, room, content).message


def join(user: Any, room: ChatRoom) -> None:
    services.do_join_room(user, room)


async def drain(client: ChatCommunicator) -> None:
    """Read what a fresh room connection is sent at once (participants, replay, resumed)."""
    await client.receive_frame(
        "resumed", skip=frozenset({"participants", "presence", "message.new"})
    )


# --- Connection, versions, authentication and origins -----------------------------------


async def test_anonymous_is_closed_with_4001(public_room: ChatRoom) -> None:
    client = ChatCommunicator(f"/ws/chat/{public_room.slug}/")
    await client.open(ready=False)
    assert await client.wait_closed() == 4001
    await client.disconnect()


@pytest.mark.parametrize("version", ["2", "abc", "0"])
async def test_unsupported_version_is_closed_with_4005(
    alice: Any, public_room: ChatRoom, version: str
) -> None:
    client = await open_room(alice, public_room.slug, v=version)
    assert await client.wait_closed() == 4005
    await client.disconnect()


async def test_supported_version_is_accepted(alice: Any, public_room: ChatRoom) -> None:
    client = await open_room(alice, public_room.slug, v=1)
    await client.send_frame(type="ping", id="p")
    assert (await client.receive_frame("pong"))["id"] == "p"
    await client.disconnect()


@pytest.mark.parametrize("origin", [b"http://evil.example", None])
async def test_foreign_or_missing_origin_is_refused(
    alice: Any, public_room: ChatRoom, origin: bytes | None
) -> None:
    headers = [(b"origin", origin)] if origin else [(b"host", b"testserver")]
    # A logged-in browser (the session's user): a ticket would let a non-browser in.
    client = ChatCommunicator(f"/ws/chat/{public_room.slug}/", alice, ticket=False, headers=headers)
    with pytest.raises(Closed):
        await client.open(ready=False)


async def test_valid_ticket_authenticates(alice: Any, public_room: ChatRoom) -> None:
    ticket = await db(tickets.issue_ticket)(alice)
    client = ChatCommunicator(f"/ws/chat/{public_room.slug}/?ticket={ticket}&event_seq=0")
    await client.open(ready=False)
    participants = await client.receive_frame("participants")
    assert [p["user"]["name"] for p in participants["participants"]] == ["Alice"]
    await client.disconnect()


async def test_tampered_ticket_is_refused(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    ticket = await db(tickets.issue_ticket)(alice)
    tampered = ticket.replace(ticket.split(":")[0], signing.b64_encode(b'{"u":2}').decode())
    # The tampered ticket wins over a session user: it is what the client asked for.
    client = ChatCommunicator(f"/ws/chat/{public_room.slug}/?ticket={tampered}", bob, ticket=False)
    await client.open(ready=False)
    assert await client.wait_closed() == 4001
    await client.disconnect()


async def test_expired_ticket_is_refused(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 3600)
    ticket = await db(tickets.issue_ticket)(alice)
    monkeypatch.setattr(signing.time, "time", real_time)
    client = ChatCommunicator(f"/ws/chat/?ticket={ticket}")
    await client.open(ready=False)
    assert await client.wait_closed() == 4001
    await client.disconnect()


async def test_ticket_of_inactive_user_is_refused(alice: Any, public_room: ChatRoom) -> None:
    ticket = await db(tickets.issue_ticket)(alice)
    alice.is_active = False
    await db(alice.save)()
    client = ChatCommunicator(f"/ws/chat/?ticket={ticket}")
    await client.open(ready=False)
    assert await client.wait_closed() == 4001
    await client.disconnect()


# --- Sending, acks, idempotency, edits and deletions ------------------------------------


async def test_send_is_stored_acked_with_seq_and_broadcast_once(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(join)(bob, public_room)
    sender = await open_room(alice, public_room.slug)
    receiver = await open_room(bob, public_room.slug)
    await sender.send_frame(type="message.send", content="hello", client_id="c1", id=1)
    ack = await sender.receive_frame("ack")
    assert ack["id"] == 1
    assert ack["client_id"] == "c1"
    assert ack["message"]["seq"] == 1
    assert ack["message"]["event_seq"] == 1
    stored = await db(ChatMessage.objects.get)(pk=ack["message"]["id"])
    assert stored.content == "hello"
    new = await receiver.receive_frame("message.new")
    assert new["message"]["id"] == stored.pk
    # A retry with the same client id returns the stored message, no duplicate, no broadcast.
    await sender.send_frame(type="message.send", content="hello", client_id="c1", id=2)
    again = await sender.receive_frame("ack", skip=frozenset({"message.new", "presence"}))
    assert again["id"] == 2
    assert again["message"]["id"] == stored.pk
    assert await db(ChatMessage.objects.filter(room=public_room).count)() == 1
    await receiver.assert_no_frame(ignore=frozenset({"presence"}))
    await sender.disconnect()
    await receiver.disconnect()


async def test_reply_edit_and_delete_in_place(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    await db(join)(bob, public_room)
    first = await db(send_text)(public_room, bob, "first")
    client = await open_room(alice, public_room.slug)
    watcher = await open_room(bob, public_room.slug)
    await client.send_frame(type="message.send", content="re", reply_to=first.pk, id=1)
    ack = await client.receive_frame(
        "ack", skip=frozenset({"message.new", "presence", "notification"})
    )
    assert ack["message"]["reply_to"] == first.pk
    mine = ack["message"]["id"]
    await client.send_frame(type="message.edit", message_id=mine, content="re!", id=2)
    edited = await client.receive_frame(
        "ack", skip=frozenset({"message.new", "presence", "notification"})
    )
    assert edited["message"]["is_edited"]
    assert edited["message"]["content"] == "re!"
    frame = await watcher.receive_frame(
        "message.edited", skip=frozenset({"message.new", "presence", "notification"})
    )
    assert frame["message"]["event_seq"] == 3
    await client.send_frame(type="message.delete", message_id=mine, id=3)
    deleted = await client.receive_frame(
        "ack", skip=frozenset({"message.new", "message.edited", "presence", "notification"})
    )
    assert deleted["message"]["content"] is None
    assert deleted["message"]["is_deleted"]
    frame = await watcher.receive_frame("message.deleted")
    assert frame["message"]["content"] is None
    await client.disconnect()
    await watcher.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "message.send", "content": "   "}, "invalid"),
        ({"type": "message.send", "content": "x", "reply_to": 99999}, "invalid"),
        ({"type": "message.send", "content": "x", "client_id": "é"}, "invalid"),
        ({"type": "message.edit", "message_id": 99999, "content": "x"}, "not_found"),
        ({"type": "message.delete", "message_id": 99999}, "not_found"),
        ({"type": "message.send", "content": "x", "room": "elsewhere"}, "not_found"),
        ({"type": "read", "seq": 0, "room": "elsewhere"}, "not_found"),
    ],
)
async def test_service_errors_map_to_error_frames(
    alice: Any, public_room: ChatRoom, frame: dict[str, Any], code: str
) -> None:
    client = await open_room(alice, public_room.slug)
    await client.send_frame(**frame, id="f")
    error = await client.receive_frame("error")
    assert error["code"] == code
    assert error["id"] == "f"
    assert error["message"]
    await client.disconnect()


async def test_editing_or_deleting_others_messages_is_forbidden(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    message = await db(send_text)(public_room, alice, "alice's")
    client = await open_room(bob, public_room.slug)
    await client.send_frame(
        type="message.edit", message_id=message.pk, content="bob was here", id=1
    )
    assert (await client.receive_frame("error"))["code"] == "forbidden"
    await client.send_frame(type="message.delete", message_id=message.pk, id=2)
    assert (await client.receive_frame("error"))["code"] == "forbidden"
    await client.disconnect()


async def test_message_of_another_room_is_not_found(
    alice: Any, public_room: ChatRoom, staff: Any, group_room: ChatRoom
) -> None:
    hidden = await db(send_text)(group_room, staff, "secret")
    client = await open_room(alice, public_room.slug)
    await client.send_frame(type="message.delete", message_id=hidden.pk, id=1)
    assert (await client.receive_frame("error"))["code"] == "not_found"
    await client.disconnect()


# --- Malformed input and bounds ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"content": "no type"}', "unknown_type"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "ping", "extra": 1}', "invalid_frame"),
        ('{"type": "message.send", "content": 5}', "invalid_frame"),
        ('{"type": "read", "seq": "5"}', "invalid_frame"),
        ('{"type": "read", "seq": -1}', "invalid_frame"),
        ('{"type": "typing", "state": "dancing"}', "invalid_frame"),
    ],
)
async def test_malformed_frames_get_error_frames_and_the_socket_stays_usable(
    alice: Any, bob: Any, public_room: ChatRoom, raw: str, code: str, caplog: Any
) -> None:
    client = await open_room(alice, public_room.slug)
    bystander = await open_room(bob, public_room.slug)
    await client.send_to(raw)
    error = await client.receive_frame("error")
    assert error["code"] == code
    await client.send_frame(type="ping", id=7)
    assert (await client.receive_frame("pong"))["id"] == 7
    await bystander.send_frame(type="ping")
    await bystander.receive_frame("pong")
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    await client.disconnect()
    await bystander.disconnect()


async def test_binary_frames_are_refused_with_an_error(alice: Any, public_room: ChatRoom) -> None:
    client = await open_room(alice, public_room.slug)
    await client.send_to(bytes_data=b"\x00\x01")
    assert (await client.receive_frame("error"))["code"] == "binary_not_supported"
    await client.disconnect()


async def test_oversized_frame_closes_with_1009(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MAX_FRAME_BYTES": 1000}
    client = await open_room(alice, public_room.slug)
    await client.send_frame(type="message.send", content="é" * 600)  # 1200 bytes of UTF-8.
    assert await client.wait_closed() == 1009
    await client.disconnect()


async def test_unexpected_failure_is_an_internal_error_frame(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(consumers, "_send", broken)
    monkeypatch.setattr(batcher, "check_send_messages", broken)
    client = await open_room(alice, public_room.slug)
    await client.send_frame(type="message.send", content="x", id=1)
    error = await client.receive_frame("error")
    assert error["code"] == "internal_error"
    assert "boom" not in error["message"]
    caplog.clear()
    await client.disconnect()


async def test_sends_are_rate_limited_per_user_across_sockets(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "SEND_RATE_BURST": 2,
        "SEND_RATE_PER_SECOND": 0.5,
    }
    tab1 = await open_room(alice, public_room.slug)
    tab2 = await open_user(alice)
    await tab1.send_frame(type="message.send", content="1", id=1)
    await tab1.receive_frame("ack", skip=frozenset({"message.new"}))
    await tab2.send_frame(type="message.send", content="2", room=public_room.slug, id=2)
    await tab2.receive_frame("ack", skip=frozenset({"message.new"}))
    await tab1.send_frame(type="message.send", content="3", id=3)
    error = await tab1.receive_frame("error", skip=frozenset({"message.new"}))
    assert error["code"] == "rate_limited"
    assert 0 < error["retry_after"] <= 2
    await tab1.send_frame(type="ping", id=4)
    await tab1.receive_frame("pong", skip=frozenset({"message.new"}))
    assert await db(ChatMessage.objects.count)() == 2
    await tab1.disconnect()
    await tab2.disconnect()


def test_services_share_the_send_limit_with_the_api(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    # One send, and no refill however slow the machine: the edit must find the bucket empty.
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "SEND_RATE_BURST": 1,
        "SEND_RATE_PER_SECOND": 0.001,
    }
    message = services.check_send_message(alice, public_room, "one").message
    with pytest.raises(RateLimited) as excinfo:
        services.check_edit_message(alice, message, "two", services.room_access(alice, public_room))
    assert excinfo.value.retry_after > 0


# --- Typing -----------------------------------------------------------------------------


async def test_typing_reaches_others_with_expiry_and_is_throttled(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "TYPING_RATE_BURST": 1,
        "TYPING_RATE_PER_SECOND": 0.1,
        "TYPING_TIMEOUT": 4,
    }
    await db(join)(bob, public_room)
    typist = await open_room(bob, public_room.slug)
    reader = await open_user(alice)
    await typist.send_frame(type="typing", state="started", id=1)
    await typist.receive_frame("ack")
    frame = await reader.receive_frame("typing", skip=frozenset({"presence"}))
    assert frame["user"]["name"] == "Bob"
    assert frame["expires_in"] == 4
    assert frame["state"] == "started"
    assert frame["room"] == public_room.slug
    # Over the rate: dropped silently (no error), still answered when it carries an id.
    await typist.send_frame(type="typing", state="stopped", id=2)
    await typist.receive_frame("ack")
    await reader.assert_no_frame(ignore=frozenset({"presence"}))
    await typist.assert_no_frame()  # Nobody receives their own typing.
    await typist.disconnect()
    await reader.disconnect()


async def test_typing_in_an_archived_room_is_refused(staff: Any, group_room: ChatRoom) -> None:
    await db(services.do_update_room)(group_room, is_archived=True)
    client = await open_room(staff, group_room.slug)
    await client.send_frame(type="typing", state="started", id=1)
    assert (await client.receive_frame("error"))["code"] == "room_archived"
    await client.disconnect()


# --- Permission matrix -------------------------------------------------------------------


async def test_outsiders_cannot_join_any_closed_room(
    alice: Any,
    bob: Any,
    carol: Any,
    staff: Any,
    group: Any,
    group_room: ChatRoom,
    course_room: ChatRoom,
) -> None:
    private, _ = await db(services.do_open_private)(alice, bob)
    for user, room in [
        (carol, group_room),
        (carol, course_room),
        (carol, private),
        (staff, private),  # Staff do not read private conversations by default.
    ]:
        client = await open_room(user, room.slug)
        assert await client.wait_closed() == 4003, (user, room)
        await client.disconnect()
    missing = await open_room(carol, "no-such-room")
    assert await missing.wait_closed() == 4003  # Same answer as a hidden room.
    await missing.disconnect()


async def test_members_of_each_room_type_read_and_write(
    alice: Any,
    bob: Any,
    group: Any,
    group_room: ChatRoom,
    course_room: ChatRoom,
    course: Any,
    enrol: Any,
    public_room: ChatRoom,
) -> None:
    await db(alice.groups.add)(group)
    await db(enrol)(alice, course)
    private, _ = await db(services.do_open_private)(alice, bob)
    for room in (public_room, group_room, course_room, private):
        client = await open_room(alice, room.slug, event_seq=0)
        await drain(client)
        await client.send_frame(type="message.send", content="hi", id=1)
        # The previous room's first message made Alice a member there: its room.added goes
        # to all her sockets and may reach this one, if published after that one closed.
        ack = await client.receive_frame("ack", skip=NOISE | {"room.added"})
        assert ack["message"]["room"] == room.slug
        await client.disconnect()


async def test_archived_room_is_readable_not_writable(
    alice: Any, staff: Any, public_room: ChatRoom
) -> None:
    await db(send_text)(public_room, alice, "before")
    await db(services.do_update_room)(public_room, is_archived=True)
    client = await open_room(alice, public_room.slug, event_seq=0)
    replayed = await client.receive_frame(
        "message.new", skip=frozenset({"participants", "presence"})
    )
    assert replayed["message"]["content"] == "before"
    await client.receive_frame("resumed")
    await client.send_frame(type="message.send", content="after", id=1)
    assert (await client.receive_frame("error"))["code"] == "room_archived"
    await client.disconnect()


async def test_multiplexed_endpoint_cannot_reach_unfollowed_rooms(
    alice: Any, carol: Any, group_room: ChatRoom, public_room: ChatRoom
) -> None:
    client = await open_user(carol)
    for frame in (
        {"type": "message.send", "content": "x", "room": group_room.slug},
        {"type": "resume", "event_seq": 0, "room": group_room.slug},
        {"type": "read", "seq": 1, "room": public_room.slug},  # Visible, not joined.
    ):
        await client.send_frame(**frame, id=1)
        assert (await client.receive_frame("error"))["code"] == "not_found"
    await client.send_frame(type="message.send", content="x", id=2)
    error = await client.receive_frame("error")
    assert error["code"] == "invalid"
    assert "room" in error["fields"]
    await client.disconnect()


# --- Resume: nothing lost, nothing doubled ------------------------------------------------


async def test_reconnect_replays_missed_changes_in_order(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    one = await db(send_text)(public_room, alice, "one")
    two = await db(send_text)(public_room, alice, "two")
    await db(services.do_edit_message)(alice, one, "one (edited)")  # event 3
    await db(send_text)(public_room, alice, "three")  # event 4
    await db(services.do_delete_message)(alice, two)  # event 5
    client = await open_room(bob, public_room.slug, event_seq=1)
    await client.receive_frame("participants")
    replay = [await client.receive_frame() for _ in range(3)]
    assert [(f["type"], f["message"]["event_seq"]) for f in replay] == [
        ("message.edited", 3),
        ("message.new", 4),
        ("message.deleted", 5),
    ]
    resumed = await client.receive_frame("resumed")
    assert resumed == {
        "type": "resumed",
        "room": public_room.slug,
        "event_seq": 5,
        "truncated": False,
        "purged_through_seq": 0,
        "gap": False,
        "id": None,
    }
    await client.disconnect()


async def test_long_backlog_is_paged_and_truncated(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "MAX_PAGE_SIZE": 2,
        "PAGE_SIZE": 2,
        "RESUME_MAX_EVENTS": 5,
    }
    for n in range(7):
        await db(send_text)(public_room, alice, f"m{n}")
    client = await open_user(alice)
    await client.send_frame(type="resume", room=public_room.slug, event_seq=0, id="r1")
    # Every replay starts with the room's participants (the shell opening a room).
    assert (await client.receive_frame())["type"] == "participants"
    seqs = []
    while (frame := await client.receive_frame())["type"] == "message.new":
        seqs.append(frame["message"]["event_seq"])
    assert seqs == [1, 2, 3, 4, 5]
    assert frame["type"] == "resumed"
    assert frame["truncated"]
    assert frame["event_seq"] == 5
    assert frame["id"] == "r1"
    await client.send_frame(type="resume", room=public_room.slug, event_seq=5)
    assert (await client.receive_frame())["type"] == "participants"
    assert (await client.receive_frame())["message"]["event_seq"] == 6
    assert (await client.receive_frame())["message"]["event_seq"] == 7
    last = await client.receive_frame("resumed")
    assert not last["truncated"]
    assert last["event_seq"] == 7
    await client.disconnect()


async def test_no_duplicate_at_the_seam_between_replay_and_live(
    alice: Any, bob: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message committed after the group join but before the backlog read is in both the
    backlog and the live stream: the client must get it once."""
    await db(send_text)(public_room, alice, "old")
    real_changes = consumers._changes
    raced: list[int] = []

    def racing_changes(room: ChatRoom, since: int, limit: int) -> list[tuple[int, str]]:
        if not raced:
            raced.append(send_text(public_room, alice, "racing").event_seq)
        return real_changes(room, since, limit)

    monkeypatch.setattr(consumers, "_changes", racing_changes)
    client = await open_room(bob, public_room.slug, event_seq=0)
    await client.receive_frame("participants")
    assert [(await client.receive_frame())["message"]["content"] for _ in range(2)] == [
        "old",
        "racing",
    ]
    assert (await client.receive_frame("resumed"))["event_seq"] == raced[0] == 2
    await client.assert_no_frame(timeout=0.3)  # The live copy of "racing" is dropped.
    await db(send_text)(public_room, alice, "live")
    assert (await client.receive_frame("message.new"))["message"]["event_seq"] == 3
    await client.disconnect()


async def test_dropped_layer_message_is_detected_by_gap_and_recovered(
    alice: Any, bob: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    await db(join)(bob, public_room)
    client = await open_room(bob, public_room.slug, event_seq=0)
    await drain(client)
    real_send = events._send

    def lossy_send(group: str, message: dict[str, Any]) -> None:
        if message.get("event_seq") == 2:
            return  # The channel layer lost this one (capacity, expiry, restart...).
        real_send(group, message)

    monkeypatch.setattr(events, "_send", lossy_send)
    for text in ("one", "two", "three"):
        await db(send_text)(public_room, alice, text)
    seen = [(await client.receive_frame("message.new"))["message"]["event_seq"] for _ in range(2)]
    assert seen == [1, 3]  # The client sees a gap: 2 is missing.
    await client.send_frame(type="resume", event_seq=1, id="gap")
    await client.receive_frame("participants")
    replayed = [(await client.receive_frame())["message"] for _ in range(2)]
    assert [(m["event_seq"], m["content"]) for m in replayed] == [(2, "two"), (3, "three")]
    assert (await client.receive_frame("resumed"))["event_seq"] == 3
    await client.disconnect()


# --- Presence and participants ------------------------------------------------------------


async def test_presence_with_several_tabs(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    await db(join)(bob, public_room)
    watcher = await open_room(bob, public_room.slug)

    def is_online() -> bool:
        return ChatParticipant.objects.get(room=public_room, user=alice).is_online

    tab1 = await open_room(alice, public_room.slug)
    online = await watcher.receive_frame("presence")
    assert online["user"]["name"] == "Alice"
    assert online["online"] is True
    assert await db(is_online)()
    tab2 = await open_user(alice)
    await tab1.disconnect()
    await watcher.assert_no_frame(timeout=0.3)  # Still online: the second tab is open.
    assert await db(is_online)()
    await tab2.disconnect()
    offline = await watcher.receive_frame("presence")
    assert offline["online"] is False
    assert offline["last_seen"]
    assert not await db(is_online)()
    await watcher.disconnect()


async def test_sockets_opening_together_share_a_presence_transaction(
    alice: Any, bob: Any, carol: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections opening while others are stored share the next transaction; each user is
    announced online once, and a failing batch is stored again one connection at a time
    (its error stays its own)."""
    await db(join)(bob, public_room)
    await db(join)(carol, public_room)
    await db(join)(alice, public_room)
    watcher = await open_room(bob, public_room.slug)
    batches: list[list[tuple[int, str]]] = []
    real = presence.connections_opened

    def recorded(opened: list[tuple[int, str]], server: str = presence.SERVER_ID) -> None:
        batches.append(list(opened))
        if len(opened) > 1 and any(user_id == carol.pk for user_id, _ in opened):
            raise RuntimeError("this batch fails as a whole")
        real(opened, server)

    monkeypatch.setattr(presence, "connections_opened", recorded)
    names = [(user.pk, f"test.batch.{n}") for n, user in enumerate((alice, alice, carol))]
    # The three open before the tracker's storing task first runs: one batch.
    await asyncio.gather(*(presence.tracker.opened(user_id, name) for user_id, name in names))
    assert batches[0] == names
    assert batches[1:] == [[row] for row in names]  # Stored again one by one.
    seen = [await watcher.receive_frame("presence") for _ in range(2)]
    assert sorted(f["user"]["name"] for f in seen) == ["Alice", "Carol"]
    assert all(f["online"] for f in seen)
    await watcher.assert_no_frame(timeout=0.3)  # Alice's second connection is not news.
    stored = ChatConnection.objects.filter(channel_name__startswith="test.batch.")
    assert await db(stored.count)() == 3
    for user_id, name in names:
        await presence.tracker.closed(user_id, name)
    await watcher.disconnect()


async def test_connections_of_a_crashed_process_expire(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(join)(bob, public_room)
    watcher = await open_room(bob, public_room.slug)
    stale = timezone.now() - timedelta(seconds=3600)

    def crash() -> None:
        ChatConnection.objects.create(
            channel_name="dead!1", user=alice, server="dead:1:x", last_heartbeat=stale
        )
        ChatParticipant.objects.filter(user=alice).update(is_online=True)

    await db(crash)()
    assert await db(presence.sweep)() == 1
    offline = await watcher.receive_frame("presence")
    assert offline["user"]["name"] == "Alice"
    assert offline["online"] is False
    assert not await db(ChatConnection.objects.filter(user=alice).exists)()
    await watcher.disconnect()


async def test_heartbeat_keeps_connections_fresh_and_repairs_presence(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "PRESENCE_HEARTBEAT": 0.05,
        "PRESENCE_TIMEOUT": 60,
    }
    await db(join)(bob, public_room)
    client = await open_room(alice, public_room.slug)
    watcher = await open_room(bob, public_room.slug)
    # A lost update: the row says offline although alice is connected.
    await db(ChatParticipant.objects.filter(user=alice).update)(is_online=False)
    await db(ChatConnection.objects.filter(user=alice).delete)()
    repaired = await watcher.receive_until(lambda f: f["type"] == "presence" and f["online"])
    assert repaired["user"]["name"] == "Alice"
    # The frame may be alice's own arrival, still in flight: wait for the heartbeat's repair.
    await wait_for(db(ChatConnection.objects.filter(user=alice).exists))
    await wait_for(db(ChatParticipant.objects.filter(user=alice, is_online=True).exists))
    await client.disconnect()
    await watcher.disconnect()


async def test_participants_list_and_membership_frames(
    alice: Any, bob: Any, carol: Any, staff: Any, public_room: ChatRoom
) -> None:
    await db(join)(bob, public_room)
    client = await open_room(alice, public_room.slug, event_seq=0)
    listed = await client.receive_frame("participants")
    assert {p["user"]["name"] for p in listed["participants"]} == {"Alice", "Bob"}
    me = next(p for p in listed["participants"] if p["user"]["name"] == "Alice")
    assert me["online"]
    assert me["role"] == "owner"
    await client.receive_frame("resumed")
    await db(join)(carol, public_room)
    joined = await client.receive_frame("participant.joined", skip=frozenset({"presence"}))
    assert joined["user"]["name"] == "Carol"
    assert joined["role"] == "member"
    bob_row = await db(ChatParticipant.objects.select_related("user").get)(user=bob)
    await db(services.do_remove_member)(alice, public_room, bob_row)
    left = await client.receive_frame("participant.left", skip=frozenset({"presence"}))
    assert left["user"]["name"] == "Bob"
    await db(services.do_update_room)(public_room, name="Renamed")
    updated = await client.receive_frame("room.updated", skip=frozenset({"presence"}))
    assert updated["room"]["name"] == "Renamed"
    await client.disconnect()


# --- The multiplexed endpoint -------------------------------------------------------------


async def test_room_list_stays_live(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    await db(join)(bob, public_room)
    client = await open_user(alice)
    await db(send_text)(public_room, bob, "preview me")
    new = await client.receive_frame("message.new", skip=frozenset({"presence"}))
    assert new["message"]["content"] == "preview me"
    await client.send_frame(type="read", room=public_room.slug, seq=1, id="r")
    await client.receive_frame("ack", skip=frozenset({"presence"}))
    unread = await client.receive_frame("unread", skip=frozenset({"presence"}))
    assert unread == {
        "type": "unread",
        "room": public_room.slug,
        "unread": 0,
        "mentions": 0,
        "last_read_seq": 1,
    }
    # A new private conversation appears, and its messages follow at once.
    private, _ = await db(services.do_open_private)(bob, alice)
    added = await client.receive_frame("room.added", skip=frozenset({"presence"}))
    assert added["room"]["slug"] == private.slug
    assert added["room"]["room_type"] == "private"
    await db(send_text)(private, bob, "psst")
    psst = await client.receive_frame("message.new", skip=frozenset({"presence", "notification"}))
    assert psst["message"]["room"] == private.slug
    await client.send_frame(type="message.send", room=private.slug, content="hi", id=3)
    assert (
        await client.receive_frame(
            "ack", skip=frozenset({"presence", "message.new", "notification"})
        )
    )["id"] == 3
    await client.disconnect()


# --- Losing access stops delivery within a second ----------------------------------------


async def test_removed_member_is_closed_or_told(
    alice: Any, staff: Any, group: Any, group_room: ChatRoom
) -> None:
    await db(alice.groups.add)(group)
    await db(join)(alice, group_room)
    room_socket = await open_room(alice, group_room.slug)
    list_socket = await open_user(alice)
    row = await db(ChatParticipant.objects.select_related("user").get)(user=alice, room=group_room)
    await db(services.check_remove_member)(staff, group_room, alice.pk)
    assert row.pk
    removed = await list_socket.receive_frame(
        "room.removed", timeout=1, skip=frozenset({"presence", "participant.left"})
    )
    assert removed["room"] == group_room.slug
    assert await room_socket.wait_closed(timeout=1) == 4003
    await db(send_text)(group_room, staff, "after removal")
    # They were told of the removal (moderation.notice); nothing of the room after it.
    await list_socket.assert_no_frame(
        timeout=0.3, ignore=frozenset({"presence", "moderation.notice"})
    )
    await room_socket.disconnect()
    await list_socket.disconnect()


async def test_group_revoked_stops_the_room(
    alice: Any, staff: Any, group: Any, group_room: ChatRoom
) -> None:
    await db(alice.groups.add)(group)
    await db(join)(alice, group_room)
    room_socket = await open_room(alice, group_room.slug)
    list_socket = await open_user(alice)
    await db(alice.groups.remove)(group)
    removed = await list_socket.receive_frame(
        "room.removed", timeout=1, skip=frozenset({"presence"})
    )
    assert removed["room"] == group_room.slug
    assert await room_socket.wait_closed(timeout=1) == 4003
    await db(send_text)(group_room, staff, "members only")
    await list_socket.assert_no_frame(timeout=0.3, ignore=frozenset({"presence"}))
    await room_socket.disconnect()
    await list_socket.disconnect()


async def test_enrolment_removed_stops_the_course_room(
    alice: Any, course: Any, course_room: ChatRoom, enrol: Any
) -> None:
    enrolment = await db(enrol)(alice, course)
    await db(join)(alice, course_room)
    room_socket = await open_room(alice, course_room.slug)
    list_socket = await open_user(alice)
    await db(Enrolment.objects.filter(pk=enrolment.pk).delete)()
    # A queryset delete sends post_delete for each row; the example site forwards it.
    removed = await list_socket.receive_frame(
        "room.removed", timeout=1, skip=frozenset({"presence"})
    )
    assert removed["room"] == course_room.slug
    assert await room_socket.wait_closed(timeout=1) == 4003
    await room_socket.disconnect()
    await list_socket.disconnect()


async def test_logout_closes_with_4001(alice: Any, public_room: ChatRoom) -> None:
    room_socket = await open_room(alice, public_room.slug)
    list_socket = await open_user(alice)
    await db(user_logged_out.send)(sender=type(alice), request=None, user=alice)
    assert await room_socket.wait_closed(timeout=1) == 4001
    assert await list_socket.wait_closed(timeout=1) == 4001
    await room_socket.disconnect()
    await list_socket.disconnect()


async def test_deactivation_closes_with_4001(alice: Any, public_room: ChatRoom) -> None:
    client = await open_room(alice, public_room.slug)
    alice.is_active = False
    await db(alice.save)()
    assert await client.wait_closed(timeout=1) == 4001
    await client.disconnect()


async def test_deleted_room_closes_with_4004(alice: Any, public_room: ChatRoom) -> None:
    room_socket = await open_room(alice, public_room.slug)
    list_socket = await open_user(alice)
    await db(public_room.delete)()
    assert await room_socket.wait_closed(timeout=1) == 4004
    removed = await list_socket.receive_frame(
        "room.removed", timeout=1, skip=frozenset({"presence"})
    )
    assert removed["room"] == public_room.slug
    await room_socket.disconnect()
    await list_socket.disconnect()


async def test_nothing_is_left_behind(alice: Any, public_room: ChatRoom) -> None:
    client = await open_room(alice, public_room.slug)
    await client.disconnect()
    await wait_for(lambda: presence.tracker.task is None)
    assert not await db(ChatConnection.objects.exists)()
