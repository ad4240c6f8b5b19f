"""Build a fresh host project from the README's three snippets and check that it works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    import django
    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("check", fail_level="ERROR")

    from django.contrib.auth import get_user_model
    from django.test import Client
    from smartcampus_chat import services

    user = get_user_model().objects.create_user("host-user", password="pw")
    room = services.do_create_room(user, name="Lobby", room_type="public")
    client = Client()
    client.force_login(user)
    page = client.get("/chat/")
    assert page.status_code == 200, page.status_code
    room_page = client.get(f"/chat/room/{room.slug}/")
    assert room_page.status_code == 200 and b"Lobby" in room_page.content

    from channels.testing import WebsocketCommunicator
    from mysite.asgi import application

    async def websocket():
        headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
        ws = WebsocketCommunicator(application, f"/ws/chat/{room.slug}/", headers=headers)
        ws.scope["user"] = user
        connected, _ = await ws.connect()
        assert connected, "websocket refused"
        await ws.send_json_to({"type": "message.send", "content": "hi", "client_id": "x", "id": 1})
        reply = await ws.receive_json_from(timeout=10)
        assert reply["type"] == "ack", reply
        await ws.disconnect()

    asyncio.run(websocket())
    print("HOST-OK")
    """
)


def readme_block(name: str) -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- integration:{name} -->\n```python\n(.*?)```", readme, re.S)
    assert match, f"README has no integration:{name} block"
    return match.group(1)


@pytest.mark.redis
@pytest.mark.slow
def test_fresh_host_project_built_from_the_readme_works(tmp_path: Path) -> None:
    hidden = ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(tmp_path)],
        check=True,
        env=env,
    )
    package = tmp_path / "mysite"
    settings = package / "settings.py"
    settings.write_text(settings.read_text() + "\n" + readme_block("settings") + "\n")
    urls = package / "urls.py"
    urls.write_text(urls.read_text() + "\n" + readme_block("urls"))
    (package / "asgi.py").write_text(readme_block("asgi"))
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "HOST-OK" in result.stdout
