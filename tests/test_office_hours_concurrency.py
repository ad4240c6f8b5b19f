"""Two teachers claiming at once never get the same student (PostgreSQL, real connections,
one thread each): "claim next" with ``FOR UPDATE SKIP LOCKED``, "claim this one" with a
conditional update."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.exceptions import NotFound, ValidationFailed
from smartcampus_chat.models import ChatRoom, OfficeHoursEntry, OfficeHoursStatus, RoomType

TEACHERS = 5
STUDENTS = 30

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _room(make_user: Callable[..., Any], staff: Any) -> tuple[ChatRoom, list[Any], list[Any]]:
    course = Course.objects.create(code="CS201", title="Algorithms")
    room = services.do_create_room(staff, name="CS201", room_type=RoomType.COURSE, course=course)
    teachers = [make_user(f"ta{i}") for i in range(TEACHERS)]
    students = [make_user(f"student{i}") for i in range(STUDENTS)]
    for user in teachers:
        Enrolment.objects.create(user=user, course=course, role="teacher")
    for user in students:
        Enrolment.objects.create(user=user, course=course, role="student")
    services.check_open_office_hours(teachers[0], room)
    for user in students:
        services.check_raise_hand(user, room, f"topic of {user.username}")
    return room, teachers, students


def _run(workers: list[Callable[[], None]]) -> list[BaseException]:
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_teachers_claiming_next_at_once_each_get_a_different_student(
    make_user: Callable[..., Any], staff: Any
) -> None:
    assert connection.vendor == "postgresql"
    room, teachers, _students = _room(make_user, staff)
    claims: list[tuple[int, int]] = []
    lock = threading.Lock()

    def claim_all(teacher: Any) -> Callable[[], None]:
        def work() -> None:
            fresh = ChatRoom.objects.get(pk=room.pk)
            while True:
                try:
                    entry = services.check_claim(teacher, fresh)
                except NotFound:
                    return
                with lock:
                    claims.append((entry.pk, teacher.pk))

        return work

    assert _run([claim_all(t) for t in teachers]) == []
    claimed = [pk for pk, _teacher in claims]
    assert len(claimed) == len(set(claimed)) == STUDENTS
    rows = OfficeHoursEntry.objects.filter(session__room=room)
    assert set(rows.values_list("status", flat=True)) == {OfficeHoursStatus.BEING_HELPED}
    assert {(e.pk, e.claimed_by_id) for e in rows} == set(claims)
    # Each claim opened that teacher's conversation with that student.
    assert all(e.conversation_id is not None for e in rows)
    # More than one teacher got students (the claims did run side by side).
    assert len({teacher for _pk, teacher in claims}) > 1


def test_teachers_claiming_one_student_at_once_one_wins(
    make_user: Callable[..., Any], staff: Any
) -> None:
    room, teachers, students = _room(make_user, staff)
    entry = OfficeHoursEntry.objects.get(student=students[-1])
    won: list[int] = []
    refused: list[int] = []

    def claim(teacher: Any) -> Callable[[], None]:
        def work() -> None:
            fresh = ChatRoom.objects.get(pk=room.pk)
            try:
                services.check_claim(teacher, fresh, entry.pk)
                won.append(teacher.pk)
            except ValidationFailed:
                refused.append(teacher.pk)

        return work

    assert _run([claim(t) for t in teachers]) == []
    assert len(won) == 1
    assert len(refused) == TEACHERS - 1
    entry.refresh_from_db()
    assert (entry.status, entry.claimed_by_id) == (OfficeHoursStatus.BEING_HELPED, won[0])
