"""The backstop of revocation: every open socket re-checks its session and access at a
bounded interval, whatever signal was (or was not) sent.

Why: signals reach sockets fast (:mod:`smartcampus_chat.receivers`) but only for the causes
someone thought of; a session that expires, a cache-backend session that is deleted, a row
changed by raw SQL or a cause added later send nothing a socket hears. One task per event
loop looks at the process's sockets a few times per ``REVALIDATE_INTERVAL`` and asks those
not checked for that long to check again (:data:`REVALIDATE_TYPE`, handled by the consumer
in turn with its frames). The checks themselves are batched: the sockets due together share
trips to the database (:class:`~.handshakes.RevalidateBatcher`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any, Protocol

from smartcampus_chat.conf import app_settings
from smartcampus_chat.hub import Message

logger = logging.getLogger(__name__)

#: In-process message type (never on the layer): "check your session and access now".
REVALIDATE_TYPE = "chat.revalidate"
_MESSAGE: Message = {"type": REVALIDATE_TYPE}


class Checked(Protocol):
    """A connection the sweeper watches (``consumers.ChatConsumer``)."""

    #: ``time.monotonic()`` of its last check (or of when one was asked for).
    validated_at: float

    def deliver(self, message: Message) -> None: ...


def interval() -> float:
    return float(app_settings.REVALIDATE_INTERVAL)


def frame_age() -> float:
    return float(app_settings.REVALIDATE_FRAME_AGE)


class Sweeper:
    """Asks the sockets of one event loop to re-check when their last check is too old."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self.task: asyncio.Task[None] | None = None

    def add(self, socket: Checked) -> None:
        self.sockets.add(socket)
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run(), name="smartcampus-chat-revalidation")

    def discard(self, socket: Checked) -> None:
        self.sockets.discard(socket)

    def sweep(self, now: float) -> int:
        """Ask every socket not checked for ``interval()`` seconds; how many were asked."""
        due = now - interval()
        asked = 0
        for socket in list(self.sockets):
            if socket.validated_at <= due:
                socket.validated_at = now  # Asked: not again before the answer is old.
                socket.deliver(_MESSAGE)
                asked += 1
        return asked

    async def _run(self) -> None:
        # A quarter of the interval between looks: a socket is checked at most
        # interval * 1.25 (plus the check itself) after its previous check.
        while self.sockets:
            await asyncio.sleep(max(0.02, min(interval() / 4, 5.0)))
            try:
                self.sweep(time.monotonic())
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
