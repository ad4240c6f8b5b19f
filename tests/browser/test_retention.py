"""The retention purge in the browser (docs/retention.md, "The gap"): a page that was
offline while the purge ran drops the purged messages, and the quote of a purged parent,
when its socket resumes; a page that missed the deletion of a message purged since loads
the room again. The purge runs in ``manage.py chat_purge_messages`` against the live
site's database (another process: the resume, not the live frame, brings the news)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import MESSAGES, OpenPage, message_action, send, wait_until_live
from tests.browser.live import LiveServer


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES, has=page.locator(".scc-content", has_text=text))


def age(
    live_site: LiveServer, slug: str, *, sent_days: dict[str, int], deleted_days: int = 0
) -> None:
    """Age messages of room ``slug`` (by text): sent, or deleted, that many days ago; and
    give the room the rule "30 days after each message"."""
    live_site.manage(
        "shell",
        "-c",
        "import datetime; from django.utils import timezone;"
        "from smartcampus_chat import services;"
        "from smartcampus_chat.models import ChatMessage, ChatRoom, RetentionKind;"
        f"room = ChatRoom.objects.get(slug={slug!r}); now = timezone.now();"
        "services.do_set_retention(None, room, RetentionKind.DAYS, 30);"
        f"[ChatMessage.objects.filter(room=room, content=t).update("
        f"created_at=now - datetime.timedelta(days=d)) for t, d in {sent_days!r}.items()];"
        f"ChatMessage.objects.filter(room=room, is_deleted=True).update("
        f"deleted_at=now - datetime.timedelta(days={deleted_days}))",
    )


def test_a_page_that_was_away_drops_what_the_purge_deleted(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    for text in ("old notes", "older minutes", "still current"):
        send(alice, text)
        expect(message(alice, text)).to_have_count(1)
    bob = open_page("bob", f"/chat/room/{slug}/")
    message_action(message(bob, "old notes"), "reply")
    send(bob, "I agree with that")
    expect(message(alice, "I agree with that").locator(".scc-reply")).to_be_visible()
    wait_until_live(alice)
    alice.context.set_offline(True)
    expect(alice.locator("html")).not_to_have_attribute("data-scc-socket", "open")
    age(live_site, slug, sent_days={"old notes": 40, "older minutes": 40})
    live_site.manage("chat_purge_messages")
    alice.context.set_offline(False)
    wait_until_live(alice)
    expect(message(alice, "old notes")).to_have_count(0)
    expect(message(alice, "older minutes")).to_have_count(0)
    expect(message(alice, "still current")).to_have_count(1)
    reply = message(alice, "I agree with that")
    expect(reply).to_have_count(1)
    expect(reply.locator(".scc-reply")).to_be_hidden()
    alice.reload()  # what a fresh page shows is the same
    expect(alice.locator(MESSAGES)).to_have_count(2)
    expect(message(alice, "I agree with that").locator(".scc-reply")).to_be_hidden()


def test_a_page_that_missed_a_deletion_purged_since_loads_the_room_again(
    open_page: OpenPage, room: Callable[..., str], live_site: LiveServer
) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    send(alice, "regrettable remark")
    send(alice, "a fine remark")
    bob = open_page("bob", f"/chat/room/{slug}/")
    expect(message(bob, "regrettable remark")).to_have_count(1)
    wait_until_live(bob)
    bob.context.set_offline(True)
    expect(bob.locator("html")).not_to_have_attribute("data-scc-socket", "open")
    message_action(message(alice, "regrettable remark"), "delete")
    expect(message(alice, "regrettable remark")).to_have_count(0)
    age(live_site, slug, sent_days={}, deleted_days=40)
    live_site.manage("chat_purge_messages")
    bob.context.set_offline(False)
    # The replay cannot name the purged message: resumed says "gap" and the pane reloads.
    expect(bob.locator(MESSAGES)).to_have_count(1)
    expect(message(bob, "a fine remark")).to_have_count(1)
    expect(bob.locator("#message-list")).not_to_contain_text("regrettable")
