"""Test helpers for the WebSocket doors: a communicator that checks every frame it receives.

Every frame the server sends in these tests goes through :meth:`Client.recv`, which parses
it with the protocol's schema (``schema.ServerFrame``): a frame the schema does not
describe fails the test that received it.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor, Future
from typing import Any, TypeVar
from urllib.parse import urlencode

from asgiref.sync import AsyncToSync
from channels.testing import WebsocketCommunicator
from pydantic import TypeAdapter

from campus.asgi import application
from smartcampus_chat.protocol.frames import ServerFrame

T = TypeVar("T")
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

    async def close(self, timeout: float = 1) -> None:
        """Disconnect; the consumer gets ``timeout`` seconds to clean up before it is cancelled."""
        if self.finished:
            return
        self.finished = True
        await self.comm.disconnect(timeout=timeout)


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


class CallerThreadExecutor(Executor):
    """Runs submitted calls on the thread that made it, while that thread waits in
    :meth:`serve_until`; calls submitted meanwhile wait for its next wait."""

    def __init__(self) -> None:
        self.thread = threading.current_thread()
        self.work: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()

        def call() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        self.work.put(call)
        return future

    def serve_until(self, done: Future[Any], timeout: float) -> None:
        """Run submitted calls until ``done`` is; TimeoutError after ``timeout`` seconds."""
        assert threading.current_thread() is self.thread
        done.add_done_callback(lambda _: self.work.put(None))  # Wakes the wait below.
        deadline = time.monotonic() + timeout
        while not done.done():
            try:
                call = self.work.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"not done within {timeout} s") from None
            if call is not None:
                call()


class LoopThread:
    """One event loop in a thread, driven from synchronous test code with :meth:`run`.

    With ``database_here``, the loop's thread-sensitive ``sync_to_async`` calls (Channels'
    ``database_sync_to_async``: every database call of the consumers) run on the thread
    that made this object, while it waits in :meth:`run`, instead of asgiref's own single
    thread. The test's code and the consumers then share one thread and one database
    connection: no "table is locked" on SQLite's shared in-memory database, and the
    consumers' database work happens only at known points (while the test waits).
    """

    def __init__(self, *, database_here: bool = False) -> None:
        self.loop = asyncio.new_event_loop()
        self.executor: CallerThreadExecutor | None = None
        if database_here:
            self.executor = CallerThreadExecutor()
            AsyncToSync.loop_thread_executors[self.loop] = self.executor  # type: ignore[assignment]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        executor = self.executor
        if executor is None or threading.current_thread() is not executor.thread:
            return future.result(timeout)
        try:
            executor.serve_until(future, timeout)
        except TimeoutError:
            future.cancel()
            raise
        return future.result()

    async def _cancel_tasks(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        """Cancel what still runs on the loop (letting it clean up), then stop and close it."""
        try:
            self.run(self._cancel_tasks())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            AsyncToSync.loop_thread_executors.pop(self.loop, None)
            self.loop.close()
