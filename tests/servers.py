"""Real servers for fault tests: uvicorn processes of the example site, throwaway Redis
servers, a TCP proxy that can cut connections, and a reference chat client.

Nothing here touches the machine's shared Redis or PostgreSQL: Redis servers are started
on free ports without persistence, and database outages are made by cutting the proxy the
site's ``DATABASE_URL`` points at.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from smartcampus_chat.realtime.tickets import issue_ticket
from smartcampus_chat.testing.wire import add_query, client_frame, parse_server_frame, room_path

#: The example site's ``CHAT_MAX_FRAME_BYTES`` (its ``MAX_FRAME_BYTES``): the ``--ws-max-size``
#: of every uvicorn the tests start (tests/test_server_limits.py keeps them equal).
CHAT_MAX_FRAME_BYTES = 65536
ROOT = Path(__file__).resolve().parent.parent

SETUP = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from smartcampus_chat import services
User = get_user_model()
tag = "{tag}"
users = [User.objects.create_user(f"u{{n}}-{{tag}}", password="pw") for n in range({users})]
room = services.do_create_room(users[0], name="Faults " + tag, room_type="public")
for user in users[1:]:
    services.do_join_room(user, room)
print(json.dumps({{"users": [u.pk for u in users], "room": room.slug, "room_id": room.pk}}))
"""

MESSAGES = """
import json, django
django.setup()
from smartcampus_chat.models import ChatMessage
rows = ChatMessage.objects.filter(room_id={room_id}).order_by("event_seq")
print(json.dumps([[m.pk, m.seq, m.event_seq, m.client_id] for m in rows]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        if port_open(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not open")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    """A throwaway ``redis-server`` on a free port, without persistence: a restart is empty."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.process, timeout=10)

    def stop(self) -> None:
        """Kill the server (no goodbye to its clients) and wait until the port is closed."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        deadline = time.monotonic() + 10
        while port_open(self.port):
            assert time.monotonic() < deadline, "redis port still open"
            time.sleep(0.05)


class RedisSentinels:
    """A master, a replica and three sentinels (``redis-server <conf> --sentinel``), each a
    throwaway process on a free port, files in ``folder``; the service is ``mymaster``.

    The sentinels call a master down after ``down_after_ms`` without an answer and need two
    of three to agree; a failover then promotes the replica.
    """

    SERVICE = "mymaster"

    def __init__(self, folder: Path, *, down_after_ms: int = 1000) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.folder = folder
        self.down_after_ms = down_after_ms
        self.master_port = free_port()
        self.replica_port = free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", port) for port in self.sentinel_ports]

    def _redis(self, port: int, *extra: str) -> None:
        self.processes[port] = subprocess.Popen(
            [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.folder,
        )
        wait_port(port, self.processes[port], timeout=10)

    def start(self) -> None:
        self._redis(self.master_port, "--appendonly", "no")
        replica_of = ("--replicaof", "127.0.0.1", str(self.master_port))
        self._redis(self.replica_port, "--appendonly", "no", *replica_of)
        for port in self.sentinel_ports:
            conf = self.folder / f"sentinel-{port}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.folder}\n"
                f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.master_port} 2\n"
                f"sentinel down-after-milliseconds {self.SERVICE} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.SERVICE} 10000\n"
                f"sentinel parallel-syncs {self.SERVICE} 1\n"
            )
            self.processes[port] = subprocess.Popen(
                [self.binary, str(conf), "--sentinel"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.folder,
            )
            wait_port(port, self.processes[port], timeout=10)
        self.wait_ready()

    def master(self) -> tuple[str, int] | None:
        """Where the sentinels say the master is (the first one that answers)."""
        import redis

        for host, port in self.sentinels:
            try:
                client = redis.Redis(host=host, port=port, socket_timeout=1, decode_responses=True)
                with client:
                    address = client.sentinel_get_master_addr_by_name(self.SERVICE)
            except redis.exceptions.RedisError:
                continue
            if address:
                return str(address[0]), int(address[1])
        return None

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the replica is in sync and every sentinel knows the replica and the others."""
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with redis.Redis(port=self.replica_port, socket_timeout=1) as replica:
                synced = replica.info("replication").get("master_link_status") == "up"
            known = 0
            for _, port in self.sentinels:
                with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as sentinel:
                    state = sentinel.sentinel_master(self.SERVICE)
                known += int(state["num-slaves"]) >= 1 and int(state["num-other-sentinels"]) >= 2
            if synced and known == len(self.sentinels):
                return
            time.sleep(0.2)
        raise AssertionError("the sentinels did not see the replica and each other in time")

    def kill_master(self) -> int:
        """SIGKILL the current master (no goodbye to its clients); its port."""
        address = self.master()
        assert address is not None, "no master known"
        port = address[1]
        process = self.processes.pop(port)
        process.kill()
        process.wait(timeout=10)
        return port

    def stop(self) -> None:
        for process in self.processes.values():
            process.kill()
            process.wait(timeout=10)
        self.processes.clear()


