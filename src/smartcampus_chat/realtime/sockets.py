"""What the hub hands frames to: each socket's bounded :class:`Outbox` and its :class:`Inbox`.

Each :class:`Outbox` is bounded (``SEND_QUEUE_MAX_FRAMES``): a socket whose client does not
read fast enough is closed with :data:`CLOSE_TOO_SLOW` instead of growing memory or stalling
the hub; the client resumes by ``event_seq`` and misses nothing (docs/protocol.md). Frames
are written with the ASGI server's own ``send`` (:func:`raw_send`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from smartcampus_chat.realtime.tasks import cancel

logger = logging.getLogger(__name__)

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]

CLOSE_TOO_SLOW = 4008
CLOSE_TOO_SLOW_REASON = "too slow; resume"


def raw_send(send: Send) -> Send:
    """The ASGI server's ``send`` beneath Channels' session wrapper, when it is one.

    ``channels.sessions.InstanceSessionWrapper.send`` only acts on ``http.response.start``;
    for WebSocket messages it checks the session and calls ``real_send``. Skipping it is
    behaviour-preserving and measurably cheaper per delivered frame (docs/performance.md).
    """
    from channels.sessions import InstanceSessionWrapper

    owner = getattr(send, "__self__", None)
    while isinstance(owner, InstanceSessionWrapper):
        send = owner.real_send
        owner = getattr(send, "__self__", None)
    return send


class Inbox:
    """A socket's queue of state-changing hub messages, handled in order by ``handle``.

    Every socket has one and almost never uses it (access changes, room added or removed),
    so it costs three slots until a message comes: its queue and its task exist only while
    messages wait. (An ``asyncio.Queue`` costs ~2.3 KiB up front, and a task waiting on it
    ~1 KiB more, measured with ``tracemalloc``.)
    """

    __slots__ = ("handle", "items", "task")

    def __init__(self, handle: Callable[[Message], Awaitable[None]]) -> None:
        self.handle = handle
        self.items: deque[Message] | None = None
        self.task: asyncio.Task[None] | None = None

    def put_nowait(self, message: Message) -> None:
        if self.items is None:
            self.items = deque()
        self.items.append(message)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self.items:
                await self.handle(self.items.popleft())
        finally:
            self.task = None
            self.items = None

    async def aclose(self) -> None:
        """Drop what waits (the socket is gone) and wait for the handler to stop."""
        task, self.task = self.task, None
        await cancel(task)


async def _drive(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    """Run to completion a coroutine that was started by hand and suspended on ``yielded``.

    This is what ``asyncio.Task`` does step by step; see :meth:`Outbox._write_now`.
    """
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                # As Task.__step does: the future was yielded to us, not to a task.
                yielded._asyncio_future_blocking = False
                await yielded
        except asyncio.CancelledError:
            coro.close()
            raise
        except BaseException:  # noqa: S110 - the coroutine gets it back from its own await
            pass
        try:
            yielded = coro.send(None)
        except StopIteration:
            return


class Outbox:
    """A socket's outgoing frames: bounded, written in order.

    The hub :meth:`offer`\\s frames without waiting; over ``limit`` pending frames the
    socket is closed with 4008 (its pending frames are dropped: the client resumes). The
    connection's own answers (:meth:`put`) wait for room instead, so a long replay throttles
    itself to the client's pace.

    An idle outbox writes at once, in the caller's stack (:meth:`_write_now`): the server's
    ``send`` usually completes without suspending (the transport takes the bytes), so a
    delivery costs no task. Only when it suspends (the client is slow: the transport's
    buffer is full) does a writer task take over, and frames queue behind it.
    """

    __slots__ = ("finished", "limit", "overflowed", "pending", "send", "space", "task")

    def __init__(self, send: Send, limit: int) -> None:
        self.send = send
        self.limit = max(1, limit)
        #: Frames waiting for the writer task; None while empty (most sockets, most of the
        #: time: an empty deque costs ~0.7 KiB).
        self.pending: deque[Message] | None = None
        self.task: asyncio.Task[None] | None = None
        self.space: asyncio.Event | None = None
        #: Set once a close was queued or the client went away: nothing more is sent.
        self.finished = False
        self.overflowed = False

    def __len__(self) -> int:
        return len(self.pending) if self.pending is not None else 0

    def _queue(self, message: Message) -> None:
        if self.pending is None:
            self.pending = deque()
        self.pending.append(message)
        self._kick()

    def offer(self, text: str) -> bool:
        """Queue a frame from the hub; False when the socket is finished or just overflowed."""
        if self.finished:
            return False
        if len(self) >= self.limit:
            self.overflow()
            return False
        message = {"type": "websocket.send", "text": text}
        if self.task is None and not self.pending:
            self._write_now(message)
        else:
            self._queue(message)
        return True

    async def put(self, message: Message) -> None:
        """Queue one of the connection's own messages, waiting while the buffer is half full."""
        while len(self) > self.limit // 2 and not self.finished:
            if self.space is None:
                self.space = asyncio.Event()
            await self.space.wait()
        if self.finished:
            return
        if message["type"] == "websocket.close":
            self.finished = True
        if self.task is None and not self.pending:
            self._write_now(message)
        else:
            self._queue(message)

    def put_nowait(self, text: str) -> None:
        """Queue one of the connection's own frames without waiting for room: for answers
        whose number the caller bounds (a socket's send pipeline, at most its depth)."""
        if self.finished:
            return
        message = {"type": "websocket.send", "text": text}
        if self.task is None and not self.pending:
            self._write_now(message)
        else:
            self._queue(message)

    def overflow(self) -> None:
        """Drop what is pending and close the socket with 4008 (the client resumes)."""
        if self.finished:
            return
        self.overflowed = True
        self.finished = True
        logger.info("Closing a socket: %d %s", CLOSE_TOO_SLOW, CLOSE_TOO_SLOW_REASON)
        self.pending = deque(
            [{"type": "websocket.close", "code": CLOSE_TOO_SLOW, "reason": CLOSE_TOO_SLOW_REASON}]
        )
        task = self.task
        if task is not None and not task.done():
            # The writer may be blocked on a client that does not read: drop its frame.
            task.cancel()
            self.task = None
        self._wake_putters()
        self._kick()

    def _write_now(self, message: Message) -> None:
        """Start writing ``message`` in the caller's stack; a task finishes it if it waits."""
        awaitable = self.send(message)
        if not isinstance(awaitable, Coroutine):
            self.task = asyncio.get_running_loop().create_task(self._write(awaitable))
            return
        try:
            yielded = awaitable.send(None)
        except StopIteration:
            return
        except Exception:
            logger.debug("Socket write failed; dropping its pending frames", exc_info=True)
            self.finished = True
            self.pending = None
            return
        self.task = asyncio.get_running_loop().create_task(self._write(_drive(awaitable, yielded)))

    def _kick(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._write())

    def _wake_putters(self) -> None:
        if self.space is not None:
            self.space.set()
            self.space = None

    async def _write(self, started: Awaitable[None] | None = None) -> None:
        try:
            if started is not None:
                await started
            while self.pending:
                message = self.pending.popleft()
                if self.space is not None and len(self.pending) <= self.limit // 2:
                    self._wake_putters()
                await self.send(message)
                if message["type"] == "websocket.close":
                    self.pending = None
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            # The client went away (uvicorn's ClientDisconnected, a reset transport...).
            logger.debug("Socket write failed; dropping its pending frames", exc_info=True)
            self.finished = True
            self.pending = None
        finally:
            if not self.pending:
                self.pending = None
            self._wake_putters()

    async def aclose(self) -> None:
        """Stop writing (the socket is gone) and wait for the writer to end."""
        self.finished = True
        self.pending = None
        self._wake_putters()
        task, self.task = self.task, None
        await cancel(task)
