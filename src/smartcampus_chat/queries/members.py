"""A room's participants: the member list, and participant rows looked up in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Q, QuerySet, Value, When

from smartcampus_chat.models import ChatParticipant, ChatRoom, Role


def participants(room: ChatRoom) -> QuerySet[ChatParticipant]:
    """A room's participants: online first, then owners, moderators, members, by name."""
    rank = Case(
        When(role=Role.OWNER, then=Value(0)),
        When(role=Role.MODERATOR, then=Value(1)),
        default=Value(2),
    )
    return (
        ChatParticipant.objects.filter(room=room, is_banned=False)
        .select_related("user")
        .order_by("-is_online", rank, f"user__{get_user_model().USERNAME_FIELD}")
    )


def participant_rows(
    pairs: Iterable[tuple[Any, int]],
) -> dict[tuple[Any, int], ChatParticipant]:
    """The participant rows of ``(user id, room id)`` pairs, in one query (for the policy,
    which would read one row per pair); pairs without a row, or a user id, are absent."""
    users_by_room: dict[int, set[Any]] = defaultdict(set)
    for user_id, room_id in pairs:
        if user_id is not None:
            users_by_room[room_id].add(user_id)
    if not users_by_room:
        return {}
    condition = Q()
    for room_id, user_ids in users_by_room.items():
        condition |= Q(room_id=room_id, user_id__in=user_ids)
    return {
        (participant.user_id, participant.room_id): participant
        for participant in ChatParticipant.objects.filter(condition).order_by()
    }
