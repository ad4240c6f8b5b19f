"""The rules of office hours that are not who may (that is the policy's): the topic a
student gives, a session's times, and the estimated wait (docs/office-hours.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from smartcampus_chat.domain.validation import has_nul, is_unicode_text
from smartcampus_chat.exceptions import ValidationFailed

#: The longest topic a student gives when raising a hand (the column's length).
MAX_TOPIC_LENGTH = 200
#: How many of a session's last services the estimated wait averages.
RECENT_SERVICES = 5
#: The longest a session may be scheduled ahead, and may last.
MAX_AHEAD = timedelta(days=366)


def clean_topic(value: Any) -> str:
    """A student's topic: optional text of at most :data:`MAX_TOPIC_LENGTH` characters."""
    if value is None:
        return ""
    if not isinstance(value, str) or not is_unicode_text(value) or has_nul(value):
        raise ValidationFailed(fields={"topic": [_("Must be text.")]})
    value = " ".join(value.split())
    if len(value) > MAX_TOPIC_LENGTH:
        message = _("At most %(max)d characters.") % {"max": MAX_TOPIC_LENGTH}
        raise ValidationFailed(fields={"topic": [message]})
    return value


def _when(value: Any, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    parsed = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 64 and not has_nul(value):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None or timezone.is_naive(parsed):
        message = _("A date and time with its time zone (ISO 8601).")
        raise ValidationFailed(fields={field: [message]})
    return parsed


def clean_times(starts_at: Any, ends_at: Any) -> tuple[datetime, datetime | None]:
    """A session's start (None: now) and end (None: until closed), checked: the end after
    the start and after now, neither more than :data:`MAX_AHEAD` away."""
    now = timezone.now()
    start = _when(starts_at, "starts_at") or now
    end = _when(ends_at, "ends_at")
    start = max(start, now)
    if start - now > MAX_AHEAD:
        raise ValidationFailed(fields={"starts_at": [_("Too far ahead.")]})
    if end is not None:
        if end <= start:
            raise ValidationFailed(fields={"ends_at": [_("Must be after the start.")]})
        if end - start > MAX_AHEAD:
            raise ValidationFailed(fields={"ends_at": [_("Too far ahead.")]})
    return start, end


def estimated_wait(position: int, service_seconds: Sequence[float], helpers: int) -> int | None:
    """Seconds until the student at ``position`` (1: next) is likely claimed: the mean of
    the session's recent service times, times the people ahead and the one being claimed,
    shared among the ``helpers`` (TAs now helping someone, at least one). None until a
    first student was served: no guess from nothing."""
    if not service_seconds or position < 1:
        return None
    mean = sum(service_seconds) / len(service_seconds)
    return round(mean * position / max(helpers, 1))
