"""Test helpers for the WebSocket doors: a communicator that checks every frame it receives.

Every frame the server sends in these tests goes through :meth:`Client.recv`, which parses
it with the protocol's schema (``schema.ServerFrame``): a frame the schema does not
describe fails the test that received it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from channels.testing import WebsocketCommunicator
from pydantic import TypeAdapter

from campus.asgi import application
from smartcampus_chat.schema import ServerFrame

ORIGIN = (b"origin", b"http://testserver")
SERVER_FRAME: TypeAdapter[Any] = TypeAdapter(ServerFrame)
#: Frames that may interleave with anything (other people's presence and typing).
NOISE = frozenset({"presence", "typing", "participant.joined"})


class Closed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


def validate(text: str) -> dict[str, Any]:
    SERVER_FRAME.validate_json(text)
    frame = json.loads(text)
    assert isinstance(frame, dict)
    return frame


class Client:
    def __init__(self, path: str, user: Any = None, headers: list[Any] | None = None) -> None:
        self.comm = WebsocketCommunicator(application, path, headers=headers or [ORIGIN])
        if user is not None:
            self.comm.scope["user"] = user
        self.frames: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []
        self.closed_code: int | None = None
        self.finished = False

    async def connect(self) -> None:
        connected, code = await self.comm.connect(timeout=5)
        if not connected:
            raise Closed(code)

    async def ready(self) -> None:
        """Wait until the server finished setting the connection up (groups, presence).

        The server accepts first and sets up after; frames are handled in order, so the
        answer to a ping comes after the setup. Frames received meanwhile are kept.
        """
        await self.send(type="ping", id="__ready__")
        while True:
            try:
                frame = await self._read(5)
            except Closed:
                return
            if frame == {"type": "pong", "id": "__ready__"}:
                self.frames.remove(frame)
                return
            self.pending.append(frame)

    async def recv(self, timeout: float = 2) -> dict[str, Any]:
        if self.pending:
            return self.pending.pop(0)
        return await self._read(timeout)

    async def _read(self, timeout: float) -> dict[str, Any]:
        if self.closed_code is not None:
            raise Closed(self.closed_code)
        output = await self.comm.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.closed_code = output.get("code", 1000)
            raise Closed(self.closed_code)
        assert output["type"] == "websocket.send", output
        assert output.get("text") is not None, "the server sent a binary frame"
        frame = validate(output["text"])
        self.frames.append(frame)
        return frame

    async def send(self, **frame: Any) -> None:
        await self.comm.send_to(text_data=json.dumps(frame))

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        await self.comm.send_to(text_data=text, bytes_data=data)

    async def expect(
        self, frame_type: str, timeout: float = 2, skip: frozenset[str] = NOISE
    ) -> dict[str, Any]:
        """The next frame of ``frame_type``, skipping only frames listed in ``skip``."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - time.monotonic()))
            if frame["type"] == frame_type:
                return frame
            assert frame["type"] in skip, f"expected {frame_type}, got {frame}"

    async def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 2
    ) -> dict[str, Any]:
        """The first frame matching ``predicate``, whatever comes before it."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - time.monotonic()))
            if predicate(frame):
                return frame

    async def close_code(self, timeout: float = 2) -> int | None:
        """Read until the server closes; the close code."""
        deadline = time.monotonic() + timeout
        while self.closed_code is None:
            try:
                await self.recv(max(0.01, deadline - time.monotonic()))
            except Closed:
                break
        return self.closed_code

    async def nothing(self, timeout: float = 0.2, ignore: frozenset[str] = frozenset()) -> None:
        for frame in self.pending:
            assert frame["type"] in ignore, f"unexpected frame {frame}"
        self.pending.clear()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if await self.comm.receive_nothing(timeout=left):
                return
            frame = await self.recv()
            assert frame["type"] in ignore, f"unexpected frame {frame}"

    async def close(self) -> None:
        if self.finished:
            return
        self.finished = True
        await self.comm.disconnect()


async def open_room(user: Any, slug: str, **params: Any) -> Client:
    query = f"?{urlencode(params)}" if params else ""
    client = Client(f"/ws/chat/{slug}/{query}", user)
    await client.connect()
    await client.ready()
    return client


async def open_user(user: Any, **params: Any) -> Client:
    query = f"?{urlencode(params)}" if params else ""
    client = Client(f"/ws/chat/{query}", user)
    await client.connect()
    await client.ready()
    return client


def new_client_id() -> str:
    return uuid.uuid4().hex


async def wait_for(condition: Callable[[], Any], timeout: float = 5) -> Any:
    """Poll an async or sync ``condition`` until it is truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
