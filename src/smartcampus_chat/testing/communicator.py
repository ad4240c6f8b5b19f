"""A WebSocket communicator that speaks the chat protocol and checks every frame.

:class:`ChatCommunicator` is Channels' ``WebsocketCommunicator`` with the protocol on top:
it opens the socket as a user (with a ticket, as a mobile app or script would, or with the
user in the scope, as the session middleware would set it), checks each frame it sends
against the client frame models and each frame it receives against the server frame
models, and waits for typed answers (:meth:`~ChatCommunicator.receive_frame`,
:meth:`~ChatCommunicator.send_message`).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator

from smartcampus_chat.realtime.tickets import issue_ticket
from smartcampus_chat.testing.wire import (
    add_query,
    client_frame,
    parse_server_frame,
    room_path,
    user_path,
)

__all__ = ["NOISE", "ChatCommunicator", "Closed", "new_client_id", "open_room", "open_user"]

Frame = dict[str, Any]

#: Frames that may come between any two others: other people's presence, typing, joins,
#: and the user's notifications and moderation notices (meant for them, about any room, on
#: every socket).
NOISE = frozenset(
    {
        "presence",
        "presence.batch",
        "typing",
        "participant.joined",
        "notification",
        "notifications.read",
        "moderation.notice",
    }
)
#: The Origin the communicator sends unless told otherwise: Django's test server name (add
#: ``http://testserver`` to ``CSRF_TRUSTED_ORIGINS`` in test settings, as Channels'
#: communicators send no Host header).
TEST_ORIGIN = "http://testserver"


class Closed(AssertionError):
    """The server closed the socket (``code``) when a frame was expected."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


def new_client_id() -> str:
    """A fresh ``client_id`` for ``message.send``."""
    return uuid.uuid4().hex


