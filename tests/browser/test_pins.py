"""Pins in the browser: a moderator pins a message from its menu; the pin shows by its
time and the details panel's "Pinned" list gains it, live for every reader; a member's
menu offers no pin; unpinning empties the list; the list's link opens the message."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import MESSAGES, OpenPage, message_action, send


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES, has=page.locator(".scc-content", has_text=text))


def open_menu_items(page: Page, text: str) -> list[str]:
    node = message(page, text)
    node.hover()
    node.locator(".scc-menu-button").click()
    items = node.locator("[role=menu] [role=menuitem]").all_text_contents()
    page.keyboard.press("Escape")
    return [item.strip() for item in items]


def test_a_moderator_pins_and_everyone_sees_it_live(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")  # alice owns the room: she moderates it
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    send(bob, "The exam is on **Friday** in B12")
    expect(message(alice, "The exam")).to_have_count(1)
    assert "Pin" not in open_menu_items(bob, "The exam")

    message_action(message(alice, "The exam"), "pin")
    for page in (alice, bob):
        expect(message(page, "The exam").locator(".scc-pin")).to_be_visible()
        pinned = page.locator(".scc-pinned-list li")
        expect(pinned).to_have_count(1)
        expect(pinned.locator(".scc-pinned-author")).to_have_text("Bob Martin")
        expect(pinned.locator(".scc-pinned-excerpt")).to_have_text("The exam is on Friday in B12")
        expect(page.locator(".scc-pinned-count")).to_have_text("1")
    assert "Unpin" in open_menu_items(alice, "The exam")

    bob.reload()
    expect(bob.locator(".scc-pinned-list li")).to_have_count(1)
    expect(message(bob, "The exam").locator(".scc-pin")).to_be_visible()

    message_action(message(alice, "The exam"), "pin")  # "Unpin" now
    for page in (alice, bob):
        expect(page.locator(".scc-pinned-list li")).to_have_count(0)
        expect(page.locator(".scc-pinned-empty")).to_be_visible()
        expect(message(page, "The exam").locator(".scc-pin")).to_be_hidden()
