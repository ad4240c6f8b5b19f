from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> None:
    call_command("seed_demo", stdout=None)


def login(client: Client, username: str) -> Client:
    assert client.login(username=username, password="campus-demo")
    return client


def test_seed_demo_creates_every_room_type_and_is_idempotent(seeded: None) -> None:
    counts = (ChatRoom.objects.count(), ChatMessage.objects.count())
    assert set(ChatRoom.objects.values_list("room_type", flat=True)) == set(RoomType.values)
    call_command("seed_demo")
    assert (ChatRoom.objects.count(), ChatMessage.objects.count()) == counts


def test_home_and_login_pages_load(client: Client) -> None:
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("login")).status_code == 200


@pytest.mark.parametrize("username", ["alice", "prof.martin", "staff.admin"])
def test_chat_pages_load_for_a_logged_in_user(client: Client, seeded: None, username: str) -> None:
    login(client, username)
    response = client.get(reverse("smartcampus_chat:room_list"))
    assert response.status_code == 200
    assert b"General" in response.content
    general = ChatRoom.objects.get(name="General")
    response = client.get(general.get_absolute_url())
    assert response.status_code == 200
    assert b"Welcome to the campus chat" in response.content
    assert client.get(reverse("smartcampus_chat:room_create")).status_code == 200


def test_chat_requires_login(client: Client) -> None:
    response = client.get(reverse("smartcampus_chat:room_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_logged_in_user_can_post_without_javascript(client: Client, seeded: None) -> None:
    login(client, "bob")
    general = ChatRoom.objects.get(name="General")
    response = client.post(general.get_absolute_url(), {"content": "Posted from a plain form"})
    assert response.status_code == 302
    message: Any = ChatMessage.objects.get(content="Posted from a plain form")
    assert message.sender.username == "bob"
    assert message.seq == general.messages.count()


def test_the_demo_has_an_ended_course_and_lab_group_rooms(client: Client, seeded: None) -> None:
    """docs/terms.md on the example site: HIST110 is over (read-only, its banner shown),
    CS101 has a room per lab group, each seen by its own students."""
    ended = ChatRoom.objects.get(name__startswith="HIST110", section_key__isnull=True)
    login(client, "chloe")
    page = client.get(ended.get_absolute_url()).content.decode()
    assert "This course ended on" in page
    assert 'id="composer"' not in page
    labs = {
        room.section_key: room
        for room in ChatRoom.objects.filter(name__startswith="CS101", section_key__isnull=False)
    }
    assert set(labs) == {"lab-a", "lab-b"}
    login(client, "alice")
    assert client.get(labs["lab-a"].get_absolute_url()).status_code == 200
    assert client.get(labs["lab-b"].get_absolute_url()).status_code == 404
