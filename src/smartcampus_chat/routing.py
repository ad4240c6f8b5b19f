"""WebSocket URL patterns for the host's ``URLRouter``.

from smartcampus_chat.routing import TrustedOriginValidator, websocket_urlpatterns

The host's stack is ``TrustedOriginValidator(URLRouter(...))``
(:mod:`smartcampus_chat.ws.origins`: the Origin's scheme, host and port must be the site's
own or one of ``CSRF_TRUSTED_ORIGINS``; Channels' ``AllowedHostsOriginValidator`` ignores
scheme and port). The session cookie is read by the consumers, whose set-up finds the
users of all the sockets opening together at once; Channels' ``AuthMiddlewareStack`` around
the routes still works (its user is used) but makes each handshake wait for the database
thread (docs/integration.md, "WebSocket authentication").
``?ticket=<ticket>`` (clients without the site's session cookie: mobile apps, scripts) is
read by the consumers themselves, with the rooms a socket follows, in one trip to the
database thread (:func:`smartcampus_chat.services.connections.set_up_many`); a ticket replaces
whatever user the session resolved, and an invalid or expired one is closed with 4001.
No middleware of the chat's own wraps a route: each would cost every open socket a
coroutine frame and a copy of its scope for as long as it is open.
"""

from __future__ import annotations

from django.urls import path
from django.urls.resolvers import URLPattern

from smartcampus_chat.protocol.frames import ws_prefix
from smartcampus_chat.ws import consumer as consumers
from smartcampus_chat.ws.origins import TrustedOriginValidator

__all__ = ["TrustedOriginValidator", "websocket_urlpatterns", "websocket_urls"]


def websocket_urls() -> list[URLPattern]:
    """The chat's WebSocket routes under ``SMARTCAMPUS_CHAT["WS_PREFIX"]`` (default
    ``ws/chat/``): the same setting names them in pages and tickets."""
    prefix = ws_prefix()
    return [
        path(prefix, consumers.UserConsumer.as_asgi(), name="smartcampus_chat_user_ws"),
        path(
            f"{prefix}<slug:slug>/",
            consumers.RoomConsumer.as_asgi(),
            name="smartcampus_chat_room_ws",
        ),
    ]


#: The routes for the host's ``URLRouter``, built when the host's ``asgi.py`` imports them.
websocket_urlpatterns = websocket_urls()
