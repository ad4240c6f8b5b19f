"""Polls in the browser: the teacher creates one from the composer's dialog (keyboard and
labels), two students vote and everyone sees the results move live, the teacher closes it
and the students can no longer vote. axe finds no serious violation on the poll or the
dialog. Nothing uncaught in any page (the fixture fails the test otherwise)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, wait_until_live
from tests.browser.test_accessibility import axe_violations, describe

COURSE = "/chat/room/cs101-introduction-to-programming/"
QUESTION = "Which lab slot do you prefer?"


def test_create_vote_and_close_a_poll_live(open_page: OpenPage, axe_source: str) -> None:
    alice = open_page("alice", COURSE, bypass_csp=True)  # axe runs inline
    wait_until_live(alice)
    bob = open_page("bob", COURSE, bypass_csp=True)
    wait_until_live(bob)
    teacher = open_page("prof.martin", COURSE, bypass_csp=True)
    wait_until_live(teacher)

    # Students do not get the button (the room does not let members post polls).
    expect(alice.get_by_role("button", name="Create poll")).to_have_count(0)

    teacher.get_by_role("button", name="Create poll").click()
    dialog = teacher.get_by_role("dialog", name="Create poll")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Question")).to_be_focused()
    violations = axe_violations(teacher, axe_source)
    assert not violations, describe(violations)
    dialog.get_by_label("Question").fill(QUESTION)
    dialog.get_by_label("Option 1", exact=True).fill("Morning")
    dialog.get_by_label("Option 2", exact=True).fill("Afternoon")
    dialog.get_by_role("button", name="Add an option").click()
    expect(dialog.get_by_label("Option 3", exact=True)).to_be_focused()
    teacher.keyboard.type("Evening")
    dialog.get_by_role("button", name="Post poll").click()
    expect(dialog).to_be_hidden()

    posted = teacher.locator("#message-list li.scc-message", has_text=QUESTION)
    expect(posted.locator(".scc-poll-option")).to_have_count(3)
    expect(posted.get_by_role("button", name="Close poll")).to_be_visible()

    poll_a = alice.locator("#message-list li.scc-message", has_text=QUESTION)
    expect(poll_a.get_by_role("radio")).to_have_count(3)
    # Alice votes from the keyboard: the radio button, then the Vote button.
    poll_a.get_by_role("radio", name="Afternoon").focus()
    alice.keyboard.press("Space")
    expect(poll_a.get_by_role("radio", name="Afternoon")).to_be_checked()
    poll_a.get_by_role("button", name="Vote").focus()
    alice.keyboard.press("Enter")
    expect(alice.locator("#live-region")).to_contain_text("Your vote is counted.")

    poll_b = bob.locator("#message-list li.scc-message", has_text=QUESTION)
    expect(poll_b.locator(".scc-poll-total")).to_have_text("1 person voted")
    poll_b.get_by_role("radio", name="Afternoon").check()
    poll_b.get_by_role("button", name="Vote").click()

    for page in (alice, bob, teacher):
        poll = page.locator("#message-list li.scc-message", has_text=QUESTION)
        expect(poll.locator(".scc-poll-total")).to_have_text("2 people voted")
        afternoon = poll.locator(".scc-poll-option", has_text="Afternoon")
        expect(afternoon.locator(".scc-poll-result")).to_have_text("100% · 2 votes")
        expect(afternoon.locator(".scc-poll-voters")).to_contain_text("Alice")
    for page in (alice, teacher):
        violations = axe_violations(page, axe_source)
        assert not violations, describe(violations)

    # Alice changes her mind: the counts follow, live.
    poll_a.get_by_role("radio", name="Morning").check()
    poll_a.get_by_role("button", name="Vote").click()
    morning = posted.locator(".scc-poll-option", has_text="Morning")
    expect(morning.locator(".scc-poll-result")).to_have_text("50% · 1 vote")

    posted.get_by_role("button", name="Close poll").click()
    for page in (alice, bob, teacher):
        poll = page.locator("#message-list li.scc-message", has_text=QUESTION)
        expect(poll.locator(".scc-poll-closed-label")).to_have_text("Closed")
        expect(poll.get_by_role("button", name="Vote")).to_have_count(0)
    expect(poll_b.get_by_role("radio", name="Evening")).to_be_disabled()

    # Fresh pages agree: the results and the closed state, my own choice marked.
    alice.reload()
    wait_until_live(alice)
    poll_a = alice.locator("#message-list li.scc-message", has_text=QUESTION)
    expect(poll_a.locator(".scc-poll-closed-label")).to_have_text("Closed")
    expect(poll_a.get_by_role("radio", name="Morning")).to_be_checked()
    expect(poll_a.get_by_role("radio", name="Morning")).to_be_disabled()
