"""A person's chat preferences (``ChatPreferences``): read receipts and notifications."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

from django.utils.translation import gettext as _

from smartcampus_chat import queries
from smartcampus_chat.domain import notifications as rules
from smartcampus_chat.domain.policies import is_active_user
from smartcampus_chat.exceptions import PermissionDenied, ValidationFailed
from smartcampus_chat.models import ChatPreferences


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else _("Must be true or false.")


def _flag_or_default(value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else _("Must be true, false or null.")


def _minutes(value: Any) -> str | None:
    ok = value is None or (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 1 <= value <= rules.MAX_DIGEST_DELAY
    )
    return (
        None
        if ok
        else _("Must be a number of minutes from 1 to %(most)d, or null.")
        % {"most": rules.MAX_DIGEST_DELAY}
    )


def _time(value: Any) -> str | None:
    return None if value is None or isinstance(value, time) else _("Must be a time, or null.")


def _zone(value: Any) -> str | None:
    return None if value == "" or rules.is_time_zone(value) else _("Unknown time zone.")


def _language(value: Any) -> str | None:
    return None if rules.is_language(value) else _("Unknown language.")


#: The preferences a person may change, each with its check (an error message or None).
FIELDS: dict[str, Callable[[Any], str | None]] = {
    "read_receipts": _flag,
    "browser_notifications": _flag_or_default,
    "push_notifications": _flag_or_default,
    "email_digests": _flag_or_default,
    "digest_delay": _minutes,
    "push_private_content": _flag,
    "quiet_hours_start": _time,
    "quiet_hours_end": _time,
    "time_zone": _zone,
    "language": _language,
}


#: ``user``'s preferences: a read, :func:`smartcampus_chat.queries.preferences_of`, named
#: here beside the service that changes them.
get_preferences = queries.preferences_of


def check_set_preferences(user: Any, **changes: Any) -> ChatPreferences:
    if not is_active_user(user):
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}
    for key, value in changes.items():
        check = FIELDS.get(key)
        problem = _("Unknown preference.") if check is None else check(value)
        if problem is not None:
            errors[key] = [problem]
    if not errors:
        held = queries.preferences_of(user)
        start = changes.get("quiet_hours_start", held.quiet_hours_start)
        end = changes.get("quiet_hours_end", held.quiet_hours_end)
        if (start is None) != (end is None):
            errors["quiet_hours_end" if end is None else "quiet_hours_start"] = [
                _("Give both the start and the end of your quiet hours, or neither.")
            ]
    if errors:
        raise ValidationFailed(fields=errors)
    return do_set_preferences(user, **changes)


def do_set_preferences(user: Any, **changes: Any) -> ChatPreferences:
    preferences, _created = ChatPreferences.objects.update_or_create(user=user, defaults=changes)
    return preferences
