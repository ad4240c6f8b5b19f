"""The WebSocket route of the example site's ASGI application answers and delivers."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from campus.asgi import application
from smartcampus_chat.models import ChatMessage, ChatRoom

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


async def connect(user: Any, room: ChatRoom) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/chat/{room.slug}/", headers=[ORIGIN])
    communicator.scope["user"] = user
    return communicator


@pytest.fixture
def users(make_user: Any) -> tuple[Any, Any]:
    return make_user("ann"), make_user("ben")


async def test_message_is_stored_acked_and_broadcast(
    users: tuple[Any, Any], public_room: ChatRoom
) -> None:
    ann, ben = users
    sender = await connect(ann, public_room)
    receiver = await connect(ben, public_room)
    # The session middleware of the stack would resolve the user; tests pass it in the scope.
    sender.scope["user"], receiver.scope["user"] = ann, ben
    assert (await sender.connect())[0]
    assert (await receiver.connect())[0]
    await sender.send_json_to(
        {"type": "message.send", "content": "hello", "client_id": "c1", "id": 1}
    )
    ack = await sender.receive_json_from(timeout=5)
    assert ack["type"] == "ack"
    assert ack["message"]["seq"] == 1
    # Ann's first message also made her a participant, online at once since her socket is
    # open: the room hears of all three, in no guaranteed order (separate publishes).
    frames = [await receiver.receive_json_from(timeout=5) for _ in range(3)]
    assert sorted(f["type"] for f in frames) == ["message.new", "participant.joined", "presence"]
    assert next(f for f in frames if f["type"] == "presence")["online"] is True
    frame = next(f for f in frames if f["type"] == "message.new")
    assert frame["message"]["content"] == "hello"
    stored = await database_sync_to_async(ChatMessage.objects.get)(pk=ack["message"]["id"])
    assert stored.content == "hello"
    await sender.disconnect()
    await receiver.disconnect()


async def test_anonymous_connection_is_refused(public_room: ChatRoom) -> None:
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/{public_room.slug}/", headers=[ORIGIN]
    )
    connected, _ = await communicator.connect()
    # Accepted, then closed with the code (a refused handshake would hide it from browsers).
    assert connected
    closing = await communicator.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": 4001, "reason": "not authenticated"}
    await communicator.disconnect()


async def test_foreign_origin_is_refused(public_room: ChatRoom) -> None:
    user = await database_sync_to_async(get_user_model().objects.create_user)("eve", password="pw")
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/{public_room.slug}/", headers=[(b"origin", b"http://evil.example")]
    )
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert not connected
