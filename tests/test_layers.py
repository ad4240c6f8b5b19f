"""The package's layering is a contract (docs/architecture.md).

``lint-imports`` enforces it in the lint step; these tests keep the public import paths that
hosts and the docs used before the package was regrouped by layer, and run the same
contract from the suite so a layering break fails where contributors look first.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("old_path", "new_path"),
    [
        ("smartcampus_chat.policies.ChatPolicy", "smartcampus_chat.domain.policies.ChatPolicy"),
        ("smartcampus_chat.policies.RoomAccess", "smartcampus_chat.domain.policies.RoomAccess"),
        ("smartcampus_chat.policies.get_policy", "smartcampus_chat.domain.policies.get_policy"),
        (
            "smartcampus_chat.events.notify_access_changed",
            "smartcampus_chat.realtime.events.notify_access_changed",
        ),
        (
            "smartcampus_chat.events.notify_session_changed",
            "smartcampus_chat.realtime.events.notify_session_changed",
        ),
        (
            "smartcampus_chat.tickets.issue_ticket",
            "smartcampus_chat.realtime.tickets.issue_ticket",
        ),
    ],
)
def test_public_import_paths_keep_working(old_path: str, new_path: str) -> None:
    def resolve(path: str) -> object:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)

    assert resolve(old_path) is resolve(new_path)


def test_the_public_doors_still_import() -> None:
    routing = importlib.import_module("smartcampus_chat.routing")
    urls = importlib.import_module("smartcampus_chat.urls")
    api_urls = importlib.import_module("smartcampus_chat.api.urls")
    assert routing.websocket_urlpatterns
    assert urls.urlpatterns
    assert api_urls.urlpatterns


def test_imports_point_down() -> None:
    """The import-linter contract of pyproject.toml holds (imports inside functions too)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
