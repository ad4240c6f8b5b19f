"""``announcement.ack``: the rules are :mod:`smartcampus_chat.services.announcements`'.

Posting an announcement is a ``message.send`` with ``announcement`` (the one send
pipeline: :mod:`.messages`).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import AcknowledgeAnnouncement, AnnouncementAcked
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.handlers.messages import message_in
from smartcampus_chat.ws.socket import Socket


def _acknowledge(user: Any, frame: AcknowledgeAnnouncement, room_id: int) -> AnnouncementAcked:
    message, access = message_in(user, frame.message_id, room_id)
    ack = services.check_acknowledge(user, message, access).ack
    return AnnouncementAcked(room=message.room.slug, message_id=message.pk, acked_at=ack.acked_at)


async def acknowledge(socket: Socket, frame: AcknowledgeAnnouncement) -> None:
    """The answer is ``announcement.acked`` with the frame's ``id`` (the person's other
    sockets get it too, without)."""
    target = await socket.target(frame.room)
    answer = await database_sync_to_async(_acknowledge)(socket.user, frame, target.room_id)
    await socket.send_frame(answer.model_copy(update={"id": frame.id}))


HANDLERS: Handlers = {AcknowledgeAnnouncement: acknowledge}
