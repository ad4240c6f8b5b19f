"""``message.pin``, ``message.unpin``: the rules are :mod:`smartcampus_chat.services.pins`'."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import PinMessage, UnpinMessage
from smartcampus_chat.protocol.payloads import MessageData
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.handlers.messages import ack, message_in
from smartcampus_chat.ws.socket import Socket


def _pin(user: Any, frame: PinMessage | UnpinMessage, room_id: int) -> MessageData:
    message, access = message_in(user, frame.message_id, room_id)
    pinned = isinstance(frame, PinMessage)
    return message_data(services.check_pin(user, message, access, pinned=pinned), viewer_id=user.pk)


async def pin(socket: Socket, frame: PinMessage | UnpinMessage) -> None:
    target = await socket.target(frame.room)
    data = await database_sync_to_async(_pin)(socket.user, frame, target.room_id)
    await ack(socket, frame, data)


HANDLERS: Handlers = {PinMessage: pin, UnpinMessage: pin}
