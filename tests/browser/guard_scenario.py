"""Not collected on its own (the name is not ``test_*.py``): run by
``test_live_site_guard.py`` in a pytest subprocess. The first test stops the live server and
fails before starting it again, as a failing reconnection test would; the second one, which
comes after it, needs the server."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage
from tests.browser.live import LiveServer


def test_fails_while_the_server_is_stopped(live_site: LiveServer) -> None:
    live_site.stop()
    pytest.fail("deliberate failure between stop() and start()")


def test_a_later_test_finds_the_server_up(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    open_page("bob", f"/chat/room/{slug}/")
    expect(
        alice.locator("#participants li", has_text="Bob Martin").locator(".scc-presence")
    ).to_have_class(re.compile(r"\bscc-online\b"))
