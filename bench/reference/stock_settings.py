"""Django settings of the stock Channels reference app (``bench.reference.stock_channels``).

``BENCH_LAYER``: ``memory`` (InMemoryChannelLayer), ``redis`` (RedisChannelLayer) or
``pubsub`` (RedisPubSubChannelLayer), each with its default options; ``REDIS_URL`` names
the Redis server.
"""

from __future__ import annotations

import os

SECRET_KEY = "bench-reference-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
USE_TZ = True

_LAYER = os.environ.get("BENCH_LAYER", "memory")
_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6390/0")
_BACKENDS = {
    "memory": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    "redis": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [_REDIS_URL]},
    },
    "pubsub": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [_REDIS_URL]},
    },
}
CHANNEL_LAYERS = {"default": _BACKENDS[_LAYER]}
