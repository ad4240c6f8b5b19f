"""``read``: the user's read marker (:mod:`smartcampus_chat.services.reads`)."""

from __future__ import annotations

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import Ack, ReadFrame
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.socket import Socket


async def mark_read(socket: Socket, frame: ReadFrame) -> None:
    target = await socket.target(frame.room)
    room, access = await socket.room_access(target)
    await database_sync_to_async(services.check_mark_read)(socket.user, room, frame.seq, access)
    await socket.send_frame(Ack(id=frame.id))


HANDLERS: Handlers = {ReadFrame: mark_read}
