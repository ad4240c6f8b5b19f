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
    Locator,
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
    TIMEZONE,
    VIEWPORTS,
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
        # A "Captured stderr" section: the JUnit report carries it (junit_logging), and
        # scripts/dev.py repeats its warnings and errors at the end of a CI log.
        report.sections.append(("Captured stderr live server", log or "(empty)"))
    return report


def _require_chromium() -> None:
    _require(Path(CHROMIUM_PATH).exists(), f"Chromium is not installed at {CHROMIUM_PATH}")


@pytest.fixture(scope="package")
def live_site() -> Iterator[LiveServer]:
    _require_chromium()
    with LiveServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _live_site_guard(request: pytest.FixtureRequest, live_site: LiveServer) -> Iterator[None]:
    """Note where the server log stands; after the test, bring the server back if it is down.

    A test that restarts the server and fails between ``stop()`` and ``start()`` would
    otherwise fail every later browser test (each waiting on a server that never comes).
    """
    node: Any = request.node
    node._live_server = live_site
    node._live_log_start = live_site.log_path.stat().st_size
    yield
    live_site.ensure_running()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    _require_chromium()
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
def sessions() -> dict[str, StorageState]:
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
        options.setdefault("viewport", VIEWPORTS["desktop"])
        options.setdefault("timezone_id", TIMEZONE)
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


def csrf_token(page: Page) -> str:
    """The CSRF token of the page's session (its cookie)."""
    return next(c["value"] for c in page.context.cookies() if c.get("name") == "csrftoken")


class Api:
    """The chat's REST API called with a page's session (for test setup only)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        answer = self.page.request.fetch(
            f"/chat/api/{path}",
            method=method,
            headers={"X-CSRFToken": csrf_token(self.page), "Content-Type": "application/json"},
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


# --- Chat pages ---------------------------------------------------------------------------

XSS_IMG = '<img src=x onerror="window.__xss = 1">'
XSS_SCRIPT = "<script>window.__xss = 1</script>"
MESSAGES = "#message-list li.scc-message"


def composer(page: Page) -> Locator:
    return page.locator("#composer textarea[name=content]")


def send(page: Page, text: str) -> None:
    """Send a message from the page's composer, as a user does (Enter)."""
    box = composer(page)
    box.fill(text)
    box.press("Enter")


def message_action(message: Locator, action: str) -> None:
    """Choose ``action`` (``data-action``: edit, delete, copy-link) in a message's menu;
    a delete is confirmed in its dialog."""
    message.hover()
    message.locator(".scc-menu-button").click()
    message.locator(f'[role=menu] [data-action="{action}"]').click()
    if action == "delete":
        message.page.locator('dialog.scc-delete-dialog [data-action="confirm-delete"]').click()


def edit_inline(message: Locator, text: str) -> None:
    """Edit a message in place through its menu, as a user does (Enter saves)."""
    message_action(message, "edit")
    editor = message.locator(".scc-edit textarea")
    editor.fill(text)
    editor.press("Enter")


def tab_until(page: Page, selector: str, limit: int = 60) -> int:
    """Press Tab until the focused element matches ``selector``; return how many presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} not reached with {limit} presses of Tab")


def wait_until_live(page: Page) -> None:
    """Wait until the page's all-rooms socket is open: what it asks over the socket (a
    search, say) is then answered in place rather than by the fallback page."""
    expect(page.locator("html")).to_have_attribute("data-scc-socket", "open")


def wait_for_message_count(page: Page, count: int, timeout: float | None = None) -> None:
    """Wait until the conversation shows exactly ``count`` messages."""
    page.wait_for_function(
        f"n => document.querySelectorAll('{MESSAGES}').length === n", arg=count, timeout=timeout
    )


def scroll_to_oldest(page: Page) -> int:
    """Scroll up until chat.js has fetched every older page of history; the scrolls made."""
    scrolls = 0
    scroller = page.locator(".scc-scroll")
    while page.locator("#older").count():
        shown = page.locator(MESSAGES).count()
        scroller.evaluate("el => { el.scrollTop = -el.scrollHeight; }")
        page.wait_for_function(
            f"n => document.querySelectorAll('{MESSAGES}').length > n"
            " || !document.getElementById('older')",
            arg=shown,
        )
        scrolls += 1
    return scrolls
