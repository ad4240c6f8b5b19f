"""One socket's ``message.send`` frames in flight together: the send pipeline.

Without it a socket handles a send, waits for its commit and its ``ack``, then reads the
next frame: one sender is held to one commit per message (70 to 100 a second on PostgreSQL) however
well the process's group commit (:mod:`smartcampus_chat.services.batcher`) merges the
sends of different sockets. With it the consumer reads on: each send is checked as before
(the target room, the cached access, the re-check of a stale socket), queued for the group
commit without waiting (:meth:`~smartcampus_chat.infra.batching.Batcher.enqueue`), and the
next frame is read, so that consecutive sends of one socket share transactions.

What stays as it was, and why:

- **Order.** Sends are queued in frame order and batches are taken in queue order, one at
  a time; a batch numbers each room's messages in request order. So a socket's messages
  take ``seq`` numbers in frame order in each room, and one batch's results are known
  before the next batch starts.
- **Answers in frame order.** Each frame has an entry here, in order; an answer is written
  only when every earlier frame's answer was (:meth:`SendPipeline.flush`), an error found
  before queueing (``not_found``, an invalid room) included.
- **The answer before the frames it caused.** While a batch holding this socket's sends
  runs, the socket holds its hub frames (:meth:`~.socket.Socket.hold`); when the batch
  settles, its answers are written first, synchronously, then the held frames go out
  (one's own ``message.new`` after its ``ack``, as without the pipeline).
- **Every other frame after the sends before it.** The consumer empties the pipeline
  (:meth:`SendPipeline.drain`) before handling any frame of another type (an edit, a
  read, a resume, a ping...) or a disconnect: an edit right after a send sees it stored.
- **Bounded.** At most ``SEND_PIPELINE_DEPTH`` frames are unanswered; beyond it the
  consumer reads no frame until one is answered (:meth:`SendPipeline.ready`): the client's
  frames wait in the server's and the network's buffers (backpressure), not in memory here.
- **Revocation.** When the hub hands the socket a message that may change its access
  (:meth:`~.socket.Socket.deliver` queues it in the inbox) and whenever the socket checks
  its session and access again, the pipeline is paused: sends still waiting for a batch
  are taken back (:meth:`~smartcampus_chat.infra.batching.Batcher.withdraw`), the check
  waits for a batch already running to settle, and the paused sends are checked again
  after the decision (the room may be gone, the socket closed) before being queued again.
  So no send of this socket is stored after the socket learnt of a revocation; as before,
  a send already in the database when the news comes completes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from smartcampus_chat.conf import app_settings
from smartcampus_chat.protocol.frames import Ack, ClientFrame, ErrorFrame, SendMessage
from smartcampus_chat.protocol.payloads import MessageData
from smartcampus_chat.protocol.render import as_seen_by_author
from smartcampus_chat.realtime.sockets import Outbox
from smartcampus_chat.services.batch import SendRequest
from smartcampus_chat.services.batcher import get_batcher


class Socket(Protocol):
    """What the pipeline uses of its socket (:class:`.socket.Socket`)."""

    user: Any
    outbox: Outbox
    sends_paused: int

    def hold(self) -> None: ...

    def release(self) -> None: ...

    def error_frame(self, exc: BaseException, frame: ClientFrame) -> ErrorFrame: ...


def enabled() -> bool:
    """Sends are pipelined when they go through the group commit."""
    return app_settings.SEND_BATCH_MAX > 1


@dataclass(slots=True, eq=False)
class Entry:
    """One ``message.send`` frame, from its reading to its answer."""

    frame: SendMessage
    #: Queued for a batch: its result or error when done.
    future: asyncio.Future[MessageData] | None = None
    #: The answer, once known without a batch (an error found before queueing).
    answer: str | None = None
    #: Answered by nothing: the socket closed before it was queued.
    silent: bool = False
    #: Taken back while the pipeline is paused; queued again after the decision.
    parked: bool = False

    @property
    def resolved(self) -> bool:
        if self.answer is not None or self.silent:
            return True
        return self.future is not None and self.future.done()


class SendPipeline:
    """A socket's unanswered ``message.send`` frames, in frame order (an
    :class:`~smartcampus_chat.infra.batching.Owner` of the send batcher's requests)."""

    __slots__ = ("entries", "running", "settled", "socket", "space", "waiting")

    def __init__(self, socket: Socket) -> None:
        self.socket = socket
        self.entries: deque[Entry] = deque()
        #: Batches holding some of these sends that are being stored (0 or 1).
        self.running = 0
        #: Waiters: for fewer entries than the depth, for none, for no running batch.
        self.space: asyncio.Future[None] | None = None
        self.waiting: asyncio.Future[None] | None = None
        self.settled: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def full(self) -> bool:
        return len(self.entries) >= app_settings.SEND_PIPELINE_DEPTH

    # The consumer's side ------------------------------------------------------------------

    def add(self, frame: SendMessage) -> Entry:
        entry = Entry(frame)
        self.entries.append(entry)
        return entry

    def queue(self, entry: Entry, request: SendRequest) -> None:
        """Queue ``entry`` for the group commit (or park it while paused)."""
        entry.parked = False
        if self.socket.sends_paused:
            entry.parked = True
            return
        entry.future = get_batcher().enqueue(request, owner=self)

    def fail(self, entry: Entry, answer: str | None) -> None:
        """``entry`` is answered without a batch (``None``: not at all)."""
        entry.parked = False
        if answer is None:
            entry.silent = True
        else:
            entry.answer = answer
        self.flush()

    def pause(self) -> None:
        """Take back the sends waiting for a batch; they stay in their places, parked."""
        taken = get_batcher().withdraw(self)
        if not taken:
            return
        withdrawn = set(map(id, taken))
        for entry in self.entries:
            if entry.future is not None and id(entry.future) in withdrawn:
                entry.future = None
                entry.parked = True

    def parked(self) -> list[Entry]:
        """The parked entries, in frame order (to check and queue again)."""
        return [entry for entry in self.entries if entry.parked]

    async def ready(self) -> None:
        """Wait until another send may be read (fewer than the depth unanswered)."""
        while self.full:
            if self.space is None:
                self.space = asyncio.get_running_loop().create_future()
            await asyncio.shield(self.space)

    async def drain(self) -> None:
        """Wait until every send read so far is answered."""
        while self.entries:
            if self.waiting is None:
                self.waiting = asyncio.get_running_loop().create_future()
            await asyncio.shield(self.waiting)

    async def running_settled(self) -> None:
        """Wait until no batch holding these sends is being stored."""
        while self.running:
            if self.settled is None:
                self.settled = asyncio.get_running_loop().create_future()
            await asyncio.shield(self.settled)

    # The batcher's side (Owner) -----------------------------------------------------------

    def batch_started(self) -> None:
        # Frames the batch causes (one's own message.new) wait for its answers.
        self.running += 1
        self.socket.hold()

    def batch_settled(self) -> None:
        self.running -= 1
        try:
            self.flush()
        finally:
            if not self.running:
                _wake(self.settled)
                self.settled = None
            self.socket.release()

    # Answers --------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write the answers of the resolved entries at the head, in frame order."""
        entries = self.entries
        while entries and entries[0].resolved:
            entry = entries.popleft()
            text = entry.answer
            if text is None and entry.future is not None:
                text = self._answer(entry.frame, entry.future)
            if text is not None:
                self.socket.outbox.put_nowait(text)
        if not self.full:
            _wake(self.space)
            self.space = None
        if not entries:
            _wake(self.waiting)
            self.waiting = None

    def _answer(self, frame: SendMessage, future: asyncio.Future[MessageData]) -> str:
        error = future.exception()
        if error is None:
            data = for_author(future.result(), frame)
            return Ack(id=frame.id, client_id=data.client_id, message=data).model_dump_json()
        return self.socket.error_frame(error, frame).model_dump_json()


def for_author(data: MessageData, frame: SendMessage) -> MessageData:
    """``data`` as the ack to its sender says it (:func:`.render.as_seen_by_author`): the
    group commit renders the room's broadcast, in which an anonymous post is nobody's."""
    return as_seen_by_author(data, frame.client_id or None)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def request_for(socket: Socket, frame: SendMessage, room: Any, access: Any) -> SendRequest:
    """The send a ``message.send`` frame asks for (the one reading of its fields)."""
    return SendRequest(
        socket.user,
        room,
        frame.content,
        client_id=frame.client_id,
        reply_to=frame.reply_to,
        access=access,
        attachments=frame.attachments,
        announcement=frame.announcement,
        requires_ack=frame.requires_ack,
        ack_due=frame.ack_due,
        anonymous=frame.anonymous,
        poll=frame.poll.model_dump() if frame.poll is not None else None,
    )
