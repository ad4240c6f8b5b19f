"""The WebSocket origin check compares scheme, host and port, as Django's CSRF check does.

Through the example site's ASGI application (``campus.asgi``, built as the README says):
a page on the campus host but another port or scheme (``http://127.0.0.1:9999``,
``https://127.0.0.1`` for a plain-HTTP site, ``file://``) must not open a socket with the
user's cookie; the site's own origin and ``CSRF_TRUSTED_ORIGINS`` (exact and
``https://*.domain``) may. Refused handshakes never reach the consumer (no accept).
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from campus.asgi import application
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.realtime import tickets

pytestmark = pytest.mark.django_db(transaction=True)

HOST = b"127.0.0.1:8000"
COOKIE = (b"cookie", b"sessionid=abc; other=1")


async def _connects(
    origin: bytes | None,
    user: Any,
    *,
    host: bytes | None = HOST,
    scheme: str = "ws",
    extra: list[tuple[bytes, bytes]] | None = None,
    path: str = "/ws/chat/",
    **settings: Any,
) -> bool:
    headers = [COOKIE, *(extra or [])]
    if host is not None:
        headers.append((b"host", host))
    if origin is not None:
        headers.append((b"origin", origin))
    overrides = {"ALLOWED_HOSTS": ["127.0.0.1", "chat.campus.example"], "CSRF_TRUSTED_ORIGINS": []}
    overrides.update(settings)
    with override_settings(**overrides):
        communicator = WebsocketCommunicator(application, path, headers=headers)
        communicator.scope["user"] = user  # What the session cookie resolves to.
        communicator.scope["scheme"] = scheme
        connected, _code = await communicator.connect(timeout=3)
        await communicator.disconnect()
    return bool(connected)


@pytest.mark.parametrize(
    "origin",
    [
        b"http://127.0.0.1:9999",
        b"https://127.0.0.1",
        b"https://127.0.0.1:8000",
        b"file://127.0.0.1",
        b"http://127.0.0.1",  # Port 80, not 8000.
        b"ws://127.0.0.1:8000",
        b"http://user@127.0.0.1:8000",
        b"http://127.0.0.1:8000/chat/",
        b"http://127.0.0.1:notaport",
        b"null",
    ],
)
async def test_same_host_with_another_port_or_scheme_is_refused(alice: Any, origin: bytes) -> None:
    assert not await _connects(origin, alice)


async def test_the_sites_own_origin_is_accepted(alice: Any) -> None:
    assert await _connects(b"http://127.0.0.1:8000", alice)
    assert await _connects(b"HTTP://127.0.0.1:8000", alice)


async def test_default_ports_are_the_same_origin(alice: Any) -> None:
    assert await _connects(b"http://127.0.0.1:80", alice, host=b"127.0.0.1")
    assert await _connects(b"http://127.0.0.1", alice, host=b"127.0.0.1:80")


async def test_a_wss_connection_has_an_https_origin(alice: Any) -> None:
    assert await _connects(b"https://127.0.0.1:8000", alice, scheme="wss")
    assert not await _connects(b"http://127.0.0.1:8000", alice, scheme="wss")


async def test_the_proxy_ssl_header_decides_the_scheme_when_configured(alice: Any) -> None:
    proxy = {"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}
    forwarded = [(b"x-forwarded-proto", b"https")]
    assert await _connects(b"https://127.0.0.1:8000", alice, extra=forwarded, **proxy)
    assert not await _connects(b"http://127.0.0.1:8000", alice, extra=forwarded, **proxy)
    # Without the setting the header is the client's word, and ignored.
    assert not await _connects(b"https://127.0.0.1:8000", alice, extra=forwarded)


async def test_the_forwarded_host_counts_only_when_configured(alice: Any) -> None:
    extra = [(b"x-forwarded-host", b"chat.campus.example")]
    origin = b"http://chat.campus.example"
    assert await _connects(
        origin, alice, host=b"10.0.0.5:8000", extra=extra, USE_X_FORWARDED_HOST=True
    )
    assert not await _connects(origin, alice, host=b"10.0.0.5:8000", extra=extra)


async def test_a_host_outside_allowed_hosts_has_no_own_origin(alice: Any) -> None:
    # DNS rebinding: the attacker's name points at the campus server.
    assert not await _connects(b"http://evil.example:8000", alice, host=b"evil.example:8000")


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        (b"https://portal.campus.example", True),
        (b"http://portal.campus.example", False),
        (b"https://portal.campus.example:8443", False),
        (b"https://lms.example.edu", True),
        (b"https://a.b.example.edu", True),
        (b"https://example.edu", True),  # Django's *.example.edu matches it too.
        (b"http://lms.example.edu", False),
        (b"https://lms.example.edu:8443", False),
        (b"https://evil-example.edu", False),
        (b"https://example.edu.evil.com", False),
        (b"https://apps.campus.example:8443", True),
        (b"https://apps.campus.example", False),
    ],
)
async def test_csrf_trusted_origins_are_accepted(alice: Any, origin: bytes, accepted: bool) -> None:
    trusted = [
        "https://portal.campus.example",
        "https://*.example.edu",
        "https://apps.campus.example:8443",
    ]
    assert await _connects(origin, alice, CSRF_TRUSTED_ORIGINS=trusted) is accepted


async def test_several_origin_headers_are_refused(alice: Any) -> None:
    extra = [(b"origin", b"http://evil.example")]
    assert not await _connects(b"http://127.0.0.1:8000", alice, extra=extra)


async def test_a_missing_origin_is_refused_with_the_session_cookie(alice: Any) -> None:
    assert not await _connects(None, alice)


async def test_a_missing_origin_with_a_ticket_and_a_cookie_is_refused(
    alice: Any, public_room: ChatRoom
) -> None:
    ticket = await database_sync_to_async(tickets.issue_ticket)(alice)
    assert not await _connects(None, alice, path=f"/ws/chat/?ticket={ticket}")


async def test_a_missing_origin_with_a_ticket_and_no_cookie_is_accepted(
    alice: Any, public_room: ChatRoom
) -> None:
    """Not a browser (browsers always send Origin): a mobile app or a script."""
    ticket = await database_sync_to_async(tickets.issue_ticket)(alice)
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/?ticket={ticket}", headers=[(b"host", HOST)]
    )
    connected, _code = await communicator.connect(timeout=3)
    assert connected
    await communicator.send_json_to({"type": "ping", "id": 1})
    assert await communicator.receive_json_from(timeout=3) == {"type": "pong", "id": 1}
    await communicator.disconnect()