class ChatCommunicator(WebsocketCommunicator):
    """A socket of ``path`` (:func:`~.wire.user_path` by default, or :func:`~.wire.room_path`).

    ``user``: who connects. With ``ticket`` (the default) a fresh ticket for them is added
    to the URL (:func:`~smartcampus_chat.realtime.tickets.issue_ticket`); without, the user
    is put in the scope, as a host's auth middleware would (a browser's session cookie is
    read by the consumer itself: pass it in ``headers``).
    ``application``: the ASGI application, by default the project's ``ASGI_APPLICATION``.
    ``headers`` replace the default ``Origin: http://testserver``.

    Every frame received is checked against the protocol's models (a frame they do not
    describe raises :class:`~smartcampus_chat.testing.wire.InvalidFrame`) and kept in
    :attr:`frames`; :attr:`closed_code` is the close code once the server closed.
    """

    def __init__(
        self,
        path: str | None = None,
        user: Any = None,
        *,
        ticket: bool = True,
        application: Any = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        path = path or user_path()
        if user is not None and ticket:
            path = add_query(path, ticket=issue_ticket(user))
        if headers is None:
            headers = [(b"origin", TEST_ORIGIN.encode())]
        super().__init__(application or get_default_application(), path, headers=headers)
        if user is not None and not ticket:
            self.scope["user"] = user
        #: Every frame received, in order (checked).
        self.frames: list[Frame] = []
        #: Frames read ahead (while waiting for another) and not returned yet.
        self.pending: list[Frame] = []
        self.closed_code: int | None = None
        self._ids = itertools.count(1)
        self._disconnected = False

    async def open(self, timeout: float = 5, *, ready: bool = True) -> None:
        """Connect; :class:`Closed` if the handshake is refused. With ``ready``, return once
        the server has set the connection up (see :meth:`ready`)."""
        connected, code = await self.connect(timeout=timeout)
        if not connected:
            raise Closed(code)
        if ready:
            await self.ready()

    async def ready(self, timeout: float = 5) -> None:
        """Wait until the server finished setting the connection up (rooms, presence).

        The server accepts first and sets up after; frames are handled in order, so the
        ``pong`` to a ``ping`` comes after the set-up. Frames received meanwhile are kept
        for :meth:`receive_frame`. Returns quietly if the server closes instead.
        """
        await self.send_frame(type="ping", id="__ready__")
        while True:
            try:
                frame = await self._read(timeout)
            except Closed:
                return
            if frame == {"type": "pong", "id": "__ready__"}:
                self.frames.remove(frame)
                return
            self.pending.append(frame)

    async def _read(self, timeout: float) -> Frame:
        if self.closed_code is not None:
            raise Closed(self.closed_code)
        output = await self.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.closed_code = output.get("code", 1000)
            raise Closed(self.closed_code)
        assert output["type"] == "websocket.send", output
        assert output.get("text") is not None, "the server sent a binary frame"
        frame = parse_server_frame(output["text"])
        self.frames.append(frame)
        return frame

    async def _next(self, timeout: float) -> Frame:
        if self.pending:
            return self.pending.pop(0)
        return await self._read(timeout)

    async def receive_frame(
        self, type: str | None = None, *, timeout: float = 2, skip: frozenset[str] = NOISE
    ) -> Frame:
        """The next frame; with ``type``, the next frame of that type, passing over only
        frames whose type is in ``skip`` (anything else fails the check).

        Raises :class:`Closed` if the server closes, ``asyncio.TimeoutError`` after
        ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            frame = await self._next(max(0.01, deadline - time.monotonic()))
            if type is None or frame["type"] == type:
                return frame
            assert frame["type"] in skip, f"expected {type}, got {frame}"

    async def receive_until(self, predicate: Callable[[Frame], bool], timeout: float = 2) -> Frame:
        """The first frame matching ``predicate``; the frames before it are passed over."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self._next(max(0.01, deadline - time.monotonic()))
            if predicate(frame):
                return frame

    async def receive_from(self, timeout: float = 1) -> Any:
        """Channels' raw read, with the frame checked against the protocol's models."""
        data = await super().receive_from(timeout)
        if isinstance(data, str):
            self.frames.append(parse_server_frame(data))
        return data

    async def assert_no_frame(
        self, timeout: float = 0.2, ignore: frozenset[str] = frozenset()
    ) -> None:
        """Fail if a frame other than the ``ignore``\\d types arrives within ``timeout``."""
        for frame in self.pending:
            assert frame["type"] in ignore, f"unexpected frame {frame}"
        self.pending.clear()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if await self.receive_nothing(timeout=left):
                return
            frame = await self._next(1)
            assert frame["type"] in ignore, f"unexpected frame {frame}"

    async def wait_closed(self, timeout: float = 2) -> int | None:
        """Read (and drop) frames until the server closes; the close code (None if it did
        not close within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self.closed_code is None and time.monotonic() < deadline:
            try:
                await self._next(max(0.01, deadline - time.monotonic()))
            except (Closed, asyncio.TimeoutError):
                break
        return self.closed_code

    async def send_frame(self, **fields: Any) -> None:
        """Send a client frame, checked against its model first (see ``client_frame``).

        To send something the protocol refuses, use Channels' ``send_to`` or
        ``send_json_to``.
        """
        await self.send_to(text_data=client_frame(**fields))

    async def send_message(
        self, room: str | None, content: str, *, timeout: float = 5, **fields: Any
    ) -> Frame:
        """Send ``message.send`` and return the stored message of its ``ack``.

        ``room`` may be None on a room's own socket. ``fields``: ``client_id``, ``reply_to``.
        An ``error`` answer fails the check. Frames that arrive before the answer stay
        available to :meth:`receive_frame`.
        """
        frame_id = f"send-{next(self._ids)}"
        frame: dict[str, Any] = {"type": "message.send", "content": content, "id": frame_id}
        if room is not None:
            frame["room"] = room
        await self.send_frame(**frame, **fields)
        answer = await self._answer(frame_id, timeout)
        assert answer["type"] == "ack", f"message.send was refused: {answer}"
        message: Frame = answer["message"]
        return message

    async def _answer(self, frame_id: str, timeout: float) -> Frame:
        """The ``ack`` or ``error`` repeating ``frame_id``; other frames are kept."""
        deadline = time.monotonic() + timeout
        kept: list[Frame] = []
        try:
            while True:
                frame = await self._next(max(0.01, deadline - time.monotonic()))
                if frame["type"] in ("ack", "error") and frame.get("id") == frame_id:
                    return frame
                kept.append(frame)
        finally:
            self.pending[:0] = kept

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        """Disconnect (once; again is a no-op); the consumer gets ``timeout`` seconds to
        clean up before it is cancelled."""
        if self._disconnected:
            return
        self._disconnected = True
        await super().disconnect(code=code, timeout=timeout)


async def open_room(
    user: Any, slug: str, *, ticket: bool = True, application: Any = None, **params: Any
) -> ChatCommunicator:
    """A connected, set-up socket of room ``slug`` for ``user``; ``params``: the query
    (``event_seq``, ``v``)."""
    socket = ChatCommunicator(
        room_path(slug, **params), user, ticket=ticket, application=application
    )
    await socket.open()
    return socket


async def open_user(
    user: Any, *, ticket: bool = True, application: Any = None, **params: Any
) -> ChatCommunicator:
    """A connected, set-up multiplexed socket (``ws/chat/``) for ``user``."""
    socket = ChatCommunicator(user_path(**params), user, ticket=ticket, application=application)
    await socket.open()
    return socket
