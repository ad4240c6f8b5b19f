"""Terms and sections (issue #22 part 1, docs/terms.md): a course's end makes its rooms
read-only on every door, decided by the clock at use; the sync archives them after the
grace period; section rooms follow the roster live; the sync's queries do not grow with
the students, and a second run changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Course, Enrolment, Section
from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom
from smartcampus_chat.testing import new_client_id, open_room, open_user
from tests.http import api, logged_in

db = database_sync_to_async


def sync(*args: str) -> str:
    out = StringIO()
    call_command("chat_sync_courses", *args, stdout=out)
    return out.getvalue()


def main_room(course: Course) -> ChatRoom:
    return ChatRoom.objects.get(course_key=str(course.pk), section_key__isnull=True)


def section_room(course: Course, key: str) -> ChatRoom:
    return ChatRoom.objects.get(course_key=str(course.pk), section_key=key)


def enrol_all(course: Course, users: list[Any], section: Section | None = None) -> None:
    """Enrolments without signals (a host's bulk import): only the sync sees them."""
    Enrolment.objects.bulk_create(
        [Enrolment(course=course, user=user, section=section) for user in users]
    )


def rest_send(client: Any, room: ChatRoom, content: str) -> Any:
    return client.post(
        api("message-list", room_slug=room.slug),
        {"content": content, "client_id": new_client_id()},
        content_type="application/json",
    )


# --- term lifecycle -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_course_end_makes_its_room_read_only_on_every_door_by_the_clock(
    alice: Any, bob: Any
) -> None:
    course = await Course.objects.acreate(
        code="CS101", title="Programming", ends_on=date.today() + timedelta(days=3)
    )
    await db(enrol_all)(course, [bob])
    await Enrolment.objects.acreate(course=course, user=alice, role="teacher")
    await db(sync)()
    room = await db(main_room)(course)
    assert room.ends_at is not None
    assert room.ends_at > timezone.now()
    # The course ends in a moment (as if the sync ran the day before its last day).
    ends_at = timezone.now() + timedelta(seconds=1)
    await ChatRoom.objects.filter(pk=room.pk).aupdate(ends_at=ends_at)
    socket = await open_room(bob, room.slug)
    try:
        stored = await socket.send_message(None, "before the end")
        message = await ChatMessage.objects.aget(pk=stored["id"])
        # Time passes: nothing runs, no frame comes; the socket's access is cached.
        await asyncio.sleep(max(0.0, (ends_at - timezone.now()).total_seconds() + 0.1))
        await socket.send_frame(
            type="message.send", content="after", client_id=new_client_id(), id="s1"
        )
        refused = await socket.receive_until(lambda f: f.get("id") == "s1")
        assert (refused["type"], refused["code"]) == ("error", "course_ended")
        for user in (bob, alice):  # The teacher too: read-only for everyone.
            client = await db(logged_in)(user)
            sent = await db(rest_send)(client, room, "and here")
            assert (sent.status_code, sent.json()["error"]["code"]) == (403, "course_ended")
        reacted = await db(client.post)(
            api("message-reactions", room_slug=room.slug, pk=message.pk),
            {"emoji": "👍"},
            content_type="application/json",
        )
        assert (reacted.status_code, reacted.json()["error"]["code"]) == (403, "course_ended")
        student = await db(logged_in)(bob)
        page = await db(student.post)(room.get_absolute_url(), {"content": "form"})
        assert page.status_code == 403
        html = page.content.decode()
        assert 'id="scc-ended-notice"' in html
        assert 'role="status"' in html
        assert "This course ended on" in html
        assert ends_at.strftime("%b") in html
        assert 'id="composer"' not in html
        detail = await db(student.get)(api("room-detail", slug=room.slug))
        assert detail.json()["access"]["can_post"] is False
        assert detail.json()["ends_at"] is not None
        # Reading goes on.
        history = await db(student.get)(api("message-list", room_slug=room.slug))
        assert [m["content"] for m in history.json()["results"]] == ["before the end"]
        assert await ChatMessage.objects.filter(room=room).acount() == 1
    finally:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_an_end_set_by_the_host_reaches_open_sockets_as_room_updated(bob: Any) -> None:
    course = await Course.objects.acreate(code="CS101", title="Programming")
    await db(enrol_all)(course, [bob])
    await db(sync)()
    room = await db(main_room)(course)
    socket = await open_room(bob, room.slug)
    try:
        course.ends_on = date.today() - timedelta(days=1)
        await course.asave()  # The example site's receiver calls services.course_changed.
        updated = await socket.receive_until(lambda f: f["type"] == "room.updated")
        assert updated["room"]["ends_at"] is not None
        page = await db((await db(logged_in)(bob)).get)(room.get_absolute_url())
        assert "This course ended on" in page.content.decode()
    finally:
        await socket.disconnect()


