"""WebSocket tickets are single-use and bound to the session or token that asked for them.

A ticket travels in a URL (proxy logs, histories): one copy must open one socket only, a
ticket must die with the credential it was issued for, and a socket opened with it must be
closed when that credential ends. A cache that cannot check tickets lets nobody in.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.test import Client as HTTPClient
from django.utils import timezone
from rest_framework.authtoken.models import Token

from smartcampus_chat.models import ChatRoom
from smartcampus_chat.realtime import tickets
from smartcampus_chat.realtime.hub import LAYER_RESUMED_TYPE, get_hub
from smartcampus_chat.testing import ChatCommunicator

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async
TICKET_URL = "/chat/api/ws-ticket/"


def _session_ticket(user: Any) -> tuple[HTTPClient, str]:
    """A logged-in browser-like client and the ticket its session asked for."""
    http = HTTPClient()
    http.force_login(user)
    response = http.post(TICKET_URL)
    assert response.status_code == 201, response.content
    return http, str(response.json()["ticket"])


def _token_ticket(user: Any) -> tuple[Token, str]:
    token = Token.objects.create(user=user)
    response = HTTPClient().post(TICKET_URL, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201, response.content
    return token, str(response.json()["ticket"])


async def _open(room: ChatRoom, ticket: str) -> ChatCommunicator:
    client = ChatCommunicator(f"/ws/chat/{room.slug}/?ticket={ticket}")
    await client.open(ready=False)
    return client


async def _refused(room: ChatRoom, ticket: str) -> int | None:
    client = await _open(room, ticket)
    code = await client.wait_closed()
    await client.disconnect()
    return code


async def _still_open(client: ChatCommunicator) -> bool:
    await client.ready()
    return client.closed_code is None


@pytest.mark.parametrize("issued_by", ["function", "session", "token"])
async def test_a_ticket_opens_one_socket_only(
    alice: Any, public_room: ChatRoom, issued_by: str
) -> None:
    if issued_by == "function":
        ticket = await db(tickets.issue_ticket)(alice)
    elif issued_by == "session":
        _http, ticket = await db(_session_ticket)(alice)
    else:
        _token, ticket = await db(_token_ticket)(alice)
    first = await _open(public_room, ticket)
    assert await _still_open(first)
    for _ in range(4):
        assert await _refused(public_room, ticket) == 4001
    assert await _still_open(first)
    await first.disconnect()


async def test_the_same_ticket_twice_in_one_set_up_batch_lets_one_in(
    alice: Any, public_room: ChatRoom
) -> None:
    from smartcampus_chat.ws.setup import SetUp, SetUpRequest, set_up_many

    ticket = await db(tickets.issue_ticket)(alice)
    request = SetUpRequest(None, ticket, public_room.slug)
    results = await db(set_up_many)([request, request])
    assert isinstance(results[0], SetUp)
    assert results[1] is None


async def test_a_ticket_is_refused_after_its_session_logged_out(
    alice: Any, public_room: ChatRoom
) -> None:
    http, ticket = await db(_session_ticket)(alice)
    await db(http.logout)()
    assert await _refused(public_room, ticket) == 4001


async def test_a_ticket_is_refused_after_its_token_was_deleted(
    alice: Any, public_room: ChatRoom
) -> None:
    token, ticket = await db(_token_ticket)(alice)
    await db(token.delete)()
    assert await _refused(public_room, ticket) == 4001


async def test_a_ticket_is_refused_after_a_password_change(
    alice: Any, public_room: ChatRoom
) -> None:
    _http, ticket = await db(_session_ticket)(alice)
    alice.set_password("a new one")
    await db(alice.save)()
    assert await _refused(public_room, ticket) == 4001


async def test_a_bound_ticket_whose_server_side_entry_is_gone_is_refused(
    alice: Any, public_room: ChatRoom
) -> None:
    _http, ticket = await db(_session_ticket)(alice)
    await db(cache.clear)()  # A flushed cache, or a per-process cache elsewhere.
    assert await _refused(public_room, ticket) == 4001


async def test_a_socket_opened_with_a_ticket_ends_with_its_session(
    alice: Any, public_room: ChatRoom
) -> None:
    _http, ticket = await db(_session_ticket)(alice)
    socket = await _open(public_room, ticket)
    assert await _still_open(socket)
    # Server-side deletion sends no signal; the socket's re-validation must see it.
    await db(lambda: Session.objects.all().delete())()
    get_hub().notify_all({"type": LAYER_RESUMED_TYPE})
    assert await socket.wait_closed(timeout=5) == 4001
    await socket.disconnect()


def _expire_sessions_in(seconds: float) -> float:
    """Every session row expires ``seconds`` from now; that moment, ``time.monotonic()``."""
    Session.objects.update(expire_date=timezone.now() + timedelta(seconds=seconds))
    return time.monotonic() + seconds


async def test_a_socket_opened_with_a_ticket_ends_at_its_sessions_expiry(
    alice: Any, public_room: ChatRoom
) -> None:
    """The expiry of the session the ticket was issued for is read at the set-up; the
    socket checks then (``REVALIDATE_INTERVAL`` at its default 60 s, no frame sent)."""
    _http, ticket = await db(_session_ticket)(alice)
    expires_at = await db(_expire_sessions_in)(2.0)
    socket = await _open(public_room, ticket)
    assert await _still_open(socket)
    assert await socket.wait_closed(timeout=expires_at - time.monotonic() + 1.0) == 4001
    assert 0 <= time.monotonic() - expires_at < 1.0
    await socket.disconnect()


async def test_a_socket_opened_with_a_ticket_ends_with_its_token(
    alice: Any, public_room: ChatRoom
) -> None:
    token, ticket = await db(_token_ticket)(alice)
    socket = await _open(public_room, ticket)
    assert await _still_open(socket)
    started = time.monotonic()
    await db(token.delete)()  # The token's post_delete tells the user's sockets.
    assert await socket.wait_closed(timeout=1) == 4001
    assert time.monotonic() - started < 1.0
    await socket.disconnect()


async def test_a_ticket_socket_whose_credential_lives_stays_open(
    alice: Any, public_room: ChatRoom
) -> None:
    _token, ticket = await db(_token_ticket)(alice)
    socket = await _open(public_room, ticket)
    assert await _still_open(socket)
    get_hub().notify_all({"type": LAYER_RESUMED_TYPE})
    assert await _still_open(socket)
    await socket.disconnect()


async def test_a_cache_outage_refuses_tickets_with_unavailable(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = await db(tickets.issue_ticket)(alice)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    # The cache handler is per thread: patch its class, as an outage would hit every thread.
    monkeypatch.setattr(type(caches["default"]), "add", down)
    client = await _open(public_room, ticket)
    error = await client.receive_frame("error")
    assert error["code"] == "unavailable"
    assert await client.wait_closed() == 1013
    await client.disconnect()


def test_the_ticket_view_answers_503_when_the_cache_is_down(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    monkeypatch.setattr(type(caches["default"]), "set", down)
    http = HTTPClient()
    http.force_login(alice)
    response = http.post(TICKET_URL)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_the_ticket_does_not_carry_the_session_key(alice: Any) -> None:
    http, ticket = _session_ticket(alice)
    session_key = http.session.session_key
    assert session_key
    assert session_key not in ticket
    assert session_key not in tickets.signing.b64_decode(ticket.split(":")[0].encode()).decode()


REDIS_LAYER = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/5",
    }
}


@pytest.mark.parametrize(
    ("layers", "caches", "warned"),
    [
        (REDIS_LAYER, LOCMEM, True),
        (REDIS_LAYER, REDIS_CACHE, False),
        (MEMORY_LAYER, LOCMEM, False),
    ],
)
def test_w050_warns_when_processes_share_a_layer_but_not_a_cache(
    layers: dict[str, Any], caches: dict[str, Any], warned: bool
) -> None:
    from django.test import override_settings

    from smartcampus_chat import checks

    with override_settings(CHANNEL_LAYERS=layers, CACHES=caches):
        ids = {message.id for message in checks.check_shared_cache()}
    assert ids == ({"smartcampus_chat.W050"} if warned else set())
