"""ASGI middleware applied by :mod:`smartcampus_chat.routing` to the chat's WebSocket routes.

``?ticket=<ticket>`` authenticates clients without the site's session cookie (mobile apps,
scripts): a ticket from :func:`smartcampus_chat.tickets.issue_ticket` replaces whatever user
the session resolved; an invalid or expired ticket leaves the connection anonymous (it is
then closed with 4001). Because the routes wrap themselves, the host's ``asgi.py`` keeps
the stock ``AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(...)))`` stack.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from smartcampus_chat.tickets import user_for_ticket


def query_params(scope: dict[str, Any]) -> dict[str, str]:
    """The last value of each query-string parameter of ``scope``."""
    raw = scope.get("query_string", b"")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    return {key: values[-1] for key, values in parse_qs(text).items()}


class TicketAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        ticket = query_params(scope).get("ticket")
        if ticket is not None:
            user = await database_sync_to_async(user_for_ticket)(ticket)
            scope = {**scope, "user": user or AnonymousUser()}
        return await self.inner(scope, receive, send)