@pytest.mark.django_db
def test_the_sync_archives_after_the_grace_period_and_staff_still_read(
    settings: Any, bob: Any, staff: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "COURSE_GRACE_DAYS": 30}
    today = date.today()
    recent = Course.objects.create(code="A", title="Ended", ends_on=today - timedelta(days=10))
    old = Course.objects.create(code="B", title="Long ago", ends_on=today - timedelta(days=40))
    for course in (recent, old):
        enrol_all(course, [bob])
    out = sync()
    assert "2 courses: 2 rooms created," in out
    assert "1 rooms archived" in out
    assert main_room(old).is_archived
    assert main_room(old).archived_at is not None
    assert not main_room(recent).is_archived
    # Last term's room stays readable by staff; next term's course gets a new room.
    staff_client = logged_in(staff)
    history = staff_client.get(api("message-list", room_slug=main_room(old).slug))
    assert history.status_code == 200
    following = Course.objects.create(code="B2", title="Long ago, again")
    enrol_all(following, [bob])
    sync()
    assert main_room(following).pk != main_room(old).pk
    assert not main_room(following).is_archived


# --- sections -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_section_rooms_are_created_and_members_follow_live(
    alice: Any, bob: Any, make_user: Callable[..., Any]
) -> None:
    carol = await db(make_user)("carol", first_name="Carol")
    bob_socket = await open_user(bob)
    try:
        # A host's bulk import (no signals): only the sync sees it.
        course = await Course.objects.acreate(code="CS101", title="Programming")
        lab_a, lab_b = await Section.objects.abulk_create(
            [
                Section(course=course, key="lab-a", name="Lab A"),
                Section(course=course, key="lab-b", name="Lab B"),
            ]
        )
        await db(enrol_all)(course, [bob], lab_a)
        await db(enrol_all)(course, [carol], lab_b)
        await Enrolment.objects.abulk_create([Enrolment(course=course, user=alice, role="teacher")])
        assert "2 section rooms created" in await db(sync)()
        added = set()
        for _ in range(2):
            frame = await bob_socket.receive_until(lambda f: f["type"] == "room.added")
            added.add(frame["room"]["slug"])
        room_a = await db(section_room)(course, "lab-a")
        room_b = await db(section_room)(course, "lab-b")
        assert added == {(await db(main_room)(course)).slug, room_a.slug}
        assert "lab" not in room_a.slug  # Random: names nothing.
        # Bob sees his section's room, not the other one (404 like a room that does not exist).
        client = await db(logged_in)(bob)
        assert (await db(client.get)(api("room-detail", slug=room_a.slug))).status_code == 200
        assert (await db(client.get)(api("room-detail", slug=room_b.slug))).status_code == 404
        listed = await db(client.get)(api("room-list"))
        slugs = {room["slug"] for room in listed.json()["results"]}
        assert room_a.slug in slugs
        assert room_b.slug not in slugs
        # The teacher sees every section's room.
        teacher = await db(logged_in)(alice)
        assert (await db(teacher.get)(api("room-detail", slug=room_b.slug))).status_code == 200

        # Bob moves to Lab B: removed from A, added to B, live.
        room_b_socket = await open_room(carol, room_b.slug)
        await Enrolment.objects.filter(user=bob).aupdate(section=lab_b)
        out = await db(sync)()
        assert "1 members added, 1 removed" in out
        told = {}
        while len(told) < 2:
            frame = await bob_socket.receive_until(
                lambda f: f["type"] in ("room.removed", "room.added")
            )
            told[frame["type"]] = frame["room"]
        assert told["room.removed"] == room_a.slug
        assert told["room.added"]["slug"] == room_b.slug
        joined = await room_b_socket.receive_until(lambda f: f["type"] == "participant.joined")
        assert joined["user"]["name"] == "Bob"
        assert (await db(client.get)(api("room-detail", slug=room_a.slug))).status_code == 404
        await room_b_socket.disconnect()
    finally:
        await bob_socket.disconnect()


