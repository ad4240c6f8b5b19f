"""Leaving a room: through the service, the REST API and the HTML page, with its events."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services, signals
from smartcampus_chat.exceptions import NotFound, PermissionDenied
from smartcampus_chat.models import ChatParticipant, ChatRoom
from tests.test_api import api_client, assert_error, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    frames: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        "smartcampus_chat.realtime.events.publish_to_room",
        lambda room_id, frame, **kw: frames.append(("room", frame)),
    )
    monkeypatch.setattr(
        "smartcampus_chat.realtime.events.publish_to_user",
        lambda user_id, frame, **kw: frames.append((f"user:{user_id}", frame)),
    )
    return frames


def test_leaving_deletes_the_membership_and_tells_everyone(
    bob: Any,
    public_room: ChatRoom,
    published: list[tuple[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    services.do_join_room(bob, public_room)
    published.clear()
    left: list[dict[str, Any]] = []

    def on_left(**kwargs: Any) -> None:
        left.append(kwargs)

    signals.member_left.connect(on_left)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.check_leave_room(bob, public_room) is True
    finally:
        signals.member_left.disconnect(on_left)
    assert not ChatParticipant.objects.filter(room=public_room, user=bob).exists()
    assert [(target, frame.type) for target, frame in published] == [
        ("room", "participant.left"),
        (f"user:{bob.pk}", "room.removed"),
    ]
    assert [(kw["room"], kw["user"]) for kw in left] == [(public_room, bob)]
    # Leaving twice is harmless; the public room can be joined again.
    assert services.check_leave_room(bob, public_room) is False
    services.check_join_room(bob, public_room)
    assert ChatParticipant.objects.filter(room=public_room, user=bob).exists()


def test_private_conversations_cannot_be_left(alice: Any, bob: Any) -> None:
    room, _ = services.check_open_private(alice, bob.pk)
    with pytest.raises(PermissionDenied):
        services.check_leave_room(alice, room)


def test_leaving_a_hidden_room_is_not_found(bob: Any, group_room: ChatRoom) -> None:
    with pytest.raises(NotFound):
        services.check_leave_room(bob, group_room)


def test_api_leave(alice: Any, bob: Any, group: Group, group_room: ChatRoom) -> None:
    group.user_set.add(bob)
    services.check_join_room(bob, group_room)
    leave = url("api-room-leave", slug=group_room.slug)
    assert api_client(bob).send("POST", leave).status_code == 204
    assert not ChatParticipant.objects.filter(room=group_room, user=bob).exists()
    assert_error(api_client(alice).send("POST", leave), 404, "not_found")
    private, _ = services.check_open_private(alice, bob.pk)
    private_leave = url("api-room-leave", slug=private.slug)
    assert_error(api_client(alice).send("POST", private_leave), 403, "forbidden")


def test_html_leave_button(client: Client, bob: Any, public_room: ChatRoom) -> None:
    services.do_join_room(bob, public_room)
    client.force_login(bob)
    page = client.get(public_room.get_absolute_url()).content.decode()
    leave = reverse("smartcampus_chat:room_leave", args=[public_room.slug])
    assert f'action="{leave}"' in page
    response = client.post(leave)
    assert response.status_code == 302
    assert response["Location"] == reverse("smartcampus_chat:room_list")
    assert not ChatParticipant.objects.filter(room=public_room, user=bob).exists()
    assert client.get(leave).status_code == 405
