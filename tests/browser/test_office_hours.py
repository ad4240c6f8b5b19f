"""Office hours in the browser (docs/office-hours.md): the teacher opens them in MATH201's
room, two students raise a hand, the teacher claims the next one; both students see it
live (the first "It's your turn" with a link to the conversation, the second moves up),
then the teacher closes and sees the session's figures. All by keyboard-reachable buttons
with accessible names; the announcements go to the panel's live regions."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage, wait_until_live
from tests.browser.test_accessibility import axe_violations, describe

ROOM = "/chat/room/math201-linear-algebra/"


def raise_hand(page: Page, topic: str) -> None:
    section = page.locator("#scc-office-hours")
    section.get_by_label("What do you need help with? (optional)").fill(topic)
    section.get_by_role("button", name="Raise hand").click()


def test_two_students_queue_a_teacher_claims_and_both_see_it_live(open_page: OpenPage) -> None:
    teacher = open_page("prof.martin", ROOM)
    wait_until_live(teacher)
    section = teacher.locator("#scc-office-hours")
    section.get_by_role("button", name="Open office hours").click()
    expect(section.locator(".scc-oh-status")).to_contain_text("Office hours are open: 0 waiting")

    bob = open_page("bob", ROOM)
    wait_until_live(bob)
    chloe = open_page("chloe", ROOM)
    wait_until_live(chloe)
    raise_hand(bob, "Eigenvalues of a 3x3 matrix")
    expect(bob.locator("#scc-office-hours .scc-oh-place")).to_contain_text(
        "You are number 1 in the queue."
    )
    raise_hand(chloe, "Chapter 5, exercise 2")
    expect(chloe.locator("#scc-office-hours .scc-oh-place")).to_contain_text(
        "You are number 2 in the queue."
    )
    expect(chloe.locator("#scc-oh-polite")).to_contain_text("You are number 2")
    # Bob sees the queue grow, never Chloé's name or topic.
    expect(bob.locator("#scc-office-hours .scc-oh-status")).to_contain_text("2 waiting")
    expect(bob.locator("#scc-office-hours")).not_to_contain_text("Chapter 5")
    expect(bob.locator("#scc-office-hours")).not_to_contain_text("Chloé")

    # The teacher sees both, with their topics, in order, and claims the next.
    entries = section.locator(".scc-oh-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("Bob Martin")
    expect(entries.nth(0)).to_contain_text("Eigenvalues of a 3x3 matrix")
    expect(entries.nth(1)).to_contain_text("Chapter 5, exercise 2")
    claim_next = section.get_by_role("button", name="Claim next")
    claim_next.focus()
    teacher.keyboard.press("Enter")

    # Bob: his turn, assertively, with the way to the conversation; Chloé moves up.
    expect(bob.locator("#scc-oh-alert")).to_contain_text("It's your turn: Claire Martin")
    go = bob.locator("#scc-office-hours").get_by_role("link", name="Go to your conversation")
    expect(go).to_be_visible()
    expect(chloe.locator("#scc-office-hours .scc-oh-place")).to_contain_text(
        "You are number 1 in the queue."
    )
    expect(chloe.locator("#scc-oh-polite")).to_contain_text("You are number 1")
    expect(entries.nth(0)).to_contain_text("helped by Claire Martin")

    section.get_by_role("button", name="Done Bob Martin").click()
    expect(bob.locator("#scc-office-hours .scc-oh-place")).to_contain_text("You were helped.")
    chloe.locator("#scc-office-hours").get_by_role("button", name="Leave the queue").click()
    expect(chloe.locator("#scc-office-hours .scc-oh-place")).to_contain_text("You left the queue.")

    section.get_by_role("button", name="Close office hours").click()
    expect(section.locator(".scc-oh-status")).to_have_text("Office hours are closed.")
    stats = section.locator(".scc-oh-stats")
    expect(stats).to_be_visible()
    expect(stats).to_contain_text("Served")
    expect(bob.locator("#scc-office-hours .scc-oh-status")).to_have_text("Office hours are closed.")


@pytest.mark.parametrize("user", ["prof.martin", "alice"], ids=["teacher", "student"])
def test_the_panel_has_no_serious_axe_violation(
    open_page: OpenPage, axe_source: str, user: str
) -> None:
    """CS101's office hours are open with Alice waiting (seed_demo): the teacher's queue
    and the student's place, once filled in by the client."""
    page = open_page(user, "/chat/room/cs101-introduction-to-programming/", bypass_csp=True)
    wait_until_live(page)
    section = page.locator("#scc-office-hours")
    expect(section.locator(".scc-oh-status")).to_contain_text("Office hours are open")
    if user == "alice":
        expect(section.locator(".scc-oh-place")).to_contain_text("You are number 1")
    else:
        expect(section.locator(".scc-oh-entry")).to_contain_text("Lab 3: my loop never ends")
    violations = axe_violations(page, axe_source)
    assert not violations, describe(violations)
