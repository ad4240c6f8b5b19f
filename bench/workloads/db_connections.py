"""Database connections: how many one server process holds while users log in and chat.

N users (1,000; quick: 200) each, over HTTP with ``HTTP_IN_FLIGHT`` (64) requests in
flight: open the login page, log in (Django's login view, redirected to the room list),
join one of 10 public rooms (``POST api/rooms/<slug>/join/``) and ask for a WebSocket
ticket. Then every user opens a socket to their room (100 handshakes in flight) and the
users chat at 50 messages/s in all for 20 s (quick: 10 s), each message stored and
acknowledged.

A sampler polls ``pg_stat_activity`` every 20 ms for the connections to the bench database
(the server is its only client meanwhile), those of them not idle (in a query or a
transaction; idle ones wait in the pool), and the server's thread count, and keeps the
peak of each phase. Every HTTP status is counted (a ``503 unavailable`` is the database
refusing a connection or the pool timing out). Compare the pool's ``max_size``
(``DB_POOL_MAX_SIZE``, 10) with the peaks; ``BENCH_CONN_MAX_AGE=60`` runs the example site
as it was configured before the pool.

Passwords are hashed with MD5 in the bench (``bench.app_settings``): a login then costs its
queries, not ~0.3 s of PBKDF2 CPU, which is not what this measures.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil

from bench import django_side
from bench.loadgen import ConnSpec, LoadGenerator, Step
from bench.protocol import app_room_slug
from bench.runner import RunContext, serve
from bench.seed import USER_PREFIX
from bench.targets import select

TITLE = "Database connections per process"
ROOMS = 10
HTTP_IN_FLIGHT = 64
SOCKETS_IN_FLIGHT = 100
#: Messages per second, all senders together.
CHAT_RATE = 50.0
PASSWORD = "bench-password-not-secret"
TARGETS = ["app-uvicorn-redis"]


def set_passwords(user_ids: list[int], password: str) -> int:
    """Runs in Django (``django_side.call``): one hash for every bench user."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    return int(
        get_user_model().objects.filter(pk__in=user_ids).update(password=make_password(password))
    )


class ConnectionSampler:
    """Polls the database's connections (``pg_stat_activity``) and the server's threads."""

    def __init__(self, database_url: str, pid: int, interval: float = 0.02) -> None:
        import psycopg

        self.conn = psycopg.connect(database_url, autocommit=True)
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak_connections = 0
        #: Connections in a query or a transaction (not idle, e.g. in the pool).
        self.peak_busy = 0
        self.peak_threads = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        row = self.conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
        connections, busy = (int(row[0]), int(row[1])) if row else (0, 0)
        self.peak_busy = max(self.peak_busy, busy)
        with contextlib.suppress(psutil.Error):
            self.peak_threads = max(self.peak_threads, self.process.num_threads())
        self.peak_connections = max(self.peak_connections, connections)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    @contextlib.contextmanager
    def phase(self) -> Iterator[dict[str, int]]:
        """The peaks of the block: ``{"connections": ..., "threads": ...}`` once it ends."""
        self.peak_connections = self.peak_busy = self.peak_threads = 0
        peaks: dict[str, int] = {}
        yield peaks
        self._sample()
        peaks.update(
            connections=self.peak_connections, busy=self.peak_busy, threads=self.peak_threads
        )

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.conn.close()


