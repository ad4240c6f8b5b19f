"""Notifications (docs/notifications.md): the notify step, reading them, room levels.

**The notify step** (:func:`do_notify`) runs once per stored batch of messages, after the
batch's transaction commits (the send pipeline hands it the batch: no message is ever
held up or lost by it; an error here is logged, the messages stay sent). It decides the
recipients with one query whatever the rooms' sizes
(:func:`~smartcampus_chat.queries.notifications.notify_candidates`: the people marked,
replied to or in a private room, and those who chose "all"), applies the rules of
:mod:`smartcampus_chat.domain.notifications`, writes the notifications and their
deliveries (Web Push, e-mail: the idempotency keys the worker claims) in one transaction,
then tells each person's sockets (``notification``) and wakes the delivery worker. A
message that marks nobody, in a room where nobody chose "all", costs that one query and
nothing per member.

Reading: a notification is read when its person marks it so
(:func:`check_mark_notifications_read`) or reads the room past its message
(:func:`do_read_up_to`, called by the read marker); a deleted message's notifications are
read at once (:func:`do_message_deleted`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import notifications as rules
from smartcampus_chat.domain.policies import RoomAccess, get_policy, is_active_user
from smartcampus_chat.exceptions import NotFound, PermissionDenied, ValidationFailed
from smartcampus_chat.infra import jobs, ratelimit
from smartcampus_chat.models import (
    ChatMessage,
    ChatNotification,
    ChatNotificationDelivery,
    ChatParticipant,
    ChatRoom,
    DeliveryChannel,
    MessageKind,
    NotificationKind,
    NotifyLevel,
    RoomType,
)
from smartcampus_chat.protocol.frames import NotificationFrame, NotificationsReadUpdate
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.queries import notifications as reads
from smartcampus_chat.realtime import events

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notable:
    """A stored message the notify step looks at, with what the send knew of it."""

    message: ChatMessage
    room: ChatRoom
    #: The sender (None: a system message, which notifies nobody).
    author: Any
    mentioned: frozenset[int] = frozenset()
    everyone: bool = False
    #: Only these kinds (an edit notifies only whom it newly mentions).
    only_mentions: bool = False


def after_commit(notables: list[Notable]) -> None:
    """Run the notify step for ``notables`` once the caller's transaction commits; an
    error there is logged and never reaches the sender (``robust``)."""
    if notables and app_settings.NOTIFICATIONS:
        transaction.on_commit(lambda: do_notify(notables), robust=True)


def _reply_author(notable: Notable) -> int | None:
    parent = notable.message.reply_to if notable.message.reply_to_id is not None else None
    return parent.sender_id if parent is not None else None


def _everyone_rooms(notables: Sequence[Notable]) -> set[int]:
    """Rooms where every member is looked at: ``@everyone``, private rooms, and types whose
    default level is "all" (a site's choice, documented as costly in large rooms)."""
    return {
        n.room.pk
        for n in notables
        if n.everyone
        or n.room.room_type == RoomType.PRIVATE
        or (not n.only_mentions and rules.effective_level("", n.room.room_type) == NotifyLevel.ALL)
    }


def _kinds(notable: Notable, user_id: int, reply_author: int | None) -> set[str]:
    kinds: set[str] = set()
    if user_id in notable.mentioned or notable.everyone:
        kinds.add(NotificationKind.MENTION)
    if notable.only_mentions:
        return kinds
    if user_id == reply_author:
        kinds.add(NotificationKind.REPLY)
    if notable.room.room_type == RoomType.PRIVATE:
        kinds.add(NotificationKind.PRIVATE)
    kinds.add(NotificationKind.MESSAGE)
    return kinds


def _notable_kind(message: ChatMessage) -> bool:
    """A person's message, or an announcement nobody is asked to acknowledge (one that
    asks notifies its members itself: :mod:`.announcements`)."""
    if message.kind == MessageKind.ANNOUNCEMENT:
        return not message.requires_ack
    return message.kind == MessageKind.USER


def plan(notables: Sequence[Notable], now: datetime) -> list[ChatNotification]:
    """The notifications ``notables`` make (unsaved), by the rules: one query."""
    notables = [n for n in notables if _notable_kind(n.message) and n.author is not None]
    if not notables:
        return []
    replied = {n.message.pk: _reply_author(n) for n in notables}
    named = {pk for n in notables for pk in n.mentioned} | {
        pk for pk in replied.values() if pk is not None
    }
    candidates = reads.notify_candidates(
        {n.room.pk for n in notables}, named, _everyone_rooms(notables)
    )
    by_room: dict[int, list[reads.Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_room[candidate.room_id].append(candidate)
    seeing = _who_sees(notables, by_room)
    rows = []
    for notable in notables:
        found = by_room[notable.room.pk]
        # A person marked who is not a member (a public room they can read without
        # joining: the mention resolver only marks people who see the room) is notified
        # at the room's default level.
        members = {candidate.user_id for candidate in found}
        outsiders = [
            reads.Candidate(notable.room.pk, pk, "", None)
            for pk in sorted(notable.mentioned - members)
        ]
        for candidate in [*found, *outsiders]:
            if candidate.user_id == notable.author.pk or candidate.banned:
                continue
            if candidate.user_id not in seeing[notable.room.pk]:
                continue
            if rules.is_muted(candidate.muted_until, now):
                continue
            level = rules.effective_level(candidate.notify_level, notable.room.room_type)
            kinds = _kinds(notable, candidate.user_id, replied[notable.message.pk])
            admitted = {kind for kind in kinds if rules.level_admits(level, kind)}
            if admitted:
                rows.append(
                    ChatNotification(
                        user_id=candidate.user_id,
                        kind=rules.strongest(admitted),
                        room=notable.room,
                        message=notable.message,
                        # An anonymous post's notification names nobody, on every
                        # channel (in-app, push, e-mail, digest).
                        actor=None if notable.message.anonymous else notable.author,
                        created_at=now,
                    )
                )
    return rows


def _who_sees(
    notables: Sequence[Notable], by_room: dict[int, list[reads.Candidate]]
) -> dict[int, set[int]]:
    """{room id: the people considered there who may see it}, asked of the policy: a
    membership row outlives a group left or a course dropped (the sockets re-check; the
    row stays), and a notification carries the message's text. One query for the people,
    then the policy's own (none for public and private rooms)."""
    considered: dict[int, set[int]] = defaultdict(set)
    rooms: dict[int, ChatRoom] = {}
    for notable in notables:
        rooms[notable.room.pk] = notable.room
        considered[notable.room.pk] |= notable.mentioned
    for room_id, found in by_room.items():
        considered[room_id] |= {candidate.user_id for candidate in found}
    wanted = set().union(*considered.values())
    if not wanted:
        return defaultdict(set)
    people = reads.people(wanted)
    policy = get_policy()
    return defaultdict(
        set,
        {
            room_id: policy.who_sees(
                room, [people[pk] for pk in considered[room_id] if pk in people]
            )
            for room_id, room in rooms.items()
        },
    )


def do_notify(notables: list[Notable]) -> list[ChatNotification]:
    """The notify step: write the notifications of ``notables`` and their deliveries, tell
    the recipients' sockets, wake the worker. Returns the notifications written."""
    now = timezone.now()
    rows = plan(notables, now)
    if not rows:
        return []
    recipients = {row.user_id for row in rows}
    preferences = reads.preferences_by_user(recipients)
    with transaction.atomic():
        if any(n.only_mentions for n in notables):
            rows = _drop_known(rows)
        rows = _insert(rows)
        deliveries = _deliveries(rows, preferences, now)
        if deliveries:
            ChatNotificationDelivery.objects.bulk_create(deliveries)
        _publish_new(rows, preferences, now)
    if deliveries:
        jobs.wake(jobs.NOTIFICATIONS)
    return rows


def do_notify_people(
    message: ChatMessage, user_ids: Iterable[int], kind: str, *, replace: bool = False
) -> list[ChatNotification]:
    """Notify ``user_ids`` of ``message`` as ``kind`` whatever their rooms' levels (an
    announcement to acknowledge: :mod:`.announcements`), through the same rows,
    deliveries and frames as the notify step. ``replace``: a reminder, which takes the
    place of the person's earlier notification of that message (one per person and
    message; its deliveries not sent yet go with it)."""
    wanted = sorted(set(user_ids))
    if not wanted or not app_settings.NOTIFICATIONS:
        return []
    now = timezone.now()
    preferences = reads.preferences_by_user(wanted)
    rows = [
        ChatNotification(
            user_id=pk,
            kind=kind,
            room=message.room,
            message=message,
            actor=None if message.anonymous else message.sender,
            created_at=now,
        )
        for pk in wanted
    ]
    with transaction.atomic():
        known = ChatNotification.objects.filter(message=message, user_id__in=wanted)
        if replace:
            known.delete()
        else:
            had = set(known.values_list("user_id", flat=True))
            rows = [row for row in rows if row.user_id not in had]
        rows = _insert(rows)
        deliveries = _deliveries(rows, preferences, now)
        if deliveries:
            ChatNotificationDelivery.objects.bulk_create(deliveries)
        _publish_new(rows, preferences, now)
    if deliveries:
        jobs.wake(jobs.NOTIFICATIONS)
    return rows


def _drop_known(rows: list[ChatNotification]) -> list[ChatNotification]:
    """An edit's mentions: not those already notified of that message."""
    known = set(
        ChatNotification.objects.filter(
            message_id__in={row.message_id for row in rows}
        ).values_list("message_id", "user_id")
    )
    return [row for row in rows if (row.message_id, row.user_id) not in known]


def _insert(rows: list[ChatNotification]) -> list[ChatNotification]:
    """Insert ``rows``, their ids set (read back where the database returns none)."""
    if not rows:
        return rows
    created = ChatNotification.objects.bulk_create(rows)
    if all(row.pk is not None for row in created):
        return created
    ids = {
        (message_id, user_id): pk
        for pk, message_id, user_id in ChatNotification.objects.filter(
            message_id__in={row.message_id for row in rows},
            user_id__in={row.user_id for row in rows},
        ).values_list("pk", "message_id", "user_id")
    }
    for row in created:
        row.pk = ids[(row.message_id, row.user_id)]
    return created


def _deliveries(
    rows: list[ChatNotification], preferences: dict[int, Any], now: datetime
) -> list[ChatNotificationDelivery]:
    """A delivery per notification and channel the site offers and the person keeps on
    (checked again when it is due: they may change their mind meanwhile)."""
    deliveries = []
    for row in rows:
        prefs = preferences[row.user_id]
        if rules.channel_enabled(prefs, "push"):
            deliveries.append(
                ChatNotificationDelivery(notification=row, channel=DeliveryChannel.PUSH, due_at=now)
            )
        if row.kind in rules.DIGEST_KINDS and rules.channel_enabled(prefs, "email"):
            deliveries.append(
                ChatNotificationDelivery(
                    notification=row,
                    channel=DeliveryChannel.EMAIL,
                    due_at=now + rules.digest_delay(prefs),
                )
            )
    return deliveries


def _unread_counts(user_ids: Iterable[int]) -> dict[int, int]:
    counts = (
        ChatNotification.objects.filter(user_id__in=set(user_ids), read_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
    )
    return dict(counts)


def _publish_new(rows: list[ChatNotification], preferences: dict[int, Any], now: datetime) -> None:
    counts = _unread_counts(row.user_id for row in rows)
    actors: dict[int, Any] = {}
    frames: list[tuple[int, Any]] = []
    for row in rows:
        actor = actors.get(row.actor_id or 0)
        if actor is None and row.actor is not None:
            actor = actors[row.actor.pk] = user_ref(row.actor)
        prefs = preferences[row.user_id]
        browser = rules.channel_enabled(prefs, "browser") and not rules.in_quiet_hours(prefs, now)
        frame = NotificationFrame(
            notification=reads.render(row),
            unread=counts.get(row.user_id, 0),
            browser=browser,
        )
        frames.append((row.user_id, frame))
    events.publish_many_to_users(frames)


def _valid_ids(ids: Any) -> list[int]:
    if not isinstance(ids, list) or len(ids) > 500:
        raise ValidationFailed(fields={"ids": [_("Must be a list of at most 500 ids.")]})
    for pk in ids:
        if not isinstance(pk, int) or isinstance(pk, bool) or pk < 1:
            raise ValidationFailed(fields={"ids": [_("Must be a list of notification ids.")]})
    return ids


def check_mark_notifications_read(user: Any, ids: Any = None, *, everything: Any = False) -> int:
    """Mark ``user``'s notifications ``ids`` (or all, ``everything``) read: the unread
    count after. Ids of other people's notifications are ignored, never revealed."""
    if not is_active_user(user):
        raise PermissionDenied()
    if not isinstance(everything, bool):
        raise ValidationFailed(fields={"all": [_("Must be true or false.")]})
    wanted = _valid_ids(ids if ids is not None else [])
    if not wanted and not everything:
        raise ValidationFailed(fields={"ids": [_("Name the notifications, or all of them.")]})
    ratelimit.check_rate("read", user)
    return do_mark_notifications_read(user, None if everything else wanted)


def do_mark_notifications_read(user: Any, ids: list[int] | None) -> int:
    """Mark read ``ids`` of ``user``'s notifications, or all when None."""
    with transaction.atomic():
        unread = ChatNotification.objects.filter(user=user, read_at__isnull=True)
        if ids is not None:
            unread = unread.filter(pk__in=ids)
        marked = list(unread.values_list("pk", flat=True)) if ids is not None else []
        changed = unread.update(read_at=timezone.now())
        left = reads.unread_notification_count(user)
        if changed:
            events.publish_to_user(
                user.pk, NotificationsReadUpdate(ids=marked, all=ids is None, unread=left)
            )
    return left


def _read_these(user: Any, unread: QuerySet[ChatNotification]) -> None:
    """Mark ``unread`` (some of ``user``'s notifications) read and tell their sockets; one
    query when there are none."""
    marked = list(unread.filter(read_at__isnull=True).values_list("pk", flat=True))
    if not marked:
        return
    ChatNotification.objects.filter(pk__in=marked).update(read_at=timezone.now())
    left = reads.unread_notification_count(user)
    events.publish_to_user(user.pk, NotificationsReadUpdate(ids=marked, all=False, unread=left))


def do_read_up_to(user: Any, room: ChatRoom, seq: int) -> None:
    """``user`` read ``room`` up to message ``seq``: its notifications there are read too.
    In the caller's transaction (the read marker's)."""
    _read_these(user, ChatNotification.objects.filter(user=user, room=room, message__seq__lte=seq))


def do_room_left(user: Any, room: ChatRoom) -> None:
    """``user`` left or was removed from ``room``: its notifications are read (the bell
    stops counting what they can no longer open; the list no longer shows them where the
    policy says they do not see the room). In the caller's transaction."""
    _read_these(user, ChatNotification.objects.filter(user=user, room=room))


def do_message_deleted(message: ChatMessage) -> None:
    """A deleted message's notifications are read at once (the bell stops counting what
    nobody can read); their deliveries are dropped when due (the worker looks)."""
    unread = list(
        ChatNotification.objects.filter(message=message, read_at__isnull=True).values_list(
            "pk", "user_id"
        )
    )
    if not unread:
        return
    ChatNotification.objects.filter(pk__in=[pk for pk, _user in unread]).update(
        read_at=timezone.now()
    )
    counts = _unread_counts(user for _pk, user in unread)
    by_user: dict[int, list[int]] = defaultdict(list)
    for pk, user_id in unread:
        by_user[user_id].append(pk)
    events.publish_many_to_users(
        [
            (user_id, NotificationsReadUpdate(ids=marked, all=False, unread=counts.get(user_id, 0)))
            for user_id, marked in by_user.items()
        ]
    )


def room_notifications(user: Any, room: ChatRoom, access: RoomAccess) -> reads.RoomNotify:
    """``user``'s settings for ``room`` (a member's only: NotFound otherwise)."""
    row = _membership(user, room, access)
    return reads.room_notify(row, room)


def _membership(user: Any, room: ChatRoom, access: RoomAccess) -> ChatParticipant:
    if not access.can_see:
        raise NotFound()
    row = ChatParticipant.objects.filter(room=room, user=user, is_banned=False).first()
    if row is None:
        raise NotFound()
    return row


_LEVELS = ("", *NotifyLevel.values)


def check_set_room_notifications(
    user: Any, room: ChatRoom, access: RoomAccess, *, level: Any, muted_until: Any
) -> reads.RoomNotify:
    """Set ``user``'s level for ``room`` ("" for the site's default) and mute it until
    ``muted_until`` (None: not muted). Members only."""
    errors: dict[str, list[str]] = {}
    if level not in _LEVELS:
        errors["level"] = [_('Must be "", "all", "mentions" or "nothing".')]
    if muted_until is not None and not isinstance(muted_until, datetime):
        errors["muted_until"] = [_("Must be a date and time, or null.")]
    elif isinstance(muted_until, datetime) and timezone.is_naive(muted_until):
        errors["muted_until"] = [_("Give a time zone with the date and time.")]
    if errors:
        raise ValidationFailed(fields=errors)
    row = _membership(user, room, access)
    return do_set_room_notifications(row, room, level=level, muted_until=muted_until)


def do_set_room_notifications(
    row: ChatParticipant, room: ChatRoom, *, level: str, muted_until: datetime | None
) -> reads.RoomNotify:
    now = timezone.now()
    if muted_until is not None and muted_until <= now:
        muted_until = None
    row.notify_level, row.muted_until = level, muted_until
    row.save(update_fields=["notify_level", "muted_until"])
    return reads.room_notify(row, room)
