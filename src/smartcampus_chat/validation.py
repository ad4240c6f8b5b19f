"""Small input checks shared by the services."""

from __future__ import annotations

from typing import Any

#: Largest primary key a 64-bit database column holds; bigger ids cannot exist and would
#: overflow the database driver instead of simply matching nothing.
MAX_ID = 2**63 - 1


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