# --- TCP proxy -----------------------------------------------------------------------------


class TcpProxy:
    """Forwards a local port to ``target``; :meth:`cut` drops every connection and refuses
    new ones (each is closed at once) until :meth:`restore`.

    It runs its own event loop in a thread, so it keeps working while the test's loop is
    busy and can be driven from synchronous code.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.cut_off = False
        self.refused = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), "proxy did not start"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            self.refused += 1
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.discard(writer)
            self._writers.discard(up_writer)

    def _call(self, func: Callable[[], None]) -> None:
        async def run() -> None:
            func()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def cut(self) -> None:
        def cut() -> None:
            self.cut_off = True
            for writer in list(self._writers):
                writer.transport.abort()

        self._call(cut)

    def restore(self) -> None:
        def restore() -> None:
            self.cut_off = False

        self._call(restore)

    def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._call(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        # Finish what the stopped loop still holds, then close it (no unclosed-loop warning).
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()


def proxied_url(database_url: str, port: int) -> str:
    """``database_url`` with its host and port replaced by the proxy's."""
    parts = urlsplit(database_url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{port}" if auth else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


# --- The example site ----------------------------------------------------------------------


@dataclass
class Site:
    """The example site's environment, its seeded users and room, and its processes."""

    env: dict[str, str]
    users: list[int]
    room: str
    room_id: int
    servers: list[tuple[int, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start_server(
        self, *, application: str = "campus.asgi:application", ws: str | None = None
    ) -> int:
        """A uvicorn process serving ``application``; ``ws``: its WebSocket implementation
        (``--ws``: ``websockets``, ``wsproto``...), uvicorn's choice when None."""
        port = free_port()
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", application),
                *("--port", str(port), "--ws-max-size", str(CHAT_MAX_FRAME_BYTES)),
                *("--log-level", "warning"),
                *(("--ws", ws) if ws else ()),
            ],
            env=self.env,
            cwd=ROOT,
        )
        self.servers.append((port, process))
        wait_port(port, process)
        return port

    @property
    def ports(self) -> list[int]:
        return [port for port, _ in self.servers]

    def alive(self) -> bool:
        return all(process.poll() is None for _, process in self.servers)

    def run_django(self, script: str) -> str:
        """The last line ``script`` prints, run in a Python of the site's environment."""
        out = subprocess.run(
            [sys.executable, "-c", script],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return out.stdout.strip().splitlines()[-1]

    def messages(self) -> list[list[Any]]:
        """The room's stored messages, ``[id, seq, event_seq, client_id]`` by event_seq."""
        rows: list[list[Any]] = json.loads(self.run_django(MESSAGES.format(room_id=self.room_id)))
        return rows

    def stop(self) -> None:
        for _, process in self.servers:
            stop_process(process)

    @contextlib.contextmanager
    def serving(self, processes: int = 2) -> Iterator[Site]:
        """Start ``processes`` servers, then stop every server of the site on the way out."""
        try:
            for _ in range(processes):
                self.start_server()
            yield self
        finally:
            self.stop()


def site_env(tmp_path: Path, *, redis_url: str, database_url: str | None = None) -> dict[str, str]:
    """Environment of ``tests.mp_settings``: PostgreSQL when ``DATABASE_URL`` says so."""
    if database_url is None:
        database_url = os.environ.get("DATABASE_URL", "")
        if not database_url.startswith("postgres"):
            database_url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    return {
        # The servers run as in production: Python's development mode (PYTHONDEVMODE, set by
        # tox for the test process) turns asyncio's debug mode on, which times every callback
        # and roughly doubles a busy server's CPU (what the load tests measure is the chat's).
        **{k: v for k, v in os.environ.items() if k not in {"PYTHONDEVMODE", "PYTHONWARNINGS"}},
        "DJANGO_SETTINGS_MODULE": "tests.mp_settings",
        # This tree's source first (a development install may point elsewhere), the
        # caller's PYTHONPATH after them.
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), str(ROOT / "example_project"), str(ROOT)]
            + [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        ),
        "SCCHAT_MP_DATABASE_URL": database_url,
        "SCCHAT_MP_PREFIX": f"scchat-mp-{uuid.uuid4().hex[:10]}",
        "SCCHAT_MP_SEND_RATE": "1000",
        "REDIS_URL": redis_url,
        "DEBUG": "1",
    }


