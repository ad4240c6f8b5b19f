"""Publishing events: the only module that knows channel-layer group names.

Events are published *after* the surrounding transaction commits: the database is the
truth and the channel layer only rings the doorbell. Each frame is encoded to JSON once,
here, whatever the number of recipients.

A layer message carries, next to the encoded ``frame``, the few facts a consumer needs to
route it without decoding the JSON: ``group`` (the group it was sent to), ``frame_type``,
``room_id``, ``event_seq`` (message frames), ``sender_id`` (typing) and ``room_slug`` (room
membership frames). Which frame carries which fact is the frame registry's to say
(:func:`smartcampus_chat.protocol.registry.routing_facts`).

Groups are followed by the process's fan-out hub (:mod:`smartcampus_chat.realtime.hub`), not by
each socket: one layer channel per process, one group send per published frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra.outages import is_lost_connection
from smartcampus_chat.protocol.payloads import Schema
from smartcampus_chat.protocol.registry import routing_facts
from smartcampus_chat.realtime.fanout import Subscriber
from smartcampus_chat.realtime.hub import get_hub

logger = logging.getLogger(__name__)

#: The ``type`` of every channel-layer message the app sends; consumers handle it.
LAYER_EVENT_TYPE = "chat.frame"


def room_group(room_id: int) -> str:
    return f"scchat.room.{room_id}"


def user_group(user_id: int) -> str:
    return f"scchat.user.{user_id}"


def layer_message(frame: Schema, **extra: Any) -> dict[str, Any]:
    return {
        "type": LAYER_EVENT_TYPE,
        "frame": frame.model_dump_json(),
        **routing_facts(frame),
        **extra,
    }


async def _group_send(layer: Any, group: str, message: dict[str, Any]) -> None:
    """``layer.group_send``, retried once when the connection it took was lost.

    Why: after a Redis restart or failover, the layer's pool still holds connections to the
    old server; the first command on each fails with a ``ConnectionError`` and its doorbell
    was lost (clients only caught up at their next gap resume). The retry takes a fresh
    connection. A timeout is not retried: the first send may have gone through, and a
    second wait would hold the publish queue longer. A doorbell sent twice (the server
    ran it, then the connection dropped before the reply) is harmless: clients skip a
    frame whose ``event_seq`` they already have.
    """
    try:
        await layer.group_send(group, message)
    except Exception as exc:
        if not is_lost_connection(exc):
            raise
        logger.warning("Publishing to %s lost its connection (%s); retrying once", group, exc)
        await layer.group_send(group, message)


def _caller_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread works for (``sync_to_async``), if any."""
    local = SyncToAsync.threadlocal
    if getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    loop: asyncio.AbstractEventLoop | None = getattr(local, "main_event_loop", None)
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


class _Publisher:
    """Group sends of committed changes of one event loop, one after the other, in order.

    Why: group commit's database thread used to hop to the event loop and wait for its
    batch's group sends after each commit, sitting idle (half of its time under a send
    load) while the loop was busy writing frames. A batch now hands its messages over and
    goes on (:func:`publish_without_waiting`). Every other post-commit publish of code run
    by ``database_sync_to_async`` goes through the same queue and still waits for its own
    sends, so a room's events keep the order in which they were committed.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: deque[tuple[list[tuple[str, dict[str, Any]]], asyncio.Future[None]]] = deque()
        self.task: asyncio.Task[None] | None = None

    def put(self, messages: list[tuple[str, dict[str, Any]]]) -> asyncio.Future[None]:
        """Queue ``messages`` (on the loop's thread); the future is done once they are sent."""
        done = self.loop.create_future()
        self.pending.append((messages, done))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())
        return done

    async def _run(self) -> None:
        layer = get_channel_layer(app_settings.CHANNEL_LAYER)
        while self.pending:
            messages, done = self.pending.popleft()
            for group, message in messages if layer is not None else []:
                try:
                    await _group_send(layer, group, {**message, "group": group})
                except Exception:
                    # The event is stored; clients catch up by resuming. Losing the
                    # doorbell is logged, never raised into the request that committed.
                    logger.exception("Could not publish to %s", group)
            if not done.done():
                done.set_result(None)


_publishers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Publisher] = (
    weakref.WeakKeyDictionary()
)
_deferred = threading.local()


def _publisher(loop: asyncio.AbstractEventLoop) -> _Publisher:
    publisher = _publishers.get(loop)
    if publisher is None:
        publisher = _publishers[loop] = _Publisher(loop)
    return publisher


async def _publish_in_order(messages: list[tuple[str, dict[str, Any]]]) -> None:
    await _publisher(asyncio.get_running_loop()).put(messages)


@contextlib.contextmanager
def publish_without_waiting() -> Iterator[None]:
    """Within it, post-commit publishes of this thread are queued in order, not awaited.

    For group commit (:mod:`smartcampus_chat.services.batcher`): Channels' database thread goes on
    with the next batch while the event loop sends this one's events.
    """
    previous = getattr(_deferred, "active", False)
    _deferred.active = True
    try:
        yield
    finally:
        _deferred.active = previous


