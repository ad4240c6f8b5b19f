"""Amplification and caps (issue #14): every door shares one limit per user and action.

``resume`` (frame or ``?event_seq=`` reconnect), ``read``, room creation and join/leave are
rate-limited through :func:`smartcampus_chat.infra.ratelimit.check_rate`, called by the
services (and by the consumer's replay): WebSocket ``error`` ``rate_limited`` with
``retry_after``, HTTP 429 with ``Retry-After`` and a JSON body, HTML 429 with the message
on the page. A read that does not move the marker writes and publishes nothing. Sockets
per user are capped (close 4029). Limits are small here (``settings``) to stay fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.models import ChatConnection, ChatParticipant, ChatRoom
from smartcampus_chat.testing import ChatCommunicator, Closed, open_room, open_user

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async
NO_NEWS = frozenset({"presence", "participants", "message.new", "participant.joined"})


def limit(settings: Any, **values: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, **values}


def http(user: Any) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def post_json(client: HttpClient, path: str, data: Any = None) -> Any:
    body = json.dumps(data) if data is not None else ""
    return client.post(path, body, content_type="application/json")


def assert_429(response: Any) -> dict[str, Any]:
    assert response.status_code == 429, response.content
    assert int(response.headers["Retry-After"]) >= 1
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["retry_after"] > 0
    return error


def assert_html_429(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert int(response.headers["Retry-After"]) >= 1
    assert "too often" in response.content.decode()


def fill(room: ChatRoom, user: Any, count: int) -> None:
    for n in range(count):
        services.do_send_message(user, room, f"m{n}")


# --- resume -------------------------------------------------------------------------------


async def test_resume_frames_are_rate_limited(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, RESUME_RATE_BURST=2, RESUME_RATE_PER_SECOND=0.01)
    await db(fill)(public_room, alice, 3)
    client = await open_room(alice, public_room.slug)
    answers = []
    for n in range(3):
        await client.send_frame(type="resume", event_seq=0, id=n)
        answers.append(await client.receive_until(lambda f: f["type"] in ("resumed", "error")))
    assert [a["type"] for a in answers] == ["resumed", "resumed", "error"]
    error = answers[2]
    assert (error["code"], error["id"]) == ("rate_limited", 2)
    assert error["retry_after"] > 0
    # No replay was sent for it, and the socket lives.
    await client.send_frame(type="ping", id="p")
    assert (await client.receive_until(lambda f: f["type"] != "presence"))["type"] == "pong"
    await client.disconnect()


async def test_a_long_replay_costs_a_token_per_page_and_stops_without_one(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, RESUME_RATE_BURST=2, RESUME_RATE_PER_SECOND=0.01, MAX_PAGE_SIZE=2)
    await db(fill)(public_room, alice, 5)
    client = await open_room(alice, public_room.slug)
    await client.send_frame(type="resume", event_seq=0, id="r1")
    resumed = await client.receive_until(lambda f: f["type"] == "resumed")
    # Two pages paid (changes 1-4), the third not: the replay stops, truncated.
    assert (resumed["event_seq"], resumed["truncated"], resumed["id"]) == (4, True, "r1")
    replayed = [f["message"]["seq"] for f in client.frames if f["type"] == "message.new"]
    assert replayed == [1, 2, 3, 4]
    await client.send_frame(type="resume", event_seq=4, id="r2")
    error = await client.receive_until(lambda f: f["type"] in ("resumed", "error"))
    assert (error["type"], error["code"], error["id"]) == ("error", "rate_limited", "r2")
    await client.disconnect()


async def test_reconnecting_with_event_seq_over_the_limit_is_closed_4029(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, RESUME_RATE_BURST=1, RESUME_RATE_PER_SECOND=0.01)
    await db(fill)(public_room, alice, 2)
    first = await open_room(alice, public_room.slug, event_seq=0)
    resumed = await first.receive_until(lambda f: f["type"] == "resumed")
    assert resumed["event_seq"] == 2
    second = ChatCommunicator(f"/ws/chat/{public_room.slug}/?event_seq=0", alice)
    await second.open(ready=False)
    assert await second.wait_closed() == 4029
    assert not any(f["type"] in ("message.new", "resumed") for f in second.frames)
    await first.disconnect()
    await second.disconnect()


# --- read ---------------------------------------------------------------------------------


async def test_reads_that_move_nothing_write_and_publish_nothing(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, READ_RATE_BURST=100)
    await db(services.do_join_room)(bob, public_room)
    await db(fill)(public_room, alice, 2)
    room_socket = await open_room(bob, public_room.slug)
    list_socket = await open_user(bob)
    await room_socket.send_frame(type="read", seq=2, id=1)
    await room_socket.receive_frame("ack", skip=NO_NEWS)
    unread = await list_socket.receive_frame("unread", skip=NO_NEWS)
    assert (unread["last_read_seq"], unread["unread"]) == (2, 0)
    await room_socket.receive_frame("unread", skip=NO_NEWS)
    # Again, and beyond the end: no write, no publish.
    for n, seq in enumerate((2, 1, 99), start=2):
        await room_socket.send_frame(type="read", seq=seq, id=n)
        await room_socket.receive_frame("ack", skip=NO_NEWS)
    await list_socket.assert_no_frame(timeout=0.3, ignore=frozenset({"presence"}))
    await room_socket.assert_no_frame(timeout=0.1, ignore=frozenset({"presence"}))
    marker = await db(
        lambda: ChatParticipant.objects.get(room=public_room, user=bob).last_read_seq
    )()
    assert marker == 2
    await room_socket.disconnect()
    await list_socket.disconnect()


async def test_read_frames_are_rate_limited(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, READ_RATE_BURST=2, READ_RATE_PER_SECOND=0.01)
    await db(services.do_join_room)(bob, public_room)
    await db(fill)(public_room, alice, 3)
    client = await open_room(bob, public_room.slug)
    answers = []
    for n in range(1, 4):
        await client.send_frame(type="read", seq=n, id=n)
        answers.append(await client.receive_until(lambda f: f["type"] in ("ack", "error")))
    assert [a["type"] for a in answers] == ["ack", "ack", "error"]
    assert (answers[2]["code"], answers[2]["id"]) == ("rate_limited", 3)
    marker = await db(
        lambda: ChatParticipant.objects.get(room=public_room, user=bob).last_read_seq
    )()
    assert marker == 2
    await client.disconnect()


def test_rest_reads_share_the_limit_and_the_page_still_shows(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, READ_RATE_BURST=2, READ_RATE_PER_SECOND=0.01)
    services.do_join_room(bob, public_room)
    fill(public_room, alice, 3)
    client = http(bob)
    path = reverse("smartcampus_chat:api-room-read", kwargs={"slug": public_room.slug})
    assert post_json(client, path, {"seq": 1}).status_code == 200
    assert post_json(client, path, {"seq": 2}).status_code == 200
    assert_429(post_json(client, path, {"seq": 3}))
    # Viewing the room page marks it read on the side: over the limit the page still shows.
    page = client.get(public_room.get_absolute_url())
    assert page.status_code == 200
    assert ChatParticipant.objects.get(room=public_room, user=bob).last_read_seq == 2


# --- create -------------------------------------------------------------------------------


def test_room_creation_is_limited_on_every_door(alice: Any, bob: Any, settings: Any) -> None:
    limit(settings, CREATE_RATE_BURST=2, CREATE_RATE_PER_SECOND=0.01)
    client = http(alice)
    rooms = reverse("smartcampus_chat:api-room-list")
    create_page = reverse("smartcampus_chat:room_create")
    assert post_json(client, rooms, {"name": "One"}).status_code == 201
    form = {"name": "Two", "room_type": "public", "description": ""}
    assert client.post(create_page, form).status_code == 302
    # Over the limit: REST and HTML refuse alike, and so does opening a new conversation.
    assert_429(post_json(client, rooms, {"name": "Three"}))
    refused = client.post(create_page, {**form, "name": "Four"})
    assert_html_429(refused)
    assert 'value="Four"' in refused.content.decode()  # The form is kept.
    assert_429(post_json(client, reverse("smartcampus_chat:api-private"), {"user": bob.pk}))
    assert sorted(ChatRoom.objects.values_list("name", flat=True)) == ["One", "Two"]


def test_opening_an_existing_conversation_is_not_a_creation(
    alice: Any, bob: Any, settings: Any
) -> None:
    limit(settings, CREATE_RATE_BURST=1, CREATE_RATE_PER_SECOND=0.01)
    client = http(alice)
    path = reverse("smartcampus_chat:api-private")
    assert post_json(client, path, {"user": bob.pk}).status_code == 201
    for _ in range(3):
        assert post_json(client, path, {"user": bob.pk}).status_code == 200


# --- join / leave ---------------------------------------------------------------------------


def test_join_and_leave_are_limited_on_every_door(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, MEMBERSHIP_RATE_BURST=2, MEMBERSHIP_RATE_PER_SECOND=0.01)
    client = http(bob)
    slug = public_room.slug
    assert client.post(reverse("smartcampus_chat:room_join", args=[slug])).status_code == 302
    assert client.post(reverse("smartcampus_chat:room_leave", args=[slug])).status_code == 302
    assert_html_429(client.post(reverse("smartcampus_chat:room_join", args=[slug])))
    assert_429(post_json(client, reverse("smartcampus_chat:api-room-join", kwargs={"slug": slug})))
    assert not ChatParticipant.objects.filter(room=public_room, user=bob).exists()


async def test_join_leave_bursts_are_not_broadcast_beyond_the_limit(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, MEMBERSHIP_RATE_BURST=2, MEMBERSHIP_RATE_PER_SECOND=0.01)
    watcher = await open_room(alice, public_room.slug)
    client = await db(http)(bob)
    slug = public_room.slug
    statuses = []
    for n in range(6):
        action = "room_join" if n % 2 == 0 else "room_leave"
        response = await db(client.post)(reverse(f"smartcampus_chat:{action}", args=[slug]))
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429, 302, 429, 302]  # Leave when not a member: no-op.
    joined = [await watcher.receive_until(lambda f: f["type"] == "participant.joined")]
    left = await watcher.receive_until(lambda f: f["type"] == "participant.left")
    await watcher.assert_no_frame(timeout=0.3, ignore=frozenset({"presence"}))
    assert (len(joined), left["user"]["id"]) == (1, bob.pk)
    await watcher.disconnect()


# --- sockets per user ----------------------------------------------------------------------


async def test_sockets_per_user_are_capped_with_4029(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    limit(settings, MAX_CONNECTIONS_PER_USER=2)
    first = await open_room(alice, public_room.slug)
    second = await open_user(alice)
    third = ChatCommunicator("/ws/chat/", alice)
    await third.open(ready=False)
    assert await third.wait_closed() == 4029
    rows = await db(lambda: ChatConnection.objects.filter(user=alice).count())()
    assert rows == 2
    # Others are not affected, and a closed socket frees its place.
    other = await open_room(bob, public_room.slug)
    await first.disconnect()
    fourth = await open_room(alice, public_room.slug)
    await fourth.send_frame(type="ping", id="x")
    assert (await fourth.receive_until(lambda f: f["type"] != "presence"))["type"] == "pong"
    for client in (second, third, other, fourth):
        await client.disconnect()


async def test_sockets_opening_together_are_capped(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    """Sockets opening at the same instant share a presence batch: the cap holds in it."""
    limit(settings, MAX_CONNECTIONS_PER_USER=3)
    clients = [ChatCommunicator(f"/ws/chat/{public_room.slug}/", alice) for _ in range(6)]
    await asyncio.gather(*(c.open(ready=False) for c in clients))
    codes = []
    for client in clients:
        with contextlib.suppress(Closed):
            await client.ready()
        codes.append(client.closed_code)
    assert sorted(code or 0 for code in codes) == [0, 0, 0, 4029, 4029, 4029]
    assert await db(lambda: ChatConnection.objects.filter(user=alice).count())() == 3
    for client in clients:
        await client.disconnect()


async def test_connections_of_a_crashed_process_do_not_count_once_expired(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    """A process that died leaves its rows until a live process sweeps them; a user whose
    tabs all reconnect after the crash must not be refused 4029 because of rows already
    past ``PRESENCE_TIMEOUT`` (they are dead connections, whether swept yet or not)."""
    limit(settings, MAX_CONNECTIONS_PER_USER=3)

    def crashed_rows() -> None:
        from datetime import timedelta

        from django.utils import timezone

        from smartcampus_chat.conf import app_settings

        old = timezone.now() - timedelta(seconds=app_settings.PRESENCE_TIMEOUT + 5)
        ChatConnection.objects.bulk_create(
            ChatConnection(
                channel_name=f"dead.{n}", user=alice, server="dead:1:x", last_heartbeat=old
            )
            for n in range(3)
        )

    await db(crashed_rows)()
    client = await open_room(alice, public_room.slug)
    await client.send_frame(type="ping", id="x")
    assert (await client.receive_until(lambda f: f["type"] != "presence"))["type"] == "pong"
    await client.disconnect()


async def test_reconnecting_with_nothing_to_catch_up_costs_no_resume(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    """Every room page opens its socket with ``?event_seq=`` (the page's newest): opening
    pages, or every tab reconnecting after a deploy, replays nothing and must not run into
    the resume limit (it was closed 4029 past the burst). A reconnect that does catch up
    still pays."""
    limit(settings, RESUME_RATE_BURST=2, RESUME_RATE_PER_SECOND=0.01)
    await db(fill)(public_room, alice, 2)
    for _ in range(5):
        client = await open_room(alice, public_room.slug, event_seq=2)
        resumed = await client.receive_until(lambda f: f["type"] == "resumed")
        assert resumed["event_seq"] == 2
        await client.disconnect()
    for expected in (None, None, 4029):
        client = ChatCommunicator(f"/ws/chat/{public_room.slug}/?event_seq=1", alice)
        await client.open(ready=False)
        if expected is None:
            assert (await client.receive_until(lambda f: f["type"] == "resumed"))["event_seq"] == 2
        else:
            assert await client.wait_closed() == expected
        await client.disconnect()
