"""A script signs in with a token and opens a ticket socket with a plain ``websockets``
client that sends no ``Origin`` (issue #17, finding 8; docs/api.md, "Scripts and apps").

A ticket is not a cookie: a browser page of another site cannot make one ride along, so
the origin check accepts a handshake without ``Origin`` that carries ``?ticket=`` and no
session cookie.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from smartcampus_chat.testing.wire import parse_server_frame
from tests.servers import ROOT, Site, seed_site, site_env

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with seed_site(site_env(tmp_path, redis_url=REDIS_URL), users=1).serving(1) as site:
        yield site


def _token(site: Site) -> str:
    """``manage.py drf_create_token <login>``: what an administrator runs for a script."""
    code = (
        "import django; django.setup(); from django.contrib.auth import get_user_model; "
        f"print(get_user_model().objects.get(pk={site.users[0]}).get_username())"
    )
    run = {"env": site.env, "cwd": ROOT, "capture_output": True, "text": True, "check": True}
    login = subprocess.run([sys.executable, "-c", code], **run).stdout.split()[-1]  # type: ignore[call-overload]
    manage = str(ROOT / "example_project" / "manage.py")
    out = subprocess.run([sys.executable, manage, "drf_create_token", login], **run).stdout  # type: ignore[call-overload]
    return str(out.split()[2])  # "Generated token <key> for user <login>"


def _ticket_url(port: int, token: str) -> str:
    """``POST api/ws-ticket/`` with the token: the socket's URL, ticket included."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/chat/api/ws-ticket/",
        method="POST",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["ws_url"])


async def test_a_script_opens_a_ticket_socket_without_origin(site: Site) -> None:
    port = site.ports[0]
    ws_url = _ticket_url(port, _token(site)).replace("{room}", site.room)
    assert ws_url.startswith(f"ws://127.0.0.1:{port}/ws/chat/{site.room}/?ticket=")
    async with connect(ws_url, open_timeout=5, close_timeout=1) as ws:  # no Origin header
        await ws.send(json.dumps({"type": "ping", "id": "script"}))
        frames = [parse_server_frame(await ws.recv()) for _ in range(1)]
        while frames[-1].get("type") != "pong":
            frames.append(parse_server_frame(await ws.recv()))
        assert frames[-1] == {"type": "pong", "id": "script"}
    # Without a ticket, the same Origin-less handshake is refused.
    with pytest.raises(InvalidStatus):
        await connect(ws_url.split("?")[0], open_timeout=5)
