"""Writes through the REST API produce the same real-time frames as writes over WebSocket."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from campus.asgi import application
from smartcampus_chat.models import ChatRoom

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


def _http(user: Any, method: str, path: str, data: Any = None) -> tuple[int, Any]:
    client = Client()
    client.force_login(user)
    body = json.dumps(data) if data is not None else ""
    response = client.generic(method, path, body, content_type="application/json")
    return response.status_code, response.json()


http = database_sync_to_async(_http)


async def connected(socket: WebsocketCommunicator) -> None:
    """Connect and wait until the socket is set up (the server accepts first, then follows
    the room; frames are handled in order, so the ``pong`` comes after that)."""
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "ping", "id": "ready"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong", "id": "ready"}


async def test_api_writes_reach_the_room_socket_with_the_same_payload(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    socket = WebsocketCommunicator(application, f"/ws/chat/{public_room.slug}/", headers=[ORIGIN])
    socket.scope["user"] = bob
    await connected(socket)
    messages = reverse("smartcampus_chat:api-message-list", kwargs={"room_slug": public_room.slug})

    status, sent = await http(alice, "POST", messages, {"content": "hello", "client_id": "r-1"})
    assert status == 201
    frame = await socket.receive_json_from(timeout=5)
    assert frame == {"type": "message.new", "message": sent}

    detail = f"{messages}{sent['id']}/"
    status, edited = await http(alice, "PATCH", detail, {"content": "hello, world"})
    assert status == 200
    frame = await socket.receive_json_from(timeout=5)
    assert frame == {"type": "message.edited", "message": edited}

    status, deleted = await http(alice, "DELETE", detail)
    assert status == 200
    frame = await socket.receive_json_from(timeout=5)
    assert frame == {"type": "message.deleted", "message": deleted}

    # A retry of the same send stores nothing and announces nothing.
    status, again = await http(alice, "POST", messages, {"content": "hello", "client_id": "r-1"})
    assert status == 200
    assert again["id"] == sent["id"]
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_room_updates_and_joins_are_announced(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    socket = WebsocketCommunicator(application, f"/ws/chat/{public_room.slug}/", headers=[ORIGIN])
    socket.scope["user"] = alice
    await connected(socket)
    join = reverse("smartcampus_chat:api-room-join", kwargs={"slug": public_room.slug})
    status, _ = await http(bob, "POST", join)
    assert status == 200
    joined = await socket.receive_json_from(timeout=5)
    assert joined["type"] == "participant.joined"
    assert joined["user"]["name"] == "Bob"
    detail = reverse("smartcampus_chat:api-room-detail", kwargs={"slug": public_room.slug})
    status, room = await http(alice, "PATCH", detail, {"description": "Everything"})
    assert status == 200
    updated = await socket.receive_json_from(timeout=5)
    assert updated["type"] == "room.updated"
    assert updated["room"]["description"] == room["description"] == "Everything"
    await socket.disconnect()
