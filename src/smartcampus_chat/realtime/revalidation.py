"""The backstop of revocation: every open socket re-checks its session and access at a
bounded interval, whatever signal was (or was not) sent.

Why: signals reach sockets fast (:mod:`smartcampus_chat.receivers`) but only for the causes
someone thought of; a session that expires, a cache-backend session that is deleted, a row
changed by raw SQL or a cause added later send nothing a socket hears. One task per event
loop looks at the process's sockets a few times per ``REVALIDATE_INTERVAL`` and asks those
not checked for that long to check again (:data:`REVALIDATE_TYPE`, handled by the consumer
in turn with its frames). The checks themselves are batched: the sockets due together share
trips to the database (:class:`~.handshakes.RevalidateBatcher`).

A session's expiry is known in advance, so it does not wait for the interval: each socket
that lives by a session knows when it expires (read at its set-up and at every check:
:attr:`~.handshakes.SetUp.expires`), and the same task asks it to check at that moment
(:meth:`Sweeper.expire_at`). One heap per event loop holds the expiries due before the
next sweep (the sweep moves the later ones in as their turn comes), so an idle socket
costs one float and there is no timer per socket. A session still valid at its old
expiry (a sliding expiry moved it) is found so by the check, which reads the new date
and arms it again; a socket whose store cannot tell the expiry (a cache or cookie session
without a date set by ``set_expiry``) is left to the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
import weakref
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone

from smartcampus_chat.conf import app_settings
from smartcampus_chat.realtime.sockets import Message

logger = logging.getLogger(__name__)

#: In-process message type (never on the layer): "check your session and access now".
REVALIDATE_TYPE = "chat.revalidate"
_MESSAGE: Message = {"type": REVALIDATE_TYPE}

#: Seconds after a session's expiry the socket checks: the check must find it expired
#: (``expire_date`` past by the database's reading), not just before.
EXPIRY_GRACE = 0.05


class Checked(Protocol):
    """A connection the sweeper watches (``consumers.ChatConsumer``)."""

    #: ``time.monotonic()`` of its last check (or of when one was asked for).
    validated_at: float
    #: ``time.monotonic()`` when its session expires (:meth:`Sweeper.expire_at`); ``inf``.
    expires_at: float

    def deliver(self, message: Message) -> None: ...


def interval() -> float:
    return app_settings.REVALIDATE_INTERVAL


def frame_age() -> float:
    return app_settings.REVALIDATE_FRAME_AGE


def period() -> float:
    """Seconds between sweeps: a quarter of the interval (at most 5 s), so a socket is
    checked at most ``interval * 1.25`` (plus the check itself) after its previous check."""
    return max(0.02, min(interval() / 4, 5.0))


def deadline(expires: datetime | None) -> float:
    """``time.monotonic()`` at which a session expiring at ``expires`` should be checked
    (:data:`EXPIRY_GRACE` after it); ``inf`` for None."""
    if expires is None:
        return math.inf
    now = timezone.now()
    if timezone.is_naive(expires) and timezone.is_aware(now):
        expires = timezone.make_aware(expires)
    elif timezone.is_aware(expires) and timezone.is_naive(now):
        expires = timezone.make_naive(expires)
    return time.monotonic() + (expires - now).total_seconds() + EXPIRY_GRACE


class Sweeper:
    """Asks the sockets of one event loop to re-check when their last check is too old,
    and when their session expires."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self.task: asyncio.Task[None] | None = None
        #: (expires_at, tie-breaker, socket) of the expiries up to :attr:`horizon`; an entry
        #: whose socket has since been given another expiry is stale and skipped.
        self.expiries: list[tuple[float, int, weakref.ref[Any]]] = []
        #: ``time.monotonic()`` of the next sweep: expiries after it enter the heap then.
        self.horizon = 0.0
        self.wake = asyncio.Event()
        self._order = itertools.count()

    def add(self, socket: Checked) -> None:
        self.sockets.add(socket)
        if self.task is None or self.task.done():
            self.horizon = time.monotonic() + period()
            self.task = self.loop.create_task(self._run(), name="smartcampus-chat-revalidation")

    def discard(self, socket: Checked) -> None:
        self.sockets.discard(socket)

    def expire_at(self, socket: Checked, when: float) -> None:
        """Ask ``socket`` to check at ``when`` (``time.monotonic()``; ``inf``: never),
        instead of any moment given before: :func:`deadline` of its session's expiry."""
        if when == socket.expires_at:
            return
        socket.expires_at = when
        if when <= self.horizon:
            self._arm(socket, when)

    def _arm(self, socket: Checked, when: float) -> None:
        heapq.heappush(self.expiries, (when, next(self._order), weakref.ref(socket)))
        if self.expiries[0][0] == when:
            self.wake.set()  # Sooner than what the task sleeps until.

    def expire(self, now: float) -> int:
        """Ask the sockets whose session expired by ``now``; how many were asked."""
        asked = 0
        while self.expiries and self.expiries[0][0] <= now:
            when, _, ref = heapq.heappop(self.expiries)
            socket = ref()
            if socket is None or socket.expires_at != when or socket not in self.sockets:
                continue
            socket.validated_at = now
            socket.deliver(_MESSAGE)
            asked += 1
        return asked

    def sweep(self, now: float) -> int:
        """Ask every socket not checked for ``interval()`` seconds; how many were asked.
        The expiries due before the next sweep enter the heap."""
        due = now - interval()
        start, self.horizon = self.horizon, now + period()
        asked = 0
        for socket in list(self.sockets):
            if socket.validated_at <= due:
                socket.validated_at = now  # Asked: not again before the answer is old.
                socket.deliver(_MESSAGE)
                asked += 1
            if start < socket.expires_at <= self.horizon:
                self._arm(socket, socket.expires_at)
        return asked

    def next_wake(self) -> float:
        """``time.monotonic()`` at which the task must run next: the next sweep, or the
        first expiry in the heap if it is sooner."""
        return min(self.horizon, self.expiries[0][0]) if self.expiries else self.horizon

    async def _run(self) -> None:
        while self.sockets:
            self.wake.clear()
            wait = self.next_wake() - time.monotonic()
            if wait > 0:
                # asyncio.TimeoutError: not the builtin TimeoutError on Python 3.10.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), wait)
            now = time.monotonic()
            try:
                self.expire(now)
                if now >= self.horizon:
                    self.sweep(now)
            except Exception:  # The sweeper must outlive a bug in one socket.
                logger.exception("Revalidation sweep failed")

    async def aclose(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


_sweepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Sweeper] = (
    weakref.WeakKeyDictionary()
)


def get_sweeper() -> Sweeper:
    """The sweeper of the running event loop."""
    loop = asyncio.get_running_loop()
    sweeper = _sweepers.get(loop)
    if sweeper is None:
        sweeper = _sweepers[loop] = Sweeper(loop)
    return sweeper
