"""Short-lived signed WebSocket tickets for clients without the site's session cookie.

A client authenticated over HTTP (session or token) asks the API for a ticket, then opens
``ws/...?ticket=<ticket>``. The ticket names the user, is signed with ``SECRET_KEY`` and
expires after ``TICKET_MAX_AGE`` seconds; no long-lived secret ever goes into a URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing

from smartcampus_chat.conf import app_settings

_SALT = "smartcampus_chat.ws-ticket"


def issue_ticket(user: Any) -> str:
    return signing.dumps({"u": user.pk}, salt=_SALT, compress=False)


def ticket_user_id(ticket: str) -> Any | None:
    """The user id a valid, unexpired ticket names (not checked against the database)."""
    try:
        data = signing.loads(ticket, salt=_SALT, max_age=app_settings.TICKET_MAX_AGE)
    except signing.BadSignature:
        return None
    return data.get("u") if isinstance(data, dict) else None


def user_for_ticket(ticket: str) -> Any | None:
    """The active user a valid, unexpired ticket names; None for anything else."""
    user_id = ticket_user_id(ticket)
    if user_id is None:
        return None
    return get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
