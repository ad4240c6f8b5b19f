"""Reactions (docs/protocol.md, "Reactions"): a set per person, emoji and message, through
the service, the WebSocket and the REST API; the limits; live to the room."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.exceptions import ChatError, MessageGone, ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatReaction, ChatRoom
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async


def react(user: Any, message: ChatMessage, emoji: str, *, add: bool = True) -> ChatMessage:
    access = services.room_access(user, message.room)
    return services.check_react(user, message, emoji, access, add=add)


@pytest.mark.django_db
def test_a_reaction_is_a_set_and_counts_by_emoji(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = services.do_send_message(alice, public_room, "exam moved").message
    react(bob, message, "👍")
    react(bob, message, "👍")  # twice is once
    react(alice, message, "👍")
    react(alice, message, "❤")  # stored fully qualified
    url = api("message-detail", room_slug=public_room.slug, pk=message.pk)
    reactions = logged_in(bob).get(url).json()["reactions"]
    assert reactions == [
        {"emoji": "👍", "count": 2, "user_ids": [bob.pk, alice.pk]},
        {"emoji": "❤️", "count": 1, "user_ids": [alice.pk]},
    ]
    react(bob, message, "👍", add=False)
    react(bob, message, "👍", add=False)  # not there: nothing
    react(alice, message, "❤️", add=False)
    assert logged_in(bob).get(url).json()["reactions"] == [
        {"emoji": "👍", "count": 1, "user_ids": [alice.pk]}
    ]


@pytest.mark.django_db
def test_an_unchanged_reaction_takes_no_change_number(alice: Any, public_room: ChatRoom) -> None:
    message = services.do_send_message(alice, public_room, "x").message
    first = react(alice, message, "🎉").event_seq
    again = react(alice, message, "🎉").event_seq
    public_room.refresh_from_db()
    assert first == again == public_room.last_event_seq


@pytest.mark.django_db
@pytest.mark.parametrize("emoji", ["", "a", "👍👍", ":+1:", "👍 ", "x" * 40, None, 5, "<b>"])
def test_anything_but_one_emoji_is_refused(alice: Any, public_room: ChatRoom, emoji: Any) -> None:
    message = services.do_send_message(alice, public_room, "x").message
    with pytest.raises(ValidationFailed) as refused:
        react(alice, message, emoji)
    assert "emoji" in refused.value.fields
    assert not ChatReaction.objects.exists()


@pytest.mark.django_db
def test_the_limits_of_one_message(
    alice: Any, public_room: ChatRoom, make_user: Any, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "MAX_REACTION_EMOJI": 2,
        "MAX_REACTIONS": 3,
    }
    message = services.do_send_message(alice, public_room, "x").message
    react(alice, message, "👍")
    react(alice, message, "🎉")
    with pytest.raises(ValidationFailed):
        react(alice, message, "❤️")  # a third kind
    react(make_user(), message, "👍")  # a kind already there: fine
    with pytest.raises(ValidationFailed):
        react(make_user(), message, "🎉")  # a fourth reaction
    assert ChatReaction.objects.count() == 3


@pytest.mark.django_db
def test_who_may_not_post_may_not_react(
    alice: Any, bob: Any, public_room: ChatRoom, group_room: ChatRoom, staff: Any
) -> None:
    hidden = services.do_send_message(staff, group_room, "staff only").message
    with pytest.raises(ChatError):
        react(alice, hidden, "👍")
    message = services.do_send_message(alice, public_room, "x").message
    services.check_delete_message(alice, message, services.room_access(alice, public_room))
    with pytest.raises(MessageGone):
        react(alice, message, "👍")
    assert not ChatReaction.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_a_reaction_on_the_socket_is_acked_and_live_for_the_room(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    message = (await db(services.do_send_message)(alice, public_room, "party?")).message
    reader = await open_room(alice, public_room.slug)
    socket = await open_room(bob, public_room.slug)
    try:
        await socket.send_frame(
            type="reaction.add", room=public_room.slug, message_id=message.pk, emoji="🎉", id="r1"
        )
        ack = await socket.receive_until(lambda f: f["type"] == "ack")
        assert ack["message"]["reactions"] == [{"emoji": "🎉", "count": 1, "user_ids": [bob.pk]}]
        live = await reader.receive_frame("message.reactions")
        assert live["message"]["reactions"] == ack["message"]["reactions"]
        assert live["message"]["event_seq"] == ack["message"]["event_seq"] > message.event_seq
        await socket.send_frame(
            type="reaction.add", room=public_room.slug, message_id=message.pk, emoji="nope", id="r2"
        )
        error = await socket.receive_until(lambda f: f["type"] == "error")
        assert (error["code"], error["id"], list(error["fields"])) == ("invalid", "r2", ["emoji"])
    finally:
        await socket.disconnect()
        await reader.disconnect()


@pytest.mark.django_db
def test_the_rest_api_adds_and_removes_reactions(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = services.do_send_message(alice, public_room, "x").message
    url = api("message-reactions", room_slug=public_room.slug, pk=message.pk)
    client = logged_in(bob)
    added = client.post(url, {"emoji": "👍🏽"}, content_type="application/json")
    assert added.status_code == 200, added.content
    assert added.json()["reactions"] == [{"emoji": "👍🏽", "count": 1, "user_ids": [bob.pk]}]
    refused = client.post(url, {"emoji": "no"}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"emoji": ["Must be one emoji."]}
    removed = client.delete(f"{url}?emoji=%F0%9F%91%8D%F0%9F%8F%BD")
    assert removed.status_code == 200, removed.content
    assert removed.json()["reactions"] == []


@pytest.mark.django_db
def test_the_admin_shows_who_reacted_with_what(
    admin_client: Any, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = services.do_send_message(alice, public_room, "x").message
    react(bob, message, "👍")
    react(alice, message, "👍")
    react(alice, message, "🎉")
    page = admin_client.get(f"/admin/smartcampus_chat/chatmessage/{message.pk}/change/")
    assert "👍 Bob, Alice; 🎉 Alice" in page.content.decode()
