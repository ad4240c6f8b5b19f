"""Reports of messages and the moderation queue's actions (docs/moderation.md).

A member reports a message they see (not their own) with a category and a note; the report
keeps the text and its author as they were, so it outlives the message. The room's
reviewers (its moderators, and staff) are told live (``reports.changed``) and act from the
queue: dismiss, delete the message, mute or ban its author; for a message the word filter
held (:mod:`.held`): approve (posted as the author's) or reject, mute or ban. An action
resolves every open report of the message at once, leaves one ``report.resolved`` audit
entry, and tells each reporter (or the held message's author) the outcome, never who acted.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat.domain.anonymity import ANONYMOUS_NAME
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.sanctions import clean_reason
from smartcampus_chat.domain.validation import has_nul, is_unicode_text
from smartcampus_chat.exceptions import (
    AlreadyReported,
    MessageGone,
    PermissionDenied,
    ValidationFailed,
)
from smartcampus_chat.identity import display_name
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import (
    AuditAction,
    ChatMessage,
    ChatReport,
    ChatRoom,
    MessageKind,
    ReportCategory,
    ReportOutcome,
    ReportStatus,
)
from smartcampus_chat.protocol.frames import ReportResolved
from smartcampus_chat.realtime import events
from smartcampus_chat.services import audit, sanctions
from smartcampus_chat.services.batch import do_send_message
from smartcampus_chat.services.held import held_uploads, publish_queue_changed
from smartcampus_chat.services.messages import do_delete_message

#: The longest note a reporter may add.
MAX_NOTE_LENGTH = 1000

#: The categories a member picks from (``filtered`` is the word filter's).
REPORT_CATEGORIES = tuple(c for c in ReportCategory.values if c != ReportCategory.FILTERED)

#: The actions on a report, and on a held message, with the outcome each gives.
REPORT_ACTIONS = {
    "dismiss": ReportOutcome.DISMISSED,
    "delete": ReportOutcome.MESSAGE_DELETED,
    "mute": ReportOutcome.AUTHOR_MUTED,
    "ban": ReportOutcome.AUTHOR_BANNED,
}
HELD_ACTIONS = {
    "approve": ReportOutcome.APPROVED,
    "reject": ReportOutcome.REJECTED,
    "mute": ReportOutcome.AUTHOR_MUTED,
    "ban": ReportOutcome.AUTHOR_BANNED,
}


def _clean_category(value: Any) -> str:
    if not isinstance(value, str) or value not in REPORT_CATEGORIES:
        raise ValidationFailed(fields={"category": [_("Choose one of the categories.")]})
    return value


def _clean_note(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not is_unicode_text(value) or has_nul(value):
        raise ValidationFailed(fields={"note": [_("Must be text.")]})
    value = value.strip()
    if len(value) > MAX_NOTE_LENGTH:
        message = _("At most %(max)d characters.") % {"max": MAX_NOTE_LENGTH}
        raise ValidationFailed(fields={"note": [message]})
    return value


# --- report -----------------------------------------------------------------------------


def check_report_message(
    user: Any, message: ChatMessage, access: RoomAccess, category: Any, note: Any = ""
) -> ChatReport:
    """Report ``message`` (which ``user`` sees: ``access``) to its room's reviewers."""
    if not access.can_see:
        raise PermissionDenied()
    if message.is_deleted:
        raise MessageGone()
    if message.kind != MessageKind.USER or message.sender_id is None:
        raise PermissionDenied(_("This message cannot be reported."))
    if message.sender_id == user.pk:
        raise PermissionDenied(_("You cannot report your own message."))
    category, note = _clean_category(category), _clean_note(note)
    ratelimit.check_rate("report", user)
    if ChatReport.objects.filter(reporter=user, message=message, status=ReportStatus.OPEN).exists():
        raise AlreadyReported()
    try:
        return do_report_message(user, message, category, note)
    except IntegrityError:
        raise AlreadyReported() from None  # The same report, sent twice at once.


def _report_label(message: ChatMessage) -> str:
    if message.anonymous:
        return str(ANONYMOUS_NAME)
    return display_name(message.sender)[:150] if message.sender else ""


