"""Rough edge 1, server side: a chat page the user cannot reach answers in the chat's own
layout (the host's base template), translated, with a way back, keeping its status; a 404
says why only to someone who was in the room."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom

pytestmark = pytest.mark.django_db

CHAT = reverse("smartcampus_chat:room_list")


@pytest.fixture
def host_layout(settings: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "BASE_TEMPLATE": "campus/base.html"}


def _message(html: str) -> str:
    found = re.search(r'<p class="mb-0 scc-error-message">([^<]*)</p>', html)
    assert found, "not the chat's error page"
    return found.group(1)


def _assert_chat_error_page(response: Any, status: int) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert 'class="scc-app scc-error' in html
    assert f'data-status="{status}"' in html
    assert "campus-navbar" in html  # the host's layout: BASE_TEMPLATE
    assert f'class="btn scc-btn-primary scc-back-to-chat" href="{CHAT}"' in html
    return _message(html)


@pytest.mark.usefixtures("host_layout")
def test_a_removed_member_reloading_the_room_is_told_why(
    client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    services.check_remove_member(alice, public_room, bob.pk)
    client.force_login(bob)
    response = client.get(public_room.get_absolute_url())
    assert _assert_chat_error_page(response, 404) == "You were removed from this room."
    french = client.get(public_room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")
    assert _assert_chat_error_page(french, 404) == "Vous avez été retiré de ce salon."
    html = french.content.decode()
    assert '<html lang="fr"' in html
    assert "Retour à la messagerie" in html
    assert "Cette page n\u2019est pas disponible" in html


@pytest.mark.usefixtures("host_layout")
def test_a_hidden_room_reads_like_a_missing_one(
    client: Client, alice: Any, group_room: ChatRoom
) -> None:
    client.force_login(alice)
    hidden = client.get(group_room.get_absolute_url())
    missing = client.get(reverse("smartcampus_chat:room", args=["no-such-room"]))
    expected = "This page does not exist, or you do not have access to it."
    assert _assert_chat_error_page(hidden, 404) == expected
    assert _assert_chat_error_page(missing, 404) == expected
    french = client.get(group_room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")
    assert _message(french.content.decode()) == (
        "Cette page n\u2019existe pas, ou vous n\u2019y avez pas accès."
    )


@pytest.mark.usefixtures("host_layout")
def test_an_archived_room_a_former_member_lost_says_it_was_archived(
    client: Client, alice: Any, staff: Any, group: Group, group_room: ChatRoom
) -> None:
    alice.groups.add(group)
    services.do_join_room(alice, group_room)
    services.check_update_room(staff, group_room, is_archived=True)
    alice.groups.remove(group)  # out of the group: the room is hidden from her now
    client.force_login(alice)
    response = client.get(group_room.get_absolute_url())
    assert _assert_chat_error_page(response, 404) == "This room was archived."
    french = client.get(group_room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")
    assert _message(french.content.decode()) == "Ce salon a été archivé."


@pytest.mark.usefixtures("host_layout")
def test_a_page_the_user_may_not_use_is_a_403_in_the_chat_layout(
    client: Client, bob: Any, public_room: ChatRoom
) -> None:
    client.force_login(bob)
    response = client.get(reverse("smartcampus_chat:room_settings", args=[public_room.slug]))
    assert _assert_chat_error_page(response, 403)
    french = client.get(
        reverse("smartcampus_chat:room_settings", args=[public_room.slug]),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "Vous ne pouvez pas faire cela" in french.content.decode()


def test_the_default_layout_is_the_chats_own(
    client: Client, bob: Any, group_room: ChatRoom
) -> None:
    client.force_login(bob)
    response = client.get(group_room.get_absolute_url())
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="scc-app scc-error' in html
    assert "smartcampus_chat/css/chat.css" in html
