"""Search terms of the room and people searches: a query-string value, made safe to use."""

from __future__ import annotations

from typing import Any

SEARCH_MAX_LENGTH = 100


def clean_search(value: Any) -> str:
    """A search term from a query string: text, trimmed, bounded (never an error)."""
    return value.strip()[:SEARCH_MAX_LENGTH] if isinstance(value, str) else ""
