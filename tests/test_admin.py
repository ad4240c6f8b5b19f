"""The admin: filters, search, inline, and the message actions that go through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:smartcampus_chat_chatmessage_changelist"


@pytest.fixture
def admin_user(make_user: Callable[..., Any]) -> Any:
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def chat(alice: Any, bob: Any, public_room: ChatRoom) -> list[ChatMessage]:
    return [
        services.do_send_message(alice, public_room, "hello campus").message,
        services.do_send_message(bob, public_room, "library hours?").message,
        services.do_send_message(alice, public_room, "nine to five").message,
    ]


def run_action(client: Client, action: str, messages: list[ChatMessage]) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [m.pk for m in messages]},
        follow=True,
    )


def test_soft_delete_action_goes_through_the_service(
    admin_client: Client, admin_user: Any, chat: list[ChatMessage], public_room: ChatRoom
) -> None:
    response = run_action(admin_client, "soft_delete", chat[:2])
    assert response.status_code == 200
    assert "2 messages deleted." in response.content.decode()
    for message in chat:
        message.refresh_from_db()
    assert [m.is_deleted for m in chat] == [True, True, False]
    assert chat[0].deleted_by == admin_user
    public_room.refresh_from_db()
    # Each deletion took a new change number: clients resuming see it.
    assert {chat[0].event_seq, chat[1].event_seq} == {4, 5}
    assert public_room.last_event_seq == 5


def test_restore_action_goes_through_the_service(
    admin_client: Client, admin_user: Any, chat: list[ChatMessage], public_room: ChatRoom
) -> None:
    services.do_delete_message(admin_user, chat[1])
    response = run_action(admin_client, "restore", chat)
    assert "1 message restored." in response.content.decode()
    chat[1].refresh_from_db()
    assert (chat[1].is_deleted, chat[1].deleted_by, chat[1].event_seq) == (False, None, 5)


def test_actions_need_the_change_permission(
    client: Client, make_user: Callable[..., Any], chat: list[ChatMessage]
) -> None:
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_chatmessage"))
    client.force_login(viewer)
    run_action(client, "soft_delete", chat)
    assert not ChatMessage.objects.filter(is_deleted=True).exists()


def test_message_filter_and_search(admin_client: Client, chat: list[ChatMessage]) -> None:
    services.do_delete_message(chat[0].sender, chat[0])
    url = reverse(CHANGELIST)
    deleted = admin_client.get(url, {"is_deleted__exact": "1"}).content.decode()
    assert "hello campus" in deleted
    assert "library hours?" not in deleted
    kept = admin_client.get(url, {"is_deleted__exact": "0"}).content.decode()
    assert "hello campus" not in kept
    assert "library hours?" in kept
    by_content = admin_client.get(url, {"q": "library"}).content.decode()
    assert "library hours?" in by_content
    assert "nine to five" not in by_content
    by_sender = admin_client.get(url, {"q": "bob"}).content.decode()
    assert "library hours?" in by_sender
    assert "nine to five" not in by_sender


def test_editing_content_in_the_admin_goes_through_the_service(
    admin_client: Client, chat: list[ChatMessage]
) -> None:
    message = chat[0]
    url = reverse("admin:smartcampus_chat_chatmessage_change", args=[message.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"content": "hello, campus!"})
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.content, message.is_edited, message.event_seq) == ("hello, campus!", True, 4)


def test_room_admin_filters_and_participant_inline(
    admin_client: Client, alice: Any, public_room: ChatRoom, group_room: ChatRoom
) -> None:
    url = reverse("admin:smartcampus_chat_chatroom_changelist")
    html = admin_client.get(url, {"room_type__exact": RoomType.GROUP}).content.decode()
    assert "Robotics" in html
    assert "General" not in html
    services.do_update_room(public_room, is_archived=True)
    html = admin_client.get(url, {"is_archived__exact": "1"}).content.decode()
    assert "General" in html
    assert "Robotics" not in html
    change = reverse("admin:smartcampus_chat_chatroom_change", args=[public_room.pk])
    html = admin_client.get(change).content.decode()
    assert "participants-TOTAL_FORMS" in html
    assert "alice" in html


def test_participant_admin_lists_participants(admin_client: Client, public_room: ChatRoom) -> None:
    url = reverse("admin:smartcampus_chat_chatparticipant_changelist")
    response = admin_client.get(url, {"is_banned__exact": "0"})
    assert response.status_code == 200
    assert "alice" in response.content.decode()


def test_room_changes_in_the_admin_go_through_the_service(
    admin_client: Client, alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[Any] = []
    monkeypatch.setattr(
        "smartcampus_chat.realtime.events.publish_to_room",
        lambda room_id, frame: published.append(frame),
    )
    owner = public_room.participants.get()
    slug = public_room.slug
    url = reverse("admin:smartcampus_chat_chatroom_change", args=[public_room.pk])
    response = admin_client.post(
        url,
        {
            "name": "General (renamed)",
            "description": "",
            "room_type": RoomType.PRIVATE,
            "slug": "hijacked",
            "participants-TOTAL_FORMS": "1",
            "participants-INITIAL_FORMS": "1",
            "participants-0-id": str(owner.pk),
            "participants-0-room": str(public_room.pk),
            "participants-0-user": str(alice.pk),
            "participants-0-role": owner.role,
        },
    )
    assert response.status_code == 302
    public_room.refresh_from_db()
    assert public_room.name == "General (renamed)"
    assert (public_room.room_type, public_room.slug) == (RoomType.PUBLIC, slug)
    assert [frame.type for frame in published] == ["room.updated"]
    assert published[0].room.name == "General (renamed)"
