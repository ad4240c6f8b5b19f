"""Announcements (docs/announcements.md): acknowledging one, and the reminders.

An announcement is a message of kind ``announcement``, posted through the one send
pipeline (:mod:`.batch`, the ``announcement`` option of a send; who may: the policy's
``can_announce``). One that ``requires_ack`` asks the room's members
(:func:`smartcampus_chat.queries.announcements.audience`) to acknowledge it:

- :func:`check_acknowledge` / :func:`do_acknowledge`: "I have read this", once per person
  (a repeat changes nothing and answers the first acknowledgement). After commit the
  person's sockets get ``announcement.acked`` and the room's moderators (and staff)
  ``announcement.acks`` with the counts; members never learn who else acknowledged.
- Reminders, through the notifications pipeline (in-app, then the channels each person
  keeps on): when it is posted (:func:`after_commit`, the send pipeline's hook) and once
  ``ACK_REMINDER_BEFORE`` before its due date (:func:`do_send_due_reminders`, run by the
  ``chat_announcement_reminders`` command or the worker's periodic job). Each stage of
  each announcement is done once, whatever the number of runs: its
  ``ChatAnnouncementReminder`` row is written in the transaction that notifies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat import signals
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import MessageGone, NotFound, ValidationFailed
from smartcampus_chat.models import (
    ChatAnnouncementAck,
    ChatAnnouncementReminder,
    ChatMessage,
    MessageKind,
    NotificationKind,
    ReminderStage,
)
from smartcampus_chat.protocol.frames import AnnouncementAcked, AnnouncementAcks
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.queries import announcements as reads
from smartcampus_chat.realtime import events
from smartcampus_chat.services import notifications

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AckResult:
    ack: ChatAnnouncementAck
    #: False: acknowledged before (nothing changed).
    created: bool


def check_acknowledge(user: Any, message: ChatMessage, access: RoomAccess) -> AckResult:
    """Acknowledge ``message`` for ``user``, who sees its room: an announcement that asks
    for it (``invalid`` otherwise), not deleted (``message_deleted``)."""
    if not access.can_see:
        raise NotFound()
    if message.kind != MessageKind.ANNOUNCEMENT or not message.requires_ack:
        text = _("This message does not ask to be acknowledged.")
        raise ValidationFailed(text, fields={"message_id": [text]})
    if message.is_deleted:
        raise MessageGone()
    return do_acknowledge(user, message)


def do_acknowledge(user: Any, message: ChatMessage) -> AckResult:
    """Store the acknowledgement (idempotent) and tell, after commit, the person's sockets
    and the room's moderators."""
    known = ChatAnnouncementAck.objects.filter(message=message, user=user).first()
    if known is not None:
        return AckResult(known, created=False)
    try:
        with transaction.atomic():
            ack = ChatAnnouncementAck.objects.create(message=message, user=user)
            _publish_ack(ack, message, user)
            signals.send_on_commit(
                signals.announcement_acknowledged,
                ChatAnnouncementAck,
                ack=ack,
                message=message,
                room=message.room,
                user=user,
            )
    except IntegrityError:  # A concurrent acknowledgement of the same person won.
        return AckResult(ChatAnnouncementAck.objects.get(message=message, user=user), False)
    return AckResult(ack, created=True)


def _publish_ack(ack: ChatAnnouncementAck, message: ChatMessage, user: Any) -> None:
    """The frames of a new acknowledgement (sent once the transaction commits)."""
    room = message.room
    events.publish_to_user(
        user.pk, AnnouncementAcked(room=room.slug, message_id=message.pk, acked_at=ack.acked_at)
    )
    acked, total = reads.ack_counts(message)
    frame = AnnouncementAcks(
        room=room.slug,
        message_id=message.pk,
        user=user_ref(user),
        acked_at=ack.acked_at,
        acked=acked,
        total=total,
    )
    events.publish_many_to_users([(pk, frame) for pk in reads.ack_viewer_ids(room)])


# --- reminders --------------------------------------------------------------------------


def after_commit(messages: list[ChatMessage]) -> None:
    """The send pipeline's hook: once the announcements ``messages`` (which ask for an
    acknowledgement) are committed, notify their members (``posted`` stage). An error
    there is logged and never reaches the sender."""
    if messages and app_settings.NOTIFICATIONS:
        transaction.on_commit(
            lambda: [do_remind(message, ReminderStage.POSTED) for message in messages],
            robust=True,
        )


def do_remind(message: ChatMessage, stage: str) -> int:
    """Notify the members who have not acknowledged ``message`` yet, for ``stage``, once
    (the stage's row and the notifications in one transaction: a second run, or a
    concurrent one, finds the row and does nothing). The number notified."""
    try:
        with transaction.atomic():
            reminder, created = ChatAnnouncementReminder.objects.get_or_create(
                message=message, stage=stage
            )
            if not created:
                return 0
            fresh = ChatMessage.objects.filter(pk=message.pk, is_deleted=False).first()
            if fresh is None:
                return 0
            people = reads.unacknowledged_ids(fresh)
            rows = notifications.do_notify_people(
                fresh,
                people,
                NotificationKind.ANNOUNCEMENT,
                replace=stage != ReminderStage.POSTED,
            )
            reminder.recipients = len(rows)
            reminder.save(update_fields=["recipients"])
    except IntegrityError:  # Another run wrote this stage first.
        return 0
    return len(rows)


def do_send_due_reminders(now: datetime | None = None) -> int:
    """Remind, once each, the members who have not acknowledged the announcements due
    within ``ACK_REMINDER_BEFORE`` hours. The number of people notified."""
    now = now or timezone.now()
    window = now + timedelta(hours=app_settings.ACK_REMINDER_BEFORE)
    done = ChatAnnouncementReminder.objects.filter(stage=ReminderStage.DUE).values("message_id")
    total = 0
    for message in reads.due_announcements(now, window).exclude(pk__in=done):
        total += do_remind(message, ReminderStage.DUE)
    return total
