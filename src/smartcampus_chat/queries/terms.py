"""What a course sync reads: a course's rooms and their members, a fixed number of queries
per course whatever its size (tests/test_terms.py pins it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from smartcampus_chat.models import ChatParticipant, ChatRoom, RoomType


@dataclass(frozen=True)
class Member:
    """One participant row of a course room, as the roster diff needs it."""

    user_id: int
    role: str
    is_banned: bool
    is_staff: bool


def course_rooms(course_key: str) -> list[ChatRoom]:
    """Every room of the course (its main room and its sections' rooms), oldest first."""
    return list(
        ChatRoom.objects.filter(room_type=RoomType.COURSE, course_key=course_key).order_by("pk")
    )


def room_members(rooms: list[ChatRoom]) -> dict[int, dict[int, Member]]:
    """{room id: {user id: member}} of ``rooms``, in one query."""
    members: dict[int, dict[int, Member]] = {room.pk: {} for room in rooms}
    rows = ChatParticipant.objects.filter(room__in=[room.pk for room in rooms]).values_list(
        "room_id", "user_id", "role", "is_banned", "user__is_staff"
    )
    for room_id, user_id, role, is_banned, is_staff in rows:
        members[room_id][user_id] = Member(user_id, role, is_banned, is_staff)
    return members


def active_user_ids(user_ids: set[int]) -> set[int]:
    """Which of ``user_ids`` are active accounts (one query)."""
    users = get_user_model()._default_manager.filter(pk__in=list(user_ids), is_active=True)
    return set(users.values_list("pk", flat=True))


def users_by_id(user_ids: set[int]) -> dict[int, Any]:
    """The users ``user_ids`` (one query; none when the set is empty)."""
    if not user_ids:
        return {}
    return {user.pk: user for user in get_user_model()._default_manager.filter(pk__in=user_ids)}
