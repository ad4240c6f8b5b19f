"""Reactions in the browser: "React" in a message's menu opens the picker (search by name,
arrows, Enter), the chip shows live for everyone, pressed for those who reacted; a click on
a chip toggles one's own reaction; after a reload the server renders the same chips; the
picker's names follow the page's language and Esc closes it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import MESSAGES, OpenPage, message_action, send


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES, has=page.locator(".scc-content", has_text=text))


def chip(page: Page, text: str, emoji: str) -> Locator:
    return message(page, text).locator(f'.scc-reaction[data-emoji="{emoji}"]')


def test_reacting_live_toggling_and_after_a_reload(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    send(alice, "The exam moved to Friday")
    expect(message(bob, "exam moved")).to_have_count(1)
    expect(bob.locator("#participants .scc-online")).to_have_count(2)

    message_action(message(alice, "exam moved"), "react")
    picker = alice.locator(".scc-picker")
    search = picker.get_by_role("searchbox", name="Search emoji")
    expect(search).to_be_focused()
    search.fill("party")
    expect(picker.locator(".scc-picker-grid button:not([hidden])")).to_have_count(1)
    search.press("ArrowDown")
    expect(picker.get_by_role("button", name="party popper")).to_be_focused()
    alice.keyboard.press("Enter")
    expect(picker).to_have_count(0)
    expect(message(alice, "exam moved").locator(".scc-menu-button")).to_be_focused()

    for page, pressed in ((alice, "true"), (bob, "false")):
        party = chip(page, "exam moved", "🎉")
        expect(party.locator(".scc-reaction-count")).to_have_text("1")
        expect(party).to_have_attribute("aria-pressed", pressed)
    chip(bob, "exam moved", "🎉").click()
    for page in (alice, bob):
        expect(chip(page, "exam moved", "🎉").locator(".scc-reaction-count")).to_have_text("2")
    expect(chip(bob, "exam moved", "🎉")).to_have_attribute("aria-pressed", "true")
    expect(chip(alice, "exam moved", "🎉")).to_have_attribute("title", "Alice Durand, Bob Martin")

    alice.reload()
    party = chip(alice, "exam moved", "🎉")
    expect(party.locator(".scc-reaction-count")).to_have_text("2")
    expect(party).to_have_attribute("aria-pressed", "true")
    party.click()  # a server-rendered chip toggles too
    for page in (alice, bob):
        expect(chip(page, "exam moved", "🎉").locator(".scc-reaction-count")).to_have_text("1")
    expect(chip(alice, "exam moved", "🎉")).to_have_attribute("aria-pressed", "false")
    chip(bob, "exam moved", "🎉").click()
    for page in (alice, bob):
        expect(message(page, "exam moved").locator(".scc-reactions")).to_be_hidden()


def test_the_picker_speaks_french_and_escape_closes_it(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/", locale="fr-FR")
    send(page, "Bonjour")
    message_action(message(page, "Bonjour"), "react")
    picker = page.locator(".scc-picker")
    expect(picker).to_have_attribute("aria-label", "Ajouter une réaction")
    picker.get_by_role("searchbox").fill("pouce")
    expect(picker.locator(".scc-picker-grid button:not([hidden])")).to_have_count(2)
    picker.get_by_role("searchbox").fill("zzz")
    expect(picker.locator(".scc-picker-empty")).to_have_text("Aucun emoji trouvé")
    page.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    expect(message(page, "Bonjour").locator(".scc-menu-button")).to_be_focused()
