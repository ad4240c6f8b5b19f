"""Typing notices: advisory, never stored; over the rate they are dropped, not refused."""

from __future__ import annotations

from typing import Any, Literal

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import PermissionDenied, RoomArchived
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.protocol.frames import Typing
from smartcampus_chat.protocol.render import user_ref


def check_typing(
    user: Any, room: ChatRoom, access: RoomAccess, state: Literal["started", "stopped"]
) -> Typing | None:
    """The ``typing`` frame to publish to ``room`` for ``user``, or None over the rate.

    Who may post may say they type (:class:`RoomArchived`, :class:`PermissionDenied`
    otherwise). Publishing is the caller's (an async door: nothing to commit first).
    """
    if room.is_archived:
        raise RoomArchived()
    if not access.can_post:
        raise PermissionDenied()
    if not ratelimit.allow_typing(user):
        return None
    return Typing(
        room=room.slug,
        user=user_ref(user),
        state=state,
        expires_in=app_settings.TYPING_TIMEOUT,
    )
