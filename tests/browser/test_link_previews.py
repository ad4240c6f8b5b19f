"""Link previews in the browser, with the XSS corpus as the pages' titles, descriptions and
site names: the cards arrive live (js/chat/previews.js renders message.preview) and are
rendered by the server after a reload, both as text only (the DOM audit of test_xss.py,
every payload's text shown exactly); only the author has the remove button, and removing
a card removes it live for the other reader.

The live site here is its own (tests/browser/preview_settings.py): link previews on, every
fetch routed by a fake DNS to a page server inside the site's process (preview_pages.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from smartcampus_chat.markup.opengraph import MAX_DESCRIPTION, MAX_SITE_NAME, MAX_TITLE, clean_text
from tests.browser.conftest import MESSAGES, Api, OpenPage, _require_chromium
from tests.browser.live import LiveServer
from tests.browser.test_xss import Watcher
from tests.xss_corpus import PAYLOADS

#: The pages previewed: every 16th of the corpus's pages (two payloads each, every class),
#: fewer than a page of history (PAGE_SIZE, 50) so the reloaded page shows them all.
PAGES = list(range(0, len(PAYLOADS) // 2, 16))
CARDS = "#message-list .scc-link-preview:not([hidden])"
READ_CARDS = """() => [...document.querySelectorAll('#message-list li.scc-message')].map(li => {
  const card = li.querySelector('.scc-link-preview');
  const text = (name) => {
    const el = card && card.querySelector('.scc-link-preview-' + name);
    return el ? el.textContent : null;
  };
  return {
    href: card && !card.hidden ? card.querySelector('a').getAttribute('href') : null,
    title: text('title'), description: text('description'), site: text('site'),
    image: card ? !!card.querySelector('img.scc-link-preview-image') : false,
    remove: card ? !!card.querySelector('.scc-link-preview-remove') : false,
  };
}).filter(card => card.href)"""


@pytest.fixture(scope="module")
def live_site() -> Iterator[LiveServer]:
    _require_chromium()
    server = LiveServer()
    server.env["DJANGO_SETTINGS_MODULE"] = "tests.browser.preview_settings"
    with server:
        yield server


@pytest.fixture(scope="module")
def sessions() -> dict[str, Any]:
    return {}  # logins of this module's own site


def expected(page: int) -> dict[str, Any]:
    title = PAYLOADS[2 * page].text
    return {
        "href": f"http://news.example/xss/{page}",
        "title": clean_text(title, MAX_TITLE),
        "description": clean_text(PAYLOADS[2 * page + 1].text, MAX_DESCRIPTION),
        "site": clean_text(title, MAX_SITE_NAME),
        "image": True,
    }


def cards(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(READ_CARDS)
    return found


def test_hostile_previews_are_text_live_and_server_rendered_and_only_the_author_removes(
    open_page: OpenPage, room: Any, live_site: LiveServer
) -> None:
    watcher = Watcher(live_site.url)
    slug = room("alice", "bob")
    bob = watcher.attach(open_page("bob", bypass_csp=True))
    watcher.goto(bob, f"/chat/room/{slug}/")
    alice = watcher.attach(open_page("alice", bypass_csp=True))
    watcher.goto(alice, f"/chat/room/{slug}/")
    api = Api(alice)
    for page in PAGES:
        api.send(slug, f"see http://news.example/xss/{page}")
    want = [expected(page) for page in PAGES]

    with watcher.reporting(bob):
        bob.wait_for_function(
            f"n => document.querySelectorAll('{CARDS}').length === n",
            arg=len(PAGES),
            timeout=60_000,
        )
    watcher.audit(bob)
    shown = cards(bob)
    assert [{k: v for k, v in card.items() if k != "remove"} for card in shown] == want
    assert not any(card["remove"] for card in shown)  # not bob's messages

    watcher.goto(bob, f"/chat/room/{slug}/")  # the server's rendering
    watcher.audit(bob)
    shown = cards(bob)
    assert [{k: v for k, v in card.items() if k != "remove"} for card in shown] == want
    assert not any(card["remove"] for card in shown)
    # The image is the server's re-encoding (600 px wide), served to a reader of the room.
    image = bob.locator("img.scc-link-preview-image").last
    image.scroll_into_view_if_needed()
    bob.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert bob.evaluate("img => img.naturalWidth", image.element_handle()) == 600

    watcher.audit(alice)
    assert all(card["remove"] for card in cards(alice))
    first = (
        alice.locator(MESSAGES).filter(has=alice.locator(".scc-link-preview:not([hidden])")).first
    )
    first.get_by_role("button", name="Remove the link preview").click()
    expect(bob.locator(CARDS)).to_have_count(len(PAGES) - 1)
    expect(alice.locator(CARDS)).to_have_count(len(PAGES) - 1)
    assert cards(bob)[0]["href"] == want[1]["href"]
    watcher.assert_clean()
