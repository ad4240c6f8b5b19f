"""The first doorbell after a Redis restart is not lost (issue #23, part 4).

The app's channel layer points at a throwaway ``redis-server``; a publish warms its pool,
then Redis is killed and started again (empty) while the process's event loop is busy
(blocking calls in the loop's thread, as a loaded server's loop is), so the pool has not yet
seen its connection close. A probe subscribed to the room's group on the new server (its own
layer, in its own thread and event loop) must get the very next publish: its first command
meets the dead connection, and the publish is retried once on a fresh one. Both
channels-redis layers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from channels.layers import channel_layers
from django.utils.module_loading import import_string

from smartcampus_chat.protocol.frames import Typing
from smartcampus_chat.protocol.payloads import UserRef
from smartcampus_chat.realtime import events
from tests.servers import RedisServer

pytestmark = [pytest.mark.redis]

LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
ROOM_ID = 7


def layer_config(redis_server: RedisServer) -> dict[str, Any]:
    return {"hosts": [{"address": redis_server.url, "socket_timeout": 15}]}


@pytest.fixture(params=sorted(LAYERS))
def app_layer(
    request: pytest.FixtureRequest, settings: Any, redis_server: RedisServer
) -> Iterator[str]:
    """The app's layer (alias ``default``) on the test's own Redis; its kind."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": LAYERS[request.param], "CONFIG": layer_config(redis_server)}
    }
    channel_layers.backends.clear()
    yield str(request.param)
    channel_layers.backends.clear()


def a_frame(n: int) -> Typing:
    user = UserRef(id=n, username=None, name=f"user {n}")
    return Typing(room="r", user=user, state="started", expires_in=5)


class Probe(threading.Thread):
    """Subscribes to the room's group on a layer of its own, in its own thread and loop,
    then keeps the user id of each frame it gets until ``expected`` of them."""

    def __init__(self, kind: str, redis_server: RedisServer, expected: int) -> None:
        super().__init__(daemon=True)
        self.layer = import_string(LAYERS[kind])(**layer_config(redis_server))
        self.expected = expected
        self.ready = threading.Event()
        self.users: list[int] = []

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        channel = await self.layer.new_channel()
        await self.layer.group_add(events.room_group(ROOM_ID), channel)
        self.ready.set()
        try:
            while len(self.users) < self.expected:
                message = await asyncio.wait_for(self.layer.receive(channel), 5)
                self.users.append(int(Typing.model_validate_json(message["frame"]).user.id))
        except TimeoutError:
            pass
        finally:
            await self.layer.flush()


def probe(kind: str, redis_server: RedisServer, expected: int) -> Probe:
    """A probe, subscribed (this blocks the caller's event loop, on purpose)."""
    thread = Probe(kind, redis_server, expected)
    thread.start()
    assert thread.ready.wait(10), "the probe could not subscribe"
    return thread


async def test_the_first_publish_after_a_redis_restart_is_delivered(
    app_layer: str, redis_server: RedisServer, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="smartcampus_chat.realtime.events")
    before = probe(app_layer, redis_server, expected=1)
    await events.apublish_to_room(ROOM_ID, a_frame(1))
    await asyncio.to_thread(before.join, 10)
    assert before.users == [1]

    # The loop does not run from here to the publish: the pool cannot have noticed.
    redis_server.stop()
    redis_server.start()
    after = probe(app_layer, redis_server, expected=2)
    await events.apublish_to_room(ROOM_ID, a_frame(2))
    await events.apublish_to_room(ROOM_ID, a_frame(3))
    await asyncio.to_thread(after.join, 10)

    assert after.users == [2, 3], "the first doorbell after the restart was lost"
    retried = [r for r in caplog.records if "retrying once" in r.getMessage()]
    assert len(retried) == 1, "the stale connection was met once, and retried"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
