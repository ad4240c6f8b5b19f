"""Read markers: unread counts are derived from the last message number a user read."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Subquery, Value
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext as _

from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import NotFound, ValidationFailed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom
from smartcampus_chat.protocol.frames import UnreadUpdate
from smartcampus_chat.realtime import events


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
    ratelimit.check_rate("read", user)
    return do_mark_read(user, room, seq)


def do_mark_read(user: Any, room: ChatRoom, seq: int) -> int:
    """Move the user's read marker forward to ``seq`` (never back, never past the end).

    A read that does not move the marker (already read, repeated, past the end) writes
    nothing and publishes nothing: it only answers the marker.
    """
    room_end = Subquery(ChatRoom.objects.filter(pk=room.pk).values("last_seq")[:1])
    target = Least(Value(seq), room_end)
    with transaction.atomic():
        mine = ChatParticipant.objects.filter(room=room, user=user, is_banned=False)
        moved = mine.filter(last_read_seq__lt=target).update(
            last_read_seq=Greatest("last_read_seq", target)
        )
        marker = mine.values_list("last_read_seq", flat=True).first()
        if marker is None:
            return 0
        if not moved:
            return marker
        unread = unread_count(user, room, marker)
        events.publish_to_user(
            user.pk, UnreadUpdate(room=room.slug, unread=unread, last_read_seq=marker)
        )
    return marker
