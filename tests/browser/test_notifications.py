"""Notifications in the browser (issue #20), through the real site: the bell's count rising
live, a desktop notification while the tab is hidden (Chromium with the permission
granted, the Notification constructor spied on but still the real one) whose click opens
the message, marking read in one tab seen live in another, a muted room dimmed in the list
and silent, the preferences form's errors, the keyboard, and axe with the panel open."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, OpenPage, csrf_token, tab_until
from tests.browser.test_accessibility import axe_violations, describe

# Records each desktop notification the page shows (title, options, the object itself) and
# each permission request, keeping the real constructor: what the page asks of the browser
# still happens.
SPY = """
(() => {
  const Real = window.Notification;
  if (typeof Real !== "function") return;
  window.__shown = [];
  window.__asked = 0;
  function Spy(title, options) {
    const shown = new Real(title, options);
    window.__shown.push({ title: title, body: options.body, tag: options.tag, shown: shown });
    return shown;
  }
  Spy.prototype = Real.prototype;
  Object.defineProperty(Spy, "permission", { get: () => Real.permission });
  Spy.requestPermission = function () {
    window.__asked += 1;
    return Real.requestPermission.apply(Real, arguments);
  };
  window.Notification = Spy;
})();
"""

# The tab goes to the background: what the page reads when the reader switched tabs.
HIDE = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def all_read(open_page: OpenPage, user: str) -> None:
    """Start from no unread notification (the live site's data is shared by the tests)."""
    Api(open_page(user)).call("POST", "notifications/read/", {"all": True})


def spied(open_page: OpenPage, user: str, path: str, **options: Any) -> Page:
    """``user``'s page with desktop notifications allowed and spied on, nothing unread."""
    all_read(open_page, user)
    page = open_page(user, permissions=["notifications"], **options)
    page.add_init_script(SPY)
    page.goto(path)
    return page


def bell(page: Page) -> Any:
    return page.locator(".scc-bell-button")


def shown(page: Page) -> list[dict[str, str]]:
    result: list[dict[str, str]] = page.evaluate(
        "() => window.__shown.map((n) => ({title: n.title, body: n.body, tag: n.tag}))"
    )
    return result


def send_many(page: Page, slug: str, texts: list[str]) -> None:
    """Send ``texts`` as fast as the site's send rate allows (waiting when it says so)."""
    for text in texts:
        while True:
            answer = page.request.post(
                f"/chat/api/rooms/{slug}/messages/",
                headers={"X-CSRFToken": csrf_token(page)},
                data={"content": text},
            )
            if answer.status != 429:
                assert answer.ok, answer.text()
                break
            page.wait_for_timeout(1000 * float(answer.json()["error"]["retry_after"] or 1))


def room_name(page: Page, slug: str) -> str:
    return page.locator(f'#my-rooms li[data-room="{slug}"]').get_attribute("data-name") or ""


def test_a_mention_in_another_room_rings_the_bell_and_shows_a_desktop_notification(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("bob", "alice")
    bob = Api(open_page("bob"))
    alice = spied(open_page, "alice", "/chat/")  # the room list: the room is not open
    expect(bell(alice)).to_have_attribute("aria-label", "Notifications")
    assert alice.evaluate("window.Notification.permission") == "granted"
    alice.evaluate(HIDE)

    message = bob.send(slug, "@alice the lab report is due tomorrow")
    expect(bell(alice)).to_have_attribute("aria-label", "Notifications, 1 unread")
    expect(bell(alice).locator(".scc-bell-count")).to_have_text("1")
    expect(alice.locator(".scc-bell-status")).to_have_text("1 unread notification")
    alice.wait_for_function("() => window.__shown.length === 1")
    [desktop] = shown(alice)
    assert desktop["title"] == f"Bob Martin mentioned you in {room_name(alice, slug)}"
    assert "the lab report is due tomorrow" in desktop["body"]
    assert desktop["tag"].startswith("scc-notification-")

    # Its click brings the tab forward at the message, and the notification is read.
    alice.evaluate("() => window.__shown[0].shown.onclick()")
    alice.wait_for_url(re.compile(rf"/chat/room/{slug}/.*#message-{message['id']}$"))
    expect(alice.locator(f"#message-{message['id']}")).to_be_visible()
    expect(bell(alice)).to_have_attribute("aria-label", "Notifications")


def test_a_visible_tab_shows_no_desktop_notification(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("bob", "alice")
    alice = spied(open_page, "alice", "/chat/")
    Api(open_page("bob")).send(slug, "@alice hello")
    expect(bell(alice)).to_have_attribute("aria-label", "Notifications, 1 unread")
    assert shown(alice) == []


def test_reading_in_one_tab_is_seen_live_in_the_other(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    """Opening a notification reads it (and the room it opens: the notifications of what
    one has read are read); "Mark all as read" reads the rest. Both tabs follow live."""
    opened = room("bob", "alice")
    other = room("bob", "alice")
    all_read(open_page, "alice")
    first = open_page("alice", "/chat/")
    second = open_page("alice", "/chat/")
    bob = Api(open_page("bob"))
    bob.send(other, "@alice one")
    bob.send(other, "@alice two")
    bob.send(opened, "@alice three")
    for page in (first, second):
        expect(bell(page)).to_have_attribute("aria-label", "Notifications, 3 unread")

    bell(first).click()
    items = first.locator("#scc-notifications li.scc-notification-unread")
    expect(items).to_have_count(3)
    newest = items.first
    expect(newest.locator(".scc-notify-excerpt")).to_have_text("@Alice Durand three")
    expect(newest.locator(".scc-notify-kind")).to_have_text("Mention")
    expect(newest.locator(".scc-notify-actor")).to_have_text("Bob Martin")
    expect(newest.locator(".scc-notify-room")).to_have_text(room_name(first, opened))
    newest.locator("a").click()  # opens the message, marks it read
    first.wait_for_url(re.compile(rf"/chat/room/{opened}/"))
    for page in (first, second):
        expect(bell(page)).to_have_attribute("aria-label", "Notifications, 2 unread")

    bell(second).click()
    unread = second.locator("#scc-notifications li.scc-notification-unread")
    expect(unread).to_have_count(2)
    second.locator("#scc-notifications .scc-notify-all").click()
    expect(unread).to_have_count(0)
    for page in (first, second):
        expect(bell(page)).to_have_attribute("aria-label", "Notifications")
        expect(bell(page).locator(".scc-bell-count")).to_be_hidden()


def test_load_more_fetches_older_notifications(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("bob", "alice")
    # One page of the REST list is 30.
    send_many(open_page("bob"), slug, [f"@alice number {n}" for n in range(32)])
    alice = open_page("alice", "/chat/")
    # (older notifications of other tests may follow: the newest 32 are these)
    bell(alice).click()
    items = alice.locator("#scc-notifications li.scc-notification")
    expect(items).to_have_count(30)
    expect(items.last.locator(".scc-notify-excerpt")).to_contain_text("number 2")
    alice.locator(".scc-notify-more").click()
    expect(items).not_to_have_count(30)
    expect(items.nth(31).locator(".scc-notify-excerpt")).to_contain_text("number 0")
    ids = [int(i) for i in items.evaluate_all("(li) => li.map((n) => n.dataset.id)")]
    assert ids == sorted(set(ids), reverse=True)  # newest first, none twice


def test_a_muted_room_is_dimmed_and_its_mentions_notify_nothing(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    quiet = room("bob", "alice")
    loud = room("bob", "alice")
    alice = spied(open_page, "alice", f"/chat/room/{quiet}/")
    alice.locator("details.scc-notify-menu summary").click()
    alice.get_by_role("button", name="For 1 hour").click()
    card = alice.locator(f'#my-rooms li[data-room="{quiet}"]')
    expect(card).to_have_class(re.compile(r"\bscc-muted\b"))
    expect(card.locator(".scc-muted-mark")).to_have_attribute("aria-label", "muted")
    expect(alice.locator("details.scc-notify-menu summary")).to_be_focused()
    expect(alice.locator(".scc-notify-muted")).to_contain_text("Muted until")

    alice.locator(f'#my-rooms li[data-room="{loud}"] a').click()
    expect(alice.locator(".scc-room-name")).to_have_text(room_name(alice, loud))
    expect(card).to_have_class(re.compile(r"\bscc-muted\b"))  # still, on another room
    alice.evaluate(HIDE)
    bob = Api(open_page("bob"))
    bob.send(quiet, "@alice in the muted room")
    bob.send(loud, "@alice in the other room")  # after it: a frame for the first came first
    alice.wait_for_function("() => window.__shown.length >= 1")
    alice.wait_for_timeout(300)
    assert [n["body"] for n in shown(alice)] == ["@Alice Durand in the other room"]
    expect(bell(alice)).to_have_attribute("aria-label", "Notifications, 1 unread")
    # The tab's count leaves the muted room out (its unread message is not counted).
    expect(card.locator(".scc-unread")).to_have_text("1")
    counted = alice.evaluate(
        """() => [...document.querySelectorAll("#my-rooms li[data-room]:not(.scc-muted)"
                     + " .scc-unread:not([hidden])")]
                 .reduce((sum, badge) => sum + Number(badge.textContent), 0)"""
    )
    expect(alice).to_have_title(re.compile(rf"^\({counted}\) " if counted else r"^[^(]"))

    alice.reload()  # the server renders it muted too, until unmuted
    expect(card).to_have_class(re.compile(r"\bscc-muted\b"))
    alice.locator(f'#my-rooms li[data-room="{quiet}"] a').click()
    expect(alice.locator(".scc-room-name")).to_have_text(room_name(alice, quiet))
    alice.locator("details.scc-notify-menu summary").click()
    alice.get_by_role("button", name="Unmute").click()
    expect(card).not_to_have_class(re.compile(r"\bscc-muted\b"))
    expect(card.locator(".scc-muted-mark")).to_be_hidden()


def test_the_preferences_form_shows_errors_then_saves(open_page: OpenPage) -> None:
    page = open_page("chloe", "/chat/preferences/")
    zone = page.get_by_label("Time zone")
    zone.fill("Mars/Olympus")
    page.get_by_role("button", name="Save").click()
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".scc-invalid .scc-field-error")).to_have_text("Unknown time zone.")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_label("Quiet hours from").fill("22:00")
    page.get_by_label("Quiet hours until").fill("07:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".scc-flash")).to_contain_text("Preferences saved.")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    expect(page.get_by_label("Quiet hours from")).to_have_value("22:00")


def test_the_panel_by_keyboard_and_permission_only_on_request(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("bob", "alice")
    all_read(open_page, "alice")
    Api(open_page("bob")).send(slug, "@alice keyboard")
    page = open_page("alice")
    page.add_init_script(SPY)
    page.goto("/chat/")
    tab_until(page, ".scc-bell-button")
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Notifications")
    expect(panel).to_be_visible()
    expect(bell(page)).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_focused()
    expect(panel.locator("li.scc-notification")).not_to_have_count(0)
    page.keyboard.press("Tab")
    expect(panel.locator(":focus")).to_have_count(1)  # the focus moves on inside the panel
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell(page)).to_be_focused()
    expect(bell(page)).to_have_attribute("aria-expanded", "false")
    # Never asked on page load; asked when the reader presses the button.
    assert page.evaluate("window.__asked") == 0
    page.keyboard.press("Enter")
    turn_on = panel.get_by_role("button", name="Turn on desktop notifications")
    if turn_on.is_visible():  # the permission is still to be asked in this browser
        turn_on.click()
        page.wait_for_function("() => window.__asked === 1")


def test_no_serious_axe_violation_with_the_panel_and_the_room_menu_open(
    open_page: OpenPage, axe_source: str, room: Callable[..., str]
) -> None:
    slug = room("bob", "alice")
    Api(open_page("bob")).send(slug, "@alice accessible?")
    for scheme in ("light", "dark"):
        page = open_page("alice", f"/chat/room/{slug}/", bypass_csp=True, color_scheme=scheme)
        bell(page).click()
        expect(page.locator("#scc-notifications li.scc-notification")).not_to_have_count(0)
        violations = axe_violations(page, axe_source)
        assert not violations, describe(violations)
        page.keyboard.press("Escape")
        page.locator("details.scc-notify-menu summary").click()
        violations = axe_violations(page, axe_source)
        assert not violations, describe(violations)
