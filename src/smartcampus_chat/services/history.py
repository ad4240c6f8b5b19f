"""Replays of a room's changes (``resume``): what they cost.

Replays are rate-limited per user (``RESUME_RATE_*``), a token per page of up to
``MAX_PAGE_SIZE`` changes sent, so that a small catch-up costs one and a full
``RESUME_MAX_EVENTS`` replay costs many. One bucket per user, whatever the door.
"""

from __future__ import annotations

from typing import Any

from smartcampus_chat.infra import ratelimit


def check_resume(user: Any) -> None:
    """Pay for a replay's first page: :class:`~smartcampus_chat.exceptions.RateLimited`
    (with ``retry_after``) when the user has no token left."""
    ratelimit.check_rate("resume", user)


def allow_resume_page(user: Any) -> bool:
    """Pay for a later page of a replay if a token is left: whether one was."""
    return ratelimit.allow("resume", user)