# --- the sync itself ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sync_is_idempotent_and_has_a_dry_run(make_user: Callable[..., Any]) -> None:
    course = Course.objects.create(code="CS101", title="Programming")
    section = Section.objects.create(course=course, key="g1", name="Group 1")
    students = [make_user(f"s{i}") for i in range(4)]
    enrol_all(course, students[:2], section)
    enrol_all(course, students[2:])
    dry = sync("--dry-run")
    assert "1 rooms would be created, 1 section rooms would be created" in dry
    assert "6 members would be added" in dry
    assert not ChatRoom.objects.exists()
    assert "6 members added" in sync()  # 4 in the course room, 2 in the section's
    assert ChatParticipant.objects.count() == 6
    counts = services.sync_courses()
    assert counts.changes == 0
    assert counts.courses == 1
    # A student leaves, one is deactivated: removed; the banned stay banned.
    Enrolment.objects.filter(user=students[3]).delete()
    students[2].is_active = False
    students[2].save()
    ChatParticipant.objects.filter(user=students[0], room=main_room(course)).update(is_banned=True)
    counts = services.sync_courses()
    assert (counts.removed, counts.joined) == (2, 0)
    assert ChatParticipant.objects.get(user=students[0], room=main_room(course)).is_banned
    assert services.sync_courses().changes == 0


def _course_with(students: int, make_user: Callable[..., Any], code: str) -> Course:
    course = Course.objects.create(code=code, title=code)
    sections = [
        Section.objects.create(course=course, key=f"{code}-{n}", name=f"Group {n}")
        for n in range(2)
    ]
    users = [make_user(f"{code}-{i}") for i in range(students)]
    for n, section in enumerate(sections):
        enrol_all(course, users[n::2], section)
    return course


@pytest.mark.django_db
def test_the_sync_costs_the_same_queries_whatever_the_number_of_students(
    make_user: Callable[..., Any],
) -> None:
    """A course's first sync and a sync after churn cost a fixed number of queries: one
    insert for all who join, one delete per room for those who leave (pinned here).

    The larger course stays under the parameter limit of the oldest SQLite builds (999 per
    statement: 13 columns of a participant row), where Django splits a larger insert in
    batches; the bench measures the sync at full size on PostgreSQL."""
    costs = []
    for students, code in ((4, "SMALL"), (24, "LARGE")):
        course = _course_with(students, make_user, code)
        with CaptureQueriesContext(connection) as first:
            services.sync_course(course)
        Enrolment.objects.filter(course=course, user__username__endswith="-1").delete()
        Enrolment.objects.filter(course=course, user__username__endswith="-2").update(section=None)
        with CaptureQueriesContext(connection) as churn:
            services.sync_course(course)
        with CaptureQueriesContext(connection) as again:
            services.sync_course(course)
        costs.append((len(first), len(churn), len(again)))
    assert costs[0] == costs[1]
    assert costs[0] == (12, 11, 7)


@pytest.mark.django_db
def test_an_unknown_course_end_field_is_a_system_check_error(settings: Any) -> None:
    from smartcampus_chat.checks import check_settings

    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "COURSE_END": "title"}
    assert [e.id for e in check_settings()] == ["smartcampus_chat.E004"]
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "COURSE_END": "nope.missing"}
    assert [e.id for e in check_settings()] == ["smartcampus_chat.E003"]
