"""A room's sanctions as its moderators see them: who is banned or muted, until when, why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcampus_chat.domain.policies import RoomAccess, banned_now, get_policy
from smartcampus_chat.exceptions import PermissionDenied
from smartcampus_chat.models import ChatParticipant, ChatRoom


@dataclass(frozen=True)
class Sanction:
    user: Any
    #: When it ends by itself (None: a removal, which has no end).
    until: datetime | None
    reason: str


def _check_moderator(access: RoomAccess, room: ChatRoom) -> None:
    if not get_policy().can_manage_room(access, room):
        raise PermissionDenied()


def room_bans(room: ChatRoom, access: RoomAccess) -> list[Sanction]:
    """The bans and removals in force in ``room``, newest end first; one query."""
    _check_moderator(access, room)
    rows = (
        ChatParticipant.objects.filter(banned_now(), room=room)
        .select_related("user")
        .order_by("user_id")
    )
    return [Sanction(row.user, row.banned_until, row.sanction_reason) for row in rows]
