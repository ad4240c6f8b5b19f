"""The Django side of the office-hours bench (``bench.workloads.office_hours``): a course
room, its teachers and students, and rounds of concurrent claims through the services on
the bench's database, one thread (one database connection) per teacher."""

from __future__ import annotations

import threading
import time
from typing import Any

ROOM_SLUG = "bench-office-hours"


def _people(prefix: str, count: int) -> list[Any]:
    from django.contrib.auth import get_user_model

    model = get_user_model()
    people = []
    for index in range(count):
        user, _ = model.objects.get_or_create(username=f"{prefix}{index}")
        people.append(user)
    return people


def _room(teachers: list[Any], students: list[Any]) -> Any:
    from smartcampus_chat.models import ChatParticipant, ChatRoom, Role, RoomType

    room, _ = ChatRoom.objects.get_or_create(
        slug=ROOM_SLUG, defaults={"name": "Office hours bench", "room_type": RoomType.PUBLIC}
    )
    for user, role in [(t, Role.MODERATOR) for t in teachers] + [
        (s, Role.MEMBER) for s in students
    ]:
        ChatParticipant.objects.update_or_create(room=room, user=user, defaults={"role": role})
    return room


def claim_rounds(students: int, teachers: int, rounds: int) -> dict[str, Any]:
    """``rounds`` times: open office hours, queue ``students``, let ``teachers`` threads
    claim "next" all at once (a barrier) until nobody waits, close. Each claim's latency
    (the service call, its commit and its publishes) is timed; double claims are counted
    from the database afterwards."""
    from django.db import connection

    from smartcampus_chat import queries, services
    from smartcampus_chat.exceptions import NotFound
    from smartcampus_chat.models import ChatRoom, OfficeHoursEntry

    staff = _people("bench-ta-", teachers)
    queued = _people("bench-student-", students)
    room = _room(staff, queued)
    timings: list[float] = []
    claims: list[tuple[int, int]] = []
    errors: list[str] = []
    lock = threading.Lock()
    wall = 0.0
    double = 0
    unclaimed = 0
    for _round in range(rounds):
        if queries.current_session(room) is not None:
            services.check_close_office_hours(staff[0], room)
        session = services.check_open_office_hours(staff[0], room)
        for student in queued:
            services.check_raise_hand(student, room, f"topic of {student.username}")
        barrier = threading.Barrier(teachers)
        round_claims: list[tuple[int, int]] = []

        def work(
            teacher: Any,
            barrier: threading.Barrier = barrier,
            round_claims: list[tuple[int, int]] = round_claims,
        ) -> None:
            try:
                fresh = ChatRoom.objects.get(pk=room.pk)
                barrier.wait()
                while True:
                    started = time.perf_counter()
                    try:
                        entry = services.check_claim(teacher, fresh)
                    except NotFound:
                        return
                    took = time.perf_counter() - started
                    with lock:
                        timings.append(took)
                        round_claims.append((entry.pk, teacher.pk))
            except Exception as exc:  # reported, not raised: the bench goes on
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(t,)) for t in staff]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall += time.perf_counter() - began
        ids = [pk for pk, _teacher in round_claims]
        double += len(ids) - len(set(ids))
        rows = OfficeHoursEntry.objects.filter(session=session)
        unclaimed += rows.filter(status="waiting").count()
        # What the database says each entry's claimer is must be who the service answered.
        stored = dict(rows.values_list("pk", "claimed_by_id"))
        double += sum(1 for pk, teacher in round_claims if stored.get(pk) != teacher)
        claims.extend(round_claims)
        services.check_close_office_hours(staff[0], room)
    return {
        "timings_s": timings,
        "claims": len(claims),
        "double_claims": double,
        "left_unclaimed": unclaimed,
        "errors": errors[:5],
        "error_count": len(errors),
        "wall_s": wall,
        "teachers_used": len({teacher for _pk, teacher in claims}),
    }
