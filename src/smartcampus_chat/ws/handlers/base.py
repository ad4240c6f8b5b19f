"""The shape of a frame handler (shared by the family modules)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from smartcampus_chat.protocol.frames import ClientFrame
from smartcampus_chat.ws.socket import Socket

#: ``handler(socket, frame)``: act on a validated client frame and answer it. A
#: :class:`~smartcampus_chat.exceptions.ChatError` it raises is answered with ``error``.
Handler = Callable[[Socket, Any], Awaitable[None]]
#: A family's handlers by the model of the frame they handle.
Handlers = dict[type[ClientFrame], Handler]
