"""Starting and stopping what a run needs: Redis, the PostgreSQL database, the servers.

Everything listens on 127.0.0.1 only. Processes are children of the harness and are
stopped by their own pid (never by name). Server output goes to ``bench/results/logs``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
LOG_DIR = RESULTS_DIR / "logs"
EXAMPLE_DIR = ROOT / "example_project"
HOST = "127.0.0.1"
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6390"))
REDIS_URL = f"redis://{HOST}:{REDIS_PORT}/0"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")


def raise_nofile(wanted: int = 65536) -> int:
    """Raise the soft open-files limit towards ``wanted`` (at most the hard limit).

    Children inherit it, so calling this in the harness covers the servers too.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout}s")


def python_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child Python: the repo and the example site on the path."""
    env = dict(os.environ)
    paths = [str(ROOT), str(EXAMPLE_DIR)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("PYTHONDEVMODE", None)
    env.update(extra)
    return env


class Service:
    """A child process listening on a port, stopped with SIGTERM then SIGKILL."""

    def __init__(self, name: str, argv: list[str], port: int, env: Mapping[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.port = port
        self.env = dict(env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = LOG_DIR / f"{name}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60) -> Service:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n=== {time.ctime()} {' '.join(self.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_for_port(self.port, timeout, self.proc)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def redis_service() -> Service:
    """The suite's own Redis (never the shared one on 6379): no persistence at all."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    argv = [binary, "--bind", HOST, "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no"]
    argv += ["--daemonize", "no", "--maxclients", "20000"]
    return Service("redis", argv, REDIS_PORT, os.environ)


def flush_redis() -> None:
    with socket.create_connection((HOST, REDIS_PORT), timeout=5) as sock:
        sock.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
        sock.recv(64)


@contextlib.contextmanager
def own_redis() -> Iterator[Service | None]:
    """The suite's Redis for the duration of the block (reused if already running)."""
    try:
        wait_for_port(REDIS_PORT, 0.2)
    except TimeoutError:
        with redis_service() as service:
            yield service
    else:
        yield None


def ensure_postgres_database(url: str = DATABASE_URL) -> None:
    """Create the database named in ``url`` when missing (psycopg, no shell)."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def migrate(database_url: str) -> None:
    env = python_env({"DJANGO_SETTINGS_MODULE": "bench.app_settings", "DATABASE_URL": database_url})
    subprocess.run(
        [sys.executable, str(EXAMPLE_DIR / "manage.py"), "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )


def sqlite_url(name: str) -> str:
    return f"sqlite:///{RESULTS_DIR / name}"
