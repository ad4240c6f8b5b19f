"""The retention purge: delete for good the messages whose room's rule says they expired,
and deleted messages past their grace period (docs/retention.md).

:func:`do_purge_expired` is the scheduled job's hook (``manage.py chat_purge_messages``
calls it; a host may call it from Celery or cron). It works a batch at a time, each batch
its own short transaction, messages taken in order (by ``seq`` in a room, by id for
deleted ones), so the locks it holds last one batch. A batch deletes the messages and
everything that hangs off them (reactions, mentions, notifications and their deliveries,
link previews, attachments, and whatever a later table cascades from a message), and
their stored files once it has committed.

Clients stay consistent without a change number being spent or reused (the room's
counters are not touched): before a batch deletes, the room's purge marks move
(``purged_through_seq``: no message numbered up to it exists any more;
``purged_event_seq``: the newest change number of a deleted message purged out of order),
in a transaction of their own so that the batch never waits for the room's row lock
(sends hold it) nor holds it while deleting. Reads hide what is at or below the watermark
already; after the batch commits, open rooms get ``messages.purged``; a client resuming
later gets the marks in ``resumed`` (the documented gap).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import retention as rules
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.exceptions import PermissionDenied
from smartcampus_chat.infra import file_store
from smartcampus_chat.models import (
    AuditAction,
    ChatAttachment,
    ChatLinkPreview,
    ChatMention,
    ChatMessage,
    ChatNotification,
    ChatNotificationDelivery,
    ChatReaction,
    ChatReport,
    ChatRoom,
    RetentionKind,
)
from smartcampus_chat.protocol.frames import MessagesPurged
from smartcampus_chat.realtime import events
from smartcampus_chat.services import audit
from smartcampus_chat.services.attachments import stored_names

#: The rows :class:`PurgeCounts` reports by kind, by the model they are counted from
#: (Django's deletion counts, keyed by model label).
_KINDS = {
    ChatMessage._meta.label: "messages",
    ChatReaction._meta.label: "reactions",
    ChatMention._meta.label: "mentions",
    ChatNotification._meta.label: "notifications",
    ChatNotificationDelivery._meta.label: "deliveries",
    ChatLinkPreview._meta.label: "link_previews",
    ChatAttachment._meta.label: "attachments",
    ChatReport._meta.label: "reports",
}


@dataclass
class PurgeCounts:
    """What a purge deleted (or, in a dry run, would delete)."""

    messages: int = 0
    reactions: int = 0
    mentions: int = 0
    notifications: int = 0
    deliveries: int = 0
    link_previews: int = 0
    attachments: int = 0
    #: Reports of the purged messages (their copy of the text goes too).
    reports: int = 0
    #: Stored files: attachments, their thumbnails, link preview images.
    files: int = 0
    #: Rows of other tables that cascade from a message (model label -> rows).
    other: dict[str, int] = field(default_factory=dict)
    #: Rooms that lost messages, and the batches (transactions) it took.
    rooms: int = 0
    batches: int = 0
    #: The longest batch transaction, in milliseconds: the longest any lock was held.
    longest_batch_ms: float = 0.0

    def add_rows(self, deleted: dict[str, int]) -> None:
        for label, rows in deleted.items():
            kind = _KINDS.get(label)
            if kind is None:
                self.other[label] = self.other.get(label, 0) + rows
            else:
                setattr(self, kind, getattr(self, kind) + rows)

    def details(self) -> dict[str, Any]:
        """The counts of one room, as its audit entry keeps them."""
        kept = {k: v for k, v in asdict(self).items() if k not in ("rooms", "batches")}
        kept.pop("longest_batch_ms")
        return kept


def check_set_retention(actor: Any, room: ChatRoom, kind: Any, days: Any) -> ChatRoom:
    """Give ``room`` its own retention rule (``kind``: a :class:`RetentionKind` value, ""
    for the site's rule; ``days``: its N, None for "" and "forever"); staff only."""
    if not get_policy().can_set_retention(actor, room):
        raise PermissionDenied()
    rule, days = rules.clean_rule(kind, days)
    return do_set_retention(actor, room, rule, days)


def do_set_retention(actor: Any, room: ChatRoom, kind: RetentionKind, days: int | None) -> ChatRoom:
    """Store the room's own rule, with its audit entry; the next purge applies it."""
    previous = {"retention": room.retention, "retention_days": room.retention_days}
    with transaction.atomic():
        room.retention = kind
        room.retention_days = days
        room.save(update_fields=["retention", "retention_days", "updated_at"])
        audit.record(
            actor,
            AuditAction.RETENTION_CHANGED,
            room=room,
            details={"retention": kind.value, "retention_days": days, "previous": previous},
        )
    return room


def do_purge_expired(
    *, now: datetime | None = None, batch_size: int | None = None, dry_run: bool = False
) -> PurgeCounts:
    """Delete for good what has expired at ``now`` (default: now), ``batch_size`` messages
    a transaction (default ``RETENTION_BATCH_SIZE``); what was deleted. ``dry_run``:
    count what would be, change nothing. Idempotent: a second run finds nothing.

    One audit entry (``retention.purged``, by the site itself) per room that lost
    messages, with its counts.
    """
    now = now or timezone.now()
    size = max(1, batch_size or app_settings.RETENTION_BATCH_SIZE)
    run = _Run(size=size, dry_run=dry_run)
    if not dry_run:
        # Rooms archived before their archiving time was kept: their clock starts now.
        ChatRoom.objects.filter(is_archived=True, archived_at__isnull=True).update(archived_at=now)
    for room in _rooms_with_expiry():
        cutoff = rules.expiry_cutoff(room, now)
        if cutoff is not None:
            run.purge_expired(room, cutoff)
    cutoff = rules.deleted_cutoff(now)
    if cutoff is not None:
        run.purge_deleted(cutoff)
    if not dry_run:
        run.record()
    run.total.rooms = len(run.by_room)
    return run.total


def _rooms_with_expiry() -> Iterable[ChatRoom]:
    """Rooms whose rule deletes messages (their own rule, else their type's)."""
    own = Q(retention__in=[RetentionKind.DAYS, RetentionKind.DAYS_AFTER_ARCHIVE])
    by_type = Q(retention=RetentionKind.SITE, room_type__in=rules.room_types_with_expiry())
    return ChatRoom.objects.filter(own | by_type).order_by("pk").iterator()


class _Run:
    """One purge: its batches, and the counts it keeps, in all and by room."""

    def __init__(self, *, size: int, dry_run: bool) -> None:
        self.size = size
        self.dry_run = dry_run
        self.total = PurgeCounts()
        self.by_room: dict[int, PurgeCounts] = {}
        self.rooms: dict[int, ChatRoom] = {}
        #: Each room's watermark after this run (a dry run's too: what it would be).
        self.floors: dict[int, int] = {}

    # --- Expired by the room's rule: a prefix of the room's messages, by seq ------------

    def purge_expired(self, room: ChatRoom, cutoff: datetime) -> None:
        """Delete the room's messages sent before ``cutoff``, oldest first.

        Only a prefix of the room's numbering is deleted: a batch stops at the first
        message that has not expired, so the watermark is exact (a message whose clock
        ran behind its predecessor's is kept until they have all expired, never deleted
        early).
        """
        floor = room.purged_through_seq
        while True:
            rows = list(
                ChatMessage.objects.filter(room_id=room.pk, seq__gt=floor)
                .order_by("seq")
                .values_list("pk", "seq", "created_at")[: self.size]
            )
            expired = []
            for pk, seq, created_at in rows:
                if created_at >= cutoff:
                    break
                expired.append((pk, seq))
            if not expired:
                return
            floor = self.floors[room.pk] = expired[-1][1]
            if not self.dry_run:
                ChatRoom.objects.filter(pk=room.pk).update(
                    purged_through_seq=Greatest(F("purged_through_seq"), floor)
                )
                room.purged_through_seq = floor
            self._delete(room, [pk for pk, _seq in expired], through_seq=floor)
            if len(expired) < self.size:
                return

    # --- Deleted messages past their grace period, in any room, by id ------------------

    def purge_deleted(self, cutoff: datetime) -> None:
        """Delete the messages deleted before ``cutoff``, a batch at a time by id."""
        after = 0
        while True:
            rows = list(
                ChatMessage.objects.filter(is_deleted=True, deleted_at__lt=cutoff, pk__gt=after)
                .order_by("pk")
                .values_list("pk", "room_id", "seq", "event_seq")[: self.size]
            )
            if not rows:
                return
            after = rows[-1][0]
            by_room: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
            for pk, room_id, seq, event_seq in rows:
                by_room[room_id].append((pk, seq, event_seq))
            for room_id, found in by_room.items():
                room = self._room(room_id)
                # Under the watermark: gone with their room's prefix (a dry run counts
                # them there).
                floor = self.floors.get(room_id, room.purged_through_seq)
                messages = [row for row in found if row[1] > floor]
                if not messages:
                    continue
                newest = max(event_seq for _pk, _seq, event_seq in messages)
                if not self.dry_run:
                    ChatRoom.objects.filter(pk=room_id).update(
                        purged_event_seq=Greatest(F("purged_event_seq"), newest)
                    )
                # Only those still deleted once locked: a message restored meanwhile stays.
                still = Q(is_deleted=True, deleted_at__lt=cutoff)
                ids = [pk for pk, _s, _e in messages]
                self._delete(room, ids, through_seq=floor, seqs=True, still=still)
            if len(rows) < self.size:
                return

    def _room(self, room_id: int) -> ChatRoom:
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = ChatRoom.objects.get(pk=room_id)
        return room

    # --- One batch ------------------------------------------------------------------------

    def _delete(
        self,
        room: ChatRoom,
        ids: list[int],
        *,
        through_seq: int,
        seqs: bool = False,
        still: Q | None = None,
    ) -> None:
        """Delete messages ``ids`` of ``room`` (those that still match ``still`` once
        locked) and what hangs off them in one transaction; then their files, and tell the
        room's open clients (``seqs``: naming the messages, not only the watermark)."""
        started = time.perf_counter()
        if self.dry_run:
            deleted, names = _count(ids), _file_names(ids)
        else:
            with transaction.atomic():
                locked = dict(
                    ChatMessage.objects.select_for_update()
                    .filter(Q(pk__in=ids) & (still or Q()))
                    .order_by("pk")
                    .values_list("pk", "seq")
                )
                ids = list(locked)
                if not ids:
                    return
                names = _file_names(ids)
                # Attachments go with their message (their key would set it null and leave
                # them to the attachment purge days later).
                _, attachments = ChatAttachment.objects.filter(message_id__in=ids).delete()
                # Reports keep a copy of the text they are about (their key would set the
                # message null and keep the copy forever): they go with the message.
                _, reports = ChatReport.objects.filter(message_id__in=ids).delete()
                _, deleted = ChatMessage.objects.filter(pk__in=ids).delete()
                deleted = {**deleted, **attachments, **reports}
                named = sorted(locked.values()) if seqs else []
                frame = MessagesPurged(room=room.slug, through_seq=through_seq, seqs=named)
                events.publish_to_room(room.pk, frame)
                transaction.on_commit(lambda: file_store.delete(names))
        elapsed = (time.perf_counter() - started) * 1000
        self.rooms.setdefault(room.pk, room)
        counts = self.by_room.setdefault(room.pk, PurgeCounts())
        for target in (counts, self.total):
            target.add_rows(deleted)
            target.files += len(names)
            target.batches += 1
            target.longest_batch_ms = max(target.longest_batch_ms, elapsed)

    def record(self) -> None:
        """One audit entry per room purged, with its counts."""
        with transaction.atomic():
            for room_id, counts in self.by_room.items():
                audit.record(
                    None,
                    AuditAction.RETENTION_PURGED,
                    room=self.rooms[room_id],
                    details=counts.details(),
                )


def _file_names(ids: list[int]) -> list[str]:
    """The stored files of messages ``ids``: attachments and thumbnails, preview images."""
    attachments = ChatAttachment.objects.filter(message_id__in=ids).only(
        "storage_name", "thumbnails"
    )
    previews = (
        ChatLinkPreview.objects.filter(message_id__in=ids)
        .exclude(image_storage_name="")
        .values_list("image_storage_name", flat=True)
    )
    return [*stored_names(attachments), *previews]


def _count(ids: list[int]) -> dict[str, int]:
    """What deleting messages ``ids`` would delete (a dry run), by model label."""
    notifications = ChatNotification.objects.filter(message_id__in=ids)
    querysets: list[Any] = [
        ChatMessage.objects.filter(pk__in=ids),
        ChatReaction.objects.filter(message_id__in=ids),
        ChatMention.objects.filter(message_id__in=ids),
        notifications,
        ChatNotificationDelivery.objects.filter(notification__in=notifications),
        ChatLinkPreview.objects.filter(message_id__in=ids),
        ChatAttachment.objects.filter(message_id__in=ids),
        ChatReport.objects.filter(message_id__in=ids),
    ]
    return {qs.model._meta.label: qs.count() for qs in querysets}
