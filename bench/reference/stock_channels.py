"""REFERENCE SERVER: the stock Channels tutorial consumer, as its own tiny ASGI app.

What the Channels tutorial teaches: ``group_add`` on connect, ``group_send`` of every
received message, and a JSON handler per delivery that ``json.dumps`` the frame again for
each recipient. No authentication, no database. The channel layer is picked by
``bench.reference.stock_settings`` from ``BENCH_LAYER`` (memory, redis, pubsub) with the
layers' default options (``RedisChannelLayer`` keeps its default ``capacity`` of 100).

    DJANGO_SETTINGS_MODULE=bench.reference.stock_settings BENCH_LAYER=redis \\
        uvicorn bench.reference.stock_channels:application
"""

from __future__ import annotations

import json
import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.reference.stock_settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class ChatConsumer(AsyncWebsocketConsumer):
    """``ws/room/<name>/``: relay ``{"message": ...}`` frames to the room's group."""

    async def connect(self) -> None:
        self.room_group_name = f"chat_{self.scope['url_route']['kwargs']['room_name']}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = json.loads(text_data or "{}")["message"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message}
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"message": event["message"]}))


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/room/<str:room_name>/", ChatConsumer.as_asgi())])}
)