class HttpUsers:
    """Each user's HTTP visit; the statuses of every request, and one ticket per user."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.statuses: Counter[int] = Counter()
        self.first_error = ""
        self.lock = threading.Lock()

    def _request(
        self,
        opener: urllib.request.OpenerDirector,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """The status and body of one request (redirects followed, as a browser does)."""
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with opener.open(request, timeout=60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        with self.lock:
            self.statuses[status] += 1
            if status >= 400 and not self.first_error:
                self.first_error = f"{status} {path}: {body[:200].decode(errors='replace')}"
        return status, body

    def visit(self, index: int) -> str:
        """Log user ``index`` in, join their room, return a WebSocket ticket ("" if refused)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def csrf() -> str:
            return next((c.value or "" for c in jar if c.name == "csrftoken"), "")

        referer = {"Referer": self.base + "/"}
        self._request(opener, "/accounts/login/")
        login = {
            "username": f"{USER_PREFIX}{index}",
            "password": PASSWORD,
            "csrfmiddlewaretoken": csrf(),
        }
        # Redirected to the room list (LOGIN_REDIRECT_URL): a page of the user's rooms.
        self._request(opener, "/accounts/login/", urllib.parse.urlencode(login).encode(), referer)
        # Django rotates the CSRF token at login: the cookie holds the new one.
        api = {**referer, "X-CSRFToken": csrf()}
        slug = app_room_slug(index % ROOMS)
        self._request(opener, f"/chat/api/rooms/{slug}/join/", b"", api)
        status, body = self._request(opener, "/chat/api/ws-ticket/", b"", api)
        return str(json.loads(body)["ticket"]) if 200 <= status < 300 else ""

    def run(self, users: int) -> list[str]:
        with ThreadPoolExecutor(HTTP_IN_FLIGHT) as pool:
            return list(pool.map(self.visit, range(users)))


def run(ctx: RunContext) -> list[dict[str, Any]]:
    users = ctx.connections or (200 if ctx.quick else 1000)
    chat_seconds = 10.0 if ctx.quick else 20.0
    rows = []
    for target in select(ctx.target_names, TARGETS):
        ctx.log(f"db-connections {target.name}: {users} users")
        with serve(ctx, target, rooms=ROOMS, users=users) as served:
            django_side.call(served.database_url, set_passwords, served.user_ids, PASSWORD)
            with ConnectionSampler(served.database_url, served.service.pid) as sampler:
                visitors = HttpUsers(served.port)
                started = time.monotonic()
                with sampler.phase() as http_peaks:
                    tickets = visitors.run(users)
                http_seconds = time.monotonic() - started
                specs = [
                    ConnSpec(room=index % ROOMS, sender=index, credential=ticket)
                    for index, ticket in enumerate(tickets)
                    if ticket
                ]
                with (
                    sampler.phase() as ws_peaks,
                    LoadGenerator(target.protocol, served.port, specs, ctx.clients) as loadgen,
                ):
                    connected = loadgen.connect(concurrency=SOCKETS_IN_FLIGHT)
                    rate = CHAT_RATE / max(len(specs), 1)
                    chat = loadgen.step(Step(1, chat_seconds, rate=rate, drain=5.0))
            requests_made = sum(visitors.statuses.values())
            rows.append(
                {
                    "workload": "db-connections",
                    "target": target.name,
                    "users": users,
                    "http_requests": requests_made,
                    "http_in_flight": HTTP_IN_FLIGHT,
                    "http_requests_per_s": round(requests_made / http_seconds, 1),
                    "http_statuses": {str(k): v for k, v in sorted(visitors.statuses.items())},
                    "http_503": visitors.statuses[503],
                    "http_first_error": visitors.first_error,
                    "peak_db_connections_http": http_peaks["connections"],
                    "peak_db_busy_http": http_peaks["busy"],
                    "peak_server_threads_http": http_peaks["threads"],
                    "sockets": connected.connected,
                    "sockets_failed": connected.failed,
                    "socket_error": connected.first_error,
                    "sent": chat.sent,
                    "acks": chat.acks,
                    "send_errors": chat.errors,
                    "send_first_error": chat.first_error,
                    "peak_db_connections_ws": ws_peaks["connections"],
                    "peak_db_busy_ws": ws_peaks["busy"],
                    "peak_server_threads_ws": ws_peaks["threads"],
                    "load_average_1m": round(os.getloadavg()[0], 2),
                }
            )
    return rows
