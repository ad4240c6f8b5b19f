"""A term start: ``chat_sync_courses`` over ``--courses`` x ``--students`` (issue #22).

On the bench database (PostgreSQL by default), the example site's own models: ``--courses``
courses (default 1,000; quick 20), each with two sections, one teacher and ``--students``
students (default 300) in one of its sections, drawn from cohorts of students who share
five courses (``students x courses / 5`` accounts). Then, each in a fresh process (its peak
RSS is the sync's, not the seeding's):

- ``first``: the term's first sync: every course room and section room created, every
  member added (bulk inserts), a room.added / participant.joined per person published;
- ``again``: the same sync once more: nothing to change (idempotent), the cost of a nightly
  run;
- ``churn``: after 5% of the roster changed (2.5% dropped the course, 2.5% changed section).

Reported per phase: wall time, SQL statements, peak RSS and the RSS before the sync (the
process's Django baseline), and the sync's own counts.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from bench import django_side
from bench.runner import RunContext

TITLE = "Course sync: rooms, sections and rosters of a term start (time, queries, peak RSS)"
PREFIX = "bench-sync-"
#: The courses a cohort of students shares (so accounts = students x courses / SHARED).
SHARED = 5
SECTIONS = 2


def seed(courses: int, students: int) -> dict[str, Any]:
    """Fresh courses, sections and enrolments (the bench's rooms of a previous run gone)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from courses.models import Course, Enrolment, Section
    from smartcampus_chat.models import ChatRoom, RoomType

    started = time.perf_counter()
    old = list(Course.objects.filter(code__startswith=PREFIX).values_list("pk", flat=True))
    ChatRoom.objects.filter(
        room_type=RoomType.COURSE, course_key__in=[str(k) for k in old]
    ).delete()
    Course.objects.filter(pk__in=old).delete()
    cohorts = max(1, courses // SHARED)
    accounts = cohorts * students + courses  # students, then one teacher per course
    user_model = get_user_model()
    names = [f"{PREFIX}u{i}" for i in range(accounts)]
    have = set(
        user_model.objects.filter(username__startswith=PREFIX).values_list("username", flat=True)
    )
    unusable = make_password(None)
    user_model.objects.bulk_create(
        [user_model(username=n, password=unusable) for n in names if n not in have],
        batch_size=5000,
    )
    ids = dict(user_model.objects.filter(username__startswith=PREFIX).values_list("username", "pk"))
    user_ids = [ids[name] for name in names]
    ends = date.today() + timedelta(days=90)
    made = Course.objects.bulk_create(
        [
            Course(code=f"{PREFIX}{i}", title=f"Bench course {i}", ends_on=ends)
            for i in range(courses)
        ],
        batch_size=5000,
    )
    sections = Section.objects.bulk_create(
        [
            Section(course=course, key=f"s{n}", name=f"Section {n}")
            for course in made
            for n in range(SECTIONS)
        ],
        batch_size=5000,
    )
    by_course: dict[int, list[Any]] = {}
    for section in sections:
        by_course.setdefault(section.course_id, []).append(section)
    batch: list[Any] = []
    enrolments = 0
    for index, course in enumerate(made):
        cohort = index % cohorts
        batch.append(
            Enrolment(course=course, user_id=user_ids[cohorts * students + index], role="teacher")
        )
        for j in range(students):
            batch.append(
                Enrolment(
                    course=course,
                    user_id=user_ids[cohort * students + j],
                    section=by_course[course.pk][j % SECTIONS],
                )
            )
        if len(batch) >= 20_000:
            Enrolment.objects.bulk_create(batch, batch_size=5000)
            enrolments += len(batch)
            batch = []
    Enrolment.objects.bulk_create(batch, batch_size=5000)
    enrolments += len(batch)
    return {
        "accounts": accounts,
        "enrolments": enrolments,
        "seed_s": round(time.perf_counter() - started, 1),
    }


def churn(fraction: float = 0.05) -> dict[str, Any]:
    """``fraction`` of the students' enrolments change: half dropped, half another section."""
    from django.db import connection
    from django.db.models import F

    from courses.models import Enrolment, Section

    students = Enrolment.objects.filter(course__code__startswith=PREFIX, role="student")
    step = round(1 / fraction)
    dropped = students.annotate(m=F("pk") % step).filter(m=0)
    moved = students.annotate(m=F("pk") % step).filter(m=step // 2)
    moved_count = 0
    other = {
        (s.course_id, s.key): s.pk
        for s in Section.objects.filter(course__code__startswith=PREFIX).only("course_id", "key")
    }
    changes = []
    for enrolment in moved.select_related("section").iterator(chunk_size=5000):
        key = "s1" if enrolment.section and enrolment.section.key == "s0" else "s0"
        enrolment.section_id = other[(enrolment.course_id, key)]
        changes.append(enrolment)
        moved_count += 1
    Enrolment.objects.bulk_update(changes, ["section"], batch_size=5000)
    # A host's bulk import: no signals (the example site's receivers would sync each course
    # at once, live), only the next sync sees the change.
    gone = list(dropped.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        for start in range(0, len(gone), 5000):
            cursor.execute(
                f"DELETE FROM {Enrolment._meta.db_table} WHERE id = ANY(%s)",
                [gone[start : start + 5000]],
            )
    return {"dropped": len(gone), "moved": moved_count}


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sync() -> dict[str, Any]:
    """One ``chat_sync_courses`` run in this (fresh) process: time, statements, RSS."""
    import resource

    from django.db import connection

    from smartcampus_chat import services

    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    connection.ensure_connection()
    before = _rss_kib()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        counts = services.sync_courses()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "sync_s": round(seconds, 1),
        "queries": statements,
        "rss_before_mib": round(before / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "courses": counts.courses,
        "rooms_created": counts.rooms_created + counts.sections_created,
        "joined": counts.joined,
        "removed": counts.removed,
        "roles_changed": counts.roles_changed,
        "changes": counts.changes,
        "failed_courses": counts.failed,
    }


def run(ctx: RunContext) -> list[dict[str, Any]]:
    courses = ctx.courses or (20 if ctx.quick else 1000)
    students = ctx.students or (30 if ctx.quick else 300)
    url = ctx.database_url
    ctx.ensure_migrated(url)
    ctx.log(f"course-sync: seeding {courses} courses x {students} students")
    seeded = django_side.call(url, seed, courses, students)
    ctx.log(f"course-sync: seeded {seeded}")
    rows = []
    for phase in ("first", "again", "churn"):
        extra: dict[str, Any] = {}
        if phase == "churn":
            extra = django_side.call(url, churn)
        row = django_side.call(url, sync)
        ctx.log(f"course-sync {phase}: {row} {extra}")
        result: dict[str, Any] = {
            "workload": "course-sync",
            "phase": phase,
            "courses": courses,
            "students": students,
            **seeded,
            **extra,
            **row,
        }
        if row["failed_courses"] or (phase == "again" and row["changes"]):
            result["failed"] = f"{row['failed_courses']} courses failed, {row['changes']} changes"
        rows.append(result)
    return rows
