"""WebSocket URL patterns for the host's ``URLRouter``.

from smartcampus_chat.routing import websocket_urlpatterns
"""

from __future__ import annotations

from django.urls import path

from smartcampus_chat import consumers

websocket_urlpatterns = [
    path("ws/chat/<slug:slug>/", consumers.RoomConsumer.as_asgi(), name="smartcampus_chat_room_ws"),
]
