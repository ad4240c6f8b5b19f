"""``preview.remove``: the rules are :mod:`smartcampus_chat.services.link_previews`'."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import RemovePreview
from smartcampus_chat.protocol.payloads import MessageData
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.handlers.messages import ack, message_in
from smartcampus_chat.ws.socket import Socket


def _remove(user: Any, frame: RemovePreview, room_id: int) -> MessageData:
    message, access = message_in(user, frame.message_id, room_id)
    return message_data(services.check_remove_preview(user, message, access), viewer_id=user.pk)


async def remove_preview(socket: Socket, frame: RemovePreview) -> None:
    target = await socket.target(frame.room)
    data = await database_sync_to_async(_remove)(socket.user, frame, target.room_id)
    await ack(socket, frame, data)


HANDLERS: Handlers = {RemovePreview: remove_preview}
