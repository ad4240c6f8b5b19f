"""Message search: what a search costs. The read is
:func:`smartcampus_chat.queries.find_messages`; every door calls it through here, so one
bucket per user (``SEARCH_RATE_*``) bounds a user's searches whatever the door (a search
reads far more than a history page)."""

from __future__ import annotations

from typing import Any

from smartcampus_chat.infra import ratelimit
from smartcampus_chat.queries.message_search import SearchPage, find_messages


def check_search(user: Any, q: str, **filters: Any) -> SearchPage:
    """Take a token (:class:`~smartcampus_chat.exceptions.RateLimited` without one), then
    search: ``filters`` are :func:`~smartcampus_chat.queries.find_messages`' (``room``,
    ``author``, ``after``, ``before``, ``has``, ``order``, ``cursor``, ``limit``)."""
    ratelimit.check_rate("search", user)
    return find_messages(user, q, **filters)
