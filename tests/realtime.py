"""Test machinery for the WebSocket doors: driving an event loop from synchronous tests.

The chat's own communicator (every frame checked against the protocol's models) is public:
:mod:`smartcampus_chat.testing`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from asgiref.sync import AsyncToSync

T = TypeVar("T")


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
