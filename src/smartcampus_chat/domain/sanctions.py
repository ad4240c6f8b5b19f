"""The rules of a moderator's mute and ban: their durations and reasons, in one place.

A sanction ends at a time (``until``); "indefinitely" is :data:`FOREVER`, a date no clock
reaches, so that every check is the same comparison with the clock (no job lifts them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.validation import has_nul, is_unicode_text
from smartcampus_chat.exceptions import ValidationFailed

#: The end of an indefinite sanction.
FOREVER = datetime(9999, 12, 31, tzinfo=dt_timezone.utc)
#: The longest reason kept (the audit log's column).
MAX_REASON_LENGTH = 500


def clean_reason(value: Any) -> str:
    """A moderator's reason: optional text of at most :data:`MAX_REASON_LENGTH` characters."""
    if value is None:
        return ""
    if not isinstance(value, str) or not is_unicode_text(value) or has_nul(value):
        raise ValidationFailed(fields={"reason": [_("Must be text.")]})
    value = value.strip()
    if len(value) > MAX_REASON_LENGTH:
        message = _("At most %(max)d characters.") % {"max": MAX_REASON_LENGTH}
        raise ValidationFailed(fields={"reason": [message]})
    return value


def clean_duration(value: Any) -> datetime:
    """When a sanction of ``value`` seconds given now ends: a whole number of seconds from
    60 to ``SANCTION_MAX_SECONDS``, or None (or absent) for indefinitely."""
    if value is None:
        return FOREVER
    limit = app_settings.SANCTION_MAX_SECONDS
    if isinstance(value, bool) or not isinstance(value, int) or not 60 <= value <= limit:
        message = _("A whole number of seconds from 60 to %(max)d, or null for indefinitely.")
        raise ValidationFailed(fields={"duration": [message % {"max": limit}]})
    return timezone.now() + timedelta(seconds=value)


def is_indefinite(until: datetime | None) -> bool:
    return until is None or until >= FOREVER
