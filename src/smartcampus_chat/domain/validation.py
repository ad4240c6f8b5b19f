"""Small input checks shared by the services and the doors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from smartcampus_chat.exceptions import ValidationFailed

#: Largest primary key a 64-bit database column holds; bigger ids cannot exist and would
#: overflow the database driver instead of simply matching nothing.
MAX_ID = 2**63 - 1
#: Digits of :data:`MAX_ID`: longer text is out of range before it is read (``int()`` of
#: thousands of digits is slow, and past 4,300 digits it raises).
_MAX_DIGITS = len(str(MAX_ID))


def is_object_id(value: Any) -> bool:
    """True for an int that can be a primary key (not a bool, 1 to :data:`MAX_ID`)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def is_unicode_text(value: str) -> bool:
    """Whether ``value`` encodes to UTF-8 (no lone surrogates, which JSON can carry)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def has_nul(value: str) -> bool:
    """Whether ``value`` holds a NUL character, which PostgreSQL cannot store in text."""
    return "\x00" in value


def parse_int(value: Any, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """A number written as text (URL query, path segment): the int, or None if malformed.

    Only ASCII digits count: ``str.isdigit()`` also accepts "²" (which ``int()`` refuses)
    and "٣" (which ``int()`` reads as 3), and ``int()`` accepts signs, spaces and
    underscores. Out of ``minimum``..``maximum`` is malformed too.
    """
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def clean_int(value: Any, name: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """:func:`parse_int`, or ``ValidationFailed`` naming parameter ``name``."""
    number = parse_int(value, minimum=minimum, maximum=maximum)
    if number is None:
        message = _("%(name)s must be a whole number from %(min)d to %(max)d.") % {
            "name": name,
            "min": minimum,
            "max": maximum,
        }
        raise ValidationFailed(message, fields={name: [message]})
    return number
