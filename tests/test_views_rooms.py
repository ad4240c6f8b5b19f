"""The HTML pages without JavaScript: lists, conversation, join, create, settings, people."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from courses.models import Course
from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, RoomType

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client: Client, alice: Any) -> Client:
    client.force_login(alice)
    return client


def config(response: Any) -> dict[str, Any]:
    match = re.search(
        r'<script id="scc-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "no #scc-config"
    return dict(json.loads(match.group(1)))


@pytest.mark.parametrize(
    "name",
    [
        "smartcampus_chat:room_list",
        "smartcampus_chat:room_create",
        "smartcampus_chat:people",
    ],
)
def test_pages_require_login(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_room_list_shows_my_rooms_unread_preview_and_joinable_rooms(
    alice_client: Client, alice: Any, bob: Any
) -> None:
    mine = services.do_create_room(bob, name="Study group", room_type=RoomType.PUBLIC)
    services.do_join_room(alice, mine)
    services.do_send_message(bob, mine, "See you at 5")
    chess = services.do_create_room(bob, name="Chess club", room_type=RoomType.PUBLIC)

    response = alice_client.get(reverse("smartcampus_chat:room_list"))
    html = response.content.decode()
    my_rooms = html.split('id="my-rooms"')[1].split("</nav>")[0]
    joinable = html.split('id="joinable-rooms"')[1].split("</ul>")[0]
    assert f'data-room="{mine.slug}"' in my_rooms
    assert re.search(r'class="badge rounded-pill scc-unread"[^>]*>1<', my_rooms)
    assert "Bob: See you at 5" in my_rooms
    assert "Chess club" in joinable
    assert "Chess club" not in my_rooms
    assert reverse("smartcampus_chat:room_join", args=[chess.slug]) in joinable
    assert config(response)["wsUrl"] == "/ws/chat/"


def test_room_list_filter_works_without_javascript(alice_client: Client, alice: Any) -> None:
    for name in ("Maths help", "Robotics"):
        services.do_create_room(alice, name=name, room_type=RoomType.PUBLIC)
    services.do_create_room(alice, name="Math olympiad", room_type=RoomType.PUBLIC)
    response = alice_client.get(reverse("smartcampus_chat:room_list"), {"q": "math"})
    html = response.content.decode()
    assert "Maths help" in html
    assert "Math olympiad" in html
    assert "Robotics" not in html
    assert 'value="math"' in html


def test_join_without_javascript(alice_client: Client, alice: Any, bob: Any) -> None:
    room = services.do_create_room(bob, name="Chess club", room_type=RoomType.PUBLIC)
    page = alice_client.get(room.get_absolute_url()).content.decode()
    assert reverse("smartcampus_chat:room_join", args=[room.slug]) in page
    response = alice_client.post(reverse("smartcampus_chat:room_join", args=[room.slug]))
    assert response.status_code == 302
    assert ChatParticipant.objects.filter(room=room, user=alice).exists()
    page = alice_client.get(room.get_absolute_url()).content.decode()
    assert reverse("smartcampus_chat:room_join", args=[room.slug]) not in page


def test_join_is_post_only(alice_client: Client, public_room: ChatRoom) -> None:
    response = alice_client.get(reverse("smartcampus_chat:room_join", args=[public_room.slug]))
    assert response.status_code == 405


def test_conversation_follows_the_dom_contract(
    alice_client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    services.do_send_message(alice, public_room, "first")
    services.do_send_message(bob, public_room, "second")
    public_room.refresh_from_db()
    response = alice_client.get(public_room.get_absolute_url())
    html = response.content.decode()
    assert re.search(rf'<div class="scc-room [^"]*"[^>]* data-room="{public_room.slug}"', html)
    for hook in (
        'id="message-list"',
        '<template id="scc-message-template">',
        'id="composer"',
        'name="content"',
        'name="client_id"',
        'id="typing-indicator"',
        'id="participants"',
        'id="connection-banner"',
        'id="live-region"',
    ):
        assert hook in html, hook
    assert re.search(r'id="typing-indicator"[^>]*aria-live="polite"', html)
    assert re.search(r'id="live-region" class="visually-hidden" aria-live="polite"', html)
    assert html.index(">first<") < html.index(">second<")
    assert 'data-seq="1"' in html
    assert f'data-sender-id="{bob.pk}"' in html
    assert f'data-user-id="{bob.pk}"' in html
    assert "scc-presence scc-offline" in html
    assert html.rstrip().endswith("</html>")
    data = config(response)
    # The shell follows joined rooms on the all-rooms socket; this room's own endpoint is
    # used only while it is open and not joined.
    assert data["wsUrl"] == "/ws/chat/"
    assert data["roomWsUrl"] == f"/ws/chat/{public_room.slug}/"
    assert data["joined"] is True
    assert data["userId"] == alice.pk
    assert data["room"] == public_room.slug
    assert (data["lastSeq"], data["lastEventSeq"]) == (2, 2)
    assert data["i18n"]["typing_many"] == "%(name)s and %(count)s others are typing…"
    assert set(data["i18n"]) >= {
        "sending",
        "reconnecting",
        "typing_one",
        "typing_two",
        "typing_many",
        "message_deleted",
        "edited",
        "edit",
        "delete",
        "save",
        "cancel",
        "confirm_delete",
        "new_message_announcement",
        "online",
        "offline",
    }


def test_realtime_include_ends_the_extra_js_block_of_chat_pages(
    alice_client: Client, public_room: ChatRoom, settings: Any, tmp_path: Any
) -> None:
    override = tmp_path / "smartcampus_chat" / "includes"
    override.mkdir(parents=True)
    (override / "realtime.html").write_text("<!-- realtime-marker -->")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    for url in (reverse("smartcampus_chat:room_list"), public_room.get_absolute_url()):
        html = alice_client.get(url).content.decode()
        assert html.index("<!-- realtime-marker -->") > html.index('id="scc-config"')
        assert "<script>" not in html.replace('<script id="scc-config"', "")


def test_no_inline_script_or_event_handler(alice_client: Client, public_room: ChatRoom) -> None:
    for url in (reverse("smartcampus_chat:room_list"), public_room.get_absolute_url()):
        html = alice_client.get(url).content.decode()
        for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            if body.strip():
                assert 'type="application/json"' in attrs, "only JSON data may be inline"
            else:
                assert "src=" in attrs
        assert not re.search(r"\son[a-z]+=", html)


def test_history_has_an_older_link_that_pages_by_keyset(
    alice_client: Client, alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PAGE_SIZE": 3}
    for i in range(1, 8):
        services.do_send_message(alice, public_room, f"message number {i}")
    html = alice_client.get(public_room.get_absolute_url()).content.decode()
    assert "message number 7" in html
    assert "message number 4" not in html
    assert 'id="older" ' in html
    assert 'data-before="5" href="?before=5"' in html
    html = alice_client.get(public_room.get_absolute_url(), {"before": "5"}).content.decode()
    history = html.split('id="message-list"')[1]  # The sidebar previews the newest message.
    assert [int(n) for n in re.findall(r">message number (\d)<", history)] == [2, 3, 4]
    assert 'href="?after=4"' in html
    html = alice_client.get(public_room.get_absolute_url(), {"before": "2"}).content.decode()
    assert re.findall(r">message number (\d)<", html.split('id="message-list"')[1]) == ["1"]
    assert 'id="older"' not in html


def test_viewing_a_room_changes_no_read_marker(
    alice_client: Client, alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    """A GET changes nothing (issue #15, defect 3): the read marker stays where it was on
    every page, the latest one included; the no-JS page offers a "mark as read" form."""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PAGE_SIZE": 2}
    services.do_join_room(alice, public_room)
    for text in ("one", "two", "three"):
        services.do_send_message(bob, public_room, text)
    for query in ({}, {"before": "3"}, {"after": "1"}):
        html = alice_client.get(public_room.get_absolute_url(), query).content.decode()
        assert ChatParticipant.objects.get(room=public_room, user=alice).last_read_seq == 0
    html = alice_client.get(public_room.get_absolute_url()).content.decode()
    read_url = reverse("smartcampus_chat:room_read", args=[public_room.slug])
    assert f'action="{read_url}"' in html.split('<noscript id="scc-mark-read">')[1]
    assert 'name="seq" value="3"' in html
    unread = alice_client.get(reverse("smartcampus_chat:room_list")).content.decode()
    assert re.search(r'class="badge rounded-pill scc-unread"[^>]*>3<', unread)


def test_the_mark_read_form_moves_the_marker_and_the_unread_count(
    alice_client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(alice, public_room)
    services.do_send_message(bob, public_room, "one")
    services.do_send_message(bob, public_room, "two")
    read_url = reverse("smartcampus_chat:room_read", args=[public_room.slug])
    assert alice_client.get(read_url).status_code == 405
    response = alice_client.post(read_url, {"seq": "1"})
    assert response.status_code == 302
    assert response["Location"] == public_room.get_absolute_url()
    assert ChatParticipant.objects.get(room=public_room, user=alice).last_read_seq == 1
    unread = alice_client.get(reverse("smartcampus_chat:room_list")).content.decode()
    assert re.search(r'class="badge rounded-pill scc-unread"[^>]*>1<', unread)
    alice_client.post(read_url, {"seq": "2"})
    html = alice_client.get(public_room.get_absolute_url()).content.decode()
    assert "scc-mark-read" not in html, "nothing left to mark"
    assert alice_client.post(read_url, {"seq": "x"}).status_code == 400


def test_the_mark_read_form_is_for_participants_who_can_see_the_room(
    alice_client: Client, bob: Any, group_room: ChatRoom
) -> None:
    bobs = services.do_create_room(bob, name="Bob's room", room_type=RoomType.PUBLIC)
    services.do_send_message(bob, bobs, "news")
    html = alice_client.get(bobs.get_absolute_url()).content.decode()
    assert "scc-mark-read" not in html, "alice has not joined"
    hidden = reverse("smartcampus_chat:room_read", args=[group_room.slug])
    assert alice_client.post(hidden, {"seq": "1"}).status_code == 404


def test_post_without_javascript_and_empty_message_error(
    alice_client: Client, alice: Any, public_room: ChatRoom
) -> None:
    response = alice_client.post(public_room.get_absolute_url(), {"content": "  hello  "})
    assert response.status_code == 302
    assert ChatMessage.objects.get(room=public_room).content == "hello"
    response = alice_client.post(public_room.get_absolute_url(), {"content": "   "})
    assert response.status_code == 400
    assert "scc-field-error" in response.content.decode()
    assert ChatMessage.objects.filter(room=public_room).count() == 1


def test_too_long_message_is_refused_with_a_field_error(
    alice_client: Client, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MAX_MESSAGE_LENGTH": 10}
    response = alice_client.post(public_room.get_absolute_url(), {"content": "x" * 11})
    assert response.status_code == 400
    assert "at most 10 characters" in response.content.decode()
    assert not ChatMessage.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '"><svg onload=alert(1)>',
    ],
)
def test_user_text_is_escaped_everywhere(
    alice_client: Client, alice: Any, bob: Any, payload: str
) -> None:
    room = services.do_create_room(
        bob, name=payload, room_type=RoomType.PUBLIC, description=payload
    )
    services.do_join_room(alice, room)
    services.do_send_message(bob, room, payload)
    bob.first_name = payload
    bob.save()
    for url in (reverse("smartcampus_chat:room_list"), room.get_absolute_url()):
        html = alice_client.get(url).content.decode()
        assert payload not in html
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<svg onload" not in html
    html = alice_client.get(room.get_absolute_url()).content.decode()
    assert "&lt;" in html.split('id="message-list"')[1]


def test_hidden_rooms_answer_404(
    alice_client: Client, bob: Any, make_user: Callable[..., Any], group_room: ChatRoom
) -> None:
    private, _ = services.do_open_private(bob, make_user("carol"))
    for room in (private, group_room):
        assert alice_client.get(room.get_absolute_url()).status_code == 404
        settings_url = reverse("smartcampus_chat:room_settings", args=[room.slug])
        assert alice_client.get(settings_url).status_code == 404
    response = alice_client.get(reverse("smartcampus_chat:room", args=["no-such-room"]))
    assert response.status_code == 404


def test_archived_room_is_read_only(
    alice_client: Client, alice: Any, public_room: ChatRoom
) -> None:
    services.do_send_message(alice, public_room, "before archiving")
    services.do_update_room(public_room, is_archived=True)
    html = alice_client.get(public_room.get_absolute_url()).content.decode()
    assert "scc-archived-notice" in html
    assert 'id="composer"' not in html
    assert 'data-action="edit"' not in html.split('id="message-list"')[1].split("</ol>")[0]
    response = alice_client.post(public_room.get_absolute_url(), {"content": "too late"})
    assert response.status_code == 409
    assert ChatMessage.objects.count() == 1


def test_create_public_room(alice_client: Client) -> None:
    response = alice_client.post(
        reverse("smartcampus_chat:room_create"),
        {"name": "Book club", "room_type": "public", "description": "Novels"},
    )
    room = ChatRoom.objects.get(name="Book club")
    assert response.status_code == 302
    assert response["Location"] == room.get_absolute_url()
    assert room.participants.get().role == "owner"


def _field_errors(html: str) -> list[str]:
    return re.findall(r'class="invalid-feedback d-block scc-field-error">([^<]*)<', html)


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"name": "", "room_type": "public"}, "This field is required."),
        ({"name": "Robots", "room_type": "group"}, "A group room needs a group."),
        ({"name": "CS", "room_type": "course"}, "A course room needs a course."),
        ({"name": "X", "room_type": "secret"}, "You may not create this kind of room here."),
    ],
)
@pytest.mark.usefixtures("group", "course")
def test_create_room_errors_are_shown_on_the_fields_with_400(
    client: Client, staff: Any, data: dict[str, str], field_error: str
) -> None:
    client.force_login(staff)  # offered every type (see tests/test_create_offers.py)
    response = client.post(reverse("smartcampus_chat:room_create"), data)
    assert response.status_code == 400
    assert any(error.startswith(field_error) for error in _field_errors(response.content.decode()))
    assert not ChatRoom.objects.exists()


def test_group_room_needs_staff(alice_client: Client, alice: Any, group: Group) -> None:
    alice.groups.add(group)
    response = alice_client.post(
        reverse("smartcampus_chat:room_create"),
        {"name": "Robots", "room_type": "group", "group": group.pk},
    )
    assert response.status_code == 400
    assert _field_errors(response.content.decode()) == [
        "You may not create this kind of room here."
    ]
    assert not ChatRoom.objects.exists()


def test_group_room_by_staff(client: Client, staff: Any, group: Group) -> None:
    client.force_login(staff)
    response = client.post(
        reverse("smartcampus_chat:room_create"),
        {"name": "Robots", "room_type": "group", "group": group.pk},
    )
    assert response.status_code == 302
    assert ChatRoom.objects.get(name="Robots").group == group


def test_course_room_needs_a_course_the_creator_teaches(
    client: Client, make_user: Callable[..., Any], course: Course, enrol: Any
) -> None:
    student, teacher = make_user("student"), make_user("teacher")
    enrol(student, course, "student")
    enrol(teacher, course, "teacher")
    data = {"name": "CS room", "room_type": "course", "course": course.pk}
    client.force_login(student)
    response = client.post(reverse("smartcampus_chat:room_create"), data)
    assert response.status_code == 400
    assert _field_errors(response.content.decode())
    assert not ChatRoom.objects.exists()
    client.force_login(teacher)
    page = client.get(reverse("smartcampus_chat:room_create")).content.decode()
    assert f'<option value="{course.pk}">' in page
    response = client.post(reverse("smartcampus_chat:room_create"), data)
    assert response.status_code == 302
    assert ChatRoom.objects.get().course_key == str(course.pk)


def test_room_settings_rename_describe_archive_and_remove(
    alice_client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    url = reverse("smartcampus_chat:room_settings", args=[public_room.slug])
    html = alice_client.get(url).content.decode()
    remove_url = reverse("smartcampus_chat:member_remove", args=[public_room.slug, bob.pk])
    assert remove_url in html
    assert reverse("smartcampus_chat:member_remove", args=[public_room.slug, alice.pk]) not in html
    response = alice_client.post(
        url, {"name": "Renamed", "description": "New words", "is_archived": "on"}
    )
    assert response.status_code == 302
    public_room.refresh_from_db()
    assert (public_room.name, public_room.description, public_room.is_archived) == (
        "Renamed",
        "New words",
        True,
    )
    assert alice_client.post(remove_url).status_code == 302
    assert ChatParticipant.objects.get(room=public_room, user=bob).is_banned


def test_room_settings_errors_and_forbidden(
    client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    url = reverse("smartcampus_chat:room_settings", args=[public_room.slug])
    client.force_login(alice)
    response = client.post(url, {"name": "", "description": ""})
    assert response.status_code == 400
    assert _field_errors(response.content.decode()) == ["This field is required."]
    client.force_login(bob)
    assert client.get(url).status_code == 403
    services.do_join_room(bob, public_room)
    remove_url = reverse("smartcampus_chat:member_remove", args=[public_room.slug, alice.pk])
    assert client.post(remove_url).status_code == 403
    assert not ChatParticipant.objects.get(room=public_room, user=alice).is_banned


def test_settings_link_only_for_moderators(
    client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    url = reverse("smartcampus_chat:room_settings", args=[public_room.slug])
    client.force_login(alice)
    assert url in client.get(public_room.get_absolute_url()).content.decode()
    client.force_login(bob)
    assert url not in client.get(public_room.get_absolute_url()).content.decode()


def test_people_search_and_private_chat_without_javascript(
    alice_client: Client, alice: Any, make_user: Callable[..., Any]
) -> None:
    bruno = make_user("bruno", first_name="Bruno", last_name="Keller")
    claire = make_user("claire")
    seminar = services.do_create_room(alice, name="Seminar", room_type=RoomType.PUBLIC)
    for person in (bruno, claire):
        services.do_join_room(person, seminar)
    response = alice_client.get(reverse("smartcampus_chat:people"), {"q": "kel"})
    html = response.content.decode()
    open_url = reverse("smartcampus_chat:private_open", args=[bruno.pk])
    assert open_url in html
    assert "claire" not in html
    response = alice_client.post(open_url)
    room = ChatRoom.objects.get(room_type=RoomType.PRIVATE)
    assert response["Location"] == room.get_absolute_url()
    assert alice_client.post(open_url)["Location"] == room.get_absolute_url()
    assert ChatRoom.objects.filter(room_type=RoomType.PRIVATE).count() == 1
    html = alice_client.get(room.get_absolute_url()).content.decode()
    assert 'id="composer"' in html
    assert reverse("smartcampus_chat:room_join", args=[room.slug]) not in html


def test_private_chat_with_oneself_or_nobody(alice_client: Client, alice: Any) -> None:
    response = alice_client.post(reverse("smartcampus_chat:private_open", args=[alice.pk]))
    assert response.status_code == 400
    response = alice_client.post(reverse("smartcampus_chat:private_open", args=[999_999]))
    assert response.status_code == 404
    assert alice_client.get(reverse("smartcampus_chat:people")).status_code == 200
