"""The WebSocket door's group commit: concurrent ``message.send`` frames share a transaction.

One :class:`SendBatcher` per process (per event loop) queues the sends of every local
socket. While one batch is being stored, new sends wait; the next batch takes all of them
(up to ``SEND_BATCH_MAX``). There is no timer: a lone send is stored at once, and under load
batches grow by themselves, so each commit serves as many senders as arrived during the
previous one (natural group commit). Each caller gets its own result or error back
(:func:`smartcampus_chat.services.batch.check_send_messages`), after the commit.

Batches run on the thread Channels uses for database calls (``database_sync_to_async``), so
they share its connection handling; one batch replaces a queue of single stores there. The
thread does not wait for a batch's events to be published: the event loop sends them, in
commit order (:func:`smartcampus_chat.realtime.events.publish_without_waiting`).
"""

from __future__ import annotations

import asyncio

from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra.batching import Batcher, PerLoop
from smartcampus_chat.protocol.payloads import MessageData
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services.batch import SendRequest, check_send_messages

#: What a caller gets back: the stored (or already stored) message, as clients see it.
Stored = MessageData


def store_batch(requests: list[SendRequest]) -> list[Stored | Exception]:
    """Store ``requests`` and render each message in the database thread (a retry's
    stored message may load its sender lazily: never from the event loop)."""
    rendered: list[Stored | Exception] = []
    # The batch's events go out from the event loop, in commit order, while this thread
    # goes on with the next batch.
    with events.publish_without_waiting():
        results = check_send_messages(requests)
    for request, result in zip(requests, results, strict=True):
        if isinstance(result, Exception):
            rendered.append(result)
        elif result.data is not None:
            rendered.append(result.data)  # Rendered once for the event and the ack.
        else:
            rendered.append(message_data(result.message, room_slug=request.room.slug))
    return rendered


class SendBatcher(Batcher[SendRequest, Stored]):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, store_batch, lambda: app_settings.SEND_BATCH_MAX, "sends")

    async def send(self, request: SendRequest) -> Stored:
        """Store ``request`` with whatever else is waiting; raises its own ChatError."""
        return await self.submit(request)


#: The send batcher of the running event loop.
get_batcher = PerLoop(SendBatcher).get
