"""Read markers: unread counts are derived from the last message number a user read."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Subquery
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext as _

from smartcampus_chat import events
from smartcampus_chat.exceptions import NotFound, ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom
from smartcampus_chat.policies import RoomAccess
from smartcampus_chat.schema import UnreadUpdate


def unread_count(user: Any, room: ChatRoom, last_read_seq: int) -> int:
    return (
        ChatMessage.objects.filter(room=room, seq__gt=last_read_seq, is_deleted=False)
        .exclude(sender=user)
        .count()
    )


def check_mark_read(user: Any, room: ChatRoom, seq: Any, access: RoomAccess) -> int:
    if not access.can_see:
        raise NotFound()
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValidationFailed(fields={"seq": [_("Must be a message number (0 or more).")]})
    return do_mark_read(user, room, seq)


def do_mark_read(user: Any, room: ChatRoom, seq: int) -> int:
    """Move the user's read marker forward to ``seq`` (never back, never past the end)."""
    room_end = Subquery(ChatRoom.objects.filter(pk=room.pk).values("last_seq")[:1])
    with transaction.atomic():
        updated = ChatParticipant.objects.filter(room=room, user=user, is_banned=False).update(
            last_read_seq=Greatest("last_read_seq", Least(seq, room_end))
        )
        if not updated:
            return 0
        marker = ChatParticipant.objects.values_list("last_read_seq", flat=True).get(
            room=room, user=user
        )
        unread = unread_count(user, room, marker)
        events.publish_to_user(
            user.pk, UnreadUpdate(room=room.slug, unread=unread, last_read_seq=marker)
        )
    return marker
