"""Read markers: unread counts are derived from the last message number a user read."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, Subquery, Value, When
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext as _

from smartcampus_chat import queries
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import NotFound, ValidationFailed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role
from smartcampus_chat.protocol.frames import ReadReceipt, UnreadUpdate
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.realtime import events
from smartcampus_chat.services.members import do_add_senders
from smartcampus_chat.services.notifications import do_read_up_to


def unread_count(user: Any, room: ChatRoom, last_read_seq: int) -> int:
    return (
        ChatMessage.objects.filter(room=room, seq__gt=last_read_seq, is_deleted=False)
        .exclude(sender=user)
        .count()
    )


def unread_frame(user: Any, room: ChatRoom, last_read_seq: int) -> UnreadUpdate:
    """``user``'s counts of ``room`` after their read marker ``last_read_seq``."""
    return UnreadUpdate(
        room=room.slug,
        unread=unread_count(user, room, last_read_seq),
        mentions=queries.unread_mentions(user, room, last_read_seq),
        last_read_seq=last_read_seq,
    )


def publish_unread(room: ChatRoom, user_ids: set[Any], *, after: int) -> None:
    """Send the members ``user_ids`` who have not read message ``after`` their counts
    again (a mention of them came or went with an edit): two queries each."""
    if not user_ids:
        return
    rows = ChatParticipant.objects.filter(
        room=room, user_id__in=user_ids, is_banned=False, last_read_seq__lt=after
    ).select_related("user")
    for row in rows:
        events.publish_to_user(row.user_id, unread_frame(row.user, room, row.last_read_seq))


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
        events.publish_to_user(user.pk, unread_frame(user, room, marker))
        do_read_up_to(user, room, marker)
        audience = queries.receipt_audience(room, user)
        if audience:
            receipt = ReadReceipt(room=room.slug, user=user_ref(user), last_read_seq=marker)
            for member_id in audience:
                events.publish_to_user(member_id, receipt)
    return marker


def do_mark_sent(sent: list[tuple[ChatRoom, Any, int]], moved: set[tuple[int, Any]] | None) -> None:
    """Sending reads the room up to one's own message; senders become participants.

    ``sent``: (room, sender, seq of the sender's last message in it), one per pair, in the
    caller's transaction. ``moved``: the (room id, sender id) pairs whose marker moved
    already (the send pipeline's PostgreSQL insert does it in its statement); None: move
    them here, one ``UPDATE`` per room whatever its number of senders. The senders without
    a participant row get one (:func:`.membership.do_add_senders`), in one insert.
    """
    if moved is None:
        moved = _move_markers(sent)
    do_add_senders(
        [
            ChatParticipant(room=room, user=user, role=Role.MEMBER, last_read_seq=seq)
            for room, user, seq in sent
            if (room.pk, user.pk) not in moved
        ]
    )


def _move_markers(sent: list[tuple[ChatRoom, Any, int]]) -> set[tuple[int, Any]]:
    """Move the senders' markers (a ``CASE`` over each room's senders); the pairs moved."""
    by_room: dict[int, dict[Any, int]] = defaultdict(dict)
    for room, user, seq in sent:
        by_room[room.pk][user.pk] = seq
    moved: set[tuple[int, Any]] = set()
    for room_id, seqs in by_room.items():
        marker = Case(
            *(When(user_id=user_id, then=Value(seq)) for user_id, seq in seqs.items()),
            output_field=IntegerField(),
        )
        rows = ChatParticipant.objects.filter(room_id=room_id, user_id__in=list(seqs))
        updated = rows.update(last_read_seq=Greatest("last_read_seq", marker))
        found = seqs if updated == len(seqs) else rows.values_list("user_id", flat=True)
        moved.update((room_id, user_id) for user_id in found)
    return moved
