"""Telling "a backing service is unreachable" apart from a bug.

Why: a database, cache or channel-layer outage is not a server bug. Clients should retry
it (error code ``unavailable`` with ``retry_after``; HTTP 503 with ``Retry-After``) rather
than give up, and the log needs one line per failure, not a traceback per request.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis import exceptions
    except ImportError:  # redis-py is optional (the example site and channels-redis use it).
        return ()
    return (exceptions.ConnectionError, exceptions.TimeoutError)


def _lost_connection_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
    except ImportError:
        return (ConnectionError,)
    return (ConnectionError, RedisConnectionError)


def is_lost_connection(exc: BaseException) -> bool:
    """True when ``exc`` says a connection was refused or closed (not a timeout): a call
    that failed so found a stale pooled connection (a Redis that restarted or failed over
    closed it), and the same call on a fresh connection may well succeed."""
    return isinstance(exc, _lost_connection_errors())


def _pool_errors() -> tuple[type[BaseException], ...]:
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # psycopg's pool is optional (the postgres extra brings it).
        return ()
    return (PoolTimeout,)


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) says a service cannot be reached.

    Database: Django's ``OperationalError`` and ``InterfaceError`` (connection refused or
    lost, server shutting down, "database is locked"), and psycopg's ``PoolTimeout`` (every
    connection of Django's ``OPTIONS["pool"]`` busy for its ``timeout``); Redis: redis-py's
    connection and timeout errors; sockets: the built-in ``ConnectionError`` and ``TimeoutError``.
    """
    kinds: tuple[type[BaseException], ...] = (
        OperationalError,
        InterfaceError,
        ConnectionError,
        TimeoutError,
        *_redis_errors(),
        *_pool_errors(),
    )
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False
