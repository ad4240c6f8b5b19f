"""``RATE_LIMIT_FAIL_OPEN``: what the rate limits do while their cache is really down.

The default cache points at a 127.0.0.1 port nothing listens on (Django's ``RedisCache``
then raises redis-py's ``ConnectionError`` on every call, as during a Redis outage). Fail
closed (the default): a send is refused as ``unavailable`` (503 over REST). Fail open: it
is stored, the pass is counted and the outage logged once. With the cache back, the
limits hold again.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async

from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.testing import open_room
from tests.conftest import REDIS_URL
from tests.servers import free_port
from tests.test_api import api_client, assert_error, url

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def cache_at(settings: Any, location: str, *, fail_open: bool) -> None:
    settings.CACHES = {"default": {"BACKEND": REDIS_CACHE, "LOCATION": location}}
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "RATE_LIMIT_FAIL_OPEN": fail_open,
        "API_THROTTLE_RATES": {"read": "600/minute", "write": "120/minute"},
    }


def cache_down(settings: Any, *, fail_open: bool) -> None:
    """The cache is a Redis on a port nothing listens on: every call is refused."""
    cache_at(settings, f"redis://127.0.0.1:{free_port()}/0", fail_open=fail_open)


async def send_one(user: Any, room: ChatRoom, client_id: str) -> dict[str, Any]:
    """A ``message.send`` on a fresh socket (session login: tickets live in the cache); the
    ``ack`` or ``error`` frame it got."""
    client = await open_room(user, room.slug, ticket=False)
    try:
        await client.send_frame(type="message.send", content="hi", client_id=client_id, id="s1")
        frame: dict[str, Any] = await client.receive_json_from(timeout=5)
        while frame["type"] not in ("ack", "error"):
            frame = await client.receive_json_from(timeout=5)
        return frame
    finally:
        await client.disconnect()


async def test_fail_closed_refuses_a_send_while_the_cache_is_down(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    cache_down(settings, fail_open=False)
    before = ratelimit.fail_open_counts()
    frame = await send_one(alice, public_room, "c-1")
    assert (frame["type"], frame["code"]) == ("error", "unavailable")
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0
    assert ratelimit.fail_open_counts() == before


async def test_fail_open_stores_a_send_while_the_cache_is_down_counted_and_logged(
    alice: Any, public_room: ChatRoom, settings: Any, caplog: Any
) -> None:
    cache_down(settings, fail_open=True)
    before = ratelimit.fail_open_counts().get("send", 0)
    first = await send_one(alice, public_room, "c-1")
    second = await send_one(alice, public_room, "c-2")
    assert (first["type"], second["type"]) == ("ack", "ack"), (first, second)
    assert await database_sync_to_async(ChatMessage.objects.count)() == 2
    assert ratelimit.fail_open_counts()["send"] >= before + 2
    down = [r for r in caplog.records if "unmetered" in r.getMessage()]
    assert len(down) == 1, "one WARNING per outage, not one per request"
    assert down[0].levelno == logging.WARNING
    assert down[0].exc_info is None


def test_fail_open_lets_the_api_through_and_fail_closed_answers_503(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    """The REST door: the chat's send bucket and DRF's throttle both use the cache."""
    cache_down(settings, fail_open=False)
    target = url("api-message-list", room_slug=public_room.slug)
    assert_error(api_client(alice).send("POST", target, {"content": "hi"}), 503, "unavailable")
    cache_down(settings, fail_open=True)
    before = ratelimit.fail_open_counts().get("api.write", 0)
    response = api_client(alice).send("POST", target, {"content": "hi"})
    assert response.status_code == 201, response.content
    assert ratelimit.fail_open_counts()["api.write"] == before + 1
    assert ChatMessage.objects.count() == 1


def test_a_batch_of_senders_passes_while_the_cache_is_down(settings: Any) -> None:
    """Group commit takes a batch's tokens in one call (``take_each``): fail open grants
    every token, fail closed raises the outage for the batch to refuse."""
    counts = {1: 3, 2: 1}
    cache_down(settings, fail_open=True)
    assert ratelimit.take_each(ratelimit.send_bucket(), counts) == {1: [0.0] * 3, 2: [0.0]}
    cache_down(settings, fail_open=False)
    with pytest.raises(Exception) as raised:
        ratelimit.take_each(ratelimit.send_bucket(), counts)
    assert "connect" in str(raised.value).lower()


@pytest.mark.redis
def test_with_the_cache_back_the_limits_hold_again(alice: Any, settings: Any) -> None:
    """Failing open is for outages only: a reachable cache meters as before."""
    cache_down(settings, fail_open=True)
    bucket = ratelimit.Bucket("fail-open-test", burst=2, per_second=0.01)
    assert [ratelimit.take(bucket, alice.pk) for _ in range(5)] == [0.0] * 5
    cache_at(settings, REDIS_URL, fail_open=True)
    from django.core.cache import cache

    cache.clear()
    waits = [ratelimit.take(bucket, alice.pk) for _ in range(3)]
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] > 0


def test_an_error_that_is_not_an_outage_is_not_let_through(settings: Any) -> None:
    cache_down(settings, fail_open=True)
    assert not ratelimit.pass_while_down(ValueError("bug"), "send")
    assert ratelimit.pass_while_down(ConnectionRefusedError(111, "refused"), "send")