def seed_site(env: dict[str, str], users: int) -> Site:
    """Migrate, create ``users`` users and one public room they all joined."""
    setup = subprocess.run(
        [sys.executable, "-c", SETUP.format(tag=uuid.uuid4().hex[:8], users=users)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(setup.stdout.strip().splitlines()[-1])
    return Site(env=env, users=data["users"], room=data["room"], room_id=data["room_id"])


async def open_ws(port: int, user_id: int, path: str) -> ClientConnection:
    ticket = issue_ticket(SimpleNamespace(pk=user_id))
    return await connect(
        f"ws://127.0.0.1:{port}{add_query(path, ticket=ticket)}",
        origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        open_timeout=5,
        close_timeout=1,
    )


async def stop_talking(
    stop: asyncio.Event, tasks: list[asyncio.Task[Any]], clients: list[ChatClient]
) -> None:
    """End a test's chatting clients: ``stop`` set, their tasks cancelled and awaited, then
    their sockets closed."""
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        await client.close()


async def settle(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether ``condition()`` comes to hold within ``timeout`` seconds."""
    try:
        await poll(condition, timeout, "")
    except AssertionError:
        return False
    return True


async def poll(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait until ``condition()`` holds; the seconds it took. Fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def poll_clients(
    clients: list[ChatClient], condition: Callable[[ChatClient], bool], timeout: float, what: str
) -> float:
    """:func:`poll` for ``condition`` to hold for every client; a failure gives the state of
    those it does not hold for (:meth:`ChatClient.state`)."""
    try:
        return await poll(lambda: all(condition(c) for c in clients), timeout, what)
    except AssertionError as exc:
        stuck = [c.state() for c in clients if not condition(c)]
        raise AssertionError(f"{exc}; {len(stuck)} not: {'; '.join(stuck[:20])}") from None


# --- Reference client ----------------------------------------------------------------------


class ChatClient:
    """A client of one room that follows docs/protocol.md to the letter, over the network.

    Frames are written and read by :mod:`smartcampus_chat.testing.wire` (the codec of every
    client of the project): each frame sent and received is checked against its model.

    It remembers the last ``event_seq`` it applied; on (re)connect it resumes from it; a
    live message frame that skips numbers is a gap and triggers a ``resume`` on the same
    socket. Message frames received between a gap and the ``participants`` frame that starts
    the replay are ignored (the replay covers them). Anything else out of order is counted:
    ``duplicates`` (a number not newer than the last one applied) and ``disorder`` (a replay
    going backwards). Sends carry a ``client_id`` and are retried with the same id after an
    error or a reconnect until acked.

    A ``resume`` carries an ``id``; an ``error`` answering it (``unavailable`` while the
    database or the cache is away, ``rate_limited``) replayed nothing, so the resume is sent
    again after ``retry_after``, as docs/protocol.md says. (Without that the client ignored
    every later message frame, waiting for a replay that never came: no live frame after a
    Redis restart, and no final resync after a database outage.)
    """

    def __init__(self, name: str, user_id: int, room: str, ports: list[int]) -> None:
        self.name = name
        self.user_id = user_id
        self.room = room
        self.ports = ports
        self.last = 0
        self.applied: dict[int, int] = {}  # message id -> event_seq
        self.duplicates = 0
        self.disorder = 0
        self.gaps = 0
        self.reconnects = 0
        self.failed_connects = 0
        self.acks: dict[str, dict[str, Any]] = {}
        self.errors: list[dict[str, Any]] = []
        self.closes: list[int | None] = []
        self.outstanding: dict[str, str] = {}  # client_id -> content, not acked yet
        self.live_times: list[float] = []  # monotonic time of each live message frame
        self.ws: ClientConnection | None = None
        self._awaiting_replay = False
        self._replaying = False
        #: The ``id`` of the resume waiting for its replay; None when none waits.
        self._resume_id: str | None = None
        self._resumes = 0
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Future[None]] = set()
        #: Who is online, by user id, as the frames received say.
        self.presence: dict[int, bool] = {}

    @property
    def connected(self) -> bool:
        return self.ws is not None

    def state(self) -> str:
        """Where this client stands, for a failure message: a stuck client names its cause."""
        reader = self._reader
        done = reader is not None and reader.done() and not reader.cancelled()
        failed = reader.exception() if reader is not None and done else None
        return (
            f"{self.name}: last {self.last}, live frames {len(self.live_times)}, "
            f"gaps {self.gaps}, connected {self.connected}, "
            f"awaiting replay {self._awaiting_replay}, replaying {self._replaying}, "
            f"resume {self._resume_id}, closes {self.closes[-3:]}, "
            f"errors {[e['code'] for e in self.errors[-3:]]}, reader failed {failed!r}"
        )

    async def _open(self) -> tuple[ClientConnection, dict[str, Any]]:
        """A socket to a random server, resuming from ``last``, and its first frame."""
        path = room_path(self.room, event_seq=self.last)
        ws = await open_ws(random.choice(self.ports), self.user_id, path)
        try:
            first = parse_server_frame(await asyncio.wait_for(ws.recv(), 5))
        except (OSError, ConnectionClosed, TimeoutError):
            await ws.close()
            raise
        return ws, first

    async def connect(self, timeout: float = 30) -> None:
        """(Re)connect, resuming from ``last``; retried (any server) until ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                ws, first = await self._open()
                break
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                self.failed_connects += 1
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} could not reconnect") from exc
                await asyncio.sleep(0.2)
        self.ws = ws
        self._awaiting_replay = True
        self._resume_id = None
        self._on_frame(first)
        self._reader = asyncio.create_task(self._read(ws))
        for client_id, content in list(self.outstanding.items()):
            await self._send(client_id, content)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                # Frames still arriving on a socket the client dropped are ignored, as a
                # browser ignores a closed socket's: applying them next to the new socket's
                # replay would mix two streams (and count as disorder).
                if self.ws is ws:
                    self._on_frame(parse_server_frame(raw))
        except ConnectionClosed:
            pass
        self.closes.append(ws.close_code)
        if self.ws is ws:
            self.ws = None
        self._changed.set()

    def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "participants":
            self._awaiting_replay = False
            self._replaying = True
            self.presence.update({p["user"]["id"]: p["online"] for p in frame["participants"]})
        elif kind == "presence":
            self.presence[frame["user"]["id"]] = frame["online"]
        elif kind == "presence.batch":
            self.presence.update({c["user"]["id"]: c["online"] for c in frame["changes"]})
        elif kind == "resumed":
            assert frame["event_seq"] >= self.last, (self.name, frame, self.last)
            self.last = frame["event_seq"]
            self._replaying = False
            self._resume_id = None
            if frame.get("truncated"):
                self._resume()  # More changes wait than one replay sends.
        elif kind.startswith("message."):
            self._on_message(frame["message"])
        elif kind == "ack" and frame.get("client_id"):
            self.acks[frame["client_id"]] = frame["message"]
            self.outstanding.pop(frame["client_id"], None)
        elif kind == "error":
            self.errors.append(frame)
            if self._resume_id is not None and frame.get("id") == self._resume_id:
                self._resume_later(frame.get("retry_after"))
        self._changed.set()

    def _on_message(self, message: dict[str, Any]) -> None:
        event_seq = message["event_seq"]
        if self._awaiting_replay:
            return
        if self._replaying:
            if event_seq <= self.last:
                self.disorder += 1
                return
        elif event_seq <= self.last:
            self.duplicates += 1
            return
        elif event_seq > self.last + 1:
            self.gaps += 1
            self._resume()
            return
        else:
            self.live_times.append(time.monotonic())
        self.applied[message["id"]] = event_seq
        self.last = event_seq

    def _resume(self) -> None:
        """Ask for everything after ``last`` on the open socket (the reconnect does when
        none is open); message frames are ignored from now until its replay starts."""
        self._awaiting_replay = True
        self._replaying = False
        ws = self.ws
        if ws is None:
            return
        self._resumes += 1
        self._resume_id = f"{self.name}-resume-{self._resumes}"
        frame = client_frame(type="resume", event_seq=self.last, id=self._resume_id)
        self._later(self._quiet_send(ws, frame))

    def _resume_later(self, retry_after: Any) -> None:
        """The resume was refused (nothing replayed): send it again after ``retry_after``."""
        ws, refused = self.ws, self._resume_id
        self._awaiting_replay = True
        self._replaying = False

        async def again() -> None:
            await asyncio.sleep(float(retry_after or 1))
            if self.ws is ws and self._resume_id == refused:
                self._resume()

        self._later(again())

    def _later(self, step: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(step)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quiet_send(self, ws: ClientConnection, frame: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(frame)

    async def _send(self, client_id: str, content: str) -> None:
        ws = self.ws
        if ws is not None:
            await self._quiet_send(
                ws, client_frame(type="message.send", content=content, client_id=client_id)
            )

    async def send(self, content: str) -> str:
        client_id = uuid.uuid4().hex
        self.outstanding[client_id] = content
        await self._send(client_id, content)
        return client_id

    async def retry_outstanding(self) -> None:
        for client_id, content in list(self.outstanding.items()):
            await self._send(client_id, content)

    async def drop(self) -> None:
        """Close the socket from the client side and wait for its reader to end.

        The reader is taken with the socket, before any wait: once ``ws`` is cleared a
        sender may reconnect while the close is in progress, and ``_reader`` then names the
        new socket's reader, which ends only when that socket does (waiting for it hung the
        soak's chaos task, and with it the end of the run).
        """
        ws, reader = self.ws, self._reader
        if ws is not None:
            self.ws = None
            await ws.close()
            if reader is not None:
                await reader

    async def resync(self) -> None:
        """Resume from ``last`` (a client's periodic safety net): on the open socket, unless
        a replay is already asked for or running (a second one would replay the same
        changes again); by reconnecting when the socket is gone, as a browser does by itself
        (a socket the server closed after the traffic stopped had nobody to reopen it, and
        the client stayed behind: the failover test's final check timed out in CI)."""
        if self.ws is None:
            await self.connect()
        elif not self._awaiting_replay and not self._replaying:
            self._resume()

    async def close(self) -> None:
        await self.drop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# --- Traffic and checks of the outage tests --------------------------------------------


async def talk(
    client: ChatClient, stop: asyncio.Event, sent: list[str], *, reconnect_within: float
) -> None:
    """Until ``stop``: about 5 sends a second, at most 3 unacked, the unacked re-sent every
    second; a lost socket is reconnected (trying for up to ``reconnect_within`` seconds).
    Each send's client_id is appended to ``sent``."""
    last_retry = time.monotonic()
    while not stop.is_set():
        if not client.connected:
            client.reconnects += 1
            await client.connect(timeout=reconnect_within)
        if len(client.outstanding) < 3:
            sent.append(await client.send(f"{client.name} {len(sent)}"))
        if time.monotonic() - last_retry > 1:
            await client.retry_outstanding()
            last_retry = time.monotonic()
        await asyncio.sleep(0.2)


class Traffic:
    """Every user of a site as a :class:`ChatClient` of one of its first two servers
    (alternately), each sending with :func:`talk` from entering until :meth:`stop`.

    Leaving stops and cancels the senders and closes every client.
    """

    def __init__(self, site: Site, *, reconnect_within: float) -> None:
        self.clients = [
            ChatClient(f"c{n}", user, site.room, [site.ports[n % 2]])
            for n, user in enumerate(site.users)
        ]
        #: The client_ids each client sent, by client name.
        self.sent: dict[str, list[str]] = {client.name: [] for client in self.clients}
        self._reconnect_within = reconnect_within
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Traffic:
        for client in self.clients:
            await client.connect()
        self._tasks = [
            asyncio.create_task(
                talk(c, self._stop, self.sent[c.name], reconnect_within=self._reconnect_within)
            )
            for c in self.clients
        ]
        return self

    async def stop(self) -> None:
        """Stop sending; returns once every sender has finished its last step."""
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def __aexit__(self, *exc_info: object) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for client in self.clients:
            await client.close()


async def ack_everything(clients: list[ChatClient]) -> None:
    """Reconnect whoever is offline and re-send every unacked message until all are acked."""
    for client in clients:
        if not client.connected:
            await client.connect()
        await client.retry_outstanding()
    await poll(lambda: not any(c.outstanding for c in clients), 15, "every send acked")


def assert_stored_once(site: Site, traffic: Traffic) -> list[list[Any]]:
    """Every client_id the traffic sent is stored exactly once and every ack names the
    stored message; the stored rows (as :meth:`Site.messages`)."""
    rows = site.messages()
    stored = {row[3]: row[0] for row in rows}
    assert len(stored) == len(rows), "a client_id was stored twice"
    for client in traffic.clients:
        for client_id, message in client.acks.items():
            assert stored.get(client_id) == message["id"], "acked but not stored"
    assert {cid for ids in traffic.sent.values() for cid in ids} == set(stored)
    return rows


async def assert_every_client_complete(clients: list[ChatClient], rows: list[list[Any]]) -> None:
    """After one resume each, every client holds exactly the stored ``rows``: none missing,
    none applied twice, none out of order."""
    final = {row[0]: row[2] for row in rows}
    top = max(final.values())
    for client in clients:
        await client.resync()
    await poll_clients(clients, lambda c: c.last == top, 30, f"every client at {top}")
    for client in clients:
        assert client.applied == final, client.name
        assert client.duplicates == 0, client.name
        assert client.disorder == 0, client.name
