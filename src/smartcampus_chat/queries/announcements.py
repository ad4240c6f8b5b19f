"""Announcements (docs/announcements.md): who must acknowledge one, who has, what a member
still has to acknowledge in a room. Each read costs a fixed number of queries.

Who must acknowledge an announcement: the room's members who read it (roles member and
read-only, the policy's :meth:`~smartcampus_chat.domain.policies.ChatPolicy.must_acknowledge`),
active, not staff, not removed, and not its author. Moderators and staff post and follow
announcements; they are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.exceptions import NotFound, PermissionDenied
from smartcampus_chat.models import (
    ChatAnnouncementAck,
    ChatMessage,
    ChatParticipant,
    ChatRoom,
    MessageKind,
    Role,
)
from smartcampus_chat.queries.members import moderators_and_staff
from smartcampus_chat.queries.rooms import message_in_room

#: The participant roles asked to acknowledge (the policy's ``must_acknowledge``).
AUDIENCE_ROLES = (Role.MEMBER, Role.READ_ONLY)


def _audience_rows(room_id: int) -> QuerySet[ChatParticipant]:
    return (
        ChatParticipant.objects.filter(
            room_id=room_id,
            role__in=AUDIENCE_ROLES,
            is_banned=False,
            user__is_active=True,
            user__is_staff=False,
        )
        .select_related("user")
        .order_by(f"user__{get_user_model().USERNAME_FIELD}", "user_id")
    )


def audience(message: ChatMessage) -> QuerySet[ChatParticipant]:
    """The participant rows of those asked to acknowledge ``message``, with their users."""
    rows = _audience_rows(message.room_id)
    return rows if message.sender_id is None else rows.exclude(user_id=message.sender_id)


def audience_ids(message: ChatMessage) -> set[int]:
    return set(audience(message).values_list("user_id", flat=True))


@dataclass(frozen=True)
class AckRow:
    user: Any
    acked_at: datetime | None


@dataclass(frozen=True)
class AckStatus:
    """Who acknowledged an announcement and who has not yet (members asked to, by name)."""

    message: ChatMessage
    acknowledged: list[AckRow]
    pending: list[AckRow]

    @property
    def acked(self) -> int:
        return len(self.acknowledged)

    @property
    def total(self) -> int:
        return len(self.acknowledged) + len(self.pending)


def ack_status(message: ChatMessage) -> AckStatus:
    """The acknowledgements of ``message`` by the members asked: two queries."""
    (status,) = ack_statuses(message.room_id, [message])
    return status


def ack_statuses(room_id: int, messages: list[ChatMessage]) -> list[AckStatus]:
    """:func:`ack_status` of each of ``messages`` (announcements of room ``room_id``):
    two queries whatever their number."""
    if not messages:
        return []
    members = list(_audience_rows(room_id))
    acks: dict[int, dict[int, datetime]] = {message.pk: {} for message in messages}
    rows = ChatAnnouncementAck.objects.filter(message__in=messages).values_list(
        "message_id", "user_id", "acked_at"
    )
    for message_id, user_id, acked_at in rows:
        acks[message_id][user_id] = acked_at
    statuses = []
    for message in messages:
        done: list[AckRow] = []
        waiting: list[AckRow] = []
        for row in members:
            if row.user_id == message.sender_id:
                continue
            when = acks[message.pk].get(row.user_id)
            (waiting if when is None else done).append(AckRow(row.user, when))
        statuses.append(AckStatus(message, done, waiting))
    return statuses


#: Announcements a room's page lists for its moderators, newest first.
PAGE_ANNOUNCEMENTS = 20


def room_ack_statuses(room: ChatRoom) -> list[AckStatus]:
    """The acknowledgements of ``room``'s latest announcements asking for them (the
    moderators' panel): three queries."""
    messages = list(
        ChatMessage.objects.filter(
            room=room, kind=MessageKind.ANNOUNCEMENT, requires_ack=True, is_deleted=False
        ).order_by("-seq")[:PAGE_ANNOUNCEMENTS]
    )
    return ack_statuses(room.pk, messages)


def ack_counts(message: ChatMessage) -> tuple[int, int]:
    """(acknowledged, asked) for ``message``: two queries."""
    asked = audience_ids(message)
    acked = ChatAnnouncementAck.objects.filter(message=message, user_id__in=asked).count()
    return acked, len(asked)


def acks_message(user: Any, slug: str, message_id: Any) -> tuple[ChatMessage, RoomAccess]:
    """An announcement asking for acknowledgement whose list ``user`` may read: NotFound
    for a message they do not see (or not such an announcement), PermissionDenied for a
    member."""
    message, access = message_in_room(user, slug, message_id)
    if message.kind != MessageKind.ANNOUNCEMENT or not message.requires_ack:
        raise NotFound()
    if not get_policy().can_see_acks(user, access, message.room):
        raise PermissionDenied()
    return message, access


def pending_announcements(user: Any, room: ChatRoom, access: RoomAccess) -> list[ChatMessage]:
    """The announcements of ``room`` that ``user`` is asked to acknowledge and has not,
    oldest first: one query (none for someone not asked), plus ``shown()``'s."""
    if not get_policy().must_acknowledge(user, access):
        return []
    return list(
        ChatMessage.objects.filter(
            room=room, kind=MessageKind.ANNOUNCEMENT, requires_ack=True, is_deleted=False
        )
        .exclude(sender_id=user.pk)
        .exclude(acks__user_id=user.pk)
        .shown()
        .order_by("seq")
    )


def ack_viewer_ids(room: ChatRoom) -> list[int]:
    """Who is told live of an acknowledgement in ``room``: its moderators and owners, and
    the site's active staff, each confirmed by the policy (``can_see_acks``)."""
    policy = get_policy()
    return sorted(
        user.pk
        for user, access in moderators_and_staff(room)
        if policy.can_see_acks(user, access, room)
    )


def due_announcements(now: datetime, before: datetime) -> QuerySet[ChatMessage]:
    """Announcements asking for acknowledgement, not deleted, due between ``now`` and
    ``before`` (the reminder's window)."""
    return ChatMessage.objects.filter(
        kind=MessageKind.ANNOUNCEMENT,
        requires_ack=True,
        is_deleted=False,
        ack_due__gt=now,
        ack_due__lte=before,
    ).select_related("room", "sender")


def unacknowledged_ids(message: ChatMessage) -> list[int]:
    """The people asked to acknowledge ``message`` who have not: one query."""
    acked = ChatAnnouncementAck.objects.filter(message=message).values("user_id")
    return sorted(audience(message).exclude(user_id__in=acked).values_list("user_id", flat=True))
