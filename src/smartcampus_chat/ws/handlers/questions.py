"""Q&A mode's frames (``question.vote``/``unvote``, ``answer.endorse``/``unendorse``,
``question.resolve``/``reopen``): the rules are :mod:`smartcampus_chat.services.questions`'.

Asking a question or answering one is a ``message.send`` (with ``reply_to``: the one send
pipeline, :mod:`.messages`).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import (
    Ack,
    EndorseAnswer,
    QuestionVoted,
    ReopenQuestion,
    ResolveQuestion,
    UnendorseAnswer,
    UnvoteQuestion,
    VoteQuestion,
)
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.handlers.messages import message_in
from smartcampus_chat.ws.socket import Socket


def _vote(user: Any, frame: VoteQuestion | UnvoteQuestion, room_id: int) -> QuestionVoted:
    message, access = message_in(user, frame.message_id, room_id)
    result = services.check_vote(user, message, access, vote=isinstance(frame, VoteQuestion))
    return QuestionVoted(
        room=message.room.slug, message_id=message.pk, voted=result.voted, votes=result.votes
    )


async def vote(socket: Socket, frame: VoteQuestion | UnvoteQuestion) -> None:
    """The answer is ``question.voted`` with the frame's ``id`` (the person's other sockets
    get it too, without, when the vote changed)."""
    target = await socket.target(frame.room)
    answer = await database_sync_to_async(_vote)(socket.user, frame, target.room_id)
    await socket.send_frame(answer.model_copy(update={"id": frame.id}))


def _endorse(user: Any, frame: EndorseAnswer | UnendorseAnswer, room_id: int) -> None:
    message, access = message_in(user, frame.message_id, room_id)
    services.check_endorse(user, message, access, endorse=isinstance(frame, EndorseAnswer))


async def endorse(socket: Socket, frame: EndorseAnswer | UnendorseAnswer) -> None:
    """An ``ack``; the room hears ``question.updated``."""
    target = await socket.target(frame.room)
    await database_sync_to_async(_endorse)(socket.user, frame, target.room_id)
    await socket.send_frame(Ack(id=frame.id))


def _resolve(user: Any, frame: ResolveQuestion | ReopenQuestion, room_id: int) -> None:
    message, access = message_in(user, frame.message_id, room_id)
    services.check_resolve(user, message, access, resolve=isinstance(frame, ResolveQuestion))


async def resolve(socket: Socket, frame: ResolveQuestion | ReopenQuestion) -> None:
    """An ``ack``; the room hears ``question.updated``."""
    target = await socket.target(frame.room)
    await database_sync_to_async(_resolve)(socket.user, frame, target.room_id)
    await socket.send_frame(Ack(id=frame.id))


HANDLERS: Handlers = {
    VoteQuestion: vote,
    UnvoteQuestion: vote,
    EndorseAnswer: endorse,
    UnendorseAnswer: endorse,
    ResolveQuestion: resolve,
    ReopenQuestion: resolve,
}
