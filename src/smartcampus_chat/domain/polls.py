"""The shape of a poll (docs/polls.md): its options when posted, a vote's choice, and
whether it is closed. Checked once, for every door, by the send pipeline and the vote
service.

Who may post, vote and close is the policy's
(:meth:`~smartcampus_chat.domain.policies.ChatPolicy.can_create_poll`,
:meth:`~smartcampus_chat.domain.policies.ChatPolicy.can_close_poll`; voting is reacting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.validation import has_nul, is_unicode_text
from smartcampus_chat.exceptions import InvalidOption, TooManyOptions, ValidationFailed

#: At least this many options.
MIN_OPTIONS = 2
#: Characters of one option (the column's size).
MAX_OPTION_LENGTH = 200
#: How far ahead a poll may close (a typo such as year 20266 is refused, not stored).
MAX_CLOSE_DAYS = 366


@dataclass(frozen=True)
class PollSpec:
    """A poll asked for by a send: its options (trimmed, in order) and settings."""

    options: tuple[str, ...]
    multiple: bool = False
    anonymous: bool = False
    closes_at: datetime | None = None


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationFailed(fields={f"poll.{name}": [_("Must be true or false.")]})
    return value


def _option(value: Any) -> str:
    if not isinstance(value, str) or not is_unicode_text(value) or has_nul(value):
        raise InvalidOption(_("Each option must be text."))
    text = " ".join(value.split())
    if not text:
        raise InvalidOption(_("An option cannot be empty."))
    if len(text) > MAX_OPTION_LENGTH:
        raise InvalidOption(
            _("An option has at most %(max)d characters.") % {"max": MAX_OPTION_LENGTH}
        )
    return text


def _closes_at(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    text = _("Must be a date and time (ISO 8601).")
    if isinstance(value, str):
        parsed = parse_datetime(value) if len(value) <= 64 else None
        if parsed is None:
            raise ValidationFailed(text, fields={"poll.closes_at": [text]})
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationFailed(text, fields={"poll.closes_at": [text]})
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt_timezone.utc)
    now = timezone.now()
    if value <= now:
        text = _("The closing time must be in the future.")
        raise ValidationFailed(text, fields={"poll.closes_at": [text]})
    if (value - now).days >= MAX_CLOSE_DAYS:
        text = _("The closing time must be within a year.")
        raise ValidationFailed(text, fields={"poll.closes_at": [text]})
    return value


def clean_poll(value: Any) -> PollSpec | None:
    """A send's ``poll`` option, checked: None (a plain message) or an object with
    ``options`` (2 to ``POLL_MAX_OPTIONS`` texts, distinct once trimmed and case-folded),
    ``multiple``, ``anonymous`` and ``closes_at`` (in the future, within a year)."""
    if value is None:
        return None
    if isinstance(value, PollSpec):
        return value
    if not isinstance(value, dict):
        raise ValidationFailed(fields={"poll": [_("Must be an object.")]})
    unknown = set(value) - {"options", "multiple", "anonymous", "closes_at"}
    if unknown:
        raise ValidationFailed(
            fields={f"poll.{key}": [_("Unknown field.")] for key in sorted(map(str, unknown))}
        )
    raw = value.get("options")
    if not isinstance(raw, (list, tuple)):
        raise InvalidOption(_("A poll needs a list of options."))
    limit = app_settings.POLL_MAX_OPTIONS
    if len(raw) > limit:
        raise TooManyOptions(_("A poll has at most %(max)d options.") % {"max": limit})
    options = tuple(_option(item) for item in raw)
    if len(options) < MIN_OPTIONS:
        raise InvalidOption(_("A poll has at least %(min)d options.") % {"min": MIN_OPTIONS})
    if len({option.casefold() for option in options}) != len(options):
        raise InvalidOption(_("Two options say the same."))
    return PollSpec(
        options,
        multiple=_flag(value.get("multiple"), "multiple"),
        anonymous=_flag(value.get("anonymous"), "anonymous"),
        closes_at=_closes_at(value.get("closes_at")),
    )


def clean_choice(value: Any, option_ids: list[int], *, multiple: bool) -> list[int]:
    """A vote's option ids: known options of the poll, no repeats, at most one unless the
    poll is ``multiple``; empty withdraws the vote. In the poll's order."""
    if not isinstance(value, (list, tuple)) or len(value) > len(option_ids):
        raise InvalidOption()
    chosen: set[int] = set()
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item not in option_ids:
            raise InvalidOption()
        chosen.add(item)
    if len(chosen) != len(value):
        raise InvalidOption()
    if len(chosen) > 1 and not multiple:
        raise InvalidOption(_("This poll takes one choice."))
    return [pk for pk in option_ids if pk in chosen]
