"""The audit log: every moderation and staff action leaves one entry (docs/moderation.md).

:func:`record` is called by the ``do_*`` function of the action, inside its transaction:
the entry is stored if and only if the action is. Entries are never changed or deleted
(:class:`~smartcampus_chat.models.ChatAuditEntry`), apart from the labels a user's
erasure pseudonymises.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.identity import display_name
from smartcampus_chat.models import AuditAction, ChatAuditEntry, ChatRoom, RoomType

#: One entry per staff member and private conversation read within this many seconds.
PRIVATE_READ_WINDOW = 3600


def _label(user: Any) -> str:
    return display_name(user)[:150] if user is not None else ""


def record(
    actor: Any,
    action: AuditAction,
    *,
    room: ChatRoom | None = None,
    target_user: Any = None,
    message_id: int | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> ChatAuditEntry:
    """Append one entry. ``actor`` None: the site itself (a purge, a roster sync)."""
    return ChatAuditEntry.objects.create(
        actor=actor,
        actor_label=_label(actor),
        action=action,
        room=room,
        room_label=room.name[:120] if room is not None else "",
        target_user=target_user,
        target_label=_label(target_user),
        message_id=message_id,
        reason=reason[:500],
        details=details or {},
    )


def note_private_read(user: Any, room: ChatRoom, access: RoomAccess) -> None:
    """Log staff reading a private conversation they are not part of
    (``PRIVATE_AUDIT_BY_STAFF``): every door that shows one calls this after the access
    decision. One entry per person and conversation per hour (a cache key marks it), so
    that reading page after page does not bury the log."""
    if not access.read_only or access.role is not None or room.room_type != RoomType.PRIVATE:
        return
    if cache.add(f"smartcampus_chat:private-read:{user.pk}:{room.pk}", 1, PRIVATE_READ_WINDOW):
        record(user, AuditAction.PRIVATE_ROOM_READ, room=room)
