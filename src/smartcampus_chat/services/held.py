"""Messages the word filter holds for review: stored as an item of the room's moderation
queue, never as a message (nothing is claimed as sent that is not stored, and nothing is
shown to the room that a moderator has not let through).

The send pipeline (:mod:`.send_checks`) calls :func:`do_hold_message` for a send whose
content matched the filter when ``WORD_FILTER_ACTION`` is ``"hold"``; the sender is
answered ``held_for_review``. A moderator approves (the message is posted as the
author's) or rejects it from the queue (:mod:`.reports`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Case, Value, When

from smartcampus_chat import queries
from smartcampus_chat.identity import display_name
from smartcampus_chat.models import (
    ChatAttachment,
    ChatMessage,
    ChatReport,
    ChatRoom,
    ReportCategory,
)
from smartcampus_chat.protocol.frames import ReportsChanged
from smartcampus_chat.realtime import events


def publish_queue_changed(room: ChatRoom, report_id: int | None = None) -> None:
    """Tell the room's reviewers (after commit) that its queue changed."""
    frame = ReportsChanged(room=room.slug, open=queries.open_count(room), report=report_id)
    events.publish_many_to_users([(pk, frame) for pk in queries.reviewer_ids(room)])


def do_hold_message(
    user: Any,
    room: ChatRoom,
    content: str,
    *,
    reply_to: ChatMessage | None = None,
    uploads: Sequence[ChatAttachment] = (),
) -> ChatReport:
    """Put ``content`` in ``room``'s queue as ``user``'s held message, with the message it
    replies to and its files (checked by the send pipeline), posted with it if approved."""
    with transaction.atomic():
        held = ChatReport.objects.create(
            room=room,
            content=content,
            reply_to=reply_to,
            author=user,
            author_label=display_name(user)[:150],
            category=ReportCategory.FILTERED,
        )
        if uploads:
            order = [When(pk=upload.pk, then=Value(i)) for i, upload in enumerate(uploads)]
            ChatAttachment.objects.filter(
                pk__in=[upload.pk for upload in uploads], message__isnull=True
            ).update(held_in=held, position=Case(*order))
        publish_queue_changed(room, held.pk)
    return held


def held_uploads(report: ChatReport) -> list[ChatAttachment]:
    """The files held with ``report`` still unsent (one its author withdrew is gone), in
    the order they were sent."""
    return list(report.attachments.filter(message__isnull=True).order_by("position", "pk"))
