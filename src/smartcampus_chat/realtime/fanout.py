"""The hub's state, its receive loop and the hand-out of what it receives.

:class:`FanOut` receives from the hub's one layer channel for the whole life of the process
and hands each message to the local subscribers of its group; :class:`~.hub.Hub` adds the
group memberships, the supervisor that probes this loop, and the recovery after layer
trouble (see :mod:`smartcampus_chat.realtime.hub`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Protocol

from channels.layers import BaseChannelLayer

from smartcampus_chat.realtime.coalescing import PresenceCoalescer
from smartcampus_chat.realtime.sockets import Message

logger = logging.getLogger(__name__)

#: Seconds between two re-joins of every group the hub follows. channels-redis forgets
#: members after ``group_expiry`` (default one day) and after a Redis restart.
REJOIN_INTERVAL = 600.0
#: What the hub sends its own channel to check that its receive loop receives.
PROBE_TYPE = "scchat.hub.probe"
#: Seconds between two probes of the receive loop through the layer.
PROBE_INTERVAL = 15.0
#: A probe not received within this long means a stuck receive (channels-redis blocks 5 s
#: per pop, so this leaves room for a loaded Redis).
PROBE_TIMEOUT = 10.0


class Subscriber(Protocol):
    """What the hub delivers to: a connection (see ``consumers.ChatConsumer``)."""

    def deliver(self, message: Message) -> None: ...


class FanOut(ABC):
    """A hub's receiving half: its state, the receive loop, delivery to local subscribers."""

    def __init__(self, layer: BaseChannelLayer, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.channel = ""
        #: Each followed group's local subscribers: the subscriber itself while it is the
        #: only one (most user groups: a set per user would cost ~0.3 KiB a socket).
        self.groups: dict[str, Subscriber | set[Subscriber]] = {}
        #: Groups left locally whose layer membership could not be removed yet.
        self.stale: set[str] = set()
        self.lock = asyncio.Lock()
        #: The supervisor (:meth:`_supervise`): runs :attr:`receiver` and probes it.
        self.task: asyncio.Task[None] | None = None
        #: The receive loop (:meth:`_receive_loop`) on :attr:`channel`.
        self.receiver: asyncio.Task[None] | None = None
        self.last_rejoin = 0.0
        self.receive_errors = 0
        #: Completed recoveries from layer trouble (re-joined and subscribers told).
        self.recoveries = 0
        #: True while re-joining after layer trouble.
        self.recovering = False
        #: Receive loops abandoned for a fresh channel because a probe did not come back.
        self.restarts = 0
        #: Receive loops the hub cancelled (a swallowed cancellation ends them later).
        self.ending: weakref.WeakSet[asyncio.Task[None]] = weakref.WeakSet()
        #: Those of them still running, with their channels (woken up at the end).
        self.abandoned: list[tuple[asyncio.Task[None], str]] = []
        self.probe_interval = PROBE_INTERVAL
        self.probe_timeout = PROBE_TIMEOUT
        self.probe_id = 0
        #: ``loop.time()`` the pending probe was sent; None while none is pending.
        self.probe_sent: float | None = None
        self.last_probe = 0.0
        self.last_probe_rtt: float | None = None
        #: ``loop.time()`` of the last message received from the layer (probes included).
        self.last_receive: float | None = None
        #: ``loop.time()`` the lock was taken; None while it is free.
        self.lock_since: float | None = None
        self.lock_warned = False
        #: The layer's pub/sub connections whose reconnects the hub hears (hub.py).
        self.watched: weakref.WeakSet[Any] = weakref.WeakSet()
        #: A room's presence changes gathered into one frame per interval.
        self.presence = PresenceCoalescer(loop, self.hand_out)

    def deliver(self, message: Message) -> None:
        """Hand ``message`` to its group's local subscribers (presence: after gathering)."""
        if not self.presence.offer(message):
            self.hand_out(message)

    def hand_out(self, message: Message) -> None:
        group = message.get("group")
        members = self.groups.get(group) if isinstance(group, str) else None
        if isinstance(members, set):
            _hand_out(tuple(members), message)
        elif members is not None:
            _hand_out((members,), message)

    def notify_all(self, message: Message) -> None:
        """Deliver ``message`` once to every local subscriber, whatever it follows."""
        everyone: set[Subscriber] = set()
        for members in self.groups.values():
            if isinstance(members, set):
                everyone.update(members)
            else:
                everyone.add(members)
        _hand_out(everyone, message)

    def _start_receiver(self) -> asyncio.Task[None]:
        self.receiver = self.loop.create_task(self._receive_loop(self.channel))
        return self.receiver

    def _probe_back(self, message: Message) -> None:
        if self.probe_sent is not None and message.get("probe") == self.probe_id:
            self.last_probe_rtt = self.loop.time() - self.probe_sent
            self.probe_sent = None

    def _told_to_end(self, task: asyncio.Task[Any], channel: str) -> bool:
        """Whether this receive loop was cancelled or replaced (its channel is not ours)."""
        cancelling = getattr(task, "cancelling", None)  # Python 3.11+
        return (
            task in self.ending
            or channel != self.channel
            or (cancelling is not None and cancelling() > 0)
        )

    async def _receive_loop(self, channel: str) -> None:
        me = asyncio.current_task()
        assert me is not None
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._told_to_end(me, channel):
                    raise asyncio.CancelledError from None
                self.receive_errors += 1
                logger.warning("Channel layer receive failed; re-joining", exc_info=True)
                await self._recover()
                continue
            if self._told_to_end(me, channel):
                # The layer swallowed this loop's cancellation, or the loop was replaced.
                raise asyncio.CancelledError
            self.last_receive = self.loop.time()
            if message.get("type") == PROBE_TYPE:
                self._probe_back(message)
                continue
            self.deliver(message)
            if self.loop.time() - self.last_rejoin > REJOIN_INTERVAL:
                self.last_rejoin = self.loop.time()
                self.loop.create_task(self.rejoin())

    @abstractmethod
    async def _recover(self) -> None:
        """Re-join after layer trouble and tell subscribers (:meth:`.Hub._recover`)."""

    @abstractmethod
    async def rejoin(self) -> bool:
        """Join every followed group again (:meth:`.Hub.rejoin`)."""


def _hand_out(subscribers: Iterable[Subscriber], message: Message) -> None:
    """Deliver ``message`` to each subscriber; one failing does not stop the others."""
    for subscriber in subscribers:
        try:
            subscriber.deliver(message)
        except Exception:
            logger.exception("Delivering a %s message failed", message.get("type"))
