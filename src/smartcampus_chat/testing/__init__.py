"""Test helpers for projects that host the chat, as ``channels.testing`` is for Channels.

- :class:`ChatCommunicator` (with :func:`open_room` and :func:`open_user`): a WebSocket
  communicator that connects as a user, checks every frame it sends or receives against
  the protocol's typed models, and waits for typed answers.
- :func:`capture_events`: the frames the services publish, per group, after commit.
- :mod:`smartcampus_chat.testing.wire`: the protocol for any client (paths, frames).

Nothing here imports pytest: the helpers work with ``unittest`` as well. See
docs/integration.md, "Testing your integration".
"""

from __future__ import annotations

from smartcampus_chat.testing.capture import CapturedEvent, CapturedEvents, capture_events
from smartcampus_chat.testing.communicator import (
    NOISE,
    ChatCommunicator,
    Closed,
    new_client_id,
    open_room,
    open_user,
)
from smartcampus_chat.testing.wire import (
    InvalidFrame,
    client_frame,
    parse_server_frame,
    room_path,
    user_path,
)

__all__ = [
    "NOISE",
    "CapturedEvent",
    "CapturedEvents",
    "ChatCommunicator",
    "Closed",
    "InvalidFrame",
    "capture_events",
    "client_frame",
    "new_client_id",
    "open_room",
    "open_user",
    "parse_server_frame",
    "room_path",
    "user_path",
]
