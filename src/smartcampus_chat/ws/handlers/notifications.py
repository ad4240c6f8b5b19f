"""``notifications.read``: mark notifications read
(:mod:`smartcampus_chat.services.notifications`); every socket of the person hears
``notifications.read``, this one an ``ack`` too."""

from __future__ import annotations

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import Ack, NotificationsReadFrame
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.socket import Socket


async def mark_read(socket: Socket, frame: NotificationsReadFrame) -> None:
    await database_sync_to_async(services.check_mark_notifications_read)(
        socket.user, list(frame.ids), everything=frame.all
    )
    await socket.send_frame(Ack(id=frame.id))


HANDLERS: Handlers = {NotificationsReadFrame: mark_read}
