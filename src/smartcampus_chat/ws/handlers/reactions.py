"""``reaction.add``, ``reaction.remove``.

The rules are :mod:`smartcampus_chat.services.reactions`'.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import AddReaction, RemoveReaction
from smartcampus_chat.protocol.payloads import MessageData
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.handlers.messages import ack, message_in
from smartcampus_chat.ws.socket import Socket


def _react(user: Any, frame: AddReaction | RemoveReaction, room_id: int) -> MessageData:
    message, access = message_in(user, frame.message_id, room_id)
    add = isinstance(frame, AddReaction)
    return message_data(
        services.check_react(user, message, frame.emoji, access, add=add), viewer_id=user.pk
    )


async def react(socket: Socket, frame: AddReaction | RemoveReaction) -> None:
    target = await socket.target(frame.room)
    data = await database_sync_to_async(_react)(socket.user, frame, target.room_id)
    await ack(socket, frame, data)


HANDLERS: Handlers = {AddReaction: react, RemoveReaction: react}
