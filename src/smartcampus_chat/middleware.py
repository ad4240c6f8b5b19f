"""ASGI middleware applied by :mod:`smartcampus_chat.routing` to the chat's WebSocket routes.

``?ticket=<ticket>`` authenticates clients without the site's session cookie (mobile apps,
scripts): a ticket from :func:`smartcampus_chat.tickets.issue_ticket` replaces whatever user
the session resolved; an invalid or expired ticket leaves the connection anonymous (it is
then closed with 4001). Because the routes wrap themselves, the host's ``asgi.py`` keeps
the stock ``AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(...)))`` stack.

The middleware only hands the ticket on (``scope["smartcampus_chat.ticket"]``, the user
anonymous until then): the chat's consumers read the ticket's user in the same trip to
the database thread as the rooms it follows, together with the other sockets opening at
the time (:func:`smartcampus_chat.handshakes.set_up_many`): one trip per handshake fewer
on the thread every socket's set-up queues on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from django.contrib.auth.models import AnonymousUser

#: Where :class:`TicketAuthMiddleware` leaves the ticket for the consumer.
TICKET_SCOPE_KEY = "smartcampus_chat.ticket"


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
            scope = {**scope, "user": AnonymousUser(), TICKET_SCOPE_KEY: ticket}
        return await self.inner(scope, receive, send)
