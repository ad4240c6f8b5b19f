"""The conversation pane (issue #16): groups, day separators, one time format, the
"new messages" divider, jump-to-latest, the message menu, inline editing, the delete
dialog, failed messages, stop notices, and rough edges 1, 3, 4, 7 and 10. Through the real
path: the live site, its WebSocket, Chromium."""

from __future__ import annotations

import datetime
import json
import re
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from smartcampus_chat.markup import plain_text, render
from tests.browser.conftest import (
    MESSAGES,
    Api,
    OpenPage,
    composer,
    scroll_to_oldest,
    send,
    tab_until,
)
from tests.browser.live import TIMEZONE, LiveServer
from tests.browser.test_accessibility import axe_violations, describe
from tests.markup_audit import text_content


def seed(live_site: LiveServer, slug: str, rows: list[tuple[str, str, int]]) -> None:
    """Store messages (username, text, minutes ago) in room ``slug``, oldest first."""
    live_site.manage(
        "shell",
        "-c",
        "import datetime; from django.utils import timezone;"
        "from smartcampus_chat import services; from smartcampus_chat.models import ChatRoom;"
        "from django.contrib.auth import get_user_model;"
        f"room = ChatRoom.objects.get(slug={slug!r}); now = timezone.now();"
        "users = {u.username: u for u in get_user_model().objects.all()};"
        f"rows = {rows!r};"
        "[type(m).objects.filter(pk=m.pk).update(created_at=now - datetime.timedelta(minutes=ago))"
        " for m in [services.do_send_message(users[who], room, text).message"
        " for who, text, ago in rows] for ago in [dict((t, a) for _, t, a in rows)[m.content]]]",
    )


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES).filter(
        has=page.locator(".scc-content", has_text=re.compile(f"^{re.escape(text)}$"))
    )


def open_menu(page: Page, text: str) -> Locator:
    """Open a message's menu with the mouse; the menu."""
    node = message(page, text)
    node.hover()
    node.locator(".scc-menu-button").click()
    menu = node.locator("[role=menu]")
    expect(menu).to_be_visible()
    return menu


