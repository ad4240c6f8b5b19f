"""Presence at lecture scale: a room's presence changes gathered into one frame per interval.

Why: every socket that opens announces its user online to every socket of the room, so
a 1,000-member room filling up at the start of a lecture cost ~500,000 ``presence``
frames (O(n²)), written by each process to its local sockets. The hub of each process
now holds a room's ``presence`` messages for ``PRESENCE_BATCH_INTERVAL`` seconds from the
first one and hands them out as one ``presence.batch`` frame, encoded once for every
local socket of the room: O(n) frames over the interval, whatever the process that
published each change (the hub receives every process's changes from the layer).

What a batch holds: each user's last state within the interval (the layer delivers a
group's messages in publishing order, and a user's transitions are decided one at a time
by conditional updates), at most one entry per participant: bounded by the room's size.
A user who ends where they started (offline, online, offline) is still sent: the hub does
not know what each socket last saw (a socket that subscribed within the interval may hold
a ``participants`` snapshot taken between the two changes), and the entry carries the
new ``last_seen``. A window with a single change hands out that ``presence`` message as
it came (not sent back to its user, as before). ``0`` hands out every message at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from smartcampus_chat.conf import app_settings
from smartcampus_chat.protocol.frames import Presence, PresenceBatch
from smartcampus_chat.protocol.payloads import PresenceChange
from smartcampus_chat.protocol.registry import frame_type
from smartcampus_chat.realtime.sockets import Message

PRESENCE_TYPE = frame_type(Presence)
PRESENCE_BATCH_TYPE = frame_type(PresenceBatch)


def batch_message(messages: list[Message]) -> Message:
    """One layer-style message carrying ``messages``' ``presence`` frames as one batch.

    The routing facts are the room's (``group``, ``room_id``); no ``sender_id``: the
    batch goes to every socket of the room, the named users' own included.
    """
    first = messages[0]
    changes = []
    room = ""
    for message in messages:
        frame = json.loads(message["frame"])
        room = frame["room"]
        changes.append(
            PresenceChange.model_validate(
                {"user": frame["user"], "online": frame["online"], "last_seen": frame["last_seen"]}
            )
        )
    batch = PresenceBatch(room=room, changes=changes)
    return {
        "type": first["type"],
        "frame": batch.model_dump_json(),
        "frame_type": PRESENCE_BATCH_TYPE,
        "room_id": first.get("room_id"),
        "group": first.get("group"),
    }


class PresenceCoalescer:
    """A hub's pending presence changes, per group, and the timers that hand them out."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, hand_out: Callable[[Message], None]
    ) -> None:
        self.loop = loop
        self.hand_out = hand_out
        #: Per group, the latest ``presence`` message of each user (insertion order: the
        #: order of their latest change).
        self.pending: dict[str, dict[int, Message]] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        #: Frames handed out, singles and batches (the bench and the tests read it).
        self.flushed = 0

    def offer(self, message: Message) -> bool:
        """Hold ``message`` if it is a presence change to gather; False: deliver it now."""
        if message.get("frame_type") != PRESENCE_TYPE:
            return False
        interval = app_settings.PRESENCE_BATCH_INTERVAL
        group, user_id = message.get("group"), message.get("sender_id")
        if not interval or not isinstance(group, str) or not isinstance(user_id, int):
            return False
        changes = self.pending.get(group)
        if changes is None:
            changes = self.pending[group] = {}
            self.timers[group] = self.loop.call_later(interval, self.flush, group)
        changes.pop(user_id, None)  # Re-inserted last: the order of the latest changes.
        changes[user_id] = message
        return True

    def flush(self, group: str) -> None:
        """Hand out ``group``'s pending changes now: the one message, or a batch."""
        timer = self.timers.pop(group, None)
        if timer is not None:
            timer.cancel()
        changes = self.pending.pop(group, None)
        if not changes:
            return
        messages = list(changes.values())
        self.flushed += 1
        self.hand_out(messages[0] if len(messages) == 1 else batch_message(messages))

    def flush_all(self) -> None:
        """Hand out everything pending (before the hub tells sockets to catch up: what it
        held is older than the state they will read)."""
        for group in list(self.pending):
            self.flush(group)

    def cancel(self) -> None:
        """Drop everything pending (the hub stops)."""
        for timer in self.timers.values():
            timer.cancel()
        self.timers.clear()
        self.pending.clear()
