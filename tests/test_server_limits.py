"""Every server command the project ships bounds WebSocket frames at the server.

Channels sets no frame limit and the app's own check (``MAX_FRAME_BYTES``, close 1009)
only runs once a frame is in memory: a 15 MiB frame cost a worker started without
``--ws-max-size`` 30 MiB before the app closed it. The demo, the docs' commands, the
example site (daphne's ``runserver``), the test servers and the benchmark's app targets
all carry the site's frame limit, and that limit is the example site's ``MAX_FRAME_BYTES``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from bench.targets import ALL_TARGETS, APP_MAX_FRAME_BYTES

from smartcampus_chat.conf import DEFAULTS
from tests.servers import CHAT_MAX_FRAME_BYTES

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = (ROOT / "example_project" / "campus" / "settings.py").read_text()


def _site_limit() -> int:
    match = re.search(r"^CHAT_MAX_FRAME_BYTES = (\d+)$", SETTINGS, re.M)
    assert match, "campus.settings names its frame limit CHAT_MAX_FRAME_BYTES"
    return int(match.group(1))


def _dev_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scchat_dev_script", ROOT / "scripts" / "dev.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_example_site_gives_the_chat_and_daphne_the_same_limit() -> None:
    limit = _site_limit()
    assert '"MAX_FRAME_BYTES": CHAT_MAX_FRAME_BYTES' in SETTINGS
    assert "DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = CHAT_MAX_FRAME_BYTES" in SETTINGS
    assert "DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = CHAT_MAX_FRAME_BYTES" in SETTINGS
    assert limit == DEFAULTS["MAX_FRAME_BYTES"], "docs quote the default"


def test_the_demo_serves_with_the_sites_frame_limit() -> None:
    command = _dev_script().demo_command("python", 12345)
    assert command[command.index("--ws-max-size") + 1] == "12345"


def test_test_servers_and_bench_app_targets_use_the_sites_limit() -> None:
    assert _site_limit() == CHAT_MAX_FRAME_BYTES
    assert _site_limit() == APP_MAX_FRAME_BYTES
    for target in ALL_TARGETS:
        if target.kind != "app":
            continue
        argv = target.service("sqlite:///unused", {}).argv
        flag = "--ws-max-size" if target.server == "uvicorn" else "--websocket-max-message-size"
        assert argv[argv.index(flag) + 1] == str(_site_limit()), target.name


def test_every_documented_uvicorn_or_daphne_command_has_the_limit() -> None:
    limit = str(_site_limit())
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    seen = 0
    for page in pages:
        for line in page.read_text().splitlines():
            for command in re.findall(r"(?:^|`)\s*((?:uvicorn|daphne) [^`]*)", line):
                if ":application" not in command:
                    continue  # Prose about the server, not a command.
                seen += 1
                flag = "--ws-max-size" if command.startswith("uvicorn") else "--websocket-max"
                assert flag in command, f"{page.name}: {command}"
                assert limit in command, f"{page.name}: {command}"
    assert seen >= 3
