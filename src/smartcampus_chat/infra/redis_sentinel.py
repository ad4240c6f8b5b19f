"""Django's cache over Redis Sentinel (docs/deployment.md, "Redis Sentinel").

Why: Django's own ``RedisCache`` makes its connection pools with
``pool_class.from_url(LOCATION, **OPTIONS)``, and redis-py's ``SentinelConnectionPool`` has no
``from_url``: it takes the master's service name and a ``Sentinel`` manager. This class gives it
one, so a site keeps Django's documented backend (and with it the rate limits' one-script
batch, :func:`smartcampus_chat.infra.ratelimit.take_each`) and only names the pool::

    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://mymaster/1",  # the service name, then the database
            "OPTIONS": {
                "pool_class": "smartcampus_chat.infra.redis_sentinel.SentinelConnectionPool",
                "sentinels": [("10.0.0.1", 26379), ("10.0.0.2", 26379), ("10.0.0.3", 26379)],
            },
        }
    }

Each connection asks the sentinels where the master is when it connects; after a failover
the connections to the old master fail once and the next ones go to the new master.
The channel layers need nothing of this: channels-redis takes Sentinel hosts itself
(``{"master_name": ..., "sentinels": [...]}``).
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from redis.sentinel import Sentinel
from redis.sentinel import SentinelConnectionPool as _RedisSentinelPool

_SCHEMES = ("redis", "rediss", "sentinel")
_Pool = TypeVar("_Pool", bound="SentinelConnectionPool")


def parse_location(url: str) -> tuple[str, int, str | None, str | None]:
    """``redis://[user:password@]service/db`` → (service name, db, username, password).

    The host part is the master's service name as the sentinels know it (case kept)."""
    parts = urlsplit(url)
    service = unquote(parts.netloc.rpartition("@")[2])
    path = parts.path.strip("/") or "0"
    if parts.scheme not in _SCHEMES or not service or not (path.isascii() and path.isdigit()):
        raise ImproperlyConfigured(
            f"A Sentinel cache LOCATION is redis://<service name>/<db>, not {url!r}."
        )
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return service, int(path), username, password


class SentinelConnectionPool(_RedisSentinelPool):
    """redis-py's Sentinel pool, made from Django's ``LOCATION`` and ``OPTIONS``.

    ``OPTIONS``: ``sentinels`` (``[(host, port), ...]``, required), ``sentinel_kwargs``
    (options of the connections to the sentinels themselves: password, timeouts), and any
    option of a redis-py connection (``socket_timeout``, ``password``...), which go to the
    master's connections.
    """

    @classmethod
    def from_url(cls: type[_Pool], url: str, **options: Any) -> _Pool:
        service, db, username, password = parse_location(url)
        sentinels = options.pop("sentinels", None)
        if not sentinels:
            raise ImproperlyConfigured(
                'A Sentinel cache needs OPTIONS["sentinels"]: [(host, port), ...].'
            )
        sentinel_kwargs = options.pop("sentinel_kwargs", None)
        manager = Sentinel([tuple(s) for s in sentinels], sentinel_kwargs=sentinel_kwargs)
        if username is not None:
            options.setdefault("username", username)
        if password is not None:
            options.setdefault("password", password)
        return cls(service, manager, db=db, **options)
