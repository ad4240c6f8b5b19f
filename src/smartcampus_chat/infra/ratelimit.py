"""Per-user token buckets shared by every door, socket and process (through Django's cache).

The bucket is kept as one integer per user and action, the *theoretical arrival time* of
the generic cell rate algorithm (GCRA, equivalent to a token bucket of ``burst`` tokens
refilled at ``rate`` per second), in milliseconds. Admission is a single atomic
``cache.incr``, so with a shared cache (Redis, Memcached) concurrent requests of one user on
several processes cannot overdraw the bucket; a refused request gives its cell back with
``cache.decr``. Only after the bucket sat idle may two racing requests both restart it, which
lets at most one extra request through. With the default per-process ``LocMemCache`` the
limit holds per process: configure a shared cache in production (docs/deployment.md).

A batch of sends (group commit) takes its senders' tokens with :func:`take_each`: with
Django's ``RedisCache`` that is one Lua script for the whole batch (the same cells, the
same rule, atomic in Redis), where per-key cache calls would cost three round trips per
sender, serially, in the thread every database call waits for.

When the cache cannot be reached, a limit refuses by default (the door answers
``unavailable``, HTTP 503): an outage must not lift the limits that protect the database
and the other users. ``RATE_LIMIT_FAIL_OPEN`` lets a site prefer availability instead: the
request passes unmetered, one WARNING line per outage is logged and every pass is counted
(:func:`fail_open_counts`), so the outage's unlimited window can be seen and bounded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from smartcampus_chat.conf import ChatSettings, Setting, app_settings
from smartcampus_chat.exceptions import RateLimited
from smartcampus_chat.infra.outages import is_unavailable

_PREFIX = "smartcampus_chat:rate"

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Requests let through unmetered per bucket since the process started (fail open).
_passed: Counter[str] = Counter()
#: Whether the cache was last seen down: one WARNING per outage, not one per request.
_down = False
_lock = threading.Lock()


def fail_open_counts() -> dict[str, int]:
    """Requests each limit let through unmetered while the cache was down, since the
    process started (``RATE_LIMIT_FAIL_OPEN``): ``{bucket or API scope: count}``."""
    with _lock:
        return dict(_passed)


def pass_while_down(exc: BaseException, name: str, count: int = 1) -> bool:
    """Whether a limit named ``name`` whose cache call raised ``exc`` lets its ``count``
    requests through: only for an outage (:func:`is_unavailable`), and only with
    ``RATE_LIMIT_FAIL_OPEN``. A pass is counted; the first of an outage is logged."""
    if not (app_settings.RATE_LIMIT_FAIL_OPEN and is_unavailable(exc)):
        return False
    global _down
    with _lock:
        _passed[name] += count
        first, _down = not _down, True
    if first:
        logger.warning(
            "Rate-limit cache unreachable (%s: %s); requests pass unmetered "
            "(RATE_LIMIT_FAIL_OPEN) until it is back.",
            type(exc).__name__,
            exc,
        )
    return True


def metered(name: str, call: Callable[[], T], granted: Callable[[], T], count: int = 1) -> T:
    """``call()`` (a limit's cache work), or ``granted()`` when the cache is down and the
    site fails open: every limit of the app, the API throttles included, goes through it,
    so that the outage's WARNING and its "reachable again" line come once each."""
    global _down
    try:
        result = call()
    except Exception as exc:
        if not pass_while_down(exc, name, count):
            raise
        return granted()
    if _down:
        with _lock:
            back, _down = _down, False
        if back:
            logger.info("Rate-limit cache reachable again; limits apply.")
    return result


@dataclass(frozen=True)
class Bucket:
    name: str
    burst: int
    per_second: float


def send_bucket() -> Bucket:
    return Bucket("send", app_settings.SEND_RATE_BURST, app_settings.SEND_RATE_PER_SECOND)


def typing_bucket() -> Bucket:
    return Bucket("typing", app_settings.TYPING_RATE_BURST, app_settings.TYPING_RATE_PER_SECOND)


#: The settings of the buckets that check_rate names: burst and refill rate.
_RATES: dict[str, tuple[Setting[int], Setting[float]]] = {
    "resume": (ChatSettings.RESUME_RATE_BURST, ChatSettings.RESUME_RATE_PER_SECOND),
    "read": (ChatSettings.READ_RATE_BURST, ChatSettings.READ_RATE_PER_SECOND),
    "search": (ChatSettings.SEARCH_RATE_BURST, ChatSettings.SEARCH_RATE_PER_SECOND),
    "create": (ChatSettings.CREATE_RATE_BURST, ChatSettings.CREATE_RATE_PER_SECOND),
    "membership": (ChatSettings.MEMBERSHIP_RATE_BURST, ChatSettings.MEMBERSHIP_RATE_PER_SECOND),
    "upload": (ChatSettings.UPLOAD_RATE_BURST, ChatSettings.UPLOAD_RATE_PER_SECOND),
    "report": (ChatSettings.REPORT_RATE_BURST, ChatSettings.REPORT_RATE_PER_SECOND),
    "reveal": (ChatSettings.REVEAL_RATE_BURST, ChatSettings.REVEAL_RATE_PER_SECOND),
}


def _bucket(name: str) -> Bucket:
    """The bucket ``name`` from its ``<NAME>_RATE_BURST`` / ``<NAME>_RATE_PER_SECOND``."""
    burst, per_second = _RATES[name]
    return Bucket(name, burst.value(), per_second.value())


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
    return metered(bucket.name, lambda: _take_one(bucket, key), lambda: 0.0)


def _take_one(bucket: Bucket, key: Any) -> float:
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
    return metered(
        bucket.name, lambda: _take_many(bucket, key, count), lambda: [0.0] * count, count
    )


def _take_many(bucket: Bucket, key: Any, count: int) -> list[float]:
    if count <= 1:
        return [_take_one(bucket, key) for _ in range(count)]
    now = _now_ms()
    cache_key, interval, window, timeout = _cell(bucket, key, now)
    try:
        arrival = cache.incr(cache_key, interval * count)
    except ValueError:  # Expired between add and incr: rare, take them one by one.
        return [_take_one(bucket, key) for _ in range(count)]
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


#: GCRA over several cells at once. KEYS: the cells; ARGV: now (ms), then for each cell its
#: interval (ms), burst window (ms), lifetime (s) and wanted tokens. Returns the tokens
#: granted to each cell. A missing or idle cell restarts full from now, as :func:`take`.
_TAKE_EACH_LUA = """
local now = tonumber(ARGV[1])
local granted = {}
for i, key in ipairs(KEYS) do
  local at = 1 + (i - 1) * 4
  local interval = tonumber(ARGV[at + 1])
  local window = tonumber(ARGV[at + 2])
  local lifetime = tonumber(ARGV[at + 3])
  local count = tonumber(ARGV[at + 4])
  local arrival = tonumber(redis.call('GET', key))
  if arrival == nil or arrival < now then
    arrival = now
  end
  local n = math.floor((window - (arrival - now)) / interval)
  n = math.max(0, math.min(count, n))
  if n > 0 then
    redis.call('SET', key, string.format('%d', arrival + n * interval), 'EX', lifetime)
  end
  granted[i] = {n, string.format('%d', arrival)}
end
return granted
"""


def _redis_client() -> Any:
    """The ``redis`` client behind Django's own ``RedisCache``; None for other caches."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    # Django's documented backend keeps its redis-py client factory on ``_cache``.
    return backend._cache.get_client(write=True)  # type: ignore[attr-defined]


def take_each(bucket: Bucket, counts: Mapping[Any, int]) -> dict[Any, list[float]]:
    """:func:`take_many` for several keys: ``{key: [wait per token]}``.

    With Django's ``RedisCache``, one round trip for all keys; with other caches, a
    :func:`take_many` per key.
    """
    if len(counts) <= 1:
        return {key: take_many(bucket, key, count) for key, count in counts.items()}
    return metered(
        bucket.name,
        lambda: _take_each(bucket, counts),
        lambda: {key: [0.0] * count for key, count in counts.items()},
        sum(counts.values()),
    )


def _take_each(bucket: Bucket, counts: Mapping[Any, int]) -> dict[Any, list[float]]:
    client = _redis_client()
    if client is None:
        return {key: _take_many(bucket, key, count) for key, count in counts.items()}
    now = _now_ms()
    interval = max(1, round(1000 / bucket.per_second))
    window = bucket.burst * interval
    lifetime = window // 1000 + 2
    keys = list(counts)
    argv: list[int] = [now]
    for key in keys:
        argv += [interval, window, lifetime, counts[key]]
    cache_keys = [cache.make_key(f"{_PREFIX}:{bucket.name}:{key}") for key in keys]
    replies = client.eval(_TAKE_EACH_LUA, len(keys), *cache_keys, *argv)
    waits: dict[Any, list[float]] = {}
    for key, (granted, arrival) in zip(keys, replies, strict=True):
        count = counts[key]
        wait = round((int(arrival) + (int(granted) + 1) * interval - window - now) / 1000, 3)
        waits[key] = [0.0] * int(granted) + [max(wait, 0.001)] * (count - int(granted))
    return waits


def check_send_rate(user: Any) -> None:
    """Raise :class:`RateLimited` when ``user`` sends, edits or deletes too fast."""
    wait = take(send_bucket(), user.pk)
    if wait:
        raise RateLimited(retry_after=wait)


def allow_typing(user: Any) -> bool:
    """Whether a typing notice of ``user`` may go out now (extra ones are dropped)."""
    return not take(typing_bucket(), user.pk)


#: Actions limited by :func:`check_rate`, each with its own bucket (settings
#: ``<ACTION>_RATE_BURST`` and ``<ACTION>_RATE_PER_SECOND``): ``resume`` (a page of up to
#: ``MAX_PAGE_SIZE`` replayed changes, frame or reconnect), ``read`` (a read-marker
#: update), ``create`` (a new room, private conversations included) and ``membership``
#: (a join or a leave).
ACTIONS = tuple(_RATES)

TOO_OFTEN = _("You are doing this too often; try again in a moment.")


def check_rate(action: str, user: Any) -> None:
    """Raise :class:`RateLimited` (with ``retry_after``) when ``user`` repeats ``action``
    too fast. The services call it, so every door (WebSocket, REST, HTML) shares one
    bucket per user and action, across sockets and processes."""
    wait = _take(action, user)
    if wait:
        raise RateLimited(str(TOO_OFTEN), retry_after=wait)


def allow(action: str, user: Any) -> bool:
    """Take a token of ``action`` for ``user`` if there is one: whether there was."""
    return not _take(action, user)


def _take(action: str, user: Any) -> float:
    if action not in ACTIONS:
        raise ValueError(f"Unknown rate-limited action {action!r}")
    return take(_bucket(action), user.pk)
