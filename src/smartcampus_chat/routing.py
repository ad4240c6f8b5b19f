"""WebSocket URL patterns for the host's ``URLRouter``.

from smartcampus_chat.routing import websocket_urlpatterns

Each route applies :class:`~smartcampus_chat.middleware.TicketAuthMiddleware` itself, so the
host's stack stays ``AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(...)))``.
"""

from __future__ import annotations

from django.urls import path

from smartcampus_chat import consumers
from smartcampus_chat.middleware import TicketAuthMiddleware

websocket_urlpatterns = [
    path(
        "ws/chat/",
        TicketAuthMiddleware(consumers.UserConsumer.as_asgi()),
        name="smartcampus_chat_user_ws",
    ),
    path(
        "ws/chat/<slug:slug>/",
        TicketAuthMiddleware(consumers.RoomConsumer.as_asgi()),
        name="smartcampus_chat_room_ws",
    ),
]
