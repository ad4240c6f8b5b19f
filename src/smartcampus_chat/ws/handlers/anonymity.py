"""``message.reveal``: the rules are :mod:`smartcampus_chat.services.anonymity`'.

Posting anonymously is a ``message.send`` with ``anonymous`` (the one send pipeline:
:mod:`.messages`).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.protocol.frames import AuthorRevealed, RevealAuthor
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.handlers.messages import message_in
from smartcampus_chat.ws.socket import Socket


def _reveal(user: Any, frame: RevealAuthor, room_id: int) -> AuthorRevealed:
    message, access = message_in(user, frame.message_id, room_id)
    revealed = services.check_reveal_author(user, message, access, frame.reason)
    author = user_ref(revealed.author) if revealed.author is not None else None
    return AuthorRevealed(room=message.room.slug, message_id=message.pk, author=author)


async def reveal(socket: Socket, frame: RevealAuthor) -> None:
    """The answer goes to this socket only (never published)."""
    target = await socket.target(frame.room)
    answer = await database_sync_to_async(_reveal)(socket.user, frame, target.room_id)
    await socket.send_frame(answer.model_copy(update={"id": frame.id}))


HANDLERS: Handlers = {RevealAuthor: reveal}