def _send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send layer messages ``(group, message)``, in order (after a commit)."""
    loop = _caller_loop()
    if loop is not None and getattr(_deferred, "active", False):
        loop.call_soon_threadsafe(_publisher(loop).put, messages)
        return
    layer = get_channel_layer(app_settings.CHANNEL_LAYER)
    if layer is None:
        return
    if loop is not None:
        # Behind whatever the loop's publisher still holds: commit order.
        try:
            async_to_sync(_publish_in_order)(messages)
        except Exception:
            logger.exception("Could not publish %d messages", len(messages))
        return

    async def send_all() -> None:
        for group, message in messages:
            try:
                await _group_send(layer, group, {**message, "group": group})
            except Exception:
                # The event is stored; clients catch up by resuming. Losing the doorbell is
                # logged, never raised into the request that already committed.
                logger.exception("Could not publish to %s", group)

    try:
        async_to_sync(send_all)()
    except Exception:
        logger.exception("Could not publish %d messages", len(messages))


def _send(group: str, message: dict[str, Any]) -> None:
    _send_many([(group, message)])


def publish_many_to_rooms(frames: list[tuple[int, Schema]]) -> None:
    """Publish ``(room_id, frame)``\\s, in order, once the current transaction commits.

    One callback and one hop to the event loop for all of them, where :func:`publish_to_room`
    costs one each: a batch of stores publishes its messages together.
    """
    if len(frames) == 1:
        publish_to_room(*frames[0])  # A batch of one (a single send): the single path.
        return
    messages = [
        (room_group(room_id), layer_message(frame, room_id=room_id)) for room_id, frame in frames
    ]
    if messages:
        transaction.on_commit(lambda: _send_many(messages))


def publish_many_to_users(frames: list[tuple[int, Schema]]) -> None:
    """Publish ``(user_id, frame)``\\s, in order, once the current transaction commits, in
    one callback (the notify step tells every recipient of an ``@everyone`` at once)."""
    messages = [(user_group(user_id), layer_message(frame)) for user_id, frame in frames]
    if messages:
        transaction.on_commit(lambda: _send_many(messages))


def publish(group: str, frame: Schema, **extra: Any) -> None:
    """Send ``frame`` to ``group`` once the current transaction (if any) commits."""
    message = layer_message(frame, **extra)
    transaction.on_commit(lambda: _send(group, message))


def publish_to_room(room_id: int, frame: Schema, **extra: Any) -> None:
    publish(room_group(room_id), frame, room_id=room_id, **extra)


def publish_to_user(user_id: int, frame: Schema, **extra: Any) -> None:
    publish(user_group(user_id), frame, **extra)


async def apublish_to_room(room_id: int, frame: Schema) -> None:
    """Publish an ephemeral frame (typing) from async code; nothing is stored for it."""
    layer = get_channel_layer(app_settings.CHANNEL_LAYER)
    if layer is None:
        return
    group = room_group(room_id)
    try:
        await _group_send(layer, group, layer_message(frame, room_id=room_id, group=group))
    except Exception:
        logger.exception("Could not publish to room %s", room_id)


def _groups(room_ids: Iterable[int], user_id: int | None) -> list[str]:
    groups = [room_group(pk) for pk in room_ids]
    if user_id is not None:
        groups.append(user_group(user_id))
    return groups


async def follow(
    subscriber: Subscriber, *, room_ids: Iterable[int] = (), user_id: int | None = None
) -> None:
    """Deliver rooms' and a user's messages to a connection; done once the layer would."""
    await get_hub().subscribe(subscriber, _groups(room_ids, user_id))


async def unfollow(
    subscriber: Subscriber, *, room_ids: Iterable[int] = (), user_id: int | None = None
) -> None:
    """Stop delivering; layer errors are logged, never raised (see the hub)."""
    await get_hub().unsubscribe(subscriber, _groups(room_ids, user_id))


#: Layer-only message types (never sent to clients as such): consumers re-check access.
ACCESS_CHANGED_TYPE = "chat.access_changed"
SESSION_ENDED_TYPE = "chat.session_ended"
#: A session of the user may have ended (deleted, password changed): each connection
#: checks its own credential (:func:`~.handshakes.still_signed_in`) and access again.
SESSION_CHANGED_TYPE = "chat.session_changed"
ROOM_GONE_TYPE = "chat.room_gone"


def notify_access_changed(user_id: int) -> None:
    """Tell the user's live connections to re-check which rooms they may follow."""
    message = {"type": ACCESS_CHANGED_TYPE}
    transaction.on_commit(lambda: _send(user_group(user_id), message))


def notify_access_changed_many(user_ids: Iterable[int]) -> None:
    """:func:`notify_access_changed` for many users, in one callback after the commit (a
    course sync removing dozens of people from a room)."""
    messages = [(user_group(user_id), {"type": ACCESS_CHANGED_TYPE}) for user_id in user_ids]
    if messages:
        transaction.on_commit(lambda: _send_many(messages))


def notify_session_ended(user_id: int) -> None:
    """Tell the user's live connections that they logged out or were deactivated."""
    message = {"type": SESSION_ENDED_TYPE}
    transaction.on_commit(lambda: _send(user_group(user_id), message))


def notify_session_changed(user_id: int) -> None:
    """Tell the user's live connections to check their session (one of them may be gone)."""
    message = {"type": SESSION_CHANGED_TYPE}
    transaction.on_commit(lambda: _send(user_group(user_id), message))


def notify_room_gone(room_id: int, slug: str) -> None:
    """Tell the room's live connections that the room was deleted."""
    message = {"type": ROOM_GONE_TYPE, "room_id": room_id, "room_slug": slug}
    transaction.on_commit(lambda: _send(room_group(room_id), message))
