"""Edges of the WebSocket protocol found by a client written from docs/protocol.md alone
(issue #23 part 6): what a room socket sends on connect, and a public room seen or posted
in by someone who has not joined it. The server-level edges (invalid UTF-8, binary frames
under uvicorn) are in tests/test_ws_conformance.py; single-use tickets in
tests/test_tickets.py and tests/test_tickets_multiprocess.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.models import ChatParticipant, ChatRoom, Role
from smartcampus_chat.testing import open_room, open_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("channel_layer")]

db = database_sync_to_async


def _is_member(user: Any, room: ChatRoom) -> bool:
    return ChatParticipant.objects.filter(room=room, user=user, is_banned=False).exists()


# --- participants: at the start of each replay, not on a plain connect ----------------------


async def test_a_plain_room_connect_sends_nothing_before_its_first_answer(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    """docs/protocol.md: the member list starts each replay; a plain connect has none (a
    client that wants it connects with ``?event_seq=`` or sends ``resume``)."""
    await db(services.do_join_room)(bob, public_room)
    client = await open_room(alice, public_room.slug)  # Returns after the pong of a ping.
    assert client.frames == []
    await client.send_frame(type="resume", event_seq=0, id="r")
    listed = await client.receive_frame()
    assert listed["type"] == "participants"
    assert {p["user"]["name"] for p in listed["participants"]} == {"Alice", "Bob"}
    assert (await client.receive_frame())["type"] == "resumed"
    await client.disconnect()


async def test_a_connect_with_event_seq_starts_with_the_member_list(
    alice: Any, public_room: ChatRoom
) -> None:
    client = await open_room(alice, public_room.slug, event_seq=0)
    assert [frame["type"] for frame in client.frames] == ["participants", "resumed"]
    await client.disconnect()


# --- A public room one has not joined ------------------------------------------------------


async def test_a_non_member_previews_a_public_room_without_joining_it(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    """As a Zulip user previews a public stream: the room socket of someone who may see the
    room but has not joined it gets its messages live; nothing makes them a member."""
    reader = await open_room(bob, public_room.slug)
    await db(services.do_send_message)(alice, public_room, "welcome")
    new = await reader.receive_frame("message.new")
    assert new["message"]["content"] == "welcome"
    assert not await db(_is_member)(bob, public_room)
    await reader.disconnect()


async def test_a_non_member_cannot_preview_a_public_room_they_were_removed_from(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    row = await db(ChatParticipant.objects.select_related("user").get)(user=bob)
    await db(services.do_remove_member)(alice, public_room, row)
    client = await open_room(bob, public_room.slug)
    assert await client.wait_closed() == 4003
    await client.disconnect()


async def test_posting_into_a_public_room_joins_it_as_a_join_would(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    """The first message makes the sender a member, announced to the room as any join
    (``participant.joined``), and to the sender's room list (``room.added``)."""
    member = await open_room(alice, public_room.slug)
    room_list = await open_user(bob)
    poster = await open_room(bob, public_room.slug)
    await poster.send_frame(type="message.send", content="hello all", id=1)
    ack = await poster.receive_frame("ack")
    assert ack["message"]["content"] == "hello all"
    joined = await member.receive_until(lambda f: f["type"] == "participant.joined")
    assert (joined["user"]["name"], joined["role"], joined["room"]) == (
        "Bob",
        Role.MEMBER,
        public_room.slug,
    )
    added = await room_list.receive_until(lambda f: f["type"] == "room.added")
    assert added["room"]["slug"] == public_room.slug
    assert await db(_is_member)(bob, public_room)
    for client in (member, room_list, poster):
        await client.disconnect()


async def test_the_all_rooms_socket_does_not_reach_a_public_room_not_joined(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    """On ``ws/chat/`` (the rooms one joined) a visible room not joined is ``not_found``:
    joining is the room socket's first message, or ``POST .../join/``."""
    client = await open_user(bob)
    await client.send_frame(type="message.send", room=public_room.slug, content="x", id=1)
    assert (await client.receive_frame("error"))["code"] == "not_found"
    assert not await db(_is_member)(bob, public_room)
    await client.disconnect()
