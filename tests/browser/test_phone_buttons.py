"""Rough edge 7 (layout): French buttons stay on one line on a 390 px phone ("Rejoindre"
used to wrap onto two lines beside a long room name)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, OpenPage

PHONE_390 = {"width": 390, "height": 844}

#: Lines of text a button's content takes: its content box over its line height.
LINES = """el => {
  const style = getComputedStyle(el);
  const content = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  return Math.round(content / parseFloat(style.lineHeight));
}"""

#: Every visible button of the chat on the page, with its text and its number of lines.
ALL_LINES = (
    """nodes => nodes
  .filter(n => n.offsetParent !== null && n.getClientRects().length > 0)
  .map(n => [n.textContent.trim().replace(/\\s+/g, " "), ("""
    + LINES
    + """)(n)])"""
)


def _phone(open_page: OpenPage, user: str, path: str) -> Page:
    return open_page(user, path, viewport=PHONE_390, is_mobile=True, has_touch=True, locale="fr-FR")


def _wrapped(page: Page) -> list[tuple[str, int]]:
    found = page.eval_on_selector_all(".scc-app .btn", ALL_LINES)
    assert found, "no buttons"
    return [(text, lines) for text, lines in found if lines != 1]


def test_join_stays_on_one_line_on_a_phone_in_french(
    open_page: OpenPage, unique: Callable[[str], str]
) -> None:
    name = unique("Club de lecture des romans policiers du dix-neuvième siècle")
    slug = Api(open_page("bob")).create_room(name)
    # On a phone the rooms one may join are a screen of their own ("Browse rooms").
    page = _phone(open_page, "alice", "/chat/browse/")
    join = page.locator(f'#joinable-rooms li[data-room="{slug}"] button[type=submit]')
    expect(join).to_contain_text("Rejoindre")
    assert join.evaluate(LINES) == 1
    # The name gives way (truncated), not the button.
    link = page.locator(f'#joinable-rooms li[data-room="{slug}"] .scc-room-link')
    assert link.evaluate(
        "el => el.closest('.text-truncate').scrollWidth > el.closest('.text-truncate').clientWidth"
    )
    assert _wrapped(page) == []

    page.goto(f"/chat/room/{slug}/")
    notice = page.locator("form.scc-join button[type=submit]")
    expect(notice).to_contain_text("Rejoindre")
    assert notice.evaluate(LINES) == 1
    assert _wrapped(page) == []


def test_french_buttons_of_a_joined_room_stay_on_one_line_on_a_phone(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    page = _phone(open_page, "bob", f"/chat/room/{slug}/")
    expect(page.locator(".scc-leave button")).to_contain_text("Quitter")
    assert _wrapped(page) == []
    page = _phone(open_page, "alice", f"/chat/room/{slug}/")  # the owner: settings too
    assert _wrapped(page) == []
    page.goto("/chat/create/")
    assert _wrapped(page) == []
