"""One setting, ``WS_PREFIX``, moves the WebSocket routes, the pages' ``wsUrl`` and the
tickets' ``ws_url`` together (issue #17, finding 7)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from smartcampus_chat.models import ChatRoom
from smartcampus_chat.routing import websocket_urls
from tests.test_views_rooms import config

PREFIX = "messages/socket/"


@pytest.fixture
def moved() -> Any:
    with override_settings(SMARTCAMPUS_CHAT={**settings.SMARTCAMPUS_CHAT, "WS_PREFIX": PREFIX}):
        yield


@pytest.mark.django_db(transaction=True)
async def test_routes_pages_and_tickets_follow_the_prefix(
    moved: None, alice: Any, public_room: ChatRoom
) -> None:
    def over_http() -> tuple[str, str]:
        client = Client()
        client.force_login(alice)
        page = client.get(public_room.get_absolute_url())
        ticket = client.post(reverse("smartcampus_chat:api-ws-ticket"))
        page_config = config(page)
        # The shell's all-rooms socket, and the room's own (for a room one has not joined).
        assert page_config["wsUrl"] == f"/{PREFIX}"
        return page_config["roomWsUrl"], ticket.json()["ws_url"]

    from asgiref.sync import sync_to_async

    ws_url, ticket_url = await sync_to_async(over_http)()
    assert ws_url == f"/{PREFIX}{public_room.slug}/"
    assert f"/{PREFIX}{{room}}/?ticket=" in ticket_url
    application = URLRouter(websocket_urls())
    socket = WebsocketCommunicator(application, ws_url)
    socket.scope["user"] = alice
    connected, _code = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "ping", "id": "p"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong", "id": "p"}
    await socket.disconnect()


@pytest.mark.parametrize("value", ["/ws/", "ws", "ws//chat/", "", None])
def test_a_bad_prefix_is_reported_by_the_check(value: Any) -> None:
    from django.core.checks import Tags, run_checks

    # The settings checks (compatibility), not the models' (a JSONField's asks the database).
    with override_settings(SMARTCAMPUS_CHAT={"WS_PREFIX": value}):
        ids = {message.id for message in run_checks(tags=[Tags.compatibility])}
    assert "smartcampus_chat.E002" in ids
