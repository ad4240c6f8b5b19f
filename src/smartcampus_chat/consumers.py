"""WebSocket doors. Thin: parse a frame, call a service, send frames back.

The full protocol is documented in docs/protocol.md.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from smartcampus_chat import events, services
from smartcampus_chat.exceptions import ChatError
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.payloads import message_data
from smartcampus_chat.policies import RoomAccess

logger = logging.getLogger(__name__)

CLOSE_NOT_AUTHENTICATED = 4001
CLOSE_NOT_ALLOWED = 4003
CLOSE_ROOM_GONE = 4004


class RoomConsumer(AsyncWebsocketConsumer):
    """One room per connection: ``ws/chat/<slug>/``."""

    room: ChatRoom
    access: RoomAccess

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            self.room, self.access = await database_sync_to_async(services.get_room_for)(user, slug)
        except ChatError:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.groups_joined = [events.room_group(self.room.pk), events.user_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            await self.send_error("bad_json", "The frame is not valid JSON.")
            return
        if not isinstance(frame, dict) or frame.get("type") != "message.send":
            await self.send_error("unknown_type", "Unknown frame type.")
            return
        try:
            result = await database_sync_to_async(services.check_send_message)(
                self.scope["user"],
                self.room,
                frame.get("content"),
                client_id=frame.get("client_id"),
                access=self.access,
            )
        except ChatError as exc:
            await self.send_error(exc.code, exc.message, frame.get("id"))
            return
        message = result.message
        await self.send_json(
            {
                "type": "ack",
                "id": frame.get("id"),
                "client_id": message.client_id or None,
                "message": json.loads(
                    message_data(message, room_slug=self.room.slug).model_dump_json()
                ),
            }
        )

    async def send_error(self, code: str, message: str, frame_id: Any = None) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "id": frame_id})

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def chat_frame(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])

    async def chat_access_changed(self, event: dict[str, Any]) -> None:
        try:
            self.room, self.access = await database_sync_to_async(services.get_room_for)(
                self.scope["user"], self.room.slug
            )
        except ChatError:
            await self.close(code=CLOSE_NOT_ALLOWED)

    async def chat_session_ended(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_NOT_AUTHENTICATED)
