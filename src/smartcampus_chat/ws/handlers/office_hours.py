"""``office_hours.*``: the rules are :mod:`smartcampus_chat.services.office_hours`'.

Each frame is answered with ``ack``; what changed arrives as ``office_hours.state`` (the
room), ``office_hours.place`` (the student) and ``office_hours.queue`` (the teachers).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.protocol.frames import (
    Ack,
    OfficeHoursClaim,
    OfficeHoursClose,
    OfficeHoursFinish,
    OfficeHoursLeave,
    OfficeHoursOpen,
    OfficeHoursRaise,
)
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.socket import Socket


def _act(user: Any, room: ChatRoom, frame: Any) -> None:
    if isinstance(frame, OfficeHoursOpen):
        services.check_open_office_hours(
            user, room, starts_at=frame.starts_at, ends_at=frame.ends_at
        )
    elif isinstance(frame, OfficeHoursClose):
        services.check_close_office_hours(user, room)
    elif isinstance(frame, OfficeHoursRaise):
        services.check_raise_hand(user, room, frame.topic)
    elif isinstance(frame, OfficeHoursLeave):
        services.check_leave_queue(user, room)
    elif isinstance(frame, OfficeHoursClaim):
        services.check_claim(user, room, frame.entry)
    else:
        services.check_finish(user, room, frame.entry, frame.outcome)


async def office_hours(socket: Socket, frame: Any) -> None:
    target = await socket.target(frame.room)
    room, _access = await socket.room_access(target)
    await database_sync_to_async(_act)(socket.user, room, frame)
    await socket.send_frame(Ack(id=frame.id))


HANDLERS: Handlers = {
    OfficeHoursOpen: office_hours,
    OfficeHoursClose: office_hours,
    OfficeHoursRaise: office_hours,
    OfficeHoursLeave: office_hours,
    OfficeHoursClaim: office_hours,
    OfficeHoursFinish: office_hours,
}
