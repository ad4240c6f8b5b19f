"""A course's chat room, for host code and the ``{% chat_room_for_course %}`` tag."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.text import slugify

from smartcampus_chat.domain import courses
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.models import ChatRoom, RoomType


def course_room_slug(course: models.Model) -> str:
    """The slug of the room the system creates for ``course`` (stable: one per course)."""
    return f"course-{slugify(courses.course_key(course))}"[:80]


def room_for_course(course: models.Model) -> ChatRoom | None:
    """The course's room: the one the system created, else the oldest course room of it."""
    rooms = ChatRoom.objects.filter(
        room_type=RoomType.COURSE, course_key=courses.course_key(course)
    ).order_by("pk")
    system = rooms.filter(slug=course_room_slug(course)).first()
    return system or rooms.first()


def visible_room_for_course(user: Any, course: models.Model) -> ChatRoom | None:
    """:func:`room_for_course` if ``user`` may see it, else None."""
    room = room_for_course(course)
    if room is None or not get_policy().access(user, room).can_see:
        return None
    return room
