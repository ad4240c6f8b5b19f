"""@mentions in the browser: the composer's autocomplete (by keyboard, announced, no axe
violation while open), the mention highlighted for the person mentioned, live and after a
reload, and the room list's "@1" badge, gone once the room is read."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import MESSAGES, OpenPage
from tests.browser.test_accessibility import axe_violations, describe

MENTIONS_ME = re.compile(r"\bscc-mentions-me\b")


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES, has=page.locator(".scc-content", has_text=text))


def composer(page: Page) -> Locator:
    return page.locator("#composer textarea[name=content]")


def test_autocomplete_highlight_and_the_mention_badge(
    open_page: OpenPage, axe_source: str, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob", name="Mentions")
    elsewhere = room("alice", name="Elsewhere")
    alice = open_page("alice", f"/chat/room/{elsewhere}/")
    bob = open_page("bob", f"/chat/room/{slug}/", bypass_csp=True)

    box = composer(bob)
    box.press_sequentially("thanks @ali")
    options = bob.get_by_role("listbox", name="Mention someone").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Alice Durand")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "scc-mention-option-0")
    expect(bob.locator("#live-region")).to_have_text("1 suggestion, Enter to insert")
    violations = axe_violations(bob, axe_source)
    assert not violations, describe(violations)
    box.press("Enter")  # inserts, does not send
    expect(box).to_have_value("thanks @alice ")
    expect(bob.get_by_role("listbox")).to_have_count(0)
    box.press_sequentially("for the notes")
    box.press("Enter")

    sent = message(bob, "for the notes")
    expect(sent.locator(".scc-mention")).to_have_text("@Alice Durand")
    expect(sent).not_to_have_class(MENTIONS_ME)  # bob is not mentioned

    badge = alice.locator(f'li[data-room="{slug}"] .scc-mentions')
    expect(badge).to_be_visible()
    expect(badge).to_have_text("@1")
    alice.locator(f'li[data-room="{slug}"] a').click()
    mine = message(alice, "for the notes")
    expect(mine).to_have_class(MENTIONS_ME)
    expect(mine.locator(".scc-mention")).to_have_class(re.compile(r"\bscc-mention-me\b"))
    expect(badge).to_be_hidden()  # the room is read

    # Live: the span that names the reader is marked too.
    bob.bring_to_front()
    box.fill("@alice again")
    box.press("Escape")  # closes the list if it opened; the text stays
    expect(box).to_have_value("@alice again")
    box.press("Enter")
    live = message(alice, "again")
    expect(live.locator(".scc-mention-me")).to_have_text("@Alice Durand")
    expect(live).to_have_class(MENTIONS_ME)
