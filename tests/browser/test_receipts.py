"""Read receipts in the browser: "Seen by" appears live under the message a member read
(and moves when they read on or send), is rendered by the server after a reload, and goes
for everyone once a member turns receipts off on the preferences page."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import MESSAGES, OpenPage, send


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES, has=page.locator(".scc-content", has_text=text))


def test_seen_by_live_after_a_reload_and_turned_off(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob", name="Receipts")
    alice = open_page("alice", f"/chat/room/{slug}/")
    send(alice, "Homework is due Monday")
    expect(message(alice, "due Monday").locator(".scc-receipts")).to_be_hidden()

    bob = open_page("bob", f"/chat/room/{slug}/")  # opening the room reads it
    seen = message(alice, "due Monday").locator(".scc-receipts")
    expect(seen).to_have_text("Seen by Bob Martin")
    send(alice, "And the quiz on Tuesday")
    expect(message(bob, "quiz on Tuesday")).to_have_count(1)
    expect(message(alice, "quiz on Tuesday").locator(".scc-receipts")).to_have_text(
        "Seen by Bob Martin"
    )
    expect(seen).to_be_hidden()  # the receipt moved to the newest message bob read

    alice.reload()
    expect(message(alice, "quiz on Tuesday").locator(".scc-receipts")).to_have_text(
        "Seen by Bob Martin"
    )

    bob.goto(bob.url.split("/chat/")[0] + "/chat/preferences/")
    box = bob.get_by_label("Read receipts")
    expect(box).to_be_checked()
    box.uncheck()
    bob.get_by_role("button", name="Save").click()
    expect(bob.get_by_label("Read receipts")).not_to_be_checked()
    alice.reload()
    expect(alice.locator(".scc-receipts:not([hidden])")).to_have_count(0)
