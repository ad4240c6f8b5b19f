"""Replies in the browser: "Reply" in a message's menu, the "Replying to" bar over the
composer (Esc cancels it), the reply's quote of its parent live for everyone and after a
reload; following a quote scrolls to and focuses the parent, or loads the history that
starts with it when it is not on the page; the quote follows its parent's edit and
deletion live."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import MESSAGES, Api, OpenPage, composer, message_action, send
from tests.browser.live import LiveServer


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES, has=page.locator(".scc-content", has_text=text))


def test_a_reply_quotes_its_parent_live_and_follows_it(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    send(alice, "Is the exam **open book**?")
    parent = message(bob, "Is the exam")
    expect(parent).to_have_count(1)

    message_action(parent, "reply")
    bar = bob.locator(".scc-replying")
    expect(bar.locator(".scc-replying-label")).to_have_text("Replying to Alice Durand")
    expect(bar.locator(".scc-replying-excerpt")).to_have_text("Is the exam open book?")
    expect(composer(bob)).to_be_focused()
    composer(bob).press("Escape")
    expect(bar).to_have_count(0)
    message_action(parent, "reply")
    send(bob, "No, one sheet of notes.")
    expect(bar).to_have_count(0)

    for page in (alice, bob):
        reply = message(page, "one sheet of notes")
        quote = reply.locator(".scc-reply")
        expect(quote).to_be_visible()
        expect(quote.locator(".scc-reply-author")).to_have_text("Alice Durand")
        expect(quote.locator(".scc-reply-excerpt")).to_have_text("Is the exam open book?")
    # Not a reply: no quote.
    expect(message(alice, "Is the exam").locator(".scc-reply")).to_be_hidden()

    # The parent changes: the quotes follow, live.
    Api(alice).call(
        "PATCH",
        f"rooms/{slug}/messages/{message(alice, 'Is the exam').get_attribute('data-id')}/",
        {"content": "Is the *final* open book?"},
    )
    quote = message(bob, "one sheet of notes").locator(".scc-reply-excerpt")
    expect(quote).to_have_text("Is the final open book?")
    bob.reload()
    expect(message(bob, "one sheet of notes").locator(".scc-reply-excerpt")).to_have_text(
        "Is the final open book?"
    )
    message(bob, "one sheet of notes").locator(".scc-reply").click()
    focused = bob.locator(f"{MESSAGES}:focus")
    expect(focused.locator(".scc-content")).to_have_text("Is the final open book?")
    expect(focused).to_have_class(re.compile(r"\bscc-flash\b"))

    message_action(message(alice, "Is the final"), "delete")
    for page in (alice, bob):
        quote = message(page, "one sheet of notes").locator(".scc-reply")
        expect(quote.locator(".scc-reply-excerpt")).to_have_text("Message deleted")
        expect(quote).to_have_class(re.compile(r"\bscc-reply-deleted\b"))


SEED = """
from django.contrib.auth import get_user_model
from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
room = ChatRoom.objects.get(slug=%(slug)r)
users = get_user_model().objects.in_bulk(["alice", "bob"], field_name="username")
first = services.do_send_message(users["alice"], room, "the very first message").message
for number in range(60):
    services.do_send_message(users["alice"], room, f"filler {number}")
services.do_send_message(users["bob"], room, "answering the first", reply_to=first)
print(first.pk, first.seq)
"""


def test_a_quote_of_a_message_not_on_the_page_loads_the_history_from_it(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    slug = room("alice", "bob")
    pk, seq = map(int, live_site.manage("shell", "-c", SEED % {"slug": slug}).split()[-2:])
    page = open_page("bob", f"/chat/room/{slug}/")
    expect(page.locator(f"#message-{pk}")).to_have_count(0)
    quote = message(page, "answering the first").locator(".scc-reply")
    expect(quote.locator(".scc-reply-excerpt")).to_have_text("the very first message")
    quote.click()
    expect(page).to_have_url(re.compile(rf"/chat/room/{slug}/\?after={seq - 1}#message-{pk}$"))
    expect(page.locator(f"#message-{pk} .scc-content")).to_have_text("the very first message")


def test_a_copied_message_link_opens_the_room_at_that_message(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    slug = room("alice", "bob")
    pk, _seq = map(int, live_site.manage("shell", "-c", SEED % {"slug": slug}).split()[-2:])
    alice = open_page(
        "alice",
        f"/chat/room/{slug}/?message={pk}",
        permissions=["clipboard-read", "clipboard-write"],
    )
    target = alice.locator(f"#message-{pk}")
    expect(target.locator(".scc-content")).to_have_text("the very first message")
    assert alice.evaluate(f"document.querySelector('#message-{pk}').matches(':target')")
    message_action(target, "copy-link")
    expect(alice.locator("#live-region")).to_have_text("Link copied.")
    link = alice.evaluate("navigator.clipboard.readText()")
    assert link.endswith(f"/chat/room/{slug}/?message={pk}")
    bob = open_page("bob", link.split(live_site.url, 1)[1])
    expect(bob.locator(f"#message-{pk} .scc-content")).to_have_text("the very first message")
    expect(bob.locator(f"#message-{pk}")).to_be_in_viewport()
