"""Per-user token buckets shared by every door, socket and process (through Django's cache).

The bucket is kept as one integer per user and action, the *theoretical arrival time* of
the generic cell rate algorithm (GCRA, equivalent to a token bucket of ``burst`` tokens
refilled at ``rate`` per second), in milliseconds. Admission is a single atomic
``cache.incr``, so with a shared cache (Redis, Memcached) concurrent requests of one user on
several processes cannot overdraw the bucket; a refused request gives its cell back with
``cache.decr``. Only after the bucket sat idle may two racing requests both restart it, which
lets at most one extra request through. With the default per-process ``LocMemCache`` the
limit holds per process: configure a shared cache in production (docs/deployment.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import RateLimited

_PREFIX = "smartcampus_chat:rate"


@dataclass(frozen=True)
class Bucket:
    name: str
    burst: int
    per_second: float


def send_bucket() -> Bucket:
    return Bucket(
        "send", int(app_settings.SEND_RATE_BURST), float(app_settings.SEND_RATE_PER_SECOND)
    )


def typing_bucket() -> Bucket:
    return Bucket(
        "typing", int(app_settings.TYPING_RATE_BURST), float(app_settings.TYPING_RATE_PER_SECOND)
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


def _cell(bucket: Bucket, key: Any, now: int) -> tuple[str, int, int, int]:
    """``bucket``'s cell for ``key``, created full (theoretical arrival ``now``) if absent:
    its cache key, the milliseconds a token takes to come back and a burst's worth of
    them, and the cache lifetime (seconds; the key may go once the bucket is full again)."""
    interval = max(1, round(1000 / bucket.per_second))
    window = bucket.burst * interval
    cache_key = f"{_PREFIX}:{bucket.name}:{key}"
    timeout = window // 1000 + 2
    cache.add(cache_key, now, timeout=timeout)
    return cache_key, interval, window, timeout


def take(bucket: Bucket, key: Any) -> float:
    """Take one token for ``key``; 0.0 when granted, else the seconds to wait before retrying."""
    now = _now_ms()
    cache_key, interval, window, timeout = _cell(bucket, key, now)
    try:
        arrival = cache.incr(cache_key, interval)
    except ValueError:  # Expired between add and incr.
        cache.add(cache_key, now + interval, timeout=timeout)
        return 0.0
    if arrival - interval < now:
        # The bucket was full (idle user): restart it from now.
        cache.set(cache_key, now + interval, timeout=timeout)
        return 0.0
    if arrival - now <= window:
        cache.touch(cache_key, timeout)
        return 0.0
    cache.decr(cache_key, interval)
    return round((arrival - window - now) / 1000, 3)


def take_many(bucket: Bucket, key: Any, count: int) -> list[float]:
    """``count`` calls of :func:`take` for ``key`` at once, in a few cache operations.

    Item ``i`` is what the ``i``-th of ``count`` back-to-back calls of :func:`take` would
    return: the first ones granted (0.0) while the bucket holds tokens, the rest refused
    with the same wait. Group commit checks a batch's sends of one user with it.
    """
    if count <= 1:
        return [take(bucket, key) for _ in range(count)]
    now = _now_ms()
    cache_key, interval, window, timeout = _cell(bucket, key, now)
    try:
        arrival = cache.incr(cache_key, interval * count)
    except ValueError:  # Expired between add and incr: rare, take them one by one.
        return [take(bucket, key) for _ in range(count)]
    start = arrival - interval * count
    restart = start < now
    # The bucket was full (idle user): it restarts from now, as take() does.
    theoretical = now if restart else start
    granted = min(count, max(0, (window - (theoretical - now)) // interval))
    if restart:
        granted = max(granted, 1)
        cache.set(cache_key, now + granted * interval, timeout=timeout)
    elif granted < count:
        cache.decr(cache_key, (count - granted) * interval)
    if granted and not restart:
        cache.touch(cache_key, timeout)
    wait = round((theoretical + (granted + 1) * interval - window - now) / 1000, 3)
    return [0.0] * granted + [max(wait, 0.001)] * (count - granted)


def check_send_rate(user: Any) -> None:
    """Raise :class:`RateLimited` when ``user`` sends, edits or deletes too fast."""
    wait = take(send_bucket(), user.pk)
    if wait:
        raise RateLimited(retry_after=wait)


def allow_typing(user: Any) -> bool:
    """Whether a typing notice of ``user`` may go out now (extra ones are dropped)."""
    return not take(typing_bucket(), user.pk)
