"""A uvicorn WebSocket protocol that keeps less for each idle socket (docs/deployment.md,
"Idle sockets").

A lecture's sockets are open for hours and mostly silent, so what the ASGI server keeps per
socket decides how many fit in a process. uvicorn's default implementation
(``websockets-sansio``) keeps, for each socket's whole life, the handshake's request and
response (every header, as parsed objects), an :class:`asyncio.Queue` for the frames the
application has not read yet (three deques and an :class:`asyncio.Event`, each with its own
deque) and an :class:`asyncio.Event` that gates writes. :class:`WebSocketProtocol` is that
implementation with three changes:

- the handshake's request and response are dropped once it is answered, and the request's
  headers emptied (the application has them in its scope; uvicorn and websockets read them
  only to answer the handshake);
- the receive queue is a :class:`ReceiveQueue`: a list while frames wait, a future while
  the application waits, nothing otherwise;
- the write gate is a :class:`WriteGate`: a flag, and a future only while a send waits.

Everything else (framing, keep-alive pings, closing, backpressure, denial responses) is
uvicorn's own. Use it with ``uvicorn --ws smartcampus_chat.infra.uvicorn_sockets:WebSocketProtocol``
(uvicorn 0.35 or newer, ``websockets`` 13 or newer). The conformance suite
(``tests/test_ws_conformance.py``) runs against it as against uvicorn's implementations.
"""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["ReceiveQueue", "WebSocketProtocol", "WriteGate"]

T = TypeVar("T")


Waiters = list[asyncio.Future[None]] | None


def _joined(waiters: Waiters, waiter: asyncio.Future[None]) -> list[asyncio.Future[None]]:
    """``waiters`` with ``waiter`` last (a list made for the first)."""
    if waiters is None:
        return [waiter]
    waiters.append(waiter)
    return waiters


def _left(waiters: Waiters, waiter: asyncio.Future[None]) -> Waiters:
    """``waiters`` without ``waiter``; None once empty (nothing kept while nobody waits)."""
    if waiters is not None and waiter in waiters:
        waiters.remove(waiter)
    return waiters or None


def _wake_first(waiters: Waiters) -> None:
    for waiter in waiters or ():
        if not waiter.done():
            waiter.set_result(None)
            return


class ReceiveQueue(Generic[T]):
    """The part of :class:`asyncio.Queue` uvicorn's protocol uses (``put_nowait``, ``get``,
    ``empty``, ``qsize``), unbounded, allocating only while items or getters wait.

    A getter cancelled while it waits takes nothing: the items stay for the next ``get``.
    """

    __slots__ = ("_getters", "_items")

    def __init__(self) -> None:
        self._items: list[T] | None = None
        self._getters: Waiters = None

    def put_nowait(self, item: T) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        _wake_first(self._getters)

    async def get(self) -> T:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            self._getters = _joined(self._getters, getter)
            try:
                await getter
            except asyncio.CancelledError:
                # Woken and cancelled at once: the item it was woken for is another's.
                if getter.done() and not getter.cancelled() and self._items:
                    _wake_first(self._getters)
                raise
            finally:
                self._getters = _left(self._getters, getter)
        items = self._items
        item = items.pop(0)
        if not items:
            self._items = None
        else:
            _wake_first(self._getters)
        return item

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0


class WriteGate:
    """The part of :class:`asyncio.Event` uvicorn's protocol uses to pause sends while the
    transport's buffer is full (``set``, ``clear``, ``is_set``, ``wait``), allocating only
    while a send waits."""

    __slots__ = ("_open", "_waiters")

    def __init__(self) -> None:
        self._open = True
        self._waiters: Waiters = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> bool:
        if self._open:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters = _joined(self._waiters, waiter)
        try:
            await waiter
        finally:
            self._waiters = _left(self._waiters, waiter)
        return True


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol, keeping less per socket (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = ReceiveQueue[Any]()  # type: ignore[assignment]
        self.writable = WriteGate()  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and hasattr(self, "response"):
            # Answered: uvicorn reads neither again (a later denial builds its own). The
            # request stays referenced by websockets' suspended parser, so its headers are
            # emptied too.
            self.request.headers.clear()
            del self.request, self.response
