"""The app shell (issue #16): switching rooms without a page load, back/forward, drafts,
scroll positions, live unread badges and tab title, the phone layout, the keyboard, and
the rough edges 2, 5 and 8, through the real client and server in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import MESSAGES, Api, OpenPage, composer, send, tab_until
from tests.browser.test_accessibility import axe_violations, describe

PHONE = {"width": 390, "height": 844}


def sidebar_link(page: Page, slug: str) -> str:
    return f'#my-rooms li[data-room="{slug}"] a'


def pane(page: Page, slug: str) -> object:
    return page.locator(f'#scc-pane .scc-room[data-room="{slug}"]')


def open_room(page: Page, slug: str) -> None:
    """Click the room in the sidebar; wait for its pane (and its socket's snapshot)."""
    page.locator(sidebar_link(page, slug)).click()
    expect(page.locator(f'#scc-pane .scc-room[data-room="{slug}"]')).to_be_visible()
    expect(page).to_have_url(re.compile(f"/chat/room/{slug}/$"))


def mark(page: Page) -> None:
    page.evaluate("window.__sccMarker = 1")


def still_marked(page: Page) -> bool:
    return bool(page.evaluate("window.__sccMarker === 1"))


def test_switching_rooms_keeps_the_page_and_back_forward_restore_the_room(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    first, second = room("alice"), room("alice")
    Api(open_page("alice")).send(second, "in the second room")
    page = open_page("alice", f"/chat/room/{first}/")
    mark(page)
    open_room(page, second)
    expect(page.locator(MESSAGES, has_text="in the second room")).to_have_count(1)
    assert still_marked(page), "the page was reloaded"
    expect(page.locator(f'{sidebar_link(page, second)}[aria-current="page"]')).to_have_count(1)

    page.go_back()
    expect(pane(page, first)).to_be_visible()
    expect(page).to_have_url(re.compile(f"/chat/room/{first}/$"))
    page.go_forward()
    expect(pane(page, second)).to_be_visible()
    assert still_marked(page)

    # Live delivery follows the open room after switching: a message sent there shows once.
    send(page, "after switching")
    expect(page.locator(MESSAGES, has_text="after switching")).to_have_count(1)
    expect(page.locator("#message-list li.scc-pending")).to_have_count(0)
    page.reload()
    expect(page.locator(MESSAGES, has_text="after switching")).to_have_count(1)


def test_drafts_survive_switching_and_reloading(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    first, second = room("alice"), room("alice")
    page = open_page("alice", f"/chat/room/{first}/")
    composer(page).fill("half a thought")
    open_room(page, second)
    expect(composer(page)).to_have_value("")
    composer(page).fill("another draft")
    open_room(page, first)
    expect(composer(page)).to_have_value("half a thought")
    page.reload()
    expect(composer(page)).to_have_value("half a thought")
    open_room(page, second)
    expect(composer(page)).to_have_value("another draft")
    # Sent: the draft is gone.
    send(page, "another draft")
    open_room(page, first)
    open_room(page, second)
    expect(composer(page)).to_have_value("")


def test_scroll_position_is_kept_per_room(open_page: OpenPage, room: Callable[..., str]) -> None:
    long, other = room("alice"), room("alice")
    api = Api(open_page("alice"))
    for n in range(18):  # (under the send rate's burst)
        api.send(long, f"line {n}\n" * 4)
    page = open_page("alice", f"/chat/room/{long}/")
    scroller = page.locator(".scc-scroll")
    scroller.evaluate("el => { el.scrollTop = -300; }")
    kept = scroller.evaluate("el => el.scrollTop")
    assert kept < -100
    open_room(page, other)
    open_room(page, long)
    assert abs(page.locator(".scc-scroll").evaluate("el => el.scrollTop") - kept) < 2


def test_unread_badge_tab_title_and_favicon_follow_other_rooms_live(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    here, elsewhere = room("alice", "bob"), room("bob", "alice")
    page = open_page("alice", f"/chat/room/{here}/")
    # Other tests' rooms may be unread already (the live database is shared): count on.
    before = page.evaluate(
        """() => [...document.querySelectorAll("#my-rooms .scc-unread:not([hidden])")]
                   .reduce((sum, badge) => sum + Number(badge.textContent), 0)"""
    )
    prefix = f"({before}) " if before else ""
    expect(page).to_have_title(re.compile(rf"^{re.escape(prefix)}Room \d+ · SmartCampus$"))
    badge = page.locator(f'#my-rooms li[data-room="{elsewhere}"] .scc-unread')
    expect(badge).to_be_hidden()

    bob = open_page("bob", f"/chat/room/{elsewhere}/")
    send(bob, "psst")
    expect(badge).to_have_text("1")
    expect(page).to_have_title(re.compile(rf"^\({before + 1}\) "))
    expect(page.locator("#scc-favicon")).to_have_attribute("href", re.compile("favicon-unread"))
    # Rough edge 8: the live preview keeps the author (display name), as the server renders it.
    expect(page.locator(f'#my-rooms li[data-room="{elsewhere}"] .scc-preview')).to_have_text(
        "Bob Martin: psst"
    )
    send(bob, "again")
    expect(page).to_have_title(re.compile(rf"^\({before + 2}\) "))

    # Opening the room reads it: the badge and its count in the title go.
    open_room(page, elsewhere)
    expect(badge).to_be_hidden()
    if before:
        expect(page).to_have_title(re.compile(rf"^\({before}\) "))
    else:
        expect(page).to_have_title(re.compile(r"^[^(]"))
        expect(page.locator("#scc-favicon")).not_to_have_attribute(
            "href", re.compile("favicon-unread")
        )


def test_phone_layout_sidebar_screen_then_room_then_back(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", "/chat/", viewport=PHONE)
    mark(page)
    expect(page.locator("#scc-sidebar")).to_be_visible()
    expect(page.locator("#scc-pane")).to_be_hidden()
    open_room(page, slug)
    expect(page.locator("#scc-sidebar")).to_be_hidden()
    expect(composer(page)).to_be_visible()
    page.locator("#scc-pane .scc-back").click()
    expect(page.locator("#scc-sidebar")).to_be_visible()
    expect(page).to_have_url(re.compile("/chat/$"))
    # The browser's back button returns to the room, its forward to the list.
    page.go_back()
    expect(composer(page)).to_be_visible()
    expect(page.locator("#scc-sidebar")).to_be_hidden()
    page.go_forward()
    expect(page.locator("#scc-sidebar")).to_be_visible()
    assert still_marked(page)


def test_keyboard_reaches_a_room_in_the_sidebar_then_its_composer(
    open_page: OpenPage, room: Callable[..., str], unique: Callable[[str], str]
) -> None:
    name = unique("Keyboard")
    slug = room("alice", name=name)
    page = open_page("alice", "/chat/")
    # The filter box comes first (after the sidebar's bell, preferences and "+"); typing
    # narrows the list, as a keyboard user would.
    tab_until(page, "#scc-room-filter", limit=11)
    page.keyboard.type(name)
    tab_until(page, f'#my-rooms li[data-room="{slug}"] a', limit=20)
    page.keyboard.press("Enter")
    expect(pane(page, slug)).to_be_visible()
    # The switch puts the reader in the composer.
    expect(composer(page)).to_be_focused()
    page.keyboard.type("typed with the keyboard")
    page.keyboard.press("Enter")
    expect(page.locator(MESSAGES, has_text="typed with the keyboard")).to_have_count(1)


def test_sections_collapse_with_a_button_and_stay_collapsed(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", "/chat/")
    toggle = page.locator('section[data-section="public"] .scc-section-toggle')
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator(sidebar_link(page, slug))).to_be_hidden()
    page.reload()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.press("Enter")
    expect(page.locator(sidebar_link(page, slug))).to_be_visible()


def test_details_panel_closes_and_counts_members_live(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    page = open_page("alice", f"/chat/room/{slug}/")
    count = page.locator(".scc-member-count")
    expect(count).to_have_text("2 members")
    # Rough edge 5: someone joins: the count follows, the new row looks like the others.
    Api(open_page("chloe")).join(slug)
    expect(count).to_have_text("3 members")
    chloe = page.locator("#participants li", has_text="Chloé Bernard")
    expect(chloe).to_have_class(re.compile(r"\bscc-participant\b"))
    expect(chloe.locator(".scc-participant-name")).to_have_attribute("title", "Chloé Bernard")

    toggle = page.locator(".scc-details-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(page.locator("#scc-details")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.reload()
    expect(page.locator("#scc-details")).to_be_hidden()
    page.locator(".scc-details-toggle").click()
    expect(page.locator("#scc-details")).to_be_visible()


def test_posting_without_joining_makes_a_member_seen_online(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    """Rough edge 2: the notice goes, and the others see the new member online, live."""
    slug = room("alice")
    alice = open_page("alice", f"/chat/room/{slug}/")
    chloe = open_page("chloe", f"/chat/room/{slug}/")
    expect(chloe.locator(".scc-join")).to_be_visible()
    send(chloe, "hello without joining")
    expect(chloe.locator(".scc-join")).to_have_count(0)
    expect(chloe.locator(f'#my-rooms li[data-room="{slug}"]')).to_have_count(1)
    presence = alice.locator("#participants li", has_text="Chloé Bernard").locator(".scc-presence")
    expect(presence).to_have_class(re.compile(r"\bscc-online\b"))
    expect(alice.locator(MESSAGES, has_text="hello without joining")).to_have_count(1)


def test_the_shell_is_axe_clean_after_switching(
    open_page: OpenPage, room: Callable[..., str], axe_source: str
) -> None:
    first, second = room("alice", "bob"), room("alice")
    for scheme in ("light", "dark"):
        page = open_page("alice", f"/chat/room/{first}/", color_scheme=scheme, bypass_csp=True)
        open_room(page, second)
        violations = axe_violations(page, axe_source)
        assert not violations, describe(violations)
    phone = open_page("alice", "/chat/", viewport=PHONE, bypass_csp=True)
    violations = axe_violations(phone, axe_source)
    assert not violations, describe(violations)


def test_the_conversation_works_in_a_room_reached_by_switching(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    """Menu by keyboard, inline edit, day separators and jump-to-latest bind to the pane
    the shell swapped in, not to the pane the page was loaded with."""
    first, second = room("alice", "bob"), room("alice", "bob")
    Api(open_page("bob")).send(second, "from bob, before")
    page = open_page("alice", f"/chat/room/{first}/")
    mark(page)
    open_room(page, second)
    assert still_marked(page), "the page was reloaded"
    expect(composer(page)).to_be_focused()
    # A message of the switched-to room: one tab stop, its menu by keyboard.
    node = page.locator(MESSAGES, has_text="from bob, before")
    node.focus()
    node.press("Enter")
    menu = node.locator("[role=menu]")
    # She owns the room: she deletes others' messages and mutes their authors.
    expect(menu.get_by_role("menuitem")).to_have_text(
        ["Reply", "React", "Pin", "Copy link", "Report", "Mute author", "Delete"]
    )
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    # Alt+Shift+M reaches the new pane's composer; ↑ edits my last message in place.
    page.keyboard.press("Alt+Shift+M")
    expect(composer(page)).to_be_focused()
    send(page, "mine, after switching")
    mine = page.locator(MESSAGES, has_text="mine, after switching")
    expect(mine).not_to_have_class(re.compile("scc-pending"))
    composer(page).press("ArrowUp")
    editor = mine.locator(".scc-edit textarea")
    expect(editor).to_be_focused()
    editor.fill("mine, edited after switching")
    editor.press("Enter")
    expect(page.locator(MESSAGES, has_text="mine, edited after switching")).to_have_count(1)
    expect(page.locator("#message-list .scc-day-separator")).not_to_have_count(0)
    # Back in the first room: the first pane's list is live again, once per message.
    open_room(page, first)
    Api(open_page("bob")).send(first, "back in the first room")
    expect(page.locator(MESSAGES, has_text="back in the first room")).to_have_count(1)
    assert still_marked(page)


CONTENTS = "#message-list .scc-content"
RECORD_LIVE_REGION = """() => {
  const node = document.getElementById("live-region");
  window.__announced = [];
  new MutationObserver(() => {
    if (node.textContent) window.__announced.push(node.textContent);
  }).observe(node, {childList: true, subtree: true, characterData: true});
}"""


def test_the_live_region_announces_each_new_message_once_never_the_history(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    first, second = room("alice", "bob"), room("alice", "bob")
    alice = Api(open_page("alice"))
    for number in range(6):  # Within the send burst (20) of one user.
        alice.send(first, f"history {number}")
        alice.send(second, f"other history {number}")
    page = open_page("bob", f"/chat/room/{first}/")
    expect(page.locator(CONTENTS, has_text=re.compile("^history 5$"))).to_have_count(1)
    page.evaluate(RECORD_LIVE_REGION)
    # Switching rooms renders (and resumes) both histories: none of it is announced.
    open_room(page, second)
    expect(page.locator(MESSAGES, has_text="other history 5")).to_have_count(1)
    open_room(page, first)
    expect(page.locator(CONTENTS, has_text=re.compile("^history 5$"))).to_have_count(1)
    alice.send(first, "brand new")
    expect(page.locator(MESSAGES, has_text="brand new")).to_have_count(1)
    # A message of a room that is not open is not read out either (its badge says it).
    alice.send(second, "elsewhere")
    expect(page.locator(f'#my-rooms li[data-room="{second}"] .scc-unread')).to_have_text("1")
    page.wait_for_timeout(500)  # Time for a second, wrong announcement.
    announced: list[str] = page.evaluate("window.__announced")
    assert len(announced) == 1, announced
    assert announced[0].endswith(": brand new"), announced
    assert "Alice Durand" in announced[0]
