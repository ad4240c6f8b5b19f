"""Moderation in the browser: a moderator mutes a member from the room's settings page and
the member's open conversation hides its composer at once, saying why and until when (with
the reason); unmuted, it comes back and sends. A locked room tells its members the same
way, live, and its moderator keeps posting."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, composer, send, wait_until_live


def test_a_muted_member_is_told_live_and_unmuted_posts_again(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")  # alice owns the room: she moderates it
    bob = open_page("bob", f"/chat/room/{slug}/")
    wait_until_live(bob)
    alice = open_page("alice", f"/chat/room/{slug}/settings/")
    row = alice.locator("#scc-members li", has_text="Bob Martin")
    row.locator("summary").click()
    mute = row.locator("form.scc-sanction-form", has=alice.locator("input[value=mute]"))
    mute.get_by_label("For").select_option(label="1 hour")
    mute.get_by_label("Reason (shown to them)").fill("Please stay on topic")
    mute.get_by_role("button", name="Mute").click()
    expect(alice.locator(".scc-flash")).to_contain_text("Bob Martin is muted.")

    notice = bob.locator("#scc-posting-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("A moderator muted you in this room until")
    expect(notice).to_contain_text("Reason: Please stay on topic")
    expect(composer(bob)).to_be_hidden()

    bob.reload()  # the page itself says so too
    expect(bob.locator("#scc-posting-notice")).to_contain_text("A moderator muted you")
    expect(composer(bob)).to_be_hidden()
    wait_until_live(bob)

    row = alice.locator("#scc-members li", has_text="Bob Martin")
    row.locator("summary").click()
    row.get_by_role("button", name="Unmute Bob Martin").click()
    expect(alice.locator(".scc-flash")).to_contain_text("Bob Martin is no longer muted.")
    expect(bob.locator("#scc-posting-notice")).to_be_hidden()
    expect(composer(bob)).to_be_visible()
    send(bob, "Sorry, back on topic")
    expect(bob.locator(".scc-message .scc-content", has_text="back on topic")).to_have_count(1)


def test_a_locked_room_tells_its_members_live(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    bob = open_page("bob", f"/chat/room/{slug}/")
    wait_until_live(bob)
    alice = open_page("alice", f"/chat/room/{slug}/settings/")
    alice.get_by_label("Locked").check()
    alice.get_by_label("Slow mode").select_option(label="One message every 30 seconds")
    alice.get_by_role("button", name="Save").click()
    expect(alice.locator(".scc-flash")).to_contain_text("Room settings saved.")
    expect(bob.locator("#scc-posting-notice")).to_have_text(
        "This room is locked: only its moderators post."
    )
    expect(composer(bob)).to_be_hidden()
    alice.goto(alice.url.replace("settings/", ""))
    wait_until_live(alice)
    send(alice, "Exam moved to Friday")
    expect(bob.locator(".scc-message .scc-content", has_text="Exam moved")).to_have_count(1)
