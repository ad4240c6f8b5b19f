"""Search terms of the room and people searches: a query-string value, made safe to use."""

from __future__ import annotations

from typing import Any

SEARCH_MAX_LENGTH = 100


def clean_search(value: Any) -> str:
    """A search term from a query string: text, trimmed, bounded (never an error). NUL
    characters are dropped: no one types them, and PostgreSQL refuses them in a query."""
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]
