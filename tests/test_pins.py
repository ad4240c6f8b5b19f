"""Pins (docs/protocol.md, "Pins"): moderators pin and unpin, through the service, the
WebSocket and the REST API; the room's pinned list on the page and in the API; limits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.exceptions import MessageGone, PermissionDenied, ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async


def pin(user: Any, message: ChatMessage, *, pinned: bool = True) -> ChatMessage:
    return services.check_pin(
        user, message, services.room_access(user, message.room), pinned=pinned
    )


@pytest.mark.django_db
def test_moderators_pin_and_unpin_members_may_not(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = services.do_send_message(bob, public_room, "Exam on **Friday**").message
    with pytest.raises(PermissionDenied):
        pin(bob, message)  # a member, even the author
    pinned = pin(alice, message)  # the owner moderates
    assert pinned.pinned_at is not None
    again = pin(alice, message)
    assert again.event_seq == pinned.event_seq  # pinning twice changes nothing
    listed = logged_in(bob).get(api("message-pinned", room_slug=public_room.slug)).json()
    assert [(m["id"], m["content"]) for m in listed] == [(message.pk, "Exam on **Friday**")]
    page = logged_in(bob).get(public_room.get_absolute_url()).content.decode()
    panel = re.search(r'<ol class="list-unstyled scc-pinned-list">(.*?)</ol>', page, re.S)
    assert panel is not None
    assert f'href="?message={message.pk}"' in panel.group(1)
    assert '<span class="scc-pinned-excerpt">Exam on Friday</span>' in panel.group(1)
    assert pin(alice, message, pinned=False).pinned_at is None
    assert logged_in(bob).get(api("message-pinned", room_slug=public_room.slug)).json() == []


@pytest.mark.django_db
def test_the_pin_limit_and_deleted_messages(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MAX_PINS": 2}
    messages = [services.do_send_message(alice, public_room, f"m{n}").message for n in range(3)]
    pin(alice, messages[0])
    pin(alice, messages[1])
    with pytest.raises(ValidationFailed):
        pin(alice, messages[2])
    access = services.room_access(alice, public_room)
    services.check_delete_message(alice, messages[0], access)
    with pytest.raises(MessageGone):
        pin(alice, messages[0])
    listed = logged_in(alice).get(api("message-pinned", room_slug=public_room.slug)).json()
    assert [m["id"] for m in listed] == [messages[1].pk]  # a deleted message leaves the list


@pytest.mark.django_db(transaction=True)
async def test_a_pin_on_the_socket_is_acked_and_live(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    message = (await db(services.do_send_message)(bob, public_room, "notes")).message
    reader = await open_room(bob, public_room.slug)
    moderator = await open_room(alice, public_room.slug)
    try:
        await moderator.send_frame(type="message.pin", message_id=message.pk, id="p1")
        ack = await moderator.receive_until(lambda f: f["type"] == "ack")
        assert ack["message"]["pinned_at"] is not None
        live = await reader.receive_frame("message.pinned")
        assert live["message"]["pinned_at"] == ack["message"]["pinned_at"]
        await reader.send_frame(type="message.unpin", message_id=message.pk, id="u1")
        refused = await reader.receive_until(lambda f: f["type"] == "error")
        assert (refused["code"], refused["id"]) == ("forbidden", "u1")
    finally:
        await moderator.disconnect()
        await reader.disconnect()


@pytest.mark.django_db
def test_the_rest_api_pins(alice: Any, public_room: ChatRoom) -> None:
    message = services.do_send_message(alice, public_room, "x").message
    url = api("message-pin", room_slug=public_room.slug, pk=message.pk)
    client = logged_in(alice)
    assert client.post(url).json()["pinned_at"] is not None
    assert client.delete(url).json()["pinned_at"] is None
