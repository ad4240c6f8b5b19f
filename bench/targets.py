"""The servers under test: reference servers and the app, per ASGI server and layer.

Target names read ``<kind>-<server>-<layer>[-w<N>][-deflate][-wsproto|-lean]``: ``bare``
(reference ceiling), ``stock`` (reference Channels tutorial consumer) and ``app`` (the
example campus site, with its fan-out hub); ``-w2``: two uvicorn worker processes sharing
the port (Redis layers); ``-wsproto``: uvicorn's ``--ws wsproto`` WebSocket implementation
instead of its default (``websockets-sansio``); ``-lean``: the package's variant of that default
for many idle sockets (smartcampus_chat/infra/uvicorn_sockets.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench.harness import REDIS_URL, Service, free_port, python_env

BIN = Path(sys.executable).parent
#: The example site's ``CHAT_MAX_FRAME_BYTES``: app targets run as the project ships them,
#: the server refusing bigger frames (tests/test_server_limits.py keeps them equal).
APP_MAX_FRAME_BYTES = 65536
#: ``--ws`` values by the short names target names use.
WS_IMPLEMENTATIONS = {"lean": "smartcampus_chat.infra.uvicorn_sockets:WebSocketProtocol"}


@dataclass(frozen=True)
class Target:
    kind: str
    server: str
    layer: str
    workers: int = 1
    #: Clients ask for permessage-deflate (uvicorn offers it unless
    #: ``--ws-per-message-deflate false``): memory per connection with compression.
    deflate: bool = False
    #: uvicorn's ``--ws`` implementation; "" for its default.
    ws: str = ""

    @property
    def name(self) -> str:
        if self.kind == "bare":
            return "bare-websockets"
        suffix = f"-w{self.workers}" if self.workers > 1 else ""
        suffix += "-deflate" if self.deflate else ""
        suffix += f"-{self.ws}" if self.ws else ""
        return f"{self.kind}-{self.server}-{self.layer}{suffix}"

    @property
    def protocol(self) -> str:
        return self.kind

    @property
    def uses_redis(self) -> bool:
        return self.layer in ("redis", "pubsub")

    @property
    def uses_database(self) -> bool:
        return self.kind == "app"

    def service(self, database_url: str = "", extra_env: dict[str, str] | None = None) -> Service:
        port = free_port()
        env: dict[str, str] = {"BENCH_LAYER": self.layer, **(extra_env or {})}
        if self.uses_redis:
            env["REDIS_URL"] = REDIS_URL
        if self.kind == "bare":
            argv = [sys.executable, "-m", "bench.reference.bare_ws", "--port", str(port)]
            return Service(self.name, argv, port, python_env(env))
        if self.kind == "stock":
            app = "bench.reference.stock_channels:application"
            env["DJANGO_SETTINGS_MODULE"] = "bench.reference.stock_settings"
        else:
            app = "campus.asgi:application"
            env["DJANGO_SETTINGS_MODULE"] = "bench.app_settings"
            env["DATABASE_URL"] = database_url
        if self.server == "uvicorn":
            argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1"]
            argv += ["--port", str(port), "--lifespan", "off", "--no-access-log"]
            argv += ["--log-level", "warning", "--backlog", "4096"]
            if self.workers > 1:
                argv += ["--workers", str(self.workers)]
            if self.ws:
                argv += ["--ws", WS_IMPLEMENTATIONS.get(self.ws, self.ws)]
            if self.kind == "app":  # The product as shipped: the server bounds frames.
                argv += ["--ws-max-size", str(APP_MAX_FRAME_BYTES)]
        else:
            argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), app]
            argv += ["--access-log", "/dev/null", "-v", "0"]
            if self.kind == "app":
                argv += ["--websocket-max-message-size", str(APP_MAX_FRAME_BYTES)]
        return Service(self.name, argv, port, python_env(env))


BARE = Target("bare", "websockets", "none")
ALL_TARGETS: list[Target] = [
    BARE,
    *(Target("stock", s, layer) for s in ("uvicorn", "daphne") for layer in ("memory", "redis")),
    *(Target("stock", s, "pubsub") for s in ("uvicorn", "daphne")),
    *(Target("app", s, layer) for s in ("uvicorn", "daphne") for layer in ("memory", "redis")),
    Target("app", "uvicorn", "pubsub"),
    Target("app", "uvicorn", "redis", workers=2),
    Target("app", "uvicorn", "pubsub", workers=2),
    Target("app", "uvicorn", "redis", deflate=True),
    Target("app", "uvicorn", "redis", ws="wsproto"),
    Target("app", "uvicorn", "redis", ws="lean"),
    Target("stock", "uvicorn", "redis", ws="wsproto"),
]
BY_NAME = {target.name: target for target in ALL_TARGETS}


def select(names: list[str] | None, default: list[str]) -> list[Target]:
    """Targets named on the command line (``--targets``), or a workload's default."""
    chosen = names or default
    unknown = [name for name in chosen if name not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown target(s) {unknown}; known: {sorted(BY_NAME)}")
    return [BY_NAME[name] for name in chosen]
