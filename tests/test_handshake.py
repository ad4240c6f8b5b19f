"""Origin and handshake: who may open a WebSocket at all.

The origin check is the app's ``TrustedOriginValidator`` (scheme, host and port of the
site itself or of ``CSRF_TRUSTED_ORIGINS``); these tests build the ASGI application the
way the README's snippet does, with a campus host list and trusted origins, and try the
origins an attacker would: none, ``null``, foreign, and look-alikes that share a suffix or
a prefix with the real host. Refusal happens before the consumer runs (the handshake is
denied: the communicator sees no accept). Ports and schemes: tests/test_origins.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core import signing
from django.test import override_settings

from smartcampus_chat import checks
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.realtime import tickets
from smartcampus_chat.routing import TrustedOriginValidator, websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

CAMPUS_HOSTS = ["campus.example", ".chat.campus.example"]
CAMPUS_ORIGINS = ["https://campus.example", "https://*.chat.campus.example"]


def _application() -> Any:
    return TrustedOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))


async def _handshake(origin: bytes | None, user: Any, path: str = "/ws/chat/") -> tuple[bool, Any]:
    headers = [(b"host", b"campus.example")]
    if origin is not None:
        headers.append((b"origin", origin))
    with override_settings(ALLOWED_HOSTS=CAMPUS_HOSTS, CSRF_TRUSTED_ORIGINS=CAMPUS_ORIGINS):
        communicator = WebsocketCommunicator(_application(), path, headers=headers)
        communicator.scope["user"] = user
        connected, code = await communicator.connect(timeout=3)
        await communicator.disconnect()
    return connected, code


@pytest.mark.parametrize(
    "origin",
    [
        None,
        b"null",
        b"",
        b"https://evil.example",
        b"https://evil-campus.example",
        b"https://campus.example.evil.com",
        b"https://campusexample",
        b"https://xcampus.example",
        b"https://chat.campus.example.evil.com",
        b"campus.example",  # No scheme.
        b"https://campus.example@evil.example",
    ],
)
async def test_foreign_missing_and_look_alike_origins_are_refused(
    alice: Any, origin: bytes | None
) -> None:
    connected, _code = await _handshake(origin, alice)
    assert not connected


@pytest.mark.parametrize(
    "origin",
    [b"https://campus.example", b"http://campus.example", b"https://eu.chat.campus.example"],
)
async def test_the_campus_origins_are_accepted(alice: Any, origin: bytes) -> None:
    connected, _code = await _handshake(origin, alice)
    assert connected


async def _ticket_close(ticket: str, room: ChatRoom) -> int | None:
    communicator = WebsocketCommunicator(
        _application(),
        f"/ws/chat/{room.slug}/?ticket={ticket}",
        headers=[(b"origin", b"http://testserver")],
    )
    connected, _ = await communicator.connect(timeout=3)
    assert connected  # The consumer accepts, then closes with a code the browser can see.
    if await communicator.receive_nothing(timeout=0.3):
        await communicator.disconnect()
        return None  # Still open.
    output = await communicator.receive_output(2)
    await communicator.disconnect()
    return output.get("code") if output["type"] == "websocket.close" else None


@pytest.mark.parametrize(
    "forge",
    [
        "garbage",
        "",
        "eyJ1IjoxfQ",  # A payload without a signature.
        "other-key",
        "other-salt",
    ],
)
async def test_forged_tickets_are_refused(alice: Any, public_room: ChatRoom, forge: str) -> None:
    payload = {"u": alice.pk}
    ticket = {
        "other-key": signing.dumps(
            payload, key="not-the-secret", salt="smartcampus_chat.ws-ticket"
        ),
        "other-salt": signing.dumps(payload, salt="another.salt"),
    }.get(forge, forge)
    assert await _ticket_close(ticket, public_room) == 4001


async def test_a_valid_ticket_is_accepted(alice: Any, public_room: ChatRoom) -> None:
    ticket = await database_sync_to_async(tickets.issue_ticket)(alice)
    assert await _ticket_close(ticket, public_room) is None


@pytest.mark.parametrize(
    ("hosts", "warned"),
    [
        (["*"], True),
        (["."], True),
        ([".edu"], True),
        (["campus.example", ".com"], True),
        (["campus.example", ".campus.example"], False),
        (["localhost", "127.0.0.1"], False),
    ],
)
def test_w020_warns_about_hosts_that_accept_any_origin(hosts: list[str], warned: bool) -> None:
    with override_settings(ALLOWED_HOSTS=hosts, DEBUG=False):
        ids = {message.id for message in checks.check_allowed_hosts()}
    assert ids == ({"smartcampus_chat.W020"} if warned else set())
