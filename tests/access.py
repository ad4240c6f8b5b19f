"""The world shared by the access tables (tests/test_access_table.py and
tests/test_policy_matrix.py): users, one room of each type, and a case to try the actions on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group

from courses.models import Course
from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType


@dataclass
class World:
    users: dict[str, Any]
    rooms: dict[str, ChatRoom]


@dataclass
class Case:
    """An actor and a room, with a message of the actor's own and one of someone else's."""

    actor: Any
    room: ChatRoom
    own: ChatMessage
    other: ChatMessage


def create_rooms(
    owner: Any, group: Group, course: Course, *, course_room: str
) -> dict[str, ChatRoom]:
    """The ``public``, ``group`` and ``course`` rooms, created by ``owner``."""
    return {
        "public": services.do_create_room(owner, name="Lobby", room_type=RoomType.PUBLIC),
        "group": services.do_create_room(
            owner, name="Robots", room_type=RoomType.GROUP, group=group
        ),
        "course": services.do_create_room(
            owner, name=course_room, room_type=RoomType.COURSE, course=course
        ),
    }


def write_case(actor: Any, room: ChatRoom, *, author: Any, other_author: Any) -> Case:
    """Messages written with ``do_send_message`` (no checks): as if sent before access changed."""
    own = services.do_send_message(author, room, "my own words").message
    other = services.do_send_message(other_author, room, "someone else's").message
    return Case(actor=actor, room=room, own=own, other=other)
