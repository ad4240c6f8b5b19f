"""``ping``: the client checks the connection is alive."""

from __future__ import annotations

from smartcampus_chat.protocol.frames import Ping, Pong
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.socket import Socket


async def ping(socket: Socket, frame: Ping) -> None:
    await socket.send_frame(Pong(id=frame.id))


HANDLERS: Handlers = {Ping: ping}
