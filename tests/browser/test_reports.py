"""Reports in the browser: a member reports another's message from its menu (a dialog:
a category, a note); the room's moderator sees it arrive live in the details panel's
"Moderation" section and deletes the message from there; the reporter is told the outcome
(never who acted), and the message is gone from every open page."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.browser.conftest import Api, OpenPage, wait_until_live


def test_report_to_the_moderators_panel_live_then_delete_and_the_reporter_told(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob", "chloe")  # alice owns the room: she moderates it
    Api(open_page("bob")).send(slug, "Buy cheap essays at essays.example")
    alice = open_page("alice", f"/chat/room/{slug}/")
    wait_until_live(alice)
    panel = alice.locator("#scc-moderation")
    expect(panel.locator(".scc-queue-empty")).to_be_visible()
    chloe = open_page("chloe", f"/chat/room/{slug}/")
    wait_until_live(chloe)

    message = chloe.locator(".scc-message", has_text="Buy cheap essays")
    message.hover()
    menu_button = message.locator(".scc-menu-button")
    menu_button.click()
    message.locator('[role=menu] [data-action="report"]').click()
    dialog = chloe.locator("dialog.scc-report-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Spam")).to_be_focused()  # the first category, checked
    dialog.get_by_label("Off topic").check()
    dialog.get_by_label("Note for the moderators (optional)").fill("Ads in the course room")
    dialog.get_by_role("button", name="Report").click()
    expect(dialog).to_have_count(0)
    expect(menu_button).to_be_focused()  # the focus is given back
    expect(chloe.locator("#live-region")).to_contain_text("the room's moderators will look")

    item = panel.locator(".scc-queue-item")
    expect(item).to_have_count(1)  # live: no reload
    expect(item).to_contain_text("Reported as Off topic by Chloé Bernard")
    expect(item).to_contain_text("Buy cheap essays at essays.example")
    expect(item).to_contain_text("Ads in the course room")
    expect(panel.locator(".scc-queue-count")).to_have_text("1")
    item.get_by_role("button", name="Delete").click()
    expect(panel.locator(".scc-queue-empty")).to_be_visible()

    expect(chloe.locator("#live-region")).to_have_text(
        f"Your report in {chloe.locator('#scc-room-title').inner_text().strip()}: Message deleted."
    )
    expect(chloe.locator(".scc-message .scc-content", has_text="Buy cheap")).to_have_count(0)
    # A member has no panel and no "Mute author".
    expect(chloe.locator("#scc-moderation")).to_have_count(0)


def test_the_report_dialog_is_keyboard_only_and_escape_cancels(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    Api(open_page("alice")).send(slug, "Welcome all")
    bob = open_page("bob", f"/chat/room/{slug}/")
    wait_until_live(bob)
    message = bob.locator(".scc-message", has_text="Welcome all")
    message.hover()
    menu_button = message.locator(".scc-menu-button")
    menu_button.focus()
    bob.keyboard.press("Enter")
    report = message.locator('[role=menu] [data-action="report"]')
    expect(report).to_be_visible()
    expect(message.locator('[role=menu] [data-action="mute-author"]')).to_have_count(0)
    report.focus()
    bob.keyboard.press("Enter")
    dialog = bob.locator("dialog.scc-report-dialog")
    expect(dialog).to_be_visible()
    bob.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(menu_button).to_be_focused()
