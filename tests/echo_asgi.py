"""The example site's ASGI application plus a test-only echo route, ``ws/echo/``.

For the WebSocket conformance tests (tests/test_ws_conformance.py): the Autobahn test
suite needs a socket that sends back what it reads, and what it tests (framing,
fragmentation, UTF-8, closing) is the ASGI server's work and the middleware's, so the echo
route sits behind exactly the stack of the chat's routes (``TrustedOriginValidator``),
served by the same uvicorn, next to the chat's own routes. It
lives here and never in the package: a public echo socket would be an open relay.

The echo lets anonymous sockets in: Autobahn opens a socket per case and has neither a
session cookie nor single-use tickets to give each one.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.mp_settings")
django_asgi_app = get_asgi_application()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from smartcampus_chat.routing import TrustedOriginValidator, websocket_urlpatterns  # noqa: E402

ECHO_PATH = "ws/echo/"


class EchoConsumer(AsyncWebsocketConsumer):
    """Sends every text or binary message back as it came."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.send(text_data=text_data)
        else:
            await self.send(bytes_data=bytes_data)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TrustedOriginValidator(
            URLRouter([path(ECHO_PATH, EchoConsumer.as_asgi()), *websocket_urlpatterns])
        ),
    }
)
