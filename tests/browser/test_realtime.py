"""Real-time scenarios between two (or three) users, each in their own browser context,
through the real client (chat.js) and the real server (uvicorn, Channels)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page, WebSocket, expect

from tests.browser.conftest import (
    MESSAGES,
    XSS_IMG,
    XSS_SCRIPT,
    Api,
    OpenPage,
    composer,
    csrf_token,
    edit_inline,
    message_action,
    scroll_to_oldest,
    send,
    wait_for_message_count,
)
from tests.browser.live import LiveServer

NAMES = {"alice": "Alice Durand", "bob": "Bob Martin", "chloe": "Chloé Bernard"}

# Installed in a receiving page: the time (ms since the epoch, the clock the browser's pages
# share) at which each message text first shows in the list.
WATCH_ARRIVALS = """() => {
  window.__arrivals = {};
  const list = document.getElementById("message-list");
  new MutationObserver(() => {
    for (const node of list.querySelectorAll(".scc-content")) {
      const text = node.textContent;
      if (!(text in window.__arrivals)) window.__arrivals[text] = Date.now();
    }
  }).observe(list, {childList: true, subtree: true, characterData: true});
}"""
# Installed in a sending page: when the composer was submitted, before chat.js handles it.
WATCH_SUBMIT = """() => {
  window.__submits = [];
  document.getElementById("composer").addEventListener(
    "submit", () => window.__submits.push(Date.now()), {capture: true});
}"""


def presence(page: Page, user: str) -> Locator:
    return page.locator("#participants li", has_text=NAMES[user]).locator(".scc-presence")


def wait_connected(page: Page, *others: str) -> None:
    """The page's socket is up once it shows the other users' sockets as online."""
    for user in others:
        expect(presence(page, user)).to_have_class(re.compile(r"\bscc-online\b"))


def open_connected(open_page: OpenPage, slug: str, **alice_options: Any) -> tuple[Page, Page]:
    """Alice's and Bob's pages of the room, once each shows the other online."""
    alice = open_page("alice", f"/chat/room/{slug}/", **alice_options)
    bob = open_page("bob", f"/chat/room/{slug}/")
    wait_connected(alice, "bob")
    wait_connected(bob, "alice")
    return alice, bob


def contents(page: Page) -> list[str]:
    texts: list[str] = page.locator(f"{MESSAGES} .scc-content").all_text_contents()
    return texts


def history(page: Page) -> list[tuple[str, str, str]]:
    """(id, seq, text) of every message the page shows, in page order."""
    rows: list[tuple[str, str, str]] = page.eval_on_selector_all(
        MESSAGES,
        """nodes => nodes.map(n => [n.dataset.id, n.dataset.seq,
                                    n.querySelector('.scc-content').textContent])""",
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES).filter(
        has=page.locator(".scc-content", has_text=re.compile(f"^{re.escape(text)}$"))
    )


def test_message_arrives_in_under_a_second_and_histories_agree(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    alice, bob = open_connected(open_page, room("alice", "bob"))
    bob.evaluate(WATCH_ARRIVALS)
    alice.evaluate(WATCH_SUBMIT)

    delays = []
    for n in range(3):
        text = f"Hello Bob, number {n}"
        send(alice, text)
        expect(message(bob, text)).to_have_count(1)
        sent_at = alice.evaluate("window.__submits[window.__submits.length - 1]")
        arrived_at = bob.evaluate("(text) => window.__arrivals[text]", text)
        delays.append(arrived_at - sent_at)
    assert max(delays) < 1000, f"delivery took {delays} ms"
    # Alice's own copy is confirmed (stored, numbered), not left "sending".
    expect(alice.locator("#message-list li.scc-pending")).to_have_count(0)
    expect(message(alice, "Hello Bob, number 2")).not_to_have_attribute("data-seq", "")

    live_view = history(bob)
    for page in (alice, bob):
        page.reload()
    assert history(alice) == history(bob) == live_view
    assert [text for _, _, text in live_view] == [f"Hello Bob, number {n}" for n in range(3)]


def test_typing_indicator(open_page: OpenPage, room: Callable[..., str]) -> None:
    alice, bob = open_connected(open_page, room("alice", "bob"))
    indicator = bob.locator("#typing-indicator")
    box = composer(alice)

    box.press_sequentially("I am wri")
    expect(indicator).to_have_text("Alice Durand is typing…")
    expect(alice.locator("#typing-indicator")).to_be_empty()  # not shown to oneself
    box.press_sequentially("ting this")
    box.press("Enter")
    expect(message(bob, "I am writing this")).to_have_count(1)
    expect(indicator).to_be_empty()

    # Typing then stopping (and clearing the box): the indicator goes away without a send.
    box.press_sequentially("hmm")
    expect(indicator).to_have_text("Alice Durand is typing…")
    box.fill("")
    expect(indicator).to_be_empty()


def test_presence_and_participants(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    expect(presence(alice, "bob")).to_have_class(re.compile(r"\bscc-offline\b"))
    expect(presence(alice, "bob")).to_have_attribute("aria-label", "offline")

    bob = open_page("bob", f"/chat/room/{slug}/")
    expect(presence(alice, "bob")).to_have_class(re.compile(r"\bscc-online\b"))
    expect(presence(alice, "bob")).to_have_attribute("aria-label", "online")
    expect(presence(bob, "alice")).to_have_class(re.compile(r"\bscc-online\b"))

    bob.context.close()
    expect(presence(alice, "bob")).to_have_class(re.compile(r"\bscc-offline\b"))

    # Someone joins: they are added to the list, and turn online when they open the room.
    expect(alice.locator("#participants li", has_text=NAMES["chloe"])).to_have_count(0)
    chloe = open_page("chloe")
    Api(chloe).join(slug)
    expect(alice.locator("#participants li", has_text=NAMES["chloe"])).to_have_count(1)
    chloe.goto(f"/chat/room/{slug}/")
    expect(presence(alice, "chloe")).to_have_class(re.compile(r"\bscc-online\b"))


def test_a_presence_batch_is_applied_entry_by_entry(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    """The client applies ``presence.batch`` (docs/protocol.md, "Presence"): each entry's
    state, oneself included. The frames are injected into the page's own socket, so the
    test does not depend on two people arriving within one interval."""
    slug = room("alice", "bob", "chloe")
    alice = open_page("alice")
    sockets: list[Any] = []
    received: list[str] = []

    def forward(ws: Any) -> None:
        server = ws.connect_to_server()

        def to_page(message: str | bytes) -> None:
            received.append(message if isinstance(message, str) else "")
            ws.send(message)

        server.on_message(to_page)
        sockets.append(ws)

    alice.route_web_socket(re.compile(r"/ws/chat/"), forward)
    alice.goto(f"/chat/room/{slug}/")
    expect(presence(alice, "bob")).to_have_class(re.compile(r"\bscc-offline\b"))
    expect(presence(alice, "chloe")).to_have_class(re.compile(r"\bscc-offline\b"))
    # The open room's replay (``participants`` ... ``resumed``) first: its list would
    # overwrite what the batch says.
    for _ in range(200):
        if any('"type":"resumed"' in text for text in received):
            break
        alice.wait_for_timeout(50)
    else:
        raise AssertionError(f"the room was not replayed: {received}")

    def user(name: str) -> dict[str, Any]:
        node = alice.locator("#participants li", has_text=NAMES[name])
        ident = int(node.get_attribute("data-user-id") or 0)
        return {"id": ident, "username": None, "name": NAMES[name]}

    def batch(*changes: tuple[str, bool]) -> None:
        frame = {
            "type": "presence.batch",
            "room": slug,
            "changes": [
                {"user": user(name), "online": online, "last_seen": "2026-12-07T08:00:00Z"}
                for name, online in changes
            ],
        }
        sockets[-1].send(json.dumps(frame))

    batch(("bob", True), ("chloe", True))
    expect(presence(alice, "bob")).to_have_class(re.compile(r"\bscc-online\b"))
    expect(presence(alice, "chloe")).to_have_class(re.compile(r"\bscc-online\b"))
    batch(("chloe", False), ("alice", True))
    expect(presence(alice, "chloe")).to_have_class(re.compile(r"\bscc-offline\b"))
    expect(presence(alice, "chloe")).to_have_attribute("aria-label", "offline")
    expect(presence(alice, "bob")).to_have_class(re.compile(r"\bscc-online\b"))


def test_edit_and_delete_propagate(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    Api(open_page("alice")).send(slug, "Server-rendered, to edit")
    alice, bob = open_connected(open_page, slug)
    send(alice, "Live, to delete")
    expect(message(bob, "Live, to delete")).to_have_count(1)

    # Edit a message the server rendered (without JavaScript, a link to the edit page).
    url = alice.url
    edit_inline(message(alice, "Server-rendered, to edit"), "Edited live")
    edited = message(bob, "Edited live")
    expect(edited).to_have_count(1)
    expect(edited.locator(".scc-edited")).to_be_visible()
    expect(message(alice, "Edited live").locator(".scc-edited")).to_be_visible()
    assert alice.url == url

    # Delete the message chat.js rendered.
    message_action(message(alice, "Live, to delete"), "delete")
    gone = bob.locator("#message-list li.scc-deleted")
    expect(gone).to_have_count(1)
    expect(gone.locator(".scc-content")).to_have_text("Message deleted")
    expect(alice.locator("#message-list li.scc-deleted")).to_have_count(1)
    expect(alice.locator("#message-list li.scc-deleted")).not_to_have_attribute(
        "data-can-delete", re.compile(".*")
    )

    for page in (alice, bob):
        page.reload()
        expect(page.locator("#message-list li.scc-deleted .scc-content")).to_have_text(
            "Message deleted"
        )
        expect(page.locator("#message-list")).not_to_contain_text("Live, to delete")
        expect(message(page, "Edited live").locator(".scc-edited")).to_be_visible()
    assert alice.url == url


def test_reconnection_delivers_everything_once_in_order(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    alice, bob = open_connected(open_page, room("alice", "bob"))
    send(alice, "before the drop")
    expect(message(bob, "before the drop")).to_have_count(1)
    # Bob may see it before Alice's ack reaches her: wait for it, or it would be held by the
    # drop and "before the drop" counted among the messages pending below.
    expect(alice.locator("#message-list li.scc-pending")).to_have_count(0)

    # Alice's network goes away, and the server restarts: every socket is closed.
    alice.context.set_offline(True)
    live_site.stop()
    for page in (alice, bob):
        expect(page.locator("#connection-banner")).to_be_visible()
        expect(page.locator("#connection-banner")).to_contain_text("Reconnecting")
    send(alice, "typed offline 1")
    send(alice, "typed offline 2")
    # Pending, then marked failed after a few reconnect attempts (issue #16): either way
    # still queued, sent by themselves once the connection is back.
    unsent = "#message-list li.scc-pending, #message-list li.scc-failed"
    expect(alice.locator(unsent)).to_have_count(2)
    live_site.start()

    # Bob is back first and talks while Alice is still away.
    expect(bob.locator("#connection-banner")).to_be_hidden(timeout=20_000)
    send(bob, "while you were away 1")
    send(bob, "while you were away 2")
    expect(bob.locator("#message-list li.scc-pending")).to_have_count(0)
    expect(alice.locator("#connection-banner")).to_be_visible()

    alice.context.set_offline(False)
    expect(alice.locator("#connection-banner")).to_be_hidden(timeout=20_000)
    expected = [
        "before the drop",
        "while you were away 1",
        "while you were away 2",
        "typed offline 1",
        "typed offline 2",
    ]
    for page in (alice, bob):
        expect(page.locator(unsent)).to_have_count(0)
        expect(page.locator(MESSAGES)).to_have_count(len(expected))
        assert contents(page) == expected, page
    seqs = [int(seq) for _, seq, _ in history(alice)]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)

    # The database agrees: each message stored exactly once.
    alice.reload()
    assert contents(alice) == expected
    assert history(alice) == history(bob)


def test_losing_the_network_shows_the_banner_at_once_and_loses_nothing(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    """The server stays up: only Alice's network goes. Chromium then holds every frame of
    her socket (the close handshake too), so the socket never closes on its own: the client
    must give it up when the browser says it is offline, not wait for a close event."""
    alice, bob = open_connected(open_page, room("alice", "bob"))
    send(alice, "before the drop")
    expect(message(bob, "before the drop")).to_have_count(1)
    # Bob may see it before Alice's ack reaches her: wait for it, or it would be held by the
    # drop and "before the drop" counted among the messages pending below.
    expect(alice.locator("#message-list li.scc-pending")).to_have_count(0)

    alice.context.set_offline(True)
    send(bob, "said while you were offline")  # a frame on its way to Alice, held
    expect(alice.locator("#connection-banner")).to_be_visible()
    expect(alice.locator("#connection-banner")).to_contain_text("Reconnecting")
    send(alice, "typed offline")
    unsent = "#message-list li.scc-pending, #message-list li.scc-failed"
    expect(alice.locator(unsent)).to_have_count(1)
    expect(message(bob, "typed offline")).to_have_count(0)

    alice.context.set_offline(False)
    expect(alice.locator("#connection-banner")).to_be_hidden()
    expected = ["before the drop", "said while you were offline", "typed offline"]
    for page in (alice, bob):
        expect(page.locator(unsent)).to_have_count(0)
        expect(page.locator(MESSAGES)).to_have_count(len(expected))
        assert contents(page) == expected, page
    alice.reload()
    assert contents(alice) == expected
    assert history(alice) == history(bob)


def test_older_history_loads_on_scroll_up_in_order_without_duplicates(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    slug = room("alice")
    total = 120
    live_site.manage(
        "shell",
        "-c",
        "from smartcampus_chat import services; from smartcampus_chat.models import ChatRoom;"
        "from django.contrib.auth import get_user_model;"
        f"room = ChatRoom.objects.get(slug={slug!r});"
        "user = get_user_model().objects.get(username='alice');"
        f"[services.do_send_message(user, room, f'history {{n}}') for n in range(1, {total + 1})]",
    )
    page = open_page("alice", f"/chat/room/{slug}/")
    assert len(history(page)) == 50
    # Scrolling up to the top loads the older pages in place, until there is no #older left.
    scroll_to_oldest(page)
    wait_for_message_count(page, total)
    seen = history(page)
    assert [text for _, _, text in seen] == [f"history {n}" for n in range(1, total + 1)]
    assert [int(seq) for _, seq, _ in seen] == list(range(1, total + 1))
    assert len({msg_id for msg_id, _, _ in seen}) == total
    assert page.url.endswith(f"/chat/room/{slug}/")  # loaded in place, no navigation

    # Without scrolling, the link still leads to an older page (the no-JavaScript path).
    old = open_page("alice", f"/chat/room/{slug}/?before=51")
    expect(old.locator("#newer")).to_be_visible()
    pages = [history(old)]
    assert [int(seq) for _, seq, _ in pages[-1]] == list(range(1, 51))

    # A page of old history does not grow live messages at its end; the latest page does.
    latest = open_page("alice", f"/chat/room/{slug}/")
    Api(open_page("alice")).send(slug, "live while reading old history")
    expect(message(latest, "live while reading old history")).to_have_count(1)
    expect(message(old, "live while reading old history")).to_have_count(0)
    assert history(old) == pages[-1]


def test_unread_badges_update_live_and_clear(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    rooms = open_page("alice", "/chat/")
    badge = rooms.locator(f'#my-rooms li[data-room="{slug}"] .scc-unread')
    expect(badge).to_be_hidden()
    bob = open_page("bob", f"/chat/room/{slug}/")
    send(bob, "first unread")
    expect(badge).to_be_visible()
    expect(badge).to_have_text("1")
    send(bob, "second unread")
    expect(badge).to_have_text("2")
    expect(rooms.locator(f'#my-rooms li[data-room="{slug}"] .scc-preview')).to_contain_text(
        "second unread"
    )

    # Alice reads the room in another tab: the room list's badge clears without reload.
    reader = rooms.context.new_page()
    reader.goto(f"/chat/room/{slug}/")
    expect(message(reader, "second unread")).to_have_count(1)
    expect(badge).to_be_hidden()
    rooms.reload()
    expect(badge).to_be_hidden()


# Sends ``count`` messages at once from a page, through the REST API.
SEND_BURST = """async ([slug, count, token]) => {
  const post = n => fetch(`/chat/api/rooms/${slug}/messages/`, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
    body: JSON.stringify({content: `burst ${n}`}),
  }).then(answer => answer.json());
  return Promise.all([...Array(count).keys()].map(post));
}"""


def test_a_reader_sends_a_read_marker_per_interval_not_per_message(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    reader = open_page("alice")
    reads: list[int] = []

    def watch(socket: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame.get("type") == "read":
                reads.append(frame["seq"])

        socket.on("framesent", sent)

    reader.on("websocket", watch)
    reader.goto(f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    wait_connected(reader, "bob")
    stored = bob.evaluate(SEND_BURST, [slug, 10, csrf_token(bob)])
    newest = max(message["seq"] for message in stored)
    expect(message(reader, "burst 9")).to_have_count(1)
    # The newest seen is marked read soon after, in a handful of frames, not ten.
    for _ in range(50):
        if reads and reads[-1] == newest:
            break
        reader.wait_for_timeout(100)
    assert reads, "no read marker sent"
    assert reads[-1] == newest, reads
    assert len(reads) <= 3, reads


def test_french_live_strings(open_page: OpenPage, room: Callable[..., str]) -> None:
    alice, bob = open_connected(open_page, room("alice", "bob"), locale="fr-FR")
    expect(presence(alice, "bob")).to_have_attribute("aria-label", "en ligne")
    composer(bob).press_sequentially("Salut")
    expect(alice.locator("#typing-indicator")).to_have_text(
        "Bob Martin est en train d\u2019écrire…"
    )
    composer(bob).press("Enter")
    expect(alice.locator("#live-region")).to_contain_text("Nouveau message de Bob Martin")
    message_action(message(bob, "Salut"), "delete")
    expect(alice.locator("#message-list li.scc-deleted .scc-content")).to_have_text(
        "Message supprimé"
    )


XSS = f"{XSS_IMG} {XSS_SCRIPT}"


def test_markup_sent_live_is_shown_as_text(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    rooms = open_page("alice", "/chat/")
    wait_connected(bob, "alice")
    send(bob, XSS)
    for page in (alice, bob):
        expect(message(page, XSS)).to_have_count(1)
        expect(page.locator("#message-list .scc-content img, #message-list script")).to_have_count(
            0
        )
    expect(rooms.locator(f'#my-rooms li[data-room="{slug}"] .scc-preview')).to_contain_text(
        "<img src=x"
    )
    expect(alice.locator("#live-region")).to_contain_text("<img src=x")
    alice.reload()
    expect(message(alice, XSS)).to_have_count(1)
    for page in (alice, bob, rooms):
        assert page.evaluate("window.__xss") is None


def test_keyboard_send_and_live_announcement(open_page: OpenPage, room: Callable[..., str]) -> None:
    alice, bob = open_connected(open_page, room("alice", "bob"))
    # The composer has the focus when the room opens.
    expect(alice.locator("#composer textarea")).to_be_focused()
    alice.keyboard.type("Sent with the keyboard")
    alice.keyboard.press("Enter")
    expect(message(bob, "Sent with the keyboard")).to_have_count(1)
    expect(alice.locator("#composer textarea")).to_be_focused()
    expect(alice.locator("#composer textarea")).to_have_value("")
    live = bob.locator("#live-region")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_contain_text("Alice Durand")
    expect(live).to_contain_text("Sent with the keyboard")
    # Shift+Enter writes a new line instead of sending.
    alice.keyboard.type("two")
    alice.keyboard.press("Shift+Enter")
    alice.keyboard.type("lines")
    expect(alice.locator("#composer textarea")).to_have_value("two\nlines")
