"""The admin: filters, search, inline, and the message actions that go through the services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services, signals
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, RoomType

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


def test_an_edit_in_the_admin_resolves_mentions_and_the_page_lists_them(
    admin_client: Client, chat: list[ChatMessage], bob: Any
) -> None:
    message = chat[0]
    url = reverse("admin:smartcampus_chat_chatmessage_change", args=[message.pk])
    admin_client.post(url, {"content": "ask @bob"})
    message.refresh_from_db()
    assert f'data-user-id="{bob.pk}"' in message.content_html
    page = admin_client.get(url).content.decode()
    assert '<div class="readonly">Bob</div>' in page


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


# Access and room changes made in the admin go through the services (defect 5 of issue
# #15): the same events and signals as the chat's own doors, through the admin's views.

PARTICIPANT_CHANGE = "admin:smartcampus_chat_chatparticipant_change"


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, str]]:
    """Frames published by the services: ("room" | "user", id, frame type)."""
    frames: list[tuple[str, int, str]] = []
    for target in ("room", "user"):
        monkeypatch.setattr(
            f"smartcampus_chat.realtime.events.publish_to_{target}",
            lambda pk, frame, _target=target, **extra: frames.append((_target, pk, frame.type)),
        )
    return frames


@pytest.fixture
def sent_signals() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    received: list[tuple[str, dict[str, Any]]] = []
    names = ("room_created", "member_joined", "member_left", "member_removed")
    receivers = {
        name: (lambda sender, _name=name, **kwargs: received.append((_name, kwargs)))
        for name in names
    }
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    yield received
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def _participant_form(participant: ChatParticipant, **fields: Any) -> dict[str, Any]:
    data = {"role": participant.role, "is_banned": participant.is_banned}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not False}


@pytest.fixture
def bob_member(bob: Any, public_room: ChatRoom, announced: list[Any]) -> ChatParticipant:
    participant = services.do_join_room(bob, public_room)
    announced.clear()
    return participant


@dataclass
class Seen:
    """What the services announced: frames, and signals (sent when ``committed()`` ends)."""

    frames: list[tuple[str, int, str]]
    signals: list[tuple[str, dict[str, Any]]]
    committed: Callable[[], Any]


@pytest.fixture
def seen(
    announced: list[tuple[str, int, str]],
    sent_signals: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> Seen:
    return Seen(announced, sent_signals, lambda: django_capture_on_commit_callbacks(execute=True))


def assert_removal_announced(
    seen: Seen, participant: ChatParticipant, by: Any, *, notice: bool = False
) -> None:
    """What a removal in the chat announces: the room's members and the user's lists drop
    the room, and ``member_removed`` names who did it; a removal (a ban without an end,
    not a deleted row) tells the person first (``moderation.notice``)."""
    told = [("user", participant.user_id, "moderation.notice")] if notice else []
    assert seen.frames == [
        *told,
        ("room", participant.room_id, "participant.left"),
        ("user", participant.user_id, "room.removed"),
    ]
    assert [(name, kwargs["user"], kwargs["by"]) for name, kwargs in seen.signals] == [
        ("member_removed", participant.user, by)
    ]


def test_removing_a_participant_in_the_admin_goes_through_the_service(
    admin_client: Client, admin_user: Any, bob_member: ChatParticipant, seen: Seen
) -> None:
    url = reverse(PARTICIPANT_CHANGE, args=[bob_member.pk])
    with seen.committed():
        response = admin_client.post(url, _participant_form(bob_member, is_banned="on"))
    assert response.status_code == 302
    bob_member.refresh_from_db()
    assert bob_member.is_banned
    assert_removal_announced(seen, bob_member, admin_user, notice=True)
    # Restored: a participant again, announced as a join.
    seen.frames.clear()
    admin_client.post(url, _participant_form(bob_member, is_banned=False))
    bob_member.refresh_from_db()
    assert not bob_member.is_banned
    assert ("room", bob_member.room_id, "participant.joined") in seen.frames
    assert ("user", bob_member.user_id, "room.added") in seen.frames


def test_deleting_a_participant_in_the_admin_announces_the_removal(
    admin_client: Client, admin_user: Any, bob_member: ChatParticipant, seen: Seen
) -> None:
    url = reverse("admin:smartcampus_chat_chatparticipant_delete", args=[bob_member.pk])
    with seen.committed():
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not ChatParticipant.objects.filter(pk=bob_member.pk).exists()
    assert_removal_announced(seen, bob_member, admin_user)


def test_a_room_created_in_the_admin_has_its_owner_and_is_announced(
    admin_client: Client,
    alice: Any,
    announced: list[tuple[str, int, str]],
    sent_signals: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:smartcampus_chat_chatroom_add"),
            {
                "name": "Book club",
                "slug": "book-club",
                "room_type": RoomType.PUBLIC,
                "description": "Novels",
                "created_by": str(alice.pk),
                "participants-TOTAL_FORMS": "0",
                "participants-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302
    room = ChatRoom.objects.get(slug="book-club")
    assert (room.name, room.created_by) == ("Book club", alice)
    assert list(room.participants.values_list("user", "role")) == [(alice.pk, "owner")]
    assert announced == [("user", alice.pk, "room.added")]
    assert [name for name, _kwargs in sent_signals] == ["room_created", "member_joined"]


def test_participant_changes_in_the_room_inline_go_through_the_services(
    admin_client: Client,
    alice: Any,
    bob: Any,
    make_user: Callable[..., Any],
    public_room: ChatRoom,
    announced: list[tuple[str, int, str]],
) -> None:
    owner = public_room.participants.get()
    member = services.do_join_room(bob, public_room)
    carol = make_user("carol")
    announced.clear()
    rows = [(owner, {"role": "owner"}), (member, {"role": "moderator", "is_banned": "on"})]
    data: dict[str, Any] = {
        "name": public_room.name,
        "description": "",
        "participants-TOTAL_FORMS": "3",
        "participants-INITIAL_FORMS": "2",
        "participants-2-room": str(public_room.pk),
        "participants-2-user": str(carol.pk),
        "participants-2-role": "member",
    }
    for index, (participant, fields) in enumerate(rows):
        data |= {
            f"participants-{index}-id": str(participant.pk),
            f"participants-{index}-room": str(public_room.pk),
            **{f"participants-{index}-{key}": value for key, value in fields.items()},
        }
    url = reverse("admin:smartcampus_chat_chatroom_change", args=[public_room.pk])
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert (member.role, member.is_banned) == ("moderator", True)
    assert ("room", public_room.pk, "participant.left") in announced
    assert ("user", bob.pk, "room.removed") in announced
    # The new participant joined through the service: announced, read marker at the end.
    assert ("room", public_room.pk, "participant.joined") in announced
    assert ("user", carol.pk, "room.added") in announced


def test_read_markers_and_presence_are_not_edited_in_the_admin(
    admin_client: Client, bob: Any, public_room: ChatRoom
) -> None:
    participant = services.do_join_room(bob, public_room)
    url = reverse(PARTICIPANT_CHANGE, args=[participant.pk])
    response = admin_client.post(
        url, _participant_form(participant, last_read_seq="99", is_online="on")
    )
    assert response.status_code == 302
    participant.refresh_from_db()
    assert (participant.last_read_seq, participant.is_online) == (0, False)
