"""The shape of an announcement's options (docs/announcements.md): checked once, for every
door (the WebSocket ``message.send``, the REST send), by the send pipeline.

Who may post one is the policy's
(:meth:`~smartcampus_chat.domain.policies.ChatPolicy.can_announce`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from smartcampus_chat.exceptions import ValidationFailed

#: How far ahead a due date may be (a typo such as year 20266 is refused, not stored).
MAX_DUE_DAYS = 366


@dataclass(frozen=True)
class AnnouncementOptions:
    """What a send asks for: a plain message, or an announcement (to acknowledge, by a
    date)."""

    announcement: bool = False
    requires_ack: bool = False
    ack_due: datetime | None = None


PLAIN = AnnouncementOptions()


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationFailed(fields={name: [_("Must be true or false.")]})
    return value


def _due(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value) if len(value) <= 64 else None
        if parsed is None:
            text = _("Must be a date and time (ISO 8601).")
            raise ValidationFailed(text, fields={"ack_due": [text]})
        value = parsed
    if not isinstance(value, datetime):
        text = _("Must be a date and time (ISO 8601).")
        raise ValidationFailed(text, fields={"ack_due": [text]})
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt_timezone.utc)
    now = timezone.now()
    if value <= now:
        text = _("The due date must be in the future.")
        raise ValidationFailed(text, fields={"ack_due": [text]})
    if (value - now).days >= MAX_DUE_DAYS:
        text = _("The due date must be within a year.")
        raise ValidationFailed(text, fields={"ack_due": [text]})
    return value


def clean_options(announcement: Any, requires_ack: Any, ack_due: Any) -> AnnouncementOptions:
    """The options of a send, checked: ``requires_ack`` and ``ack_due`` only with
    ``announcement``, ``ack_due`` only with ``requires_ack``, in the future."""
    is_announcement = _flag(announcement, "announcement")
    needs_ack = _flag(requires_ack, "requires_ack")
    due = _due(ack_due)
    if needs_ack and not is_announcement:
        text = _("Only an announcement asks to be acknowledged.")
        raise ValidationFailed(text, fields={"requires_ack": [text]})
    if due is not None and not needs_ack:
        text = _("A due date needs requires_ack.")
        raise ValidationFailed(text, fields={"ack_due": [text]})
    if not is_announcement:
        return PLAIN
    return AnnouncementOptions(True, needs_ack, due)


def is_overdue(due: datetime | None, now: datetime | None = None) -> bool:
    return due is not None and due <= (now or timezone.now())
