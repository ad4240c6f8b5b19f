"""A room's participants: the member list, and participant rows looked up in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Q, QuerySet, Value, When

from smartcampus_chat.domain.policies import RoomAccess, get_policy
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


def moderators_and_staff(room: ChatRoom) -> list[tuple[Any, RoomAccess]]:
    """The people a moderators' frame of ``room`` may go to, each with their access as the
    policy decides it: the room's members with a moderator's or owner's role and the
    site's active staff (two queries). Whether each gets it is the caller's policy method
    (``can_review_reports``, ``can_see_acks``, ``can_hold_office_hours``)."""
    rows = {
        row.user_id: row
        for row in ChatParticipant.objects.filter(
            room=room, is_banned=False, role__in=[Role.MODERATOR, Role.OWNER]
        ).select_related("user")
    }
    people = {pk: row.user for pk, row in rows.items()}
    for user in get_user_model()._default_manager.filter(is_staff=True, is_active=True):
        people.setdefault(user.pk, user)
    policy = get_policy()
    return [(user, policy.access(user, room, rows.get(pk))) for pk, user in people.items()]
