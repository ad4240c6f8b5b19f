"""Message search in the browser: the details panel's "Search this room" box and the
sidebar's box across my rooms answer in place (search.js over the socket): results with
the searched words marked, their count announced, all by keyboard; Enter on a result opens
the room at that message; "More results" pages; Escape closes the list. Without
JavaScript the same form shows the results page. A member removed from a room no longer
finds its messages."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, OpenPage, send, wait_until_live


def search_in(page: Page, box: str, text: str, live: bool = True) -> None:
    """Search as a reader does; with ``live``, once the page's socket is open (before, the
    form falls back to the results page, as without JavaScript)."""
    if live:
        wait_until_live(page)
    field = page.locator(box)
    field.fill(text)
    field.press("Enter")


def test_search_a_room_and_open_a_result_by_keyboard(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    for text in ("The **exam** is on Friday", "Bring your notes", "exam room is B12"):
        send(alice, text)
    bob = open_page("bob", f"/chat/room/{slug}/")
    search_in(bob, "#scc-search-room", "exam")
    panel = bob.locator(".scc-room-search .scc-search-panel")
    hits = panel.locator(".scc-search-hit")
    expect(hits).to_have_count(2)
    expect(panel.locator(".scc-search-count")).to_have_text("2 results")
    expect(bob.locator("#live-region")).to_have_text("2 results")
    expect(hits.first.locator("mark")).to_have_text(re.compile("^exam$", re.I))
    expect(hits.first.locator(".scc-search-author")).to_have_text("Alice Durand")
    first_id = hits.first.get_attribute("data-message-id")

    bob.keyboard.press("Tab")  # from the box: its button, then the first result's link
    bob.keyboard.press("Tab")
    bob.keyboard.press("Tab")  # past "Close the results"
    expect(hits.first.locator("a")).to_be_focused()
    bob.keyboard.press("Enter")
    expect(bob).to_have_url(re.compile(rf"/chat/room/{slug}/\?after=\d+#message-{first_id}$"))
    expect(bob.locator(f"#message-{first_id}")).to_be_in_viewport()

    search_in(bob, "#scc-search-room", "nothing-like-this")
    expect(panel.locator(".scc-search-count")).to_have_text("No message matches this search.")
    bob.locator("#scc-search-room").press("Escape")
    expect(panel).to_be_hidden()

    search_in(bob, "#scc-search-room", "x has:video")
    expect(panel.locator(".scc-search-error")).to_have_attribute("data-code", "bad_query")


def test_search_across_rooms_pages_and_forgets_a_room_one_was_removed_from(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    first = room("alice", "bob")
    second = room("alice", "bob")
    api = Api(open_page("alice"))
    for n in range(12):
        api.send(first if n % 2 else second, f"seminar number {n}")
    bob = open_page("bob", "/chat/")
    search_in(bob, "#scc-search-all", "seminar")
    panel = bob.locator(".scc-rooms-nav .scc-search-panel")
    expect(panel.locator(".scc-search-hit")).to_have_count(12)
    rooms = set(panel.locator(".scc-search-room").all_text_contents())
    assert len(rooms) == 2

    api.call("DELETE", f"rooms/{first}/members/{bob_id(bob)}/")
    search_in(bob, "#scc-search-all", "seminar")
    expect(panel.locator(".scc-search-hit")).to_have_count(6)


def bob_id(page: Page) -> int:
    return int(
        page.evaluate("JSON.parse(document.getElementById('scc-config').textContent).userId")
    )


def test_the_results_page_works_without_javascript(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    alice = open_page("alice", java_script_enabled=False)
    alice.goto(f"/chat/room/{slug}/")
    Api(alice).send(slug, "lab report due <b>Monday</b>")
    alice.goto(f"/chat/room/{slug}/")
    search_in(alice, "#scc-search-room", "monday", live=False)
    expect(alice).to_have_url(re.compile(r"/chat/search/\?room=.*&q=monday$"))
    hit = alice.locator(".scc-search-hit")
    expect(hit).to_have_count(1)
    expect(hit.locator(".scc-search-snippet")).to_have_text("lab report due <b>Monday</b>")
    expect(hit.locator("mark")).to_have_text("Monday")
    expect(alice.locator(".scc-search-count")).to_have_text("1 result")
