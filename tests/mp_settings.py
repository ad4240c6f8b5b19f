"""Settings of the example site for tests/test_multiprocess.py (several uvicorn processes).

Same site as ``campus.settings``; the database, the Redis layer (with a prefix of its own;
Redis at ``REDIS_URL`` or through ``REDIS_SENTINELS``) and short presence timings come from
the environment the test sets.
"""

from __future__ import annotations

import os

import dj_database_url

from campus.settings import *  # noqa: F403

SECRET_KEY = "tests-only-not-secret"  # Same as tests.settings: the test issues the tickets.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["SCCHAT_MP_DATABASE_URL"],
        # Persistent when the test asks (SCCHAT_MP_CONN_MAX_AGE): a cut leaves them broken.
        conn_max_age=int(os.environ.get("SCCHAT_MP_CONN_MAX_AGE", "0")),
    )
}
if os.environ.get("SCCHAT_MP_DB_POOL_MAX_SIZE"):
    # The example site's pool (campus.settings), sized by the test.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 1, "max_size": int(os.environ["SCCHAT_MP_DB_POOL_MAX_SIZE"])}
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # As in campus.settings: longer than channels-redis' 5 s blocking receive.
            # Or the sentinels' master (REDIS_SENTINELS: tests/test_redis_failover.py).
            "hosts": [
                {k: v for k, v in REDIS_LAYER_HOST.items() if k != "max_connections"}  # noqa: F405
            ],
            "prefix": os.environ["SCCHAT_MP_PREFIX"],
        },
    }
}
if os.environ.get("SCCHAT_MP_LAYER") == "pubsub":
    # tests/test_redis_failover.py with REDIS_FAILOVER_LAYER=pubsub.
    CHANNEL_LAYERS["default"]["BACKEND"] = "channels_redis.pubsub.RedisPubSubChannelLayer"
SMARTCAMPUS_CHAT = {
    **SMARTCAMPUS_CHAT,  # noqa: F405
    "PRESENCE_HEARTBEAT": 1,
    "PRESENCE_TIMEOUT": 3,
    "TICKET_MAX_AGE": 600,
}
if os.environ.get("SCCHAT_MP_NOTIFY_WORKER") == "off":
    # tests/test_db_connections.py counts the sockets' connections alone.
    SMARTCAMPUS_CHAT["NOTIFY_WORKER"] = None
if os.environ.get("SCCHAT_MP_SEND_RATE"):
    # Fault and soak tests send far faster than one person types.
    SMARTCAMPUS_CHAT["SEND_RATE_BURST"] = int(os.environ["SCCHAT_MP_SEND_RATE"])
    SMARTCAMPUS_CHAT["SEND_RATE_PER_SECOND"] = float(os.environ["SCCHAT_MP_SEND_RATE"])
    # They also reconnect with ?event_seq= far more often than a person's browser would.
    SMARTCAMPUS_CHAT["RESUME_RATE_BURST"] = int(os.environ["SCCHAT_MP_SEND_RATE"])
    SMARTCAMPUS_CHAT["RESUME_RATE_PER_SECOND"] = float(os.environ["SCCHAT_MP_SEND_RATE"])
if os.environ.get("SCCHAT_MP_FAST_PASSWORDS"):
    # Hundreds of seeded users (tests/test_redis_failover.py) who connect by ticket only.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
