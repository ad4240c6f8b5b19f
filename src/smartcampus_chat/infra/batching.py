"""Group commit on the database thread: callers that wait together share one trip.

Channels runs every database call of a process on one thread, so a burst of callers (sends,
handshakes, new connections) queues there one round trip and one commit at a time. A
:class:`Batcher` hands the thread whatever has arrived as one batch; the callers that come
while it runs form the next batch. No timer: an idle process answers a lone caller at once,
a busy one serves as many callers per trip as arrived during the previous one.

A caller may also queue requests without waiting for them (:meth:`Batcher.enqueue`) on
behalf of an :class:`Owner`, which is told synchronously when a batch holding any of its
requests starts and when that batch's results are all set, and may take back those of
its requests that wait for a batch (:meth:`Batcher.withdraw`): a WebSocket's send pipeline
(``ws/pipeline.py``) keeps its answers in order that way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from channels.db import database_sync_to_async

from smartcampus_chat.infra.outages import is_unavailable

logger = logging.getLogger(__name__)

Request = TypeVar("Request")
Result = TypeVar("Result")

#: Runs in the database thread: one result, or the error, per request, in order.
Work = Callable[[list[Request]], list[Result | Exception]]


class Owner(Protocol):
    """Who queued requests with :meth:`Batcher.enqueue`; called on the event loop."""

    def batch_started(self) -> None:
        """A batch holding some of the owner's requests goes to the database."""

    def batch_settled(self) -> None:
        """That batch's futures are all set (each request's result or error)."""


class Batcher(Generic[Request, Result]):
    """Runs ``work`` on batches of the requests submitted on one event loop.

    ``work`` isolates each request's failure (its error in the request's place); if it
    raises, every request of the batch gets that error.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        work: Work[Request, Result],
        max_size: Callable[[], int],
        what: str,
    ) -> None:
        self.loop = loop
        self.work = work
        self.max_size = max_size
        #: What a request is, for the log ("sends").
        self.what = what
        self.pending: list[tuple[Request, asyncio.Future[Result], Owner | None]] = []
        self.task: asyncio.Task[None] | None = None
        #: Batches run, and requests answered with a result (for tests and the benchmark).
        self.batches = 0
        self.stored = 0

    async def submit(self, request: Request) -> Result:
        """``request``'s result, with whatever else is waiting; raises its own error."""
        return await self.enqueue(request)

    def enqueue(self, request: Request, owner: Owner | None = None) -> asyncio.Future[Result]:
        """Queue ``request`` for the next batch; its future gets its result or its error."""
        future: asyncio.Future[Result] = self.loop.create_future()
        self.pending.append((request, future, owner))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())
        return future

    def withdraw(self, owner: Owner) -> list[asyncio.Future[Result]]:
        """Take ``owner``'s requests that wait for a batch out of the queue, in order; their
        futures (cancelled). Those of a batch already running stay: they are being stored."""
        taken = [future for _, future, who in self.pending if who is owner]
        if taken:
            self.pending = [entry for entry in self.pending if entry[2] is not owner]
            for future in taken:
                future.cancel()
        return taken

    async def _run(self) -> None:
        work = database_sync_to_async(self.work)
        while self.pending:
            limit = max(1, self.max_size())
            batch, self.pending = self.pending[:limit], self.pending[limit:]
            owners = list(dict.fromkeys(owner for _, _, owner in batch if owner is not None))
            for owner in owners:
                _tell(owner.batch_started)
            results: list[Result | Exception]
            try:
                results = await work([request for request, _, _ in batch])
            except Exception as exc:
                # A bug or an unreachable database: every waiter gets the error.
                if is_unavailable(exc):
                    logger.warning("A batch of %d %s failed: %r", len(batch), self.what, exc)
                else:
                    logger.exception("A batch of %d %s failed", len(batch), self.what)
                results = [exc] * len(batch)
            self.batches += 1
            for (_, future, _), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    self.stored += 1
                    future.set_result(result)
            for owner in owners:
                _tell(owner.batch_settled)


def _tell(call: Callable[[], None]) -> None:
    """Call an owner's hook; its failure is its own, never the batcher's (which serves
    every socket of the process)."""
    try:
        call()
    except Exception:
        logger.exception("A batch owner's hook failed")


B = TypeVar("B", bound="Batcher[Any, Any]")


class PerLoop(Generic[B]):
    """One batcher per running event loop: a new one when the loop changed (tests run each
    in a loop of their own; a batcher's task belongs to the loop that started it)."""

    def __init__(self, make: Callable[[asyncio.AbstractEventLoop], B]) -> None:
        self._make = make
        self._current: B | None = None

    def get(self) -> B:
        loop = asyncio.get_running_loop()
        if self._current is None or self._current.loop is not loop:
            self._current = self._make(loop)
        return self._current
