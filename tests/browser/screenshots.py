"""Screenshots of the chat for the docs, taken from a live example site with demo data.

    python -m tests.browser.screenshots               # the shots shown in the docs
    python -m tests.browser.screenshots --all --out /tmp/shots   # every combination

Run it from the repository root with the test requirements installed (Playwright, uvicorn)
and Debian's Chromium at ``/usr/bin/chromium`` (or ``CHROMIUM_PATH``). Every combination of
page (room list, conversation), size (desktop 1280x800, phone 375x667), language (en, fr)
and colour scheme (light, dark) is available; ``DOCS_SHOTS`` are the ones committed under
``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.live import (
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    ROOT,
    TIMEZONE,
    VIEWPORTS,
    LiveServer,
    login_with_form,
)

Scheme = Literal["light", "dark"]
SCHEMES: tuple[Scheme, ...] = ("light", "dark")
LOCALES = {"en": "en-US", "fr": "fr-FR"}
PAGES = {"rooms": "/chat/", "conversation": "/chat/room/general/"}


@dataclass(frozen=True)
class Shot:
    page: str
    size: str
    language: str
    scheme: Scheme

    @property
    def filename(self) -> str:
        return f"{self.page}-{self.size}-{self.language}-{self.scheme}.png"


DOCS_SHOTS = [
    Shot("rooms", "desktop", "en", "light"),
    Shot("conversation", "desktop", "en", "light"),
    Shot("conversation", "desktop", "en", "dark"),
    Shot("rooms", "desktop", "fr", "dark"),
    Shot("rooms", "phone", "en", "light"),
    Shot("conversation", "phone", "en", "dark"),
    Shot("conversation", "phone", "fr", "light"),
]
ALL_SHOTS = [
    Shot(page, size, language, scheme)
    for page, size, language, scheme in itertools.product(PAGES, VIEWPORTS, LOCALES, SCHEMES)
]


def open_as(browser: Browser, server: LiveServer, user: str, path: str, **options: Any) -> Page:
    """A page of a new browser context, logged in as ``user``, at ``path``."""
    page = browser.new_context(base_url=server.url, **options).new_page()
    login_with_form(page, user)
    page.goto(path)
    return page


def take(browser: Browser, server: LiveServer, shot: Shot, out: Path, viewer: str) -> Path:
    page = open_as(
        browser,
        server,
        viewer,
        PAGES[shot.page],
        viewport=VIEWPORTS[shot.size],
        device_scale_factor=1,
        is_mobile=shot.size == "phone",
        has_touch=shot.size == "phone",
        locale=LOCALES[shot.language],
        color_scheme=shot.scheme,
        reduced_motion="reduce",
        timezone_id=TIMEZONE,
    )
    try:
        expect(page.locator("html")).to_have_attribute("data-bs-theme", shot.scheme)
        expect(page.locator("#connection-banner")).to_be_hidden()
        page.evaluate("document.fonts.ready.then(() => true)")
        path = out / shot.filename
        page.screenshot(path=str(path), animations="disabled", caret="hide")
        return path
    finally:
        page.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--all", action="store_true", help="every combination, not the docs' set")
    parser.add_argument("--user", default="alice", help="demo user the pages are seen by")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    shots = ALL_SHOTS if args.all else DOCS_SHOTS
    with LiveServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            # Bob has the conversation open too: the participant list shows someone online.
            bob = open_as(browser, server, "bob", PAGES["conversation"])
            for shot in shots:
                path = take(browser, server, shot, args.out, args.user)
                print(f"{path}  {path.stat().st_size // 1024} KiB")
            bob.context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
