"""Per-process fan-out hub: one layer channel for all of a process's sockets.

Why: Channels gives every socket its own layer channel and handles each layer message in
its own ``dispatch``, which since Channels 4.2 hops to a worker thread
(``aclose_old_connections``) before every delivery, and a channels-redis group send writes
one Redis list entry per member. A 1000-member room then costs 1000 Redis entries, 1000
thread hops and 1000 handler calls per message.

Here one :class:`Hub` per process (per event loop and channel layer) owns **one** layer
channel and subscribes it to a room's (or user's) group while at least one local socket
follows that group. A published frame is one group send per room whatever the number of
sockets; the hub receives it once and hands the already-encoded text to each local
socket's :class:`~smartcampus_chat.realtime.sockets.Outbox`, which writes it with the ASGI
server's own ``send`` (below the session-middleware wrapper, which does nothing for
WebSocket frames but costs a coroutine and two session lookups per frame).

Each outbox is bounded: a socket too slow to read is closed with 4008, not the hub stalled
(:mod:`smartcampus_chat.realtime.sockets`).

Robustness: membership changes are serialised by the hub (one layer call at a time, so a
mass disconnect cannot exhaust the Redis connection pool), failures to leave a group are
logged and retried later (a stale membership only costs the hub messages it ignores), and
errors while receiving from the layer (Redis restarted, ``Timeout reading``) are logged and
followed by re-joining every group, retried with backoff until the layer takes them (a
Redis that restarts empty has forgotten every membership), instead of killing the sockets.
Messages published meanwhile are lost to the layer, so once the groups are back every local
socket is told (:data:`LAYER_RESUMED_TYPE`): connections re-check access and send what they
missed from the database (``consumers.ChatConsumer.chat_layer_resumed``).

Lifetime: the hub's receive loop runs for the whole life of the process (of its event
loop), whether or not any socket is connected: an idle blocking receive costs nothing.
It used to stop when the last local socket left, cancelling and awaiting the layer's
``receive()`` under the hub's lock; a channels-redis ``receive()`` can swallow that
cancellation and keep waiting (docs/reliability.md, "A cancelled receive that never
ends"), which held the lock forever: every later socket of the process was connected but
silent, and the process no longer stopped on SIGTERM. Now no layer call is ever cancelled
and awaited under the lock, every wait on the layer is bounded (:data:`LAYER_CALL_TIMEOUT`,
:data:`STOP_TIMEOUT`), and a supervisor task probes the receive loop through the layer
(:data:`~.fanout.PROBE_INTERVAL`): a probe not back within :data:`~.fanout.PROBE_TIMEOUT`
means a stuck receive, which is abandoned for a fresh channel (groups re-joined,
subscribers told to catch up). :func:`health` reports all this (the health endpoint,
docs/deployment.md).

``RedisPubSubChannelLayer`` never raises to its receiver when Redis goes: its own task
reconnects and subscribes again (redis-py's pub/sub re-subscribes on connect), and what was
published meanwhile is gone. Its ``on_disconnect``/``on_reconnect`` hooks are never called,
so the hub registers a connect callback on each of the layer's pub/sub connections
(:func:`pubsub_connections`); a reconnect then tells every local socket to catch up, as a
recovery does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from channels.layers import get_channel_layer

from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra import jobs
from smartcampus_chat.realtime.fanout import (
    PROBE_TYPE,
    FanOut,
    Subscriber,
)
from smartcampus_chat.realtime.sockets import CLOSE_TOO_SLOW, Message, Outbox
from smartcampus_chat.realtime.tasks import bounded, cancel_within, consume

logger = logging.getLogger(__name__)

__all__ = [
    # The socket side lives in realtime.sockets; importable from here, where it was.
    "CLOSE_TOO_SLOW",
    "LAYER_RESUMED_TYPE",
    "Hub",
    "Message",
    "Outbox",
    "Subscriber",
    "get_hub",
    "health",
]


RECEIVE_BACKOFF_MIN = 0.05
#: At most this long between two attempts to re-join after layer trouble: delivery resumes
#: within about this long of the layer's return.
RECEIVE_BACKOFF_MAX = 1.0
#: Delivered to every local subscriber once the hub is back after layer trouble.
LAYER_RESUMED_TYPE = "chat.layer_resumed"
#: Longest wait for one membership call (group_add / group_discard) of the layer.
LAYER_CALL_TIMEOUT = 10.0
#: Longest wait for a cancelled receive loop to end before it is abandoned.
STOP_TIMEOUT = 2.0
#: The hub's lock held longer than this is reported (log WARNING, health unhealthy).
LOCK_HELD_WARNING = 15.0


def pubsub_connections(layer: Any) -> list[Any]:
    """The redis-py connections ``RedisPubSubChannelLayer`` receives on (one per shard and
    event loop, once it subscribed); empty for any other layer.

    channels-redis has no public way to hear of its reconnects; this reads its internals
    (``_layers`` → ``_shards`` → ``_pubsub.connection``), each step optional, so a layer
    that changes shape is simply not watched.
    """
    loop_layers = getattr(layer, "_layers", None)
    if not isinstance(loop_layers, dict):
        return []
    connections = []
    for loop_layer in list(loop_layers.values()):
        for shard in getattr(loop_layer, "_shards", ()):
            connection = getattr(getattr(shard, "_pubsub", None), "connection", None)
            if hasattr(connection, "register_connect_callback"):
                connections.append(connection)
    return connections


class Hub(FanOut):
    """One layer channel for all of a process's sockets; see the module docstring."""

    def _watch_reconnects(self) -> None:
        """Hear of each new pub/sub connection's reconnects (module docstring)."""
        for connection in pubsub_connections(self.layer):
            if connection not in self.watched:
                self.watched.add(connection)
                # redis-py keeps a weak reference to the (bound) method: the hub lives on.
                connection.register_connect_callback(self._on_reconnect)

    def _on_reconnect(self, connection: Any) -> None:
        """A pub/sub connection is back (and subscribed again): what was published while it
        was away is lost to the layer, so every local socket catches up from the database."""
        logger.info("Channel layer (pub/sub) reconnected; sockets catch up")
        self._recovered()

    def _recovered(self) -> None:
        """The layer is back after losing messages: count it, hand out the presence held
        back (older than the state sockets are about to read), then tell every local
        socket to catch up; ``recovery`` names this one, so sockets share what they read
        for it (presence)."""
        self.recoveries += 1
        self.presence.flush_all()
        self.notify_all({"type": LAYER_RESUMED_TYPE, "recovery": uuid.uuid4().hex})

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """The hub's lock, timed: :meth:`health` reports how long it has been held."""
        async with self.lock:
            self.lock_since = self.loop.time()
            try:
                yield
            finally:
                self.lock_since = None
                self.lock_warned = False

    async def _ensure_started(self) -> None:
        if not self.channel:
            self.channel = await bounded(
                self.layer.new_channel(prefix="scchat.hub."), LAYER_CALL_TIMEOUT
            )
        if self.task is None or self.task.done():
            if self.task is None:
                # The process serves sockets: deliveries left due by an earlier run (a
                # digest, a retry) are looked for now, not at the next notification.
                jobs.wake(jobs.NOTIFICATIONS)
            self.last_rejoin = self.loop.time()
            self.task = self.loop.create_task(self._supervise())

    async def subscribe(self, subscriber: Subscriber, groups: list[str]) -> None:
        """Deliver ``groups``' messages to ``subscriber``; returns once the layer would."""
        async with self._locked():
            await self._ensure_started()
            for group in groups:
                members = self.groups.get(group)
                if members is None:
                    # Join before registering: a failure leaves no half-followed group.
                    await bounded(self.layer.group_add(group, self.channel), LAYER_CALL_TIMEOUT)
                    self.stale.discard(group)
                    self.groups[group] = subscriber
                elif isinstance(members, set):
                    members.add(subscriber)
                elif members is not subscriber:
                    self.groups[group] = {members, subscriber}

    async def unsubscribe(self, subscriber: Subscriber, groups: list[str]) -> None:
        """Stop delivering ``groups`` to ``subscriber``. Never raises for layer errors.

        The receive loop keeps running when the last local socket leaves (see the module
        docstring): stopping it meant awaiting a cancelled layer call under the lock.
        """
        async with self._locked():
            emptied = []
            for group in groups:
                members = self.groups.get(group)
                if isinstance(members, set):
                    members.discard(subscriber)
                    if len(members) == 1:
                        self.groups[group] = members.pop()
                elif members is subscriber:
                    del self.groups[group]
                    emptied.append(group)
            for group in emptied:
                await self._leave(group)

    async def _leave(self, group: str, channel: str | None = None) -> None:
        try:
            await bounded(
                self.layer.group_discard(group, channel or self.channel), LAYER_CALL_TIMEOUT
            )
        except Exception:
            # Non-fatal: the hub ignores messages of groups without local sockets, and
            # retries at its next re-join (the membership also expires in the layer).
            logger.warning("Could not leave %s; will retry", group, exc_info=True)
            if channel is None:
                self.stale.add(group)

    # Supervising the receive loop, for the hub's whole life ------------------------------

    async def _supervise(self) -> None:
        """Run the receive loop until cancelled; probe it and replace it when it is stuck.

        Cancelled (``stop``, a replaced hub, the process's end), it cancels the receive
        loop and waits a bounded time for it (:meth:`_end_receiver`).
        """
        receiver = self._start_receiver()
        try:
            while True:
                await asyncio.wait({receiver}, timeout=self._tick())
                if receiver.done():
                    # Only a cancellation from outside or a bug ends it: receive anew.
                    if not receiver.cancelled() and receiver.exception() is not None:
                        logger.error("Hub receive loop failed", exc_info=receiver.exception())
                    await asyncio.sleep(RECEIVE_BACKOFF_MAX)
                    receiver = self._start_receiver()
                    continue
                self._check_lock()
                self._watch_reconnects()
                if await self._probe_overdue():
                    receiver = await self._replace_receiver(receiver)
        except asyncio.CancelledError:
            await self._end_receiver(self.receiver)
            for task, channel in self.abandoned:
                await self._end_receiver(task, channel)
            self.abandoned = []
            raise

    def _tick(self) -> float:
        return max(0.02, min(self.probe_interval, self.probe_timeout) / 4)

    def _check_lock(self) -> None:
        since = self.lock_since
        if since is not None and not self.lock_warned:
            held = self.loop.time() - since
            if held > LOCK_HELD_WARNING:
                self.lock_warned = True
                logger.warning("Hub lock held for %.1f s: this process's socket set-ups wait", held)

    async def _probe_overdue(self) -> bool:
        """Send a probe to the hub's own channel when one is due; True when the pending
        probe is overdue (the receive loop does not receive)."""
        now = self.loop.time()
        if self.recovering:
            # The layer is away; the recovery re-joins and tells subscribers.
            self.probe_sent = None
            return False
        if self.probe_sent is not None:
            return now - self.probe_sent > self.probe_timeout
        if now - self.last_probe < self.probe_interval:
            return False
        self.probe_id += 1
        self.probe_sent = self.last_probe = now
        try:
            await bounded(
                self.layer.send(self.channel, {"type": PROBE_TYPE, "probe": self.probe_id}),
                LAYER_CALL_TIMEOUT,
            )
        except Exception:
            # Layer trouble shows in the receive loop; a layer without ``send`` is not probed.
            logger.debug("Could not send a hub probe", exc_info=True)
            self.probe_sent = None
        return False

    async def _replace_receiver(self, stuck: asyncio.Task[None]) -> asyncio.Task[None]:
        """Abandon a stuck receive loop for a fresh channel; re-join; tell subscribers."""
        self.restarts += 1
        logger.warning(
            "Hub receive loop stuck (probe not back within %.1f s); abandoning it for a "
            "fresh channel",
            self.probe_timeout,
        )
        self.probe_sent = None
        self.ending.add(stuck)
        stuck.cancel()
        stuck.add_done_callback(consume)
        old = self.channel
        self.abandoned = [(task, name) for task, name in self.abandoned if not task.done()]
        self.abandoned.append((stuck, old))
        try:
            self.channel = await bounded(
                self.layer.new_channel(prefix="scchat.hub."), LAYER_CALL_TIMEOUT
            )
        except Exception:
            logger.warning("Could not take a fresh channel; retrying", exc_info=True)
            return self._start_receiver()
        # The abandoned loop drops whatever it still receives (its channel is not ours).
        receiver = self._start_receiver()
        await self._recover()
        for group in list(self.groups):
            await self._leave(group, old)
        return receiver

    async def _end_receiver(
        self, receiver: asyncio.Task[None] | None, channel: str | None = None
    ) -> None:
        """Cancel a receive loop and wait for it, bounded.

        A receive that swallowed its cancellation waits on for a message; one is sent to
        its channel, so that it ends: the process's exit (``asyncio.run``) waits for every
        task, and would wait for it forever.
        """
        if receiver is None:
            return
        self.ending.add(receiver)
        if await cancel_within(receiver, STOP_TIMEOUT):
            return
        wake_up = {"type": PROBE_TYPE, "probe": 0}
        with contextlib.suppress(Exception):
            await bounded(self.layer.send(channel or self.channel, wake_up), 1.0)
        await asyncio.wait({receiver}, timeout=STOP_TIMEOUT)
        if not receiver.done():
            logger.warning("Hub receive loop ignores its cancellation; abandoned")

    async def _recover(self) -> None:
        """Re-join every group, retrying until the layer takes them, then tell subscribers.

        Receiving again is not proof of anything: a restarted Redis answers a blocking pop
        at once but has forgotten the memberships, so the hub would wait forever on groups
        nobody sends to it. Only a complete re-join ends the recovery.
        """
        backoff = RECEIVE_BACKOFF_MIN
        attempts = 0
        self.recovering = True
        try:
            while True:
                await asyncio.sleep(backoff)
                attempts += 1
                if await self.rejoin():
                    break
                backoff = min(backoff * 2, RECEIVE_BACKOFF_MAX)
        finally:
            self.recovering = False
        logger.info("Channel layer back after %d attempt(s); groups re-joined", attempts)
        self._recovered()

    async def rejoin(self) -> bool:
        """Join every followed group again and leave stale ones; False if the layer failed."""
        async with self._locked():
            for group in list(self.groups):
                try:
                    await bounded(self.layer.group_add(group, self.channel), LAYER_CALL_TIMEOUT)
                except Exception:
                    logger.debug("Could not re-join %s", group, exc_info=True)
                    return False
            self.last_rejoin = self.loop.time()
            for group in list(self.stale):
                self.stale.discard(group)
                await self._leave(group)
            return True

    async def stop(self) -> None:
        """Stop receiving (tests, a replaced hub); returns in bounded time whatever the
        layer does. Never called with the lock held."""
        task, self.task = self.task, None
        self.presence.cancel()
        await cancel_within(task, 3 * STOP_TIMEOUT)
        self.receiver = None
        self.probe_sent = None

    def health(self) -> dict[str, Any]:
        """The hub's liveness, without a layer call: the state the supervisor keeps.

        ``problems`` lists why it is unhealthy (empty: healthy). A layer outage being
        recovered from is reported (``recovering``) but is not a problem of the process.
        """
        now = self.loop.time()
        started = self.task is not None
        supervised = self.task is not None and not self.task.done()
        receiving = self.receiver is not None and not self.receiver.done()
        lock_held_for = now - self.lock_since if self.lock_since is not None else 0.0
        probe_pending_for = now - self.probe_sent if self.probe_sent is not None else 0.0
        problems = []
        if started and not supervised:
            problems.append("hub supervisor stopped")
        if started and not receiving:
            problems.append("receive loop not running")
        if lock_held_for > LOCK_HELD_WARNING:
            problems.append("hub lock held too long")
        if probe_pending_for > self.probe_timeout:
            problems.append("probe not received")
        return {
            "healthy": not problems,
            "problems": problems,
            "started": started,
            "receive_loop_alive": receiving,
            "recovering": self.recovering,
            "seconds_since_last_receive": (
                round(now - self.last_receive, 3) if self.last_receive is not None else None
            ),
            "last_probe_round_trip": (
                round(self.last_probe_rtt, 4) if self.last_probe_rtt is not None else None
            ),
            "probe_pending_for": round(probe_pending_for, 3),
            "lock_held_for": round(lock_held_for, 3),
            "restarts": self.restarts,
            "recoveries": self.recoveries,
        }


_hub: Hub | None = None


def get_hub() -> Hub:
    """The hub of the running event loop and the app's channel layer (created on demand).

    A new hub replaces the old one when the loop or the layer changed (tests switch both).
    """
    global _hub
    layer = get_channel_layer(app_settings.CHANNEL_LAYER)
    if layer is None:
        raise RuntimeError("smartcampus_chat needs a channel layer (CHANNEL_LAYERS)")
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.layer is not layer or _hub.loop is not loop:
        old = _hub
        if old is not None and old.task is not None:
            if old.loop is loop:
                old.presence.cancel()
                old.task.cancel()
            elif not old.loop.is_closed():
                old.loop.call_soon_threadsafe(old.task.cancel)
        _hub = Hub(layer, loop)
    return _hub


def health() -> dict[str, Any]:
    """This process's hub liveness (:meth:`Hub.health`); healthy while no hub runs.

    Reads state only (no layer call, no database query): cheap enough for a load
    balancer's probe every few seconds.
    """
    hub = _hub
    if hub is None or hub.loop.is_closed():
        return {"healthy": True, "problems": [], "started": False}
    return hub.health()
