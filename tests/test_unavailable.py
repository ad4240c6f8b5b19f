"""An unreachable database or cache is a retryable ``unavailable``, not a server bug.

Over the WebSocket: an ``error`` frame with code ``unavailable`` and ``retry_after``; over
REST: HTTP 503 with ``Retry-After`` and the usual JSON error body. One WARNING line is
logged (no traceback), and a send retried with its ``client_id`` once the service is back
is stored exactly once.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis.exceptions
from channels.db import database_sync_to_async
from django.db import DatabaseError, IntegrityError, OperationalError, connection

from smartcampus_chat import services
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.infra.outages import is_unavailable
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.testing import open_room
from tests.test_api import api_client, assert_error, url

pytestmark = pytest.mark.django_db(transaction=True)


def test_outage_errors_are_told_apart_from_bugs() -> None:
    assert is_unavailable(OperationalError("could not connect to server"))
    assert is_unavailable(redis.exceptions.ConnectionError("Error 111 connecting"))
    assert is_unavailable(redis.exceptions.TimeoutError("Timeout reading from socket"))
    assert is_unavailable(ConnectionRefusedError(111, "Connection refused"))
    wrapped = RuntimeError("while storing")
    wrapped.__cause__ = OperationalError("server closed the connection unexpectedly")
    assert is_unavailable(wrapped)
    assert not is_unavailable(ValueError("bug"))
    assert not is_unavailable(IntegrityError("duplicate key"))
    assert not is_unavailable(DatabaseError("syntax error"))
    assert not is_unavailable(redis.exceptions.ResponseError("WRONGTYPE"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's pool is PostgreSQL's")
def test_a_pool_with_every_connection_lent_is_an_outage() -> None:
    """Django's ``OPTIONS["pool"]`` raises psycopg's ``PoolTimeout`` (wrapped in Django's
    ``Error``) when its ``max_size`` connections stay busy for its ``timeout``: a 503."""
    from psycopg_pool import ConnectionPool

    params = connection.get_connection_params()
    pool = ConnectionPool(kwargs=params, min_size=1, max_size=1, timeout=0.2, open=False)
    busy = pool.connection()
    with pool, busy, pytest.raises(Exception) as raised, connection.wrap_database_errors:
        pool.getconn()
    assert type(raised.value).__module__ == "django.db.utils"
    assert is_unavailable(raised.value)


def cache_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared cache behind the rate limits cannot be reached (Redis is away)."""

    def unreachable(*args: Any, **kwargs: Any) -> float:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    # Every single-token take goes through this one cache step (tests/test_rate_limit_fail_open.py
    # takes the cache itself down).
    monkeypatch.setattr(ratelimit, "_take_one", unreachable)


async def test_a_send_during_a_cache_outage_is_refused_as_unavailable_then_stored_once(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    client = await open_room(alice, public_room.slug)
    try:
        with monkeypatch.context() as patch:
            cache_down(patch)
            await client.send_frame(type="message.send", content="hi", client_id="c-1", id="s1")
            error = await client.receive_frame("error", timeout=5)
        assert (error["code"], error["id"], error["retry_after"]) == ("unavailable", "s1", 1.0)
        assert "6379" not in error["message"]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        warnings = [r for r in caplog.records if r.name.startswith("smartcampus_chat")]
        assert warnings
        assert all(r.levelno == logging.WARNING and r.exc_info is None for r in warnings)
        assert await database_sync_to_async(ChatMessage.objects.count)() == 0

        await client.send_frame(type="message.send", content="hi", client_id="c-1", id="s2")
        ack = await client.receive_frame("ack", timeout=5)
        assert ack["client_id"] == "c-1"
        await client.send_frame(type="message.send", content="hi", client_id="c-1", id="s3")
        again = await client.receive_frame("ack", timeout=5, skip=frozenset({"message.new"}))
        assert again["message"]["id"] == ack["message"]["id"]
        assert await database_sync_to_async(ChatMessage.objects.count)() == 1
    finally:
        await client.disconnect()


async def test_a_database_outage_in_a_handler_is_unavailable(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def lost(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "check_mark_read", lost)
    client = await open_room(alice, public_room.slug)
    try:
        await client.send_frame(type="read", seq=0, id="r1")
        error = await client.receive_frame("error")
        assert (error["code"], error["id"], error["retry_after"]) == ("unavailable", "r1", 1.0)
        await client.send_frame(type="ping", id="p1")
        assert (await client.receive_frame("pong"))["id"] == "p1", "the socket stays usable"
        (record,) = [r for r in caplog.records if r.name == "smartcampus_chat.ws.consumer"]
        assert record.levelno == logging.WARNING
        assert record.exc_info is None
        assert "ReadFrame" in record.getMessage()
    finally:
        await client.disconnect()


def test_the_api_answers_503_with_retry_after_during_a_cache_outage(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_down(monkeypatch)
    response = api_client(alice).send(
        "POST", url("api-message-list", room_slug=public_room.slug), {"content": "hi"}
    )
    assert_error(response, 503, "unavailable")
    assert response["Retry-After"] == "1"
    assert ChatMessage.objects.count() == 0
