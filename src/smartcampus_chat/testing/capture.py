"""Record what the services publish: ``with capture_events() as events: ...``.

The hook is the lowest point every publish goes through: the channel layer's
``group_send``. Whatever path a frame took (a service's post-commit publish, group commit's
deferred publisher, an ephemeral ``typing``), it is recorded when it is handed to the
layer, that is after the transaction committed, in the order the layer receives it, and it
is still delivered. Frames are checked against the protocol's server frame models; a frame
they refuse fails the block when it ends (the publisher itself logs and swallows errors).

In a test that runs inside a transaction (Django's ``TestCase``, pytest-django's
``django_db`` without ``transaction=True``) nothing commits, so nothing is published: wrap
the call in ``captureOnCommitCallbacks(execute=True)`` (pytest-django:
``django_capture_on_commit_callbacks(execute=True)``), inside ``capture_events()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer

from smartcampus_chat.conf import app_settings
from smartcampus_chat.realtime.events import room_group, user_group
from smartcampus_chat.testing.wire import InvalidFrame, parse_server_frame

__all__ = ["CapturedEvent", "CapturedEvents", "capture_events"]


@dataclass(frozen=True)
class CapturedEvent:
    """One layer message: ``frame`` is the client-facing frame (checked), or None for the
    layer-only notices (``chat.access_changed``, ``chat.session_ended``...), whose
    ``type`` is then the layer message's."""

    group: str
    type: str
    frame: dict[str, Any] | None
    message: dict[str, Any]


def _group_of(target: Any, make: Any) -> str:
    return str(make(target if isinstance(target, int) else target.pk))


class CapturedEvents:
    """The events published within a :func:`capture_events` block, in order."""

    def __init__(self) -> None:
        self.events: list[CapturedEvent] = []
        self.errors: list[InvalidFrame] = []
        self._lock = threading.Lock()

    def record(self, group: str, message: dict[str, Any]) -> None:
        frame: dict[str, Any] | None = None
        kind = str(message.get("type", ""))
        if isinstance(message.get("frame"), str):
            try:
                frame = parse_server_frame(message["frame"])
            except InvalidFrame as exc:
                with self._lock:
                    self.errors.append(exc)
                return
            kind = str(frame["type"])
        with self._lock:
            self.events.append(CapturedEvent(group, kind, frame, dict(message)))

    def frames(self, group: str | None = None) -> list[dict[str, Any]]:
        """The frames published (to ``group``, if given), in order."""
        return [
            event.frame
            for event in list(self.events)
            if event.frame is not None and (group is None or event.group == group)
        ]

    def room_frames(self, room: Any) -> list[dict[str, Any]]:
        """The frames published to a room's sockets (``room``: a room or its id)."""
        return self.frames(_group_of(room, room_group))

    def user_frames(self, user: Any) -> list[dict[str, Any]]:
        """The frames published to every socket of a user (``user``: a user or its id)."""
        return self.frames(_group_of(user, user_group))

    def notices(self, group: str | None = None) -> list[str]:
        """The types of the layer-only notices published (to ``group``, if given)."""
        return [
            event.type
            for event in list(self.events)
            if event.frame is None and (group is None or event.group == group)
        ]

    def types(self) -> list[str]:
        return [event.type for event in list(self.events)]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()

    async def wait_for(
        self, frame_type: str, count: int = 1, timeout: float = 5
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` frames of ``frame_type`` were published (async tests, where a
        publish may still be on its way after the answer); those frames."""
        deadline = time.monotonic() + timeout
        while True:
            found = [frame for frame in self.frames() if frame["type"] == frame_type]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} {frame_type} frames published, not {count}")
            await asyncio.sleep(0.01)


@contextlib.contextmanager
def capture_events(layer_alias: str | None = None) -> Iterator[CapturedEvents]:
    """Record every layer message published to the chat's channel layer (the
    ``CHANNEL_LAYER`` setting, or ``layer_alias``) while the block runs."""
    layer = get_channel_layer(layer_alias or app_settings.CHANNEL_LAYER)
    if layer is None:
        raise RuntimeError("no channel layer is configured: nothing would be published")
    captured = CapturedEvents()
    had_own = "group_send" in vars(layer)
    previous = layer.group_send

    async def group_send(group: str, message: dict[str, Any]) -> None:
        captured.record(group, message)
        await previous(group, message)

    layer.group_send = group_send
    try:
        yield captured
    finally:
        if had_own:
            layer.group_send = previous
        else:
            del layer.group_send
    if captured.errors:
        raise captured.errors[0]
