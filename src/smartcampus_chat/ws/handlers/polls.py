"""``poll.vote``, ``poll.close``: the rules are :mod:`smartcampus_chat.services.polls`'.

Posting a poll is a ``message.send`` with ``poll`` (the one send pipeline: :mod:`.messages`).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import ClosePoll, PollVoted, VotePoll
from smartcampus_chat.protocol.payloads import MessageData
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.handlers.messages import ack, message_in
from smartcampus_chat.ws.socket import Socket


def _vote(user: Any, frame: VotePoll, room_id: int) -> PollVoted:
    message, access = message_in(user, frame.message_id, room_id)
    result = services.check_poll_vote(user, message, frame.option_ids, access)
    return PollVoted(room=message.room.slug, message_id=message.pk, option_ids=result.option_ids)


async def vote(socket: Socket, frame: VotePoll) -> None:
    """The answer is ``poll.voted`` with the frame's ``id`` (the person's other sockets
    get it too, without)."""
    target = await socket.target(frame.room)
    answer = await database_sync_to_async(_vote)(socket.user, frame, target.room_id)
    await socket.send_frame(answer.model_copy(update={"id": frame.id}))


def _close(user: Any, frame: ClosePoll, room_id: int) -> MessageData:
    message, access = message_in(user, frame.message_id, room_id)
    return message_data(services.check_close_poll(user, message, access))


async def close(socket: Socket, frame: ClosePoll) -> None:
    target = await socket.target(frame.room)
    data = await database_sync_to_async(_close)(socket.user, frame, target.room_id)
    await ack(socket, frame, data)


HANDLERS: Handlers = {VotePoll: vote, ClosePoll: close}