def do_report_message(user: Any, message: ChatMessage, category: str, note: str) -> ChatReport:
    with transaction.atomic():
        report = ChatReport.objects.create(
            room=message.room,
            message=message,
            content=message.content,
            # An anonymous post's report names nobody: the reviewers reveal its author
            # through the audited reveal if they must (docs/anonymous-posts.md).
            author=None if message.anonymous else message.sender,
            author_label=_report_label(message),
            reporter=user,
            category=category,
            note=note,
        )
        publish_queue_changed(message.room, report.pk)
    return report


# --- resolve ----------------------------------------------------------------------------


def _anonymous(report: ChatReport) -> bool:
    return report.message is not None and report.message.anonymous


def check_resolve_report(
    actor: Any,
    room: ChatRoom,
    report: ChatReport,
    action: Any,
    *,
    duration: Any = None,
    reason: Any = "",
) -> ReportOutcome:
    """Act on an open item of ``room``'s queue; the outcome. ``duration`` and ``reason``:
    a mute's or ban's (checked by :mod:`.sanctions`); ``reason`` is audit-logged."""
    policy = get_policy()
    if not policy.can_review_reports(actor, policy.access(actor, room), room):
        raise PermissionDenied()
    actions = HELD_ACTIONS if report.is_held else REPORT_ACTIONS
    if not isinstance(action, str) or action not in actions:
        raise ValidationFailed(fields={"action": [_("Not an action on this item.")]})
    reason = clean_reason(reason)
    if action == "approve" and report.author is not None:
        author_access = policy.access(report.author, room)
        if not author_access.can_participate:
            raise PermissionDenied(_("The author can no longer post in this room."))
    elif action == "approve":
        raise PermissionDenied(_("The author can no longer post in this room."))
    if action in ("mute", "ban") and report.author_id is None and _anonymous(report):
        text = _("The author is anonymous: reveal them first, then act from the member list.")
        raise ValidationFailed(fields={"action": [text]})
    if action in ("mute", "ban") and report.author_id is None:
        raise ValidationFailed(fields={"action": [_("The author's account is gone.")]})
    return do_resolve_report(actor, room, report, action, actions[action], duration, reason)


def do_resolve_report(
    actor: Any,
    room: ChatRoom,
    report: ChatReport,
    action: str,
    outcome: ReportOutcome,
    duration: Any,
    reason: str,
) -> ReportOutcome:
    """The action, then every open report of the message resolved, its audit entry and
    the people told, in one transaction (a refused mute or ban changes nothing)."""
    with transaction.atomic():
        locked = ChatReport.objects.select_for_update().filter(pk=report.pk)
        if not locked.filter(status=ReportStatus.OPEN).exists():
            raise ValidationFailed(_("This report was resolved meanwhile."))
        if action == "mute":
            sanctions.check_mute_member(
                actor, room, report.author_id, duration=duration, reason=reason
            )
        elif action == "ban":
            sanctions.check_ban_member(
                actor, room, report.author_id, duration=duration, reason=reason
            )
        elif action == "delete" and report.message is not None:
            do_delete_message(actor, report.message, reason=reason)
        elif action == "approve":
            do_send_message(
                report.author,
                room,
                report.content,
                reply_to=report.reply_to,
                uploads=held_uploads(report),
            )
        resolved = _resolve(actor, report, outcome)
        audit.record(
            actor,
            AuditAction.REPORT_RESOLVED,
            room=room,
            target_user=report.author,
            message_id=report.message_id,
            reason=reason,
            details={"outcome": str(outcome), "reports": [r.pk for r in resolved]},
        )
        for item in resolved:
            told = item.author_id if item.is_held else item.reporter_id
            if told is not None:
                frame = ReportResolved(room=room.slug, report=item.pk, outcome=outcome.value)
                events.publish_to_user(told, frame)
        publish_queue_changed(room)
    return outcome


def _resolve(actor: Any, report: ChatReport, outcome: ReportOutcome) -> list[ChatReport]:
    """Close ``report`` and every other open report of its message."""
    same = ChatReport.objects.filter(pk=report.pk)
    if report.message_id is not None:
        same = ChatReport.objects.filter(message_id=report.message_id)
    items = list(same.select_for_update().filter(status=ReportStatus.OPEN).order_by("pk"))
    status = (
        ReportStatus.DISMISSED
        if outcome in (ReportOutcome.DISMISSED, ReportOutcome.REJECTED)
        else ReportStatus.ACTIONED
    )
    ChatReport.objects.filter(pk__in=[item.pk for item in items]).update(
        status=status, outcome=outcome, resolved_by=actor, resolved_at=timezone.now()
    )
    return items
