"""Retention: how long a room keeps its messages (docs/retention.md).

A room follows its own rule when staff set one in the admin (``ChatRoom.retention``),
else the site's rule for its type (``RETENTION``); a type the setting does not name keeps
its messages forever. The purge (:mod:`smartcampus_chat.services.retention`) asks
:func:`expiry_cutoff` which of a room's messages have expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import ValidationFailed
from smartcampus_chat.models import ChatRoom, RetentionKind


@dataclass(frozen=True)
class RetentionRule:
    kind: RetentionKind
    #: The N of "N days after each message" or "N days after the room is archived".
    days: int = 0


KEEP_FOREVER = RetentionRule(RetentionKind.FOREVER)


def site_rule(room_type: str) -> RetentionRule:
    """The site's rule for rooms of ``room_type`` (``RETENTION``)."""
    rule = app_settings.RETENTION.get(room_type)
    if not rule:
        return KEEP_FOREVER
    ((kind, days),) = rule.items()
    return RetentionRule(RetentionKind(kind), int(days))


def clean_rule(kind: Any, days: Any) -> tuple[RetentionKind, int | None]:
    """A room's own rule as given (``kind``: a :class:`RetentionKind` value; ``days``: its
    N, None for the site's rule and "forever"); raises ``ValidationFailed``."""
    if kind not in RetentionKind.values:
        raise ValidationFailed(fields={"retention": [_("Not a retention rule.")]})
    needs_days = kind in (RetentionKind.DAYS, RetentionKind.DAYS_AFTER_ARCHIVE)
    valid_days = isinstance(days, int) and not isinstance(days, bool) and days > 0
    if needs_days and not valid_days:
        raise ValidationFailed(
            fields={"retention_days": [_("This rule needs a positive number of days.")]}
        )
    if not needs_days and days is not None:
        raise ValidationFailed(fields={"retention_days": [_("This rule takes no number of days.")]})
    return RetentionKind(kind), days


def rule_for(room: ChatRoom) -> RetentionRule:
    """The rule ``room`` follows: its own, else its type's."""
    if room.retention == RetentionKind.SITE:
        return site_rule(room.room_type)
    if room.retention == RetentionKind.FOREVER:
        return KEEP_FOREVER
    return RetentionRule(RetentionKind(room.retention), int(room.retention_days or 0))


def room_types_with_expiry() -> list[str]:
    """The room types whose site rule deletes messages at some point."""
    return [kind for kind, rule in app_settings.RETENTION.items() if rule]


def expiry_cutoff(room: ChatRoom, now: datetime) -> datetime | None:
    """Messages of ``room`` sent before this instant have expired; ``None``: none has.

    "N days after the room is archived" expires every message once the room has been
    archived that long; a room archived before its archiving time was recorded
    (``archived_at`` NULL) has not expired (the purge starts its clock).
    """
    rule = rule_for(room)
    if rule.kind == RetentionKind.DAYS:
        return now - timedelta(days=rule.days)
    if rule.kind == RetentionKind.DAYS_AFTER_ARCHIVE:
        if not room.is_archived or room.archived_at is None:
            return None
        if room.archived_at + timedelta(days=rule.days) > now:
            return None
        return now
    return None


def deleted_cutoff(now: datetime) -> datetime | None:
    """Deleted messages deleted before this instant are past their grace period
    (``DELETED_MESSAGE_GRACE_DAYS``); ``None``: they stay."""
    grace = app_settings.DELETED_MESSAGE_GRACE_DAYS
    return None if grace is None else now - timedelta(days=grace)
