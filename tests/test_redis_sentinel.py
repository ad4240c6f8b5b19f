"""Redis Sentinel: Django's cache and both channel layers follow a failover (issue #23, part 4).

Real processes (``tests.servers.RedisSentinels``): a master, a replica and three sentinels on
free ports. The cache (Django's ``RedisCache`` with
:class:`smartcampus_chat.infra.redis_sentinel.SentinelConnectionPool`), the rate limits'
one-script batch, and channels-redis' Sentinel hosts work before the master is killed and
again after the sentinels promoted the replica. The time that takes is printed, not asserted.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from smartcampus_chat.checks import check_channel_layers, check_sentinel_caches
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.infra.redis_sentinel import SentinelConnectionPool, parse_location
from smartcampus_chat.protocol.frames import Typing
from smartcampus_chat.protocol.payloads import UserRef
from smartcampus_chat.realtime import events
from tests.servers import RedisSentinels

LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
POOL = "smartcampus_chat.infra.redis_sentinel.SentinelConnectionPool"
#: How long a failover may take here before the test gives up (it is measured, not bounded).
GIVE_UP = 60.0


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[RedisSentinels]:
    servers = RedisSentinels(tmp_path)
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


def sentinel_host(servers: RedisSentinels) -> dict[str, Any]:
    """A channels-redis host entry for the sentinels' master."""
    return {"master_name": servers.SERVICE, "sentinels": servers.sentinels, "socket_timeout": 15}


def test_a_location_names_the_service_and_the_database() -> None:
    assert parse_location("redis://MyMaster/3") == ("MyMaster", 3, None, None)
    assert parse_location("redis://:s%40cret@mymaster") == ("mymaster", 0, None, "s@cret")
    assert parse_location("sentinel://app:pw@mymaster/1") == ("mymaster", 1, "app", "pw")
    for bad in ("redis:///1", "http://mymaster/1", "redis://mymaster/one", "redis://m/²"):
        with pytest.raises(ImproperlyConfigured):
            parse_location(bad)
    with pytest.raises(ImproperlyConfigured, match="sentinels"):
        SentinelConnectionPool.from_url("redis://mymaster/1")


def test_a_sentinel_layer_host_with_a_long_read_timeout_passes_the_check(settings: Any) -> None:
    host = {"master_name": "mymaster", "sentinels": [("127.0.0.1", 26379)]}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": LAYERS["core"], "CONFIG": {"hosts": [host]}}}
    assert [m.id for m in check_channel_layers()] == ["smartcampus_chat.W012"]
    host["socket_timeout"] = 15
    assert check_channel_layers() == []


def test_a_misconfigured_sentinel_cache_is_an_error_at_start_up(settings: Any) -> None:
    def cache(location: str, **options: Any) -> dict[str, Any]:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"pool_class": POOL, **options},
        }

    good = [("127.0.0.1", 26379)]
    settings.CACHES = {
        "default": cache("redis://mymaster/1", sentinels=good),
        "by_class": {**cache("redis://mymaster/2", sentinels=good)},
        "no_sentinels": cache("redis://mymaster/1"),
        "bad_pairs": cache("redis://mymaster/1", sentinels=["127.0.0.1:26379"]),
        "bad_location": cache("redis://mymaster/one", sentinels=good),
        "plain": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "x"},
    }
    settings.CACHES["by_class"]["OPTIONS"]["pool_class"] = SentinelConnectionPool
    found = {m.msg.split("]")[0]: m.id for m in check_sentinel_caches()}
    assert found == {
        "CACHES['no_sentinels'": "smartcampus_chat.E051",
        "CACHES['bad_pairs'": "smartcampus_chat.E051",
        "CACHES['bad_location'": "smartcampus_chat.E051",
    }


def until(step: Any, what: str) -> float:
    """Call ``step`` until it stops raising; the seconds that took."""
    start = time.monotonic()
    while True:
        try:
            step()
            return time.monotonic() - start
        except Exception as exc:
            if time.monotonic() - start > GIVE_UP:
                raise AssertionError(f"{what}: still failing") from exc
            time.sleep(0.1)


