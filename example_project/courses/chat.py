"""How this site tells smartcampus-chat who belongs to a course (see settings.SMARTCAMPUS_CHAT)."""

from __future__ import annotations

from typing import Any

from courses.models import Course, Enrolment

_CHAT_ROLE = {Enrolment.Role.TEACHER: "moderator", Enrolment.Role.STUDENT: "member"}


def course_role(user: Any, course: Course) -> str | None:
    role = Enrolment.objects.filter(course=course, user=user).values_list("role", flat=True).first()
    return _CHAT_ROLE.get(role) if role else None


def course_roles_for_user(user: Any) -> dict[Any, str]:
    return {
        course_id: _CHAT_ROLE[role]
        for course_id, role in Enrolment.objects.filter(user=user).values_list("course_id", "role")
    }
