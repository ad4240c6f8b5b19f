"""Editing and deleting messages from the pages, without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType

pytestmark = pytest.mark.django_db


def edit_url(message: ChatMessage) -> str:
    return reverse("smartcampus_chat:message_edit", args=[message.room.slug, message.pk])


def delete_url(message: ChatMessage) -> str:
    return reverse("smartcampus_chat:message_delete", args=[message.room.slug, message.pk])


def message_html(html: str, message: ChatMessage) -> str:
    match = re.search(rf'<li [^>]*id="message-{message.pk}".*?</li>', html, re.S)
    assert match, f"message {message.pk} not on the page"
    return match.group(0)


@pytest.fixture
def messages(alice: Any, bob: Any, public_room: ChatRoom) -> tuple[ChatMessage, ChatMessage]:
    mine = services.do_send_message(bob, public_room, "bob's words").message
    theirs = services.do_send_message(alice, public_room, "alice's words").message
    return mine, theirs


def test_own_messages_have_edit_and_delete_others_do_not(
    client: Client, bob: Any, public_room: ChatRoom, messages: tuple[ChatMessage, ChatMessage]
) -> None:
    mine, theirs = messages
    client.force_login(bob)
    html = client.get(public_room.get_absolute_url()).content.decode()
    own = message_html(html, mine)
    assert "scc-mine" in own
    assert f'data-action="edit" href="{edit_url(mine)}"' in own
    assert f'action="{delete_url(mine)}"' in own
    assert 'data-action="delete"' in own
    other = message_html(html, theirs)
    assert "data-action" not in other
    assert "scc-mine" not in other


def test_moderators_may_delete_everyone_s_messages(
    client: Client, staff: Any, public_room: ChatRoom, messages: tuple[ChatMessage, ChatMessage]
) -> None:
    mine, _ = messages
    client.force_login(staff)
    html = message_html(client.get(public_room.get_absolute_url()).content.decode(), mine)
    assert 'data-action="delete"' in html
    assert 'data-action="edit"' not in html
    assert client.post(delete_url(mine)).status_code == 302
    mine.refresh_from_db()
    assert mine.is_deleted
    assert mine.deleted_by == staff


def test_edit_without_javascript(
    client: Client, bob: Any, messages: tuple[ChatMessage, ChatMessage]
) -> None:
    mine, _ = messages
    client.force_login(bob)
    page = client.get(edit_url(mine))
    assert page.status_code == 200
    assert "bob&#x27;s words</textarea>" in page.content.decode()
    response = client.post(edit_url(mine), {"content": "better words"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#message-{mine.pk}")
    mine.refresh_from_db()
    assert (mine.content, mine.is_edited) == ("better words", True)
    html = client.get(mine.room.get_absolute_url()).content.decode()
    edited = message_html(html, mine)
    assert re.search(r'<span class="scc-edited">\(edited\)</span>', edited)


def test_edit_errors_are_shown_with_400(
    client: Client, bob: Any, settings: Any, messages: tuple[ChatMessage, ChatMessage]
) -> None:
    mine, _ = messages
    client.force_login(bob)
    response = client.post(edit_url(mine), {"content": "   "})
    assert response.status_code == 400
    assert "scc-field-error" in response.content.decode()
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MAX_MESSAGE_LENGTH": 5}
    response = client.post(edit_url(mine), {"content": "far too long"})
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.content == "bob's words"


def test_editing_someone_else_s_message_is_forbidden(
    client: Client, bob: Any, messages: tuple[ChatMessage, ChatMessage]
) -> None:
    _, theirs = messages
    client.force_login(bob)
    assert client.get(edit_url(theirs)).status_code == 403
    assert client.post(edit_url(theirs), {"content": "hijacked"}).status_code == 403
    assert client.post(delete_url(theirs)).status_code == 403
    theirs.refresh_from_db()
    assert (theirs.content, theirs.is_deleted) == ("alice's words", False)


def test_a_message_is_only_reachable_through_its_own_room(
    client: Client, bob: Any, messages: tuple[ChatMessage, ChatMessage]
) -> None:
    mine, _ = messages
    other_room = services.do_create_room(bob, name="Elsewhere", room_type=RoomType.PUBLIC)
    client.force_login(bob)
    url = reverse("smartcampus_chat:message_edit", args=[other_room.slug, mine.pk])
    assert client.get(url).status_code == 404
    url = reverse("smartcampus_chat:message_delete", args=[other_room.slug, mine.pk])
    assert client.post(url).status_code == 404
    mine.refresh_from_db()
    assert not mine.is_deleted


def test_delete_without_javascript_shows_message_deleted(
    client: Client, bob: Any, messages: tuple[ChatMessage, ChatMessage]
) -> None:
    mine, _ = messages
    client.force_login(bob)
    assert client.get(delete_url(mine)).status_code == 405
    assert client.post(delete_url(mine)).status_code == 302
    html = client.get(mine.room.get_absolute_url()).content.decode()
    deleted = message_html(html, mine)
    assert "scc-deleted" in deleted
    assert "Message deleted" in deleted
    assert "bob&#x27;s words" not in html
    assert "data-action" not in deleted
    # A deleted message cannot be edited, not even by its author (409 "message deleted").
    page = client.get(edit_url(mine))
    assert page.status_code == 409
    assert "bob&#x27;s words" not in page.content.decode()


def test_messages_of_hidden_rooms_are_not_found(
    client: Client, alice: Any, bob: Any, make_user: Any
) -> None:
    private, _ = services.do_open_private(alice, bob)
    secret = services.do_send_message(alice, private, "between us").message
    client.force_login(make_user("eve"))
    assert client.get(edit_url(secret)).status_code == 404
    assert client.post(delete_url(secret)).status_code == 404