def test_groups_and_day_separators_server_and_live(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    slug = room("alice", "bob")
    # Early in the site's day (Europe/Paris), "30 minutes ago" is yesterday there: the
    # messages move forward so that "today" is today whatever the hour the test runs.
    local = datetime.datetime.now(zoneinfo.ZoneInfo(TIMEZONE))
    shift = max(0, 35 - (local.hour * 60 + local.minute))
    rows = [
        ("bob", "three days ago", 3 * 24 * 60),
        ("bob", "yesterday 1", 24 * 60 + 10),
        ("bob", "yesterday 2", 24 * 60 + 8),
        ("alice", "today 1", 30),
        ("alice", "today 2", 28),
        ("alice", "today 3, later", 10),
    ]
    seed(live_site, slug, [(who, text, ago - shift) for who, text, ago in rows])
    page = open_page("alice", f"/chat/room/{slug}/")
    days = page.locator("#message-list li.scc-day-separator")
    expect(days).to_have_count(3)
    labels = days.all_text_contents()
    assert labels[1:] == ["Yesterday", "Today"]
    assert re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", labels[0]), labels
    grouped = [
        "scc-grouped" in (c or "")
        for c in page.locator(MESSAGES).evaluate_all("ns => ns.map(n => n.className)")
    ]
    assert grouped == [False, False, True, False, True, False]
    # Live, the same rules: Bob's first message starts a group, his second continues it.
    bob = open_page("bob", f"/chat/room/{slug}/")
    send(bob, "live 1")
    send(bob, "live 2")
    expect(message(page, "live 2")).to_have_class(re.compile(r"\bscc-grouped\b"))
    expect(message(page, "live 1")).not_to_have_class(re.compile(r"\bscc-grouped\b"))
    expect(days).to_have_count(3)
    expect(message(page, "live 1").locator(".scc-author")).to_be_visible()


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_time_text_is_the_same_server_rendered_and_live(
    open_page: OpenPage, room: Callable[..., str], locale: str
) -> None:
    slug = room("alice", "bob")
    page = open_page("alice", f"/chat/room/{slug}/", locale=locale)
    bob = open_page("bob", f"/chat/room/{slug}/")
    send(bob, "what time is it")
    live = message(page, "what time is it").locator("time.scc-time")
    expect(live).not_to_be_empty()
    live_text = live.text_content()
    page.reload()
    server_text = message(page, "what time is it").locator("time.scc-time").text_content()
    assert live_text == server_text
    pattern = r"\d{1,2}:\d{2} [AP]M" if locale == "en-US" else r"\d{2}:\d{2}"
    assert re.fullmatch(pattern, server_text or ""), server_text


def test_new_messages_divider_and_jump_to_latest(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    slug = room("alice", "bob")
    seed(live_site, slug, [("alice", f"read {n}", 60) for n in range(30)])
    first = open_page("alice", f"/chat/room/{slug}/")
    expect(first.locator("li.scc-divider")).to_have_count(0)
    first.wait_for_timeout(0)
    first.close()
    bob_api = Api(open_page("bob"))
    bob_api.send(slug, "unread 1")
    bob_api.send(slug, "unread 2")
    page = open_page("alice", f"/chat/room/{slug}/")
    divider = page.locator("#message-list li.scc-divider")
    expect(divider).to_have_text("New messages")
    after = page.locator("#message-list li.scc-divider + li.scc-message .scc-content")
    expect(after).to_have_text("unread 1")
    # Scrolled up, new messages count on the jump button instead of moving the view.
    page.locator(".scc-scroll").evaluate("el => { el.scrollTop = -el.scrollHeight; }")
    jump = page.locator(".scc-jump")
    expect(jump).to_be_hidden()
    bob_api.send(slug, "while reading 1")
    bob_api.send(slug, "while reading 2")
    expect(jump).to_be_visible()
    expect(jump).to_have_accessible_name(re.compile(r"^2 new"))
    jump.focus()
    page.keyboard.press("Enter")
    expect(jump).to_be_hidden()
    expect(composer(page)).to_be_focused()
    expect(message(page, "while reading 2")).to_be_in_viewport()


def test_menu_by_keyboard_inline_edit_and_delete_dialog(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    Api(open_page("alice")).send(slug, "server rendered")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    expect(composer(alice)).to_be_focused()  # the composer has the focus on opening
    send(alice, "typed live")
    expect(message(alice, "typed live")).not_to_have_class(re.compile("scc-pending"))
    # ↑ in the empty composer edits my last message in place; Esc cancels.
    composer(alice).press("ArrowUp")
    editor = message(alice, "typed live").locator(".scc-edit textarea")
    expect(editor).to_be_focused()
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(composer(alice)).to_be_focused()
    composer(alice).press("ArrowUp")
    editor.fill("typed, then edited")
    editor.press("Enter")
    expect(message(bob, "typed, then edited").locator(".scc-edited")).to_be_visible()
    # The menu by keyboard: Esc in the composer... Shift+Tab reaches the message list.
    node = message(alice, "server rendered")
    node.focus()
    node.press("Enter")
    menu = node.locator("[role=menu]")
    expect(menu.get_by_role("menuitem")).to_have_text(
        ["Reply", "React", "Edit", "Pin", "Copy link", "Delete"]
    )
    expect(menu.get_by_role("menuitem").first).to_be_focused()
    alice.keyboard.press("ArrowUp")
    expect(menu.get_by_role("menuitem", name="Delete")).to_be_focused()
    alice.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    button = node.locator(".scc-menu-button")
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-haspopup", "menu")
    alice.keyboard.press("ArrowDown")
    alice.keyboard.press("End")
    alice.keyboard.press("Enter")
    dialog = alice.locator("dialog.scc-delete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    alice.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(button).to_be_focused()
    button.press("Enter")
    node.get_by_role("menuitem", name="Delete").click()
    alice.locator("dialog.scc-delete-dialog").get_by_role("button", name="Delete").click()
    expect(bob.locator("#message-list li.scc-deleted .scc-content")).to_have_text("Message deleted")
    # Bob may not edit or delete Alice's messages: his menu replies, copies the link and
    # reports it to the room's moderators.
    expect(open_menu(bob, "typed, then edited").get_by_role("menuitem")).to_have_text(
        ["Reply", "React", "Copy link", "Report"]
    )


def test_a_moderator_sees_no_delete_under_every_message(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    Api(open_page("bob")).send(slug, "from bob")
    page = open_page("alice", f"/chat/room/{slug}/")  # the owner moderates the room
    expect(page.locator("#message-list [data-action]")).to_have_count(0)
    expect(open_menu(page, "from bob").get_by_role("menuitem")).to_have_text(
        ["Reply", "React", "Pin", "Copy link", "Report", "Mute author", "Delete"]
    )


def test_a_refused_message_fails_with_retry_and_discard(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/")
    # Over MAX_MESSAGE_LENGTH (past the textarea's maxlength, as a script could): the server
    # answers "invalid".
    composer(page).evaluate("(box, text) => { box.value = text; }", "x" * 5000)
    composer(page).press("Enter")
    failed = page.locator("#message-list li.scc-failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".scc-author")).to_have_text(re.compile(r"\S"))
    expect(failed.locator(".scc-retry")).to_be_visible()
    failed.get_by_role("button", name="Discard").click()
    expect(failed).to_have_count(0)
    expect(page.locator(MESSAGES)).to_have_count(0)


def test_an_undelivered_message_fails_and_retry_sends_it(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    page = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    expect(page.locator("#participants .scc-online")).to_have_count(2)
    page.context.set_offline(True)
    send(page, "sent offline")
    failed = message(page, "sent offline")
    expect(failed).to_have_class(re.compile(r"\bscc-failed\b"), timeout=20_000)
    expect(failed.locator(".scc-failed-reason")).to_have_text("The message could not be delivered.")
    failed.get_by_role("button", name="Retry").click()
    expect(failed).to_have_class(re.compile(r"\bscc-pending\b"))
    page.context.set_offline(False)
    expect(message(bob, "sent offline")).to_have_count(1)
    expect(failed).not_to_have_class(re.compile(r"scc-failed|scc-pending"))


def test_a_send_the_server_cannot_store_yet_is_sent_again_and_stored_once(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    """The server answers a send `unavailable` (its database out for a moment): the
    client sends it again with its client_id, backing off; after three refusals in a row
    it shows "not delivered" while it keeps trying; once the server stores it, it is one
    message, delivered."""
    slug = room("alice", "bob")
    page = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    refused: list[dict[str, Any]] = []

    def between(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def from_page(text: str | bytes) -> None:
            frame = json.loads(text) if isinstance(text, str) else {}
            if frame.get("type") == "message.send" and len(refused) < 3:
                refused.append(frame)
                answer = {
                    "type": "error",
                    "code": "unavailable",
                    "message": "The service is unavailable, try again later.",
                    "id": frame["id"],
                    "retry_after": 1,
                }
                socket.send(json.dumps(answer))
                return
            server.send(text)

        socket.on_message(from_page)

    page.route_web_socket(lambda url: "/ws/" in url, between)
    page.reload()
    expect(page.locator("#participants .scc-online")).to_have_count(2)
    send(page, "stored once")
    sent = message(page, "stored once")
    expect(sent).to_have_class(re.compile(r"\bscc-failed\b"), timeout=20_000)
    expect(sent.locator(".scc-failed-reason")).to_have_text("The message could not be delivered.")
    expect(message(bob, "stored once")).to_have_count(1, timeout=20_000)
    expect(sent).not_to_have_class(re.compile(r"scc-failed|scc-pending"))
    assert len(refused) == 3
    assert len({frame["client_id"] for frame in refused}) == 1
    stored = Api(page).call("GET", f"rooms/{slug}/messages/?limit=50")["results"]
    assert [row["content"] for row in stored].count("stored once") == 1


@pytest.mark.parametrize(
    ("locale", "signed_out", "archived"),
    [
        ("en-US", "You are signed out. Sign in again to keep chatting.", "This room is archived"),
        ("fr-FR", "Vous n\u2019êtes plus connecté. Reconnectez-vous", "Ce salon est archivé"),
    ],
)
def test_stop_notices_in_the_readers_language_disable_the_composer(
    open_page: OpenPage,
    room: Callable[..., str],
    sessions: dict[str, Any],
    locale: str,
    signed_out: str,
    archived: str,
) -> None:
    slug = room("alice", "bob")
    # Archived while viewing.
    page = open_page("bob", f"/chat/room/{slug}/", locale=locale)
    expect(page.locator("#participants .scc-online")).not_to_have_count(0)
    Api(open_page("alice")).call("PATCH", f"rooms/{slug}/", {"is_archived": True})
    expect(page.locator(".scc-composer-closed")).to_contain_text(archived)
    expect(composer(page)).to_be_disabled()
    # Signed out (in another tab) while viewing.
    other = room("alice", "chloe")
    page = open_page("chloe", f"/chat/room/{other}/", locale=locale)
    expect(page.locator("#participants .scc-online")).not_to_have_count(0)
    tab = page.context.new_page()
    tab.goto("/chat/")
    tab.evaluate(
        "() => { const f = document.querySelector('form[action*=logout]'); f && f.submit(); }"
    )
    sessions.pop("chloe")  # that session is over: the next test signs in again
    expect(page.locator("#connection-banner")).to_contain_text(signed_out)
    expect(composer(page)).to_be_disabled()


def test_removed_from_the_room_while_viewing(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    page = open_page("bob", f"/chat/room/{slug}/", locale="fr-FR")
    expect(page.locator("#participants .scc-online")).not_to_have_count(0)
    owner = Api(open_page("alice"))
    members = owner.call("GET", f"rooms/{slug}/members/")
    bob = next(m for m in members["results"] if m["user"]["username"] == "bob")
    owner.call("DELETE", f"rooms/{slug}/members/{bob['user']['id']}/")
    expect(page.locator("#connection-banner")).to_have_text(
        "Vous n\u2019avez plus accès à ce salon."
    )
    expect(composer(page)).to_be_disabled()
    expect(page.locator(".scc-composer-closed")).to_have_text(
        "Vous n\u2019avez plus accès à ce salon."
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_own_deleted_message_is_readable(
    open_page: OpenPage, room: Callable[..., str], scheme: str
) -> None:
    slug = room("alice")
    api = Api(open_page("alice"))
    sent = api.send(slug, "to delete")
    api.call("DELETE", f"rooms/{slug}/messages/{sent['id']}/")
    page = open_page("alice", f"/chat/room/{slug}/", color_scheme=scheme)
    node = page.locator("#message-list li.scc-deleted.scc-mine")
    colours = node.evaluate(
        """n => {
          const bg = getComputedStyle(document.querySelector('.scc-scroll')).backgroundColor;
          return [bg, getComputedStyle(n.querySelector('.scc-time')).color,
                  getComputedStyle(n.querySelector('.scc-content')).color];
        }"""
    )
    background, time, content = colours
    assert time != background, colours
    assert content != background, colours
    assert time != "rgb(255, 255, 255)" or scheme == "dark", colours
    expect(node.locator("time.scc-time")).to_be_visible()


def test_reduced_motion_turns_the_arrival_animation_off(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/", reduced_motion="reduce")
    send(page, "no motion")
    node = message(page, "no motion")
    expect(node).to_have_count(1)
    assert node.evaluate("n => getComputedStyle(n).animationName") == "none"
    moving = open_page("alice", f"/chat/room/{slug}/", reduced_motion="no-preference")
    send(moving, "motion")
    assert message(moving, "motion").evaluate("n => getComputedStyle(n).animationName") == (
        "scc-arrive"
    )


def test_keyboard_reaches_the_composer_in_ten_tabs_in_a_long_room(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    slug = room("alice", "bob")
    seed(live_site, slug, [("alice" if n % 2 else "bob", f"message {n}", 60) for n in range(50)])
    page = open_page("alice", f"/chat/room/{slug}/")
    expect(page.locator(MESSAGES)).to_have_count(50)
    expect(composer(page)).to_be_focused()  # on page load
    # From the top of the page: the page's skip link, the shell's "skip the room list"
    # link, then the room's header, the list (one stop for 50 messages, and its active
    # message's menu button), the composer.
    page.locator(".scc-skip-link").first.focus()
    page.keyboard.press("Enter")
    assert tab_until(page, ".scc-skip-sidebar", limit=1) == 1
    page.keyboard.press("Enter")
    assert 3 + tab_until(page, "#composer textarea[name=content]", limit=7) <= 10
    page.keyboard.press("Shift+Tab")
    expect(page.locator(".scc-menu-button[tabindex='0']")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator(MESSAGES).last).to_be_focused()
    # Alt+Shift+M reaches it from anywhere.
    page.locator(MESSAGES).first.focus()
    page.keyboard.press("Alt+Shift+M")
    expect(composer(page)).to_be_focused()


def test_conversation_is_axe_clean_with_menu_editor_and_divider(
    open_page: OpenPage, room: Callable[..., str], axe_source: str
) -> None:
    slug = room("alice", "bob")
    Api(open_page("bob")).send(slug, "unread")
    page = open_page("alice", f"/chat/room/{slug}/", bypass_csp=True)
    send(page, "mine")
    expect(page.locator("li.scc-divider")).to_have_count(1)
    open_menu(page, "mine")
    violations = axe_violations(page, axe_source)
    assert not violations, describe(violations)
    page.keyboard.press("Escape")
    composer(page).press("ArrowUp")
    expect(page.locator(".scc-edit textarea")).to_be_focused()
    violations = axe_violations(page, axe_source)
    assert not violations, describe(violations)


# For each of one's own messages: what the inline editor starts from, what the delete
# dialog quotes, and how many elements the chat never renders it holds (its formatting,
# links included, is the server's allow-list: tests/browser/test_xss.py audits it).
XSS_THROUGH_MENU_EDITOR_AND_DIALOG = """async () => {
  const seen = [];
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  for (const node of document.querySelectorAll("#message-list li.scc-message.scc-mine")) {
    const button = node.querySelector(".scc-menu-button");
    button.click();
    node.querySelector('[role=menu] [data-action="edit"]').click();
    const editor = node.querySelector(".scc-edit textarea");
    const source = editor ? editor.value : null;
    node.querySelector(".scc-edit-cancel").click();
    button.click();
    node.querySelector('[role=menu] [data-action="delete"]').click();
    const dialog = document.querySelector("dialog.scc-delete-dialog");
    const quote = dialog ? dialog.querySelector(".scc-dialog-quote").textContent : null;
    const markup = node.querySelectorAll("img, script, iframe, svg, style, form, object").length
      + (dialog ? dialog.querySelectorAll(".scc-dialog-quote *").length : 1);
    seen.push([source, quote, markup]);
    dialog && dialog.close();
    while (document.querySelector("dialog.scc-delete-dialog")) await tick();
  }
  return seen;
}"""


def test_xss_corpus_through_the_menu_the_editor_the_dialog_and_the_dividers(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    """Every payload of tests/xss_corpus.py, as a message of one's own read by the inline
    editor (its Markdown, as written) and the delete dialog (its text, without
    formatting), and of someone else's after the "new messages" divider and under day
    separators: shown as its formatted text, never run."""
    from tests.xss_corpus import PAYLOADS

    slug = room("alice", "bob")
    chunks = [PAYLOADS[n : n + 20] for n in range(0, len(PAYLOADS), 20)]
    rows = [("alice", "\n".join(p.text for p in chunk), 60 * 30) for chunk in chunks]
    rows.append(("bob", "\n".join(p.text for p in PAYLOADS[:20]), 5))
    seed(live_site, slug, rows)
    page = open_page("alice", bypass_csp=True)
    hits: list[Any] = []
    page.expose_function("__xss", lambda n=None: hits.append(n))
    page.on("dialog", lambda dialog: hits.append(dialog.message) or dialog.dismiss())
    page.goto(f"/chat/room/{slug}/")
    expect(page.locator("li.scc-divider")).to_have_count(1)
    expect(page.locator("li.scc-day-separator")).to_have_count(2)
    wait = "document.querySelectorAll('#message-list li.scc-message').length"
    assert page.evaluate(wait) == 50  # a page of history; the older ones load on scroll
    mine = page.locator("#message-list li.scc-mine")
    scroll_to_oldest(page)
    seen = page.evaluate(XSS_THROUGH_MENU_EDITOR_AND_DIALOG)
    assert seen == [[text, plain_text(render(text)), 0] for _, text, _ in rows[:-1]]
    contents = page.locator("#message-list li.scc-mine .scc-content").all_text_contents()
    assert contents == [text_content(render(row[1])) for row in rows[:-1]]
    assert mine.count() == len(chunks)
    assert hits == []
