"""``message.send``, ``message.edit``, ``message.delete``.

The rules are :mod:`smartcampus_chat.services.messages`'; a send is stored with the
process's other sends (group commit, :mod:`smartcampus_chat.services.batcher`).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.protocol.frames import (
    Ack,
    ClientFrame,
    DeleteMessage,
    EditMessage,
    SendMessage,
)
from smartcampus_chat.protocol.payloads import MessageData
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.services.batch import check_send_messages
from smartcampus_chat.services.batcher import get_batcher
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.pipeline import for_author, request_for
from smartcampus_chat.ws.socket import Socket

# --- Database work, run in a worker thread ------------------------------------------------


def message_in(user: Any, message_id: int, room_id: int) -> tuple[ChatMessage, RoomAccess]:
    message, access = services.get_message_for(user, message_id)
    if message.room_id != room_id:
        raise NotFound()
    return message, access


def _send(socket: Socket, room: ChatRoom, frame: SendMessage, access: RoomAccess) -> MessageData:
    (result,) = check_send_messages([request_for(socket, frame, room, access)])
    if isinstance(result, Exception):
        raise result
    return message_data(result.message, room_slug=room.slug, viewer_id=socket.user.pk)


def _edit(user: Any, frame: EditMessage, room_id: int) -> MessageData:
    message, access = message_in(user, frame.message_id, room_id)
    edited = services.check_edit_message(user, message, frame.content, access)
    return message_data(edited, viewer_id=user.pk)


def _delete(user: Any, frame: DeleteMessage, room_id: int) -> MessageData:
    message, access = message_in(user, frame.message_id, room_id)
    return message_data(services.check_delete_message(user, message, access), viewer_id=user.pk)


# --- Handlers -----------------------------------------------------------------------------


async def store(
    socket: Socket, room: ChatRoom, frame: SendMessage, access: RoomAccess
) -> MessageData:
    """Store a send: with the process's other sends (group commit) unless disabled."""
    if app_settings.SEND_BATCH_MAX <= 1:
        return await database_sync_to_async(_send)(socket, room, frame, access)
    return await get_batcher().send(request_for(socket, frame, room, access))


async def ack(socket: Socket, frame: ClientFrame, data: MessageData) -> None:
    await socket.send_frame(Ack(id=frame.id, client_id=data.client_id, message=data))


async def send_message(socket: Socket, frame: SendMessage) -> None:
    target = await socket.target(frame.room)
    room, access = await socket.room_access(target)
    await ack(socket, frame, for_author(await store(socket, room, frame, access), frame))


async def edit_message(socket: Socket, frame: EditMessage) -> None:
    target = await socket.target(frame.room)
    data = await database_sync_to_async(_edit)(socket.user, frame, target.room_id)
    await ack(socket, frame, data)


async def delete_message(socket: Socket, frame: DeleteMessage) -> None:
    target = await socket.target(frame.room)
    data = await database_sync_to_async(_delete)(socket.user, frame, target.room_id)
    await ack(socket, frame, data)


HANDLERS: Handlers = {
    SendMessage: send_message,
    EditMessage: edit_message,
    DeleteMessage: delete_message,
}
