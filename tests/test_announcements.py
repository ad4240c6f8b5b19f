"""Announcements (docs/announcements.md): posted through the one send pipeline by a room's
moderators, acknowledged by its members over the socket, the REST API and the page; the
moderators' counts and lists (live, REST, CSV); reminders through the notifications."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from courses.models import Course
from smartcampus_chat import queries, services
from smartcampus_chat.models import (
    ChatAnnouncementAck,
    ChatAnnouncementReminder,
    ChatMessage,
    ChatNotification,
    ChatParticipant,
    ChatRoom,
    MessageKind,
    Role,
)
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async


def future(hours: int = 48) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


@pytest.fixture
def classroom(
    course_room: ChatRoom, course: Course, enrol: Callable[..., Any], make_user: Any
) -> dict[str, Any]:
    """A course room with a teacher (a moderator by the roster) and two students."""
    people = {
        "teacher": make_user("teacher", first_name="Tess"),
        "ann": make_user("ann", first_name="Ann"),
        "ben": make_user("ben", first_name="Ben"),
        "outsider": make_user("outsider"),
    }
    enrol(people["teacher"], course, role="teacher")
    enrol(people["ann"], course)
    enrol(people["ben"], course)
    for name in ("teacher", "ann", "ben"):
        services.enrolment_changed(people[name], course)
    return {"room": course_room, **people}


def post(user: Any, room: ChatRoom, **body: Any) -> Any:
    return logged_in(user).post(
        api("message-list", room_slug=room.slug),
        {"content": "Read the **syllabus**", **body},
        content_type="application/json",
    )


@pytest.mark.django_db
def test_moderators_post_announcements_through_the_send_pipeline(
    classroom: dict[str, Any],
) -> None:
    room = classroom["room"]
    due = future()
    answer = post(classroom["teacher"], room, announcement=True, requires_ack=True, ack_due=due)
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert (data["kind"], data["requires_ack"]) == ("announcement", True)
    assert data["ack_due"] is not None
    stored = ChatMessage.objects.get(pk=data["id"])
    assert stored.kind == MessageKind.ANNOUNCEMENT
    assert stored.seq == room.last_seq + 1
    plain = post(classroom["teacher"], room, announcement=True).json()
    assert (plain["kind"], plain["requires_ack"], plain["ack_due"]) == ("announcement", False, None)


@pytest.mark.django_db
def test_a_student_may_not_announce_and_bad_options_are_refused(
    classroom: dict[str, Any],
) -> None:
    room = classroom["room"]
    refused = post(classroom["ann"], room, announcement=True, requires_ack=True)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "announcement_not_allowed"
    assert post(classroom["outsider"], room, announcement=True).status_code == 404
    teacher = classroom["teacher"]
    alone = post(teacher, room, requires_ack=True)
    assert alone.status_code == 400
    assert "requires_ack" in alone.json()["error"]["fields"]
    past = post(teacher, room, announcement=True, requires_ack=True, ack_due=future(-1))
    assert past.status_code == 400
    assert "ack_due" in past.json()["error"]["fields"]
    undated = post(teacher, room, announcement=True, ack_due=future())
    assert undated.status_code == 400
    assert "ack_due" in undated.json()["error"]["fields"]
    assert not ChatMessage.objects.filter(room=room).exists()


@pytest.mark.django_db
def test_staff_announce_in_a_group_room_not_in_a_private_one(
    staff: Any, bob: Any, group_room: ChatRoom
) -> None:
    assert post(staff, group_room, announcement=True, requires_ack=True).status_code == 201
    private, _created = services.do_open_private(staff, bob)
    refused = post(staff, private, announcement=True)
    assert refused.json()["error"]["code"] == "announcement_not_allowed"


@pytest.mark.django_db(transaction=True)
async def test_acknowledging_over_the_socket_is_live_for_the_moderators_only(
    classroom: dict[str, Any],
) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    moderator = await open_room(teacher, room.slug)
    reader = await open_room(ann, room.slug)
    other = await open_room(ben, room.slug)
    try:
        await moderator.send_frame(
            type="message.send",
            content="Quiz on Friday",
            announcement=True,
            requires_ack=True,
            ack_due=future(),
            id="s1",
        )
        sent = await moderator.receive_until(lambda f: f["type"] == "ack")
        message_id = sent["message"]["id"]
        new = await reader.receive_frame("message.new")
        assert (new["message"]["kind"], new["message"]["requires_ack"]) == ("announcement", True)
        await other.receive_frame("message.new")
        await reader.send_frame(type="announcement.ack", message_id=message_id, id="a1")
        acked = await reader.receive_until(lambda f: f["type"] == "announcement.acked")
        assert (acked["message_id"], acked.get("id")) == (message_id, "a1")
        live = await moderator.receive_until(lambda f: f["type"] == "announcement.acks")
        assert (live["acked"], live["total"], live["user"]["id"]) == (1, 2, ann.pk)
        # Ben is told nothing of Ann's acknowledgement.
        await other.assert_no_frame(
            ignore=frozenset({"presence", "presence.batch", "unread", "notification"})
        )
        await reader.send_frame(type="announcement.ack", message_id=message_id, id="a2")
        again = await reader.receive_until(lambda f: f.get("id") == "a2")
        assert (again["type"], again["acked_at"]) == ("announcement.acked", acked["acked_at"])
        await moderator.assert_no_frame(ignore=frozenset({"presence", "presence.batch"}))
        await other.send_frame(type="message.send", content="x", announcement=True, id="s2")
        refused = await other.receive_until(lambda f: f["type"] == "error")
        assert (refused["code"], refused["id"]) == ("announcement_not_allowed", "s2")
        plain = (await db(services.do_send_message)(teacher, room, "plain")).message
        await other.send_frame(type="announcement.ack", message_id=plain.pk, id="a3")
        wrong = await other.receive_until(lambda f: f["type"] == "error")
        assert (wrong["code"], wrong["id"]) == ("invalid", "a3")
    finally:
        for socket in (moderator, reader, other):
            await socket.disconnect()
    assert await db(ChatAnnouncementAck.objects.count)() == 1


def announce(teacher: Any, room: ChatRoom, **options: Any) -> ChatMessage:
    return services.check_send_message(
        teacher, room, "Exam rules", announcement=True, requires_ack=True, **options
    ).message


@pytest.mark.django_db
def test_the_rest_api_acknowledges_and_lists_for_moderators_only(
    classroom: dict[str, Any], staff: Any
) -> None:
    room, teacher, ann = classroom["room"], classroom["teacher"], classroom["ann"]
    message = announce(teacher, room)
    ack_url = api("message-ack", room_slug=room.slug, message_id=message.pk)
    acks_url = api("message-acks", room_slug=room.slug, message_id=message.pk)
    first = logged_in(ann).post(ack_url)
    assert first.status_code == 201
    repeat = logged_in(ann).post(ack_url)
    assert repeat.status_code == 200
    assert repeat.json()["acked_at"] == first.json()["acked_at"]
    assert logged_in(ann).get(acks_url).status_code == 403
    assert logged_in(classroom["outsider"]).get(acks_url).status_code == 404
    assert logged_in(classroom["outsider"]).post(ack_url).status_code == 404
    for reader in (teacher, staff):
        listed = logged_in(reader).get(acks_url).json()
        assert (listed["acked"], listed["total"]) == (1, 2)
        assert [row["user"]["id"] for row in listed["acknowledged"]] == [ann.pk]
        assert [row["user"]["id"] for row in listed["pending"]] == [classroom["ben"].pk]
    plain = services.do_send_message(teacher, room, "plain").message
    not_one = api("message-acks", room_slug=room.slug, message_id=plain.pk)
    assert logged_in(teacher).get(not_one).status_code == 404


@pytest.mark.django_db
def test_the_csv_export_is_for_moderators_and_neutralises_formulas(
    classroom: dict[str, Any],
) -> None:
    room, teacher, ann = classroom["room"], classroom["teacher"], classroom["ann"]
    ann.first_name = "=HYPERLINK(1)"
    ann.save()
    message = announce(teacher, room)
    services.do_acknowledge(ann, message)
    url = reverse(
        "smartcampus_chat:announcement_acks_csv",
        kwargs={"slug": room.slug, "message_id": message.pk},
    )
    assert logged_in(ann).get(url).status_code == 403
    assert logged_in(classroom["outsider"]).get(url).status_code == 404
    answer = logged_in(teacher).get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0] == ["name", "user_id", "acknowledged", "acknowledged_at"]
    by_id = {row[1]: row for row in rows[1:]}
    assert by_id[str(ann.pk)][0] == "'=HYPERLINK(1)"
    assert by_id[str(ann.pk)][2] == "yes"
    assert by_id[str(classroom["ben"].pk)][2:] == ["no", ""]


@pytest.mark.django_db
def test_the_room_page_pins_what_a_student_has_to_acknowledge(
    classroom: dict[str, Any],
) -> None:
    room, teacher, ann = classroom["room"], classroom["teacher"], classroom["ann"]
    message = announce(teacher, room, ack_due=timezone.now() + timedelta(days=2))
    page = logged_in(ann).get(room.get_absolute_url()).content.decode()
    assert f'data-announcement-id="{message.pk}"' in page
    assert "I have read this" in page
    teacher_page = logged_in(teacher).get(room.get_absolute_url()).content.decode()
    assert f'data-announcement-id="{message.pk}"' not in teacher_page
    assert f'data-acks-id="{message.pk}"' in teacher_page
    # The page's own form (no JavaScript) acknowledges it too.
    form = reverse(
        "smartcampus_chat:announcement_ack", kwargs={"slug": room.slug, "message_id": message.pk}
    )
    assert logged_in(ann).post(form).status_code == 302
    page = logged_in(ann).get(room.get_absolute_url()).content.decode()
    assert f'data-announcement-id="{message.pk}"' not in page
    assert ChatAnnouncementAck.objects.filter(message=message, user=ann).exists()


@pytest.mark.django_db
def test_a_deleted_announcement_leaves_the_top_and_cannot_be_acknowledged(
    classroom: dict[str, Any],
) -> None:
    room, teacher, ann = classroom["room"], classroom["teacher"], classroom["ann"]
    message = announce(teacher, room)
    services.check_delete_message(teacher, message, services.room_access(teacher, room))
    page = logged_in(ann).get(room.get_absolute_url()).content.decode()
    assert f'data-announcement-id="{message.pk}"' not in page
    assert "Exam rules" not in page
    refused = logged_in(ann).post(api("message-ack", room_slug=room.slug, message_id=message.pk))
    assert refused.json()["error"]["code"] == "message_deleted"


@pytest.mark.django_db
def test_reminders_go_once_to_those_who_have_not_acknowledged(
    classroom: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    with django_capture_on_commit_callbacks(execute=True):
        message = announce(teacher, room, ack_due=timezone.now() + timedelta(hours=30))
    posted = ChatNotification.objects.filter(message=message)
    assert sorted(posted.values_list("user_id", flat=True)) == sorted([ann.pk, ben.pk])
    assert set(posted.values_list("kind", flat=True)) == {"announcement"}
    services.do_acknowledge(ann, message)
    assert services.do_send_due_reminders() == 0  # not due within ACK_REMINDER_BEFORE yet
    later = timezone.now() + timedelta(hours=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.do_send_due_reminders(later) == 1
        assert services.do_send_due_reminders(later) == 0  # never twice
    reminded = ChatNotification.objects.get(message=message, user=ben)
    assert reminded.read_at is None
    assert reminded.kind == "announcement"
    assert ChatAnnouncementReminder.objects.filter(message=message).count() == 2
    # The one who acknowledged keeps the first notification, and is not reminded.
    assert ChatNotification.objects.filter(message=message, user=ann).count() == 1


@pytest.mark.django_db
def test_the_reminder_command_reminds_once(classroom: dict[str, Any]) -> None:
    room, teacher, ben = classroom["room"], classroom["teacher"], classroom["ben"]
    message = announce(teacher, room, ack_due=timezone.now() + timedelta(hours=2))
    assert not ChatNotification.objects.filter(message=message).exists()  # not committed
    out = io.StringIO()
    call_command("chat_announcement_reminders", stdout=out)
    assert "2 people reminded" in out.getvalue()
    call_command("chat_announcement_reminders", stdout=out)
    assert "0 people reminded" in out.getvalue()
    assert ChatNotification.objects.filter(message=message, user=ben).count() == 1


@pytest.mark.django_db
def test_the_page_s_form_posts_announcements_for_moderators_only(
    classroom: dict[str, Any],
) -> None:
    """The composer without JavaScript: the same send, the same rule."""
    room, teacher, ann = classroom["room"], classroom["teacher"], classroom["ann"]
    form = {
        "content": "Bring your laptop",
        "announcement": "on",
        "requires_ack": "on",
        "ack_due": (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
    }
    page = logged_in(teacher).get(room.get_absolute_url()).content.decode()
    assert 'name="announcement"' in page
    assert 'name="announcement"' not in logged_in(ann).get(room.get_absolute_url()).content.decode()
    assert logged_in(teacher).post(room.get_absolute_url(), form).status_code == 302
    stored = ChatMessage.objects.get(room=room)
    assert (stored.kind, stored.requires_ack) == (MessageKind.ANNOUNCEMENT, True)
    assert stored.ack_due is not None
    refused = logged_in(ann).post(room.get_absolute_url(), form)
    assert refused.status_code == 403
    assert "Only the room&#x27;s moderators post announcements." in refused.content.decode()
    assert ChatMessage.objects.filter(room=room).count() == 1


@pytest.mark.django_db
def test_who_is_asked_members_and_read_only_not_moderators_or_staff(
    classroom: dict[str, Any], staff: Any
) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    services.do_join_room(staff, room)
    ChatParticipant.objects.filter(room=room, user=ben).update(role=Role.READ_ONLY)
    message = announce(teacher, room)
    status = queries.ack_status(message)
    assert sorted(row.user.pk for row in status.pending) == sorted([ann.pk, ben.pk])
    assert message.pk in [
        m.pk for m in queries.pending_announcements(ben, room, services.room_access(ben, room))
    ]
    staff_page = logged_in(staff).get(room.get_absolute_url()).content.decode()
    assert f'data-announcement-id="{message.pk}"' not in staff_page  # staff are not asked
    assert f'data-acks-id="{message.pk}"' in staff_page  # they follow it
