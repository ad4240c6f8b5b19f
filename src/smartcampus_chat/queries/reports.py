"""A room's moderation queue (docs/moderation.md): its open reports and held messages,
each with the reported message and the messages around it; whom to tell of a change.

Only the room's reviewers read it (:meth:`~smartcampus_chat.domain.policies.ChatPolicy.
can_review_reports`): the reported text and its author, kept on the report, are theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.validation import is_object_id
from smartcampus_chat.exceptions import NotFound, PermissionDenied
from smartcampus_chat.models import (
    ChatMessage,
    ChatReport,
    ChatRoom,
    ReportStatus,
)
from smartcampus_chat.queries.members import moderators_and_staff

#: Messages shown on each side of a reported one (5 with it).
CONTEXT = 2


@dataclass
class QueueItem:
    report: ChatReport
    #: The reported message and its neighbours, oldest first (none for a held message,
    #: or for a reviewer who does not see the room: staff and a private conversation).
    context: list[ChatMessage] = field(default_factory=list)


def review_room(user: Any, slug: str) -> tuple[ChatRoom, RoomAccess]:
    """The room ``slug`` and ``user``'s access, if ``user`` reviews its reports:
    NotFound for a room they neither see nor review, PermissionDenied for a member."""
    room = ChatRoom.objects.filter(slug=slug).first() if isinstance(slug, str) else None
    if room is None:
        raise NotFound()
    policy = get_policy()
    access = policy.access(user, room)
    if not policy.can_review_reports(user, access, room):
        if access.can_see:
            raise PermissionDenied()
        raise NotFound()
    return room, access


def open_report(room: ChatRoom, report_id: Any) -> ChatReport:
    """An open item of ``room``'s queue (NotFound otherwise)."""
    report = (
        ChatReport.objects.select_related("message", "author", "reporter")
        .filter(room=room, pk=report_id, status=ReportStatus.OPEN)
        .first()
        if is_object_id(report_id)
        else None
    )
    if report is None:
        raise NotFound(None)
    return report


def report_queue(room: ChatRoom, access: RoomAccess) -> list[QueueItem]:
    """``room``'s open items, oldest first, with their context; a fixed number of queries
    (one for the reports, one for every context at once with what messages show)."""
    reports = list(
        ChatReport.objects.filter(room=room, status=ReportStatus.OPEN)
        .select_related("reporter", "author", "message")
        .order_by("created_at", "pk")
    )
    items = [QueueItem(report) for report in reports]
    anchors = [r.message.seq for r in reports if r.message is not None]
    if not anchors or not access.can_see:
        return items
    ranges = Q()
    for seq in set(anchors):
        ranges |= Q(seq__gte=seq - CONTEXT, seq__lte=seq + CONTEXT)
    around = list(ChatMessage.objects.filter(room=room).filter(ranges).shown().order_by("seq"))
    for item in items:
        if item.report.message is not None:
            seq = item.report.message.seq
            item.context = [m for m in around if abs(m.seq - seq) <= CONTEXT]
    return items


def open_count(room: ChatRoom) -> int:
    return ChatReport.objects.filter(room=room, status=ReportStatus.OPEN).count()


def reviewer_ids(room: ChatRoom) -> list[int]:
    """Who is told live of a change in ``room``'s queue: its members with a moderator's
    or owner's role, and the site's active staff (the policy confirms each)."""
    policy = get_policy()
    return sorted(
        user.pk
        for user, access in moderators_and_staff(room)
        if policy.can_review_reports(user, access, room)
    )


__all__ = [
    "CONTEXT",
    "QueueItem",
    "open_count",
    "open_report",
    "report_queue",
    "review_room",
    "reviewer_ids",
]
