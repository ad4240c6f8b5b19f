"""``typing``: someone types (:mod:`smartcampus_chat.services.typing`); nothing is stored."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from smartcampus_chat.protocol.frames import Ack, TypingFrame
from smartcampus_chat.realtime import events
from smartcampus_chat.services.typing import check_typing
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.socket import Socket


async def typing(socket: Socket, frame: TypingFrame) -> None:
    target = await socket.target(frame.room)
    room, access = await socket.room_access(target)
    # Advisory: over the rate it is dropped silently (None), never an error.
    notice = await sync_to_async(check_typing)(socket.user, room, access, frame.state)
    if notice is not None:
        await events.apublish_to_room(target.room_id, notice)
    if frame.id is not None:
        await socket.send_frame(Ack(id=frame.id))


HANDLERS: Handlers = {TypingFrame: typing}
