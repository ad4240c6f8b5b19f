"""The WebSocket door's group commit: concurrent ``message.send`` frames share a transaction.

One :class:`SendBatcher` per process (per event loop) queues the sends of every local
socket. While one batch is being stored, new sends wait; the next batch takes all of them
(up to ``SEND_BATCH_MAX``). There is no timer: a lone send is stored at once, and under load
batches grow by themselves, so each commit serves as many senders as arrived during the
previous one (natural group commit). Each caller gets its own result or error back
(:func:`smartcampus_chat.services.batch.check_send_messages`), after the commit.

Batches run on the thread Channels uses for database calls (``database_sync_to_async``), so
they share its connection handling; one batch replaces a queue of single stores there.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async

from smartcampus_chat.conf import app_settings
from smartcampus_chat.outages import is_unavailable
from smartcampus_chat.payloads import message_data
from smartcampus_chat.schema import MessageData
from smartcampus_chat.services.batch import SendRequest, check_send_messages

#: What a caller gets back: the stored (or already stored) message, as clients see it.
Stored = MessageData


def store_batch(requests: list[SendRequest]) -> list[Stored | Exception]:
    """Store ``requests`` and render each message in the database thread (a retry's
    stored message may load its sender lazily: never from the event loop)."""
    rendered: list[Stored | Exception] = []
    for request, result in zip(requests, check_send_messages(requests), strict=True):
        if isinstance(result, Exception):
            rendered.append(result)
        else:
            rendered.append(message_data(result.message, room_slug=request.room.slug))
    return rendered


logger = logging.getLogger(__name__)


class SendBatcher:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[SendRequest, asyncio.Future[Stored]]] = []
        self.task: asyncio.Task[None] | None = None
        #: Sizes of the batches stored so far (for tests and the benchmark's curiosity).
        self.batches = 0
        self.stored = 0

    async def send(self, request: SendRequest) -> Stored:
        """Store ``request`` with whatever else is waiting; raises its own ChatError."""
        future: asyncio.Future[Stored] = self.loop.create_future()
        self.pending.append((request, future))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        store = database_sync_to_async(store_batch)
        while self.pending:
            limit = max(1, int(app_settings.SEND_BATCH_MAX))
            batch, self.pending = self.pending[:limit], self.pending[limit:]
            try:
                results = await store([request for request, _ in batch])
            except Exception as exc:
                # check_send_messages isolates per-request failures; this is a bug or an
                # unreachable database: every waiter gets the error, none an ack.
                if is_unavailable(exc):
                    logger.warning("Storing a batch of %d sends failed: %r", len(batch), exc)
                else:
                    logger.exception("Storing a batch of %d sends failed", len(batch))
                results = [exc] * len(batch)
            self.batches += 1
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    self.stored += 1
                    future.set_result(result)


_batcher: SendBatcher | None = None


def get_batcher() -> SendBatcher:
    """The batcher of the running event loop (a new one when the loop changed: tests)."""
    global _batcher
    loop = asyncio.get_running_loop()
    if _batcher is None or _batcher.loop is not loop:
        _batcher = SendBatcher(loop)
    return _batcher
