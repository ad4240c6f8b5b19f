"""A live copy of the example site under uvicorn, and Chromium settings, for browser tests.

Used by the browser test fixtures and by ``python -m tests.browser.screenshots``. The server
runs in a subprocess (the real ASGI stack: uvicorn, Channels, the in-memory channel layer)
on a temporary SQLite file that is migrated and seeded with ``seed_demo`` first. It can be
restarted on the same port, which drops every WebSocket: the tests use that to check that
the client reconnects. The listening socket belongs to the ``LiveServer`` (see
``tests/browser/serve.py``): while the server is down, connections wait instead of being
refused, so a client's reconnection does not hang on a backoff step that grew with the
downtime.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from tests.servers import stop_process

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "example_project"
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
STARTUP_TIMEOUT = 30.0

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Debian's Chromium, headless, with nothing that reaches the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Page sizes of the tests and the screenshots.
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 375, "height": 667},
}
# The example site's TIME_ZONE: times rendered live (by the browser) and stored ones agree.
TIMEZONE = "Europe/Paris"

DEMO_PASSWORD = "campus-demo"


def login_with_form(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the site's real login form (the page has the live server's base URL)."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/chat/")


class LiveServer:
    """The example site served by uvicorn in a subprocess; a context manager.

    ``start()`` prepares the database (once) and waits until the server answers;
    ``stop()`` then ``start()`` again restarts it on the same port with the same data.
    """

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = Path(tempfile.mkdtemp(prefix="scc-live-"))
        self.log_path = self._tmp / "server.log"
        self.env = self._environment(self._tmp / "db.sqlite3")
        self._process: subprocess.Popen[bytes] | None = None
        self._prepared = False

    @staticmethod
    def _environment(db: Path) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            # The example site would pick the Redis layer or PostgreSQL from these.
            if k not in {"REDIS_URL", "DATABASE_URL", "PYTHONDEVMODE", "PYTHONWARNINGS"}
        }
        # The server runs in SITE: a relative entry of the caller's PYTHONPATH (``src``) would
        # name another directory there, and the package be imported from elsewhere.
        caller = [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        path = os.pathsep.join([str(SITE), str(ROOT), *caller])
        env.update(
            DJANGO_SETTINGS_MODULE="tests.browser.live_settings",
            DATABASE_URL=f"sqlite:///{db}",
            SCC_LIVE_MEDIA_ROOT=str(db.parent / "media"),
            DEBUG="1",
            PYTHONPATH=path,
            PYTHONUNBUFFERED="1",
        )
        return env

    def manage(self, *args: str) -> str:
        """Run ``manage.py`` of the example site against the live database."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=SITE,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> LiveServer:
        if not self._prepared:
            self.manage("migrate", "--verbosity", "0")
            self.manage("seed_demo")
            self._prepared = True
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.browser.serve", str(self._listener.fileno())],
                cwd=SITE,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(self._listener.fileno(),),
            )
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        """Wait until the server answers the login page with 200.

        One request at a time, each waited for until it is answered: the listening socket
        holds it until the server is up. Polling with a 2 s timeout abandoned a request at
        each timeout, and the new server, whose sync views run one at a time, rendered
        every abandoned one before the current one. On a loaded machine a restart then took
        15-22 s and 7-9 abandoned requests, sometimes more than ``STARTUP_TIMEOUT``: the
        test failed, the guard's restart too, and every later browser test with it.
        """
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and self.running:
            if self._status(deadline) == 200:
                return
            time.sleep(0.1)  # answered with an error, or the connection dropped: ask again
        self.stop()
        raise RuntimeError(f"the live server did not start; its log:\n{self.log_tail()}")

    def _status(self, deadline: float) -> int | None:
        """The status of one GET of the login page, waited for until ``deadline`` or the
        server's exit; None without an answer."""
        request = f"GET /accounts/login/ HTTP/1.0\r\nHost: 127.0.0.1:{self.port}\r\n\r\n"
        head = b""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(request.encode())
                conn.settimeout(0.25)  # to notice an exit or the deadline meanwhile
                while b"\r\n" not in head and time.monotonic() < deadline and self.running:
                    try:
                        chunk = conn.recv(256)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    head += chunk
        except OSError:
            return None
        fields = head.split(b" ", 2)  # HTTP/1.1 200 OK
        return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None

    def stop(self) -> None:
        """Stop the server (SIGTERM: uvicorn closes the WebSockets), kill it if it hangs."""
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)

    @property
    def running(self) -> bool:
        """Whether the server process was started and has not exited."""
        return self._process is not None and self._process.poll() is None

    def ensure_running(self) -> None:
        """Start the server again if a test stopped it (or it died) and left it down."""
        if not self.running:
            self.stop()  # reaps an exited process
            self.start()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        self.stop()
        self._listener.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> LiveServer:
        try:
            return self.start()
        except BaseException:
            self.close()  # The listening socket and the temporary directory too.
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