@pytest.mark.redis
@pytest.mark.slow
def test_the_cache_and_the_rate_limits_follow_a_failover(
    sentinels: RedisSentinels, settings: Any
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{sentinels.SERVICE}/0",
            "OPTIONS": {"pool_class": POOL, "sentinels": sentinels.sentinels, "socket_timeout": 2},
        }
    }
    cache.set("k", "before")
    assert cache.get("k") == "before"
    bucket = ratelimit.Bucket("sentinel-test", burst=2, per_second=0.01)
    # The Lua batch (RedisCache only) runs on the master through the Sentinel pool.
    assert ratelimit.take_each(bucket, {1: 3, 2: 1})[1][:2] == [0.0, 0.0]
    assert ratelimit.take_each(bucket, {1: 3, 2: 1})[1][2] > 0

    old = sentinels.kill_master()
    took = until(lambda: cache.set("k", "after"), "the cache after the failover")
    print(f"\ncache writable again {took:.1f} s after the master was killed")
    assert cache.get("k") == "after"
    assert sentinels.master() == ("127.0.0.1", sentinels.replica_port)
    assert old == sentinels.master_port
    waits = ratelimit.take_each(bucket, {3: 2, 4: 2})
    assert waits == {3: [0.0, 0.0], 4: [0.0, 0.0]}


async def close_sentinel_managers() -> None:
    """channels-redis makes a Sentinel manager per pool and never closes the manager's own
    connections to the sentinels (``flush()`` closes the pools): close them here."""
    from redis.asyncio.sentinel import Sentinel

    # type(), not isinstance(): gc also holds dead weak proxies, which isinstance()
    # would dereference (ReferenceError).
    for manager in [o for o in gc.get_objects() if issubclass(type(o), Sentinel)]:
        for client in manager.sentinels:
            await client.aclose()


def a_frame(n: int) -> Typing:
    return Typing(
        room="r", user=UserRef(id=n, username=None, name=f"u{n}"), state="started", expires_in=5
    )


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", sorted(LAYERS))
async def test_both_channel_layers_follow_a_failover(
    kind: str, sentinels: RedisSentinels, settings: Any
) -> None:
    """A publish of the app (``realtime.events``) reaches a subscriber before and after."""
    from channels.layers import channel_layers

    config = {"hosts": [sentinel_host(sentinels)]}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": LAYERS[kind], "CONFIG": config}}
    channel_layers.backends.clear()
    probe = import_string(LAYERS[kind])(**config)
    group = events.room_group(1)
    try:
        channel = await probe.new_channel()
        await probe.group_add(group, channel)
        await events.apublish_to_room(1, a_frame(1))
        first = await asyncio.wait_for(probe.receive(channel), 5)
        assert Typing.model_validate_json(first["frame"]).user.id == 1

        sentinels.kill_master()
        start = time.monotonic()
        n = 1
        while True:
            # What the hub does after a receive error: join again, then go on.
            n += 1
            try:
                channel = await probe.new_channel()
                await asyncio.wait_for(probe.group_add(group, channel), 2)
                await events.apublish_to_room(1, a_frame(n))
                got = await asyncio.wait_for(probe.receive(channel), 2)
                if Typing.model_validate_json(got["frame"]).user.id == n:
                    break
            except Exception as exc:
                if time.monotonic() - start > GIVE_UP:
                    raise AssertionError("no delivery after the failover") from exc
                await asyncio.sleep(0.1)
        print(f"\n{kind}: delivering again {time.monotonic() - start:.1f} s after the kill")
        assert sentinels.master() == ("127.0.0.1", sentinels.replica_port)
    finally:
        await close_sentinel_managers()
        await probe.flush()
        app = channel_layers.backends.get("default")
        if app is not None:
            await app.flush()
        channel_layers.backends.clear()
        del probe, app
        gc.collect()
