"""Settings of the example campus site under benchmark: ``campus.settings`` plus overrides.

- ``DEBUG`` off (no query log, no static handler), with a fixed key and no HTTPS redirect.
- ``BENCH_LAYER``: ``memory``, ``redis`` (the site's own ``RedisChannelLayer`` settings)
  or ``pubsub`` (``RedisPubSubChannelLayer``); ``REDIS_URL`` names the Redis server.
- ``BENCH_CONN_MAX_AGE``: when set, ``CONN_MAX_AGE`` of the database *without* the
  example site's PostgreSQL pool (how the site was configured before the pool:
  persistent connections, one per thread). The pool's sizes come from the site's own
  ``DB_POOL_MIN_SIZE`` / ``DB_POOL_MAX_SIZE`` / ``DB_POOL_TIMEOUT``.
- Passwords hashed with MD5 (logins over HTTP in the db-connections workload).
- Per-user send and abuse limits raised out of the way: the suite measures throughput, not
  the limiter (one sender per room carries a whole room's rate in the fan-out sweep).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-key-not-secret-0123456789abcdefghijklmnop")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from campus.settings import *  # noqa: F403
from campus.settings import SMARTCAMPUS_CHAT as SITE_CHAT_SETTINGS

_LAYER = os.environ.get("BENCH_LAYER", "memory")
_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6390/0")
if _LAYER == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
elif _LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [_REDIS_URL]},
        }
    }

# The suite runs the app on the in-memory layer on purpose (single process, no Redis).
SILENCED_SYSTEM_CHECKS = ["smartcampus_chat.W010"]
if os.environ.get("BENCH_CONN_MAX_AGE"):
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])  # noqa: F405
# The db-connections workload logs users in over HTTP: MD5 makes a login cost its queries,
# not ~0.3 s of PBKDF2 CPU (the other hashers still check existing passwords).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
_UNLIMITED_SENDS: dict[str, Any] = {
    "SEND_RATE_BURST": 1_000_000,
    "SEND_RATE_PER_SECOND": 1_000_000.0,
    # Catch-up workloads reconnect with ?event_seq= in bursts; connection sweeps may open
    # many sockets per user: the abuse limits are out of the way too.
    **{
        f"{action}_RATE_{part}": value
        for action in ("RESUME", "READ", "CREATE", "MEMBERSHIP", "UPLOAD")
        for part, value in (("BURST", 1_000_000), ("PER_SECOND", 1_000_000.0))
    },
    "MAX_CONNECTIONS_PER_USER": 1_000_000,
    "ATTACHMENT_BYTES_PER_DAY": 2**40,
}
# Uploads (the uploads workload) go to a folder of the run, not the example site's.
MEDIA_ROOT = Path(os.environ.get("BENCH_MEDIA_ROOT", "/tmp/smartcampus-chat-bench-media"))
# Tickets are issued once per run, before the servers start.
_LONG_TICKETS: dict[str, Any] = {"TICKET_MAX_AGE": 86_400}
# ``BENCH_SEND_BATCH_MAX``: group commit of WebSocket sends (0: one transaction per send).
_BATCH: dict[str, Any] = (
    {"SEND_BATCH_MAX": int(os.environ["BENCH_SEND_BATCH_MAX"])}
    if os.environ.get("BENCH_SEND_BATCH_MAX")
    else {}
)
# ``BENCH_SEND_PIPELINE_DEPTH``: sends of one socket in flight (the app's default: 64).
if os.environ.get("BENCH_SEND_PIPELINE_DEPTH"):
    _BATCH["SEND_PIPELINE_DEPTH"] = int(os.environ["BENCH_SEND_PIPELINE_DEPTH"])
# ``BENCH_PRESENCE_BATCH_INTERVAL``: presence gathering (the app's default: 0.25 s).
if os.environ.get("BENCH_PRESENCE_BATCH_INTERVAL"):
    _BATCH["PRESENCE_BATCH_INTERVAL"] = float(os.environ["BENCH_PRESENCE_BATCH_INTERVAL"])
SMARTCAMPUS_CHAT = {**SITE_CHAT_SETTINGS, **_UNLIMITED_SENDS, **_LONG_TICKETS, **_BATCH}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
