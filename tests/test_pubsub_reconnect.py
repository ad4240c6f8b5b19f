"""The hub's catch-up after ``RedisPubSubChannelLayer`` reconnects (issue #23, part 4).

The pub/sub layer reconnects by itself and never tells its receiver; what was published
while Redis was away is lost. The hub hears each reconnect (a connect callback on the
layer's pub/sub connections) and tells its sockets to catch up from the database. Here a
message stored while the test's own Redis is down (its doorbell lost) must reach another
socket once Redis is back, without any further traffic.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from channels.layers import channel_layers

from smartcampus_chat.models import ChatRoom
from smartcampus_chat.realtime.hub import get_hub
from smartcampus_chat.testing import open_room
from tests.servers import RedisServer, poll

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pubsub_layer(settings: Any, redis_server: RedisServer) -> Iterator[None]:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": redis_server.url, "socket_timeout": 15}]},
        }
    }
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def test_a_message_whose_doorbell_was_lost_arrives_after_the_reconnect(
    pubsub_layer: None,
    redis_server: RedisServer,
    alice: Any,
    public_room: ChatRoom,
    no_rate_limits: Any,
) -> None:
    watcher = await open_room(alice, public_room.slug)
    sender = await open_room(alice, public_room.slug)
    hub = get_hub()
    layer = hub.layer
    try:
        # The hub's supervisor finds the layer's pub/sub connection at its next tick.
        await poll(lambda: len(hub.watched) > 0, 10, "the hub to watch the connection")
        recoveries = hub.recoveries
        redis_server.stop()
        await sender.send_frame(type="message.send", content="while away", client_id="c-1")
        ack = await sender.receive_frame("ack", timeout=10)
        redis_server.start()
        frame = await watcher.receive_frame("message.new", timeout=15)
        assert frame["message"]["id"] == ack["message"]["id"]
        assert hub.recoveries > recoveries
    finally:
        await watcher.disconnect()
        await sender.disconnect()
        await layer.flush()
