"""How this site tells smartcampus-chat who belongs to a course (see settings.SMARTCAMPUS_CHAT).

The per-person resolvers answer the pages; the bulk hooks (``course_roster``,
``course_sections``) answer ``manage.py chat_sync_courses`` in one query per course.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from courses.models import Course, Enrolment, Section

_CHAT_ROLE = {Enrolment.Role.TEACHER: "moderator", Enrolment.Role.STUDENT: "member"}


def course_role(user: Any, course: Course) -> str | None:
    role = Enrolment.objects.filter(course=course, user=user).values_list("role", flat=True).first()
    return _CHAT_ROLE.get(role) if role else None


def course_roles_for_user(user: Any) -> dict[Any, str]:
    return {
        course_id: _CHAT_ROLE[role]
        for course_id, role in Enrolment.objects.filter(user=user).values_list("course_id", "role")
    }


def course_roster(course: Course) -> Iterator[tuple[int, str, list[str]]]:
    """Everyone of ``course`` at once: (user id, chat role, the keys of their sections)."""
    rows = Enrolment.objects.filter(course=course).values_list("user_id", "role", "section__key")
    for user_id, role, section in rows.iterator(chunk_size=1000):
        yield user_id, _CHAT_ROLE[role], [section] if section else []


def course_sections(course: Course) -> Iterator[tuple[str, str]]:
    """The sections of ``course``: (key, name)."""
    yield from Section.objects.filter(course=course).values_list("key", "name")
