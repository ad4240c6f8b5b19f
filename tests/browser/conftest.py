"""Fixtures of the browser suite: one live server and one Chromium for the whole package.

Everything here is package-scoped, not session-scoped, so Playwright's own event loop is
gone before the rest of the suite (pytest-asyncio tests) runs. Each test gets fresh browser
contexts (one per simulated user) through ``open_page``; logins go through the real login
form once per user, and later contexts reuse the stored session cookie.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    StorageState,
    expect,
    sync_playwright,
)

from tests.browser.live import (
    AXE_JS,
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    LiveServer,
    login_with_form,
)
from tests.conftest import _require

# Auto-waiting assertions give up after this long; the one-second delivery is measured.
expect.set_options(timeout=8_000)

OpenPage = Callable[..., Page]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Attach what the live server logged during a failed test to its report."""
    report = yield
    server: LiveServer | None = getattr(item, "_live_server", None)
    if report.failed and server is not None:
        start = getattr(item, "_live_log_start", 0)
        try:
            log = server.log_path.read_bytes()[start:].decode(errors="replace")
        except OSError:
            log = ""
        report.sections.append(("live server log", log or "(empty)"))
    return report


def chromium_available() -> bool:
    return Path(CHROMIUM_PATH).exists()


@pytest.fixture(scope="package")
def live_site() -> Iterator[LiveServer]:
    _require(chromium_available(), f"Chromium is not installed at {CHROMIUM_PATH}")
    with LiveServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _note_log_start(request: pytest.FixtureRequest, live_site: LiveServer) -> None:
    node: Any = request.node
    node._live_server = live_site
    node._live_log_start = live_site.log_path.stat().st_size


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    _require(chromium_available(), f"Chromium is not installed at {CHROMIUM_PATH}")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture(scope="package")
def sessions(browser: Browser, live_site: LiveServer) -> dict[str, StorageState]:
    """Storage state (session cookie) per user, filled on first use by ``open_page``."""
    return {}


@pytest.fixture
def open_page(
    browser: Browser, live_site: LiveServer, sessions: dict[str, StorageState]
) -> Iterator[OpenPage]:
    """Open a page in a new browser context, logged in as ``user`` (or anonymous).

    Keyword arguments go to ``Browser.new_context`` (``locale``, ``viewport``,
    ``color_scheme``...). Uncaught JavaScript errors on any page fail the test.
    """
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_page(user: str | None = None, path: str | None = None, **options: Any) -> Page:
        options.setdefault("locale", "en-US")
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("timezone_id", "Europe/Paris")
        if user is not None and user not in sessions:
            context = browser.new_context(base_url=live_site.url, locale="en-US")
            login_with_form(context.new_page(), user)
            sessions[user] = context.storage_state()
            context.close()
        context = browser.new_context(
            base_url=live_site.url,
            storage_state=sessions[user] if user else None,
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{user}: {exc}"))
        if path is not None:
            page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


class Api:
    """The chat's REST API called with a page's session (for test setup only)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def _headers(self) -> dict[str, str]:
        token = next(
            c["value"] for c in self.page.context.cookies() if c.get("name") == "csrftoken"
        )
        return {"X-CSRFToken": token, "Content-Type": "application/json"}

    def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        answer = self.page.request.fetch(
            f"/chat/api/{path}",
            method=method,
            headers=self._headers(),
            data=json.dumps(data) if data is not None else None,
        )
        assert answer.ok, f"{method} {path}: {answer.status} {answer.text()}"
        return answer.json() if answer.status != 204 else None

    def create_room(self, name: str, room_type: str = "public", **fields: Any) -> str:
        room = self.call("POST", "rooms/", {"name": name, "room_type": room_type, **fields})
        slug: str = room["slug"]
        return slug

    def join(self, slug: str) -> None:
        self.call("POST", f"rooms/{slug}/join/")

    def send(self, slug: str, content: str) -> dict[str, Any]:
        message: dict[str, Any] = self.call("POST", f"rooms/{slug}/messages/", {"content": content})
        return message


_names = itertools.count(1)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A room name no other test uses (the live database is shared by the package)."""

    def unique(prefix: str) -> str:
        return f"{prefix} {next(_names)}"

    return unique


@pytest.fixture
def room(open_page: OpenPage, unique: Callable[[str], str]) -> Callable[..., str]:
    """Create a public room owned by the first user and joined by the others."""

    def room(*users: str, name: str | None = None) -> str:
        owner, *others = users
        slug = Api(open_page(owner)).create_room(name or unique("Room"))
        for user in others:
            Api(open_page(user)).join(slug)
        return slug

    return room


@pytest.fixture(scope="package")
def axe_source() -> str:
    _require(AXE_JS.exists(), f"axe-core is missing: run npm ci --prefix {AXE_JS.parents[2]}")
    return str(AXE_JS)
