"""Two uvicorn processes of the example site, one Redis, one database: one chat.

Messages, edits, typing and presence cross between the processes; when one process is
killed (SIGKILL) its users go offline for the others within PRESENCE_TIMEOUT plus a
heartbeat, and its clients, reconnecting to the other process, miss nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from smartcampus_chat.tickets import issue_ticket

websockets = pytest.importorskip("websockets.asyncio.client")

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

SETUP = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from smartcampus_chat import services
User = get_user_model()
tag = "{tag}"
alice = User.objects.create_user("alice-" + tag, password="pw", first_name="Alice")
bob = User.objects.create_user("bob-" + tag, password="pw", first_name="Bob")
room = services.do_create_room(alice, name="Multi " + tag, room_type="public")
services.do_join_room(bob, room)
print(json.dumps({{"alice": alice.pk, "bob": bob.pk, "room": room.slug}}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"port {port} did not open")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("postgres"):
        database = f"sqlite:///{tmp_path / 'mp.sqlite3'}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.mp_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "example_project"), str(ROOT)]),
        "SCCHAT_MP_DATABASE_URL": database,
        "SCCHAT_MP_PREFIX": f"scchat-mp-{uuid.uuid4().hex[:10]}",
        "REDIS_URL": REDIS_URL,
        "DEBUG": "1",
    }
    tag = uuid.uuid4().hex[:8]
    setup = subprocess.run(
        [sys.executable, "-c", SETUP.format(tag=tag)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(setup.stdout.strip().splitlines()[-1])
    servers: list[tuple[int, subprocess.Popen[bytes]]] = []
    for _ in range(2):
        port = free_port()
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "campus.asgi:application"),
                *("--port", str(port), "--ws-max-size", "65536", "--log-level", "warning"),
            ],
            env=env,
            cwd=ROOT,
        )
        servers.append((port, process))
    try:
        for port, process in servers:
            wait_port(port, process)
        yield {**data, "servers": servers}
    finally:
        for _, process in servers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def open_ws(port: int, user_id: int, path: str) -> Any:
    ticket = issue_ticket(SimpleNamespace(pk=user_id))
    separator = "&" if "?" in path else "?"
    return await websockets.connect(
        f"ws://127.0.0.1:{port}{path}{separator}ticket={ticket}",
        origin=f"http://127.0.0.1:{port}",
    )


async def until(ws: Any, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("frame not received in time")
        frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        if predicate(frame):
            return frame


def of_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    def check(frame: dict[str, Any]) -> bool:
        return frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items())

    return check


async def test_two_processes_one_chat(site: dict[str, Any]) -> None:
    (port_a, process_a), (port_b, _) = site["servers"]
    room = site["room"]
    alice = await open_ws(port_a, site["alice"], f"/ws/chat/{room}/?event_seq=0")
    try:
        # Sockets are set up after the handshake: bob opens once alice follows the room,
        # so that his arrival is news to her (before, she sees it in the participant list).
        await until(alice, of_type("resumed"))
    except BaseException:
        await alice.close()
        raise
    bob = await open_ws(port_b, site["bob"], f"/ws/chat/{room}/?event_seq=0")
    try:
        await until(bob, of_type("resumed"))

        # Presence crosses: alice (on A) sees bob (on B) come online.
        seen = await until(alice, lambda f: f["type"] == "presence" and f["online"])
        assert seen["user"]["id"] == site["bob"]

        # Messages and edits cross.
        await alice.send(json.dumps({"type": "message.send", "content": "from A", "id": 1}))
        ack = await until(alice, of_type("ack", id=1))
        new = await until(bob, of_type("message.new"))
        assert new["message"]["id"] == ack["message"]["id"]
        await alice.send(
            json.dumps(
                {"type": "message.edit", "message_id": new["message"]["id"], "content": "A!"}
            )
        )
        edited = await until(bob, of_type("message.edited"))
        assert edited["message"]["content"] == "A!"

        # Typing crosses.
        await bob.send(json.dumps({"type": "typing", "state": "started"}))
        typing = await until(alice, of_type("typing"))
        assert typing["user"]["id"] == site["bob"]
        last_seen_by_alice = edited["message"]["event_seq"]

        # Process A dies without a goodbye: alice goes offline for bob in bounded time.
        started = time.monotonic()
        process_a.send_signal(signal.SIGKILL)
        process_a.wait(timeout=10)
        offline = await until(
            bob,
            lambda f: (
                f["type"] == "presence" and not f["online"] and f["user"]["id"] == site["alice"]
            ),
            timeout=15,
        )
        assert offline["last_seen"]
        assert time.monotonic() - started < 3 + 1 + 5  # TIMEOUT + HEARTBEAT + slack

        # Bob keeps talking while alice is away.
        for n in range(3):
            await bob.send(json.dumps({"type": "message.send", "content": f"missed {n}", "id": n}))
            await until(bob, of_type("ack", id=n))

        # Alice reconnects to process B and resumes: every missed change, once, in order.
        await alice.close()
        alice = await open_ws(
            port_b, site["alice"], f"/ws/chat/{room}/?event_seq={last_seen_by_alice}"
        )
        replay: list[dict[str, Any]] = []
        while (frame := await until(alice, lambda f: f["type"] != "presence"))["type"] != "resumed":
            if frame["type"].startswith("message."):
                replay.append(frame["message"])
        assert [m["content"] for m in replay] == ["missed 0", "missed 1", "missed 2"]
        seqs = [m["event_seq"] for m in replay]
        assert seqs == list(range(last_seen_by_alice + 1, last_seen_by_alice + 4))
        assert frame["event_seq"] == seqs[-1]
        back = await until(bob, lambda f: f["type"] == "presence" and f["online"])
        assert back["user"]["id"] == site["alice"]
    finally:
        await alice.close()
        await bob.close()
