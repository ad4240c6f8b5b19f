"""Waiting on tasks that may not end: cancel them and wait, or wait a bounded time.

A channels-redis ``receive()`` can swallow its cancellation (docs/reliability.md, "A
cancelled receive that never ends"); the hub's waits on the layer go through these.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if it still runs) and wait until it has stopped."""
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def consume(task: asyncio.Task[Any]) -> None:
    """Done callback of an abandoned task: fetch its outcome so asyncio does not log it."""
    if not task.cancelled():
        task.exception()


async def cancel_within(task: asyncio.Task[Any] | None, timeout: float) -> bool:
    """Cancel ``task`` and wait at most ``timeout`` seconds for it to end; whether it did.

    Unlike :func:`cancel`, this returns even when the task swallows its cancellation (a
    channels-redis ``receive()`` can): the task is then abandoned, still running.
    """
    if task is None or task.done():
        return True
    task.cancel()
    await asyncio.wait({task}, timeout=timeout)
    if task.done():
        consume(task)
        return True
    task.add_done_callback(consume)
    return False


async def bounded(call: Awaitable[Any], timeout: float) -> Any:
    """Await a layer call for at most ``timeout`` seconds (then TimeoutError).

    The call runs in a task of its own that is cancelled and not waited for when it takes
    too long, so a call that ignores its cancellation cannot hold the caller.
    """
    task = asyncio.ensure_future(call)
    try:
        await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(consume)
        raise
    if not task.done():
        task.cancel()
        task.add_done_callback(consume)
        raise TimeoutError(f"channel layer call took more than {timeout} s")
    return task.result()
