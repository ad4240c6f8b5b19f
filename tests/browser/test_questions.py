"""Q&A mode in the browser (the demo's CS101 room is in it): a student asks, another
up-votes from the keyboard and answers, the teacher endorses the answer; each sees the
others' actions live (the vote count in the live questions panel, "Endorsed answer"), and
the panel and the timeline's Q&A controls pass axe."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, message_action, send, wait_until_live
from tests.browser.test_accessibility import axe_violations, describe

COURSE = "/chat/room/cs101-introduction-to-programming/"
QUESTION = "Is recursion slower than a loop in Python?"


def test_ask_answer_endorse_and_up_vote_live(open_page: OpenPage, axe_source: str) -> None:
    alice = open_page("alice", COURSE, bypass_csp=True)  # axe runs inline
    wait_until_live(alice)
    bob = open_page("bob", COURSE, bypass_csp=True)
    wait_until_live(bob)
    teacher = open_page("prof.martin", COURSE, bypass_csp=True)
    wait_until_live(teacher)

    # The seeded questions: the endorsed answer is said in text.
    seeded = bob.locator("#message-list li.scc-message", has_text="python.org")
    expect(seeded.locator(".scc-qa-endorsed")).to_have_text("Endorsed answer")

    send(alice, QUESTION)
    question = bob.locator("#message-list li.scc-question", has_text=QUESTION)
    vote = question.locator(".scc-qa-vote")
    expect(vote).to_have_attribute("aria-pressed", "false")
    panel_item = alice.locator("#scc-questions .scc-questions-item", has_text=QUESTION)
    expect(panel_item.locator(".scc-qa-votes")).to_have_text("0")
    # One cannot up-vote one's own question.
    expect(
        alice.locator("#message-list li.scc-question", has_text=QUESTION).locator(".scc-qa-vote")
    ).to_be_disabled()

    vote.focus()
    bob.keyboard.press("Enter")
    expect(vote).to_have_attribute("aria-pressed", "true")
    expect(vote.locator(".scc-qa-votes")).to_have_text("1")
    expect(panel_item.locator(".scc-qa-votes")).to_have_text("1")  # live for Alice

    message_action(question, "reply")
    send(bob, "Usually, yes: each call costs a frame.")
    answer = teacher.locator("#message-list li.scc-message", has_text="each call costs a frame")
    endorse = answer.get_by_role("button", name="Endorse this answer")
    endorse.focus()
    teacher.keyboard.press("Enter")
    for page in (alice, bob, teacher):
        endorsed = page.locator("#message-list li.scc-endorsed", has_text="each call costs")
        expect(endorsed.locator(".scc-qa-endorsed")).to_have_text("Endorsed answer")
        expect(endorsed.locator(".scc-qa-endorser")).to_have_text("Endorsed by Claire Martin")
    expect(
        alice.locator("#message-list li.scc-question", has_text=QUESTION).locator(".scc-qa-answers")
    ).to_have_text("Answers: 1")
    # A student is offered no endorsement.
    expect(
        bob.locator("#message-list li.scc-message", has_text="each call costs").get_by_role(
            "button", name="Endorse this answer"
        )
    ).to_have_count(0)

    for page in (alice, bob, teacher):
        violations = axe_violations(page, axe_source)
        assert not violations, describe(violations)

    # Its author marks it resolved: it leaves everyone's live questions.
    alice.locator("#message-list li.scc-question", has_text=QUESTION).get_by_role(
        "button", name="Mark resolved"
    ).click()
    expect(question.locator(".scc-qa-resolved")).to_have_text("Resolved")
    expect(bob.locator("#scc-questions .scc-questions-item", has_text=QUESTION)).to_have_count(0)


def test_an_anonymous_question_is_up_voted_answered_and_endorsed(open_page: OpenPage) -> None:
    """The issue's story in one room (CS101 allows anonymous posts): a student asks
    anonymously; a classmate sees "Anonymous classmate", up-votes and answers; the teacher
    endorses the answer; the asker, told the question is theirs, cannot up-vote it and
    marks it resolved; nobody's page names the asker."""
    asker = open_page("alice", COURSE)
    wait_until_live(asker)
    classmate = open_page("bob", COURSE)
    wait_until_live(classmate)
    teacher = open_page("prof.martin", COURSE)
    wait_until_live(teacher)
    text = "Do we need to memorise the big-O table?"

    asker.get_by_label("Post anonymously to classmates").check()
    send(asker, text)
    question = classmate.locator("#message-list li.scc-question", has_text=text)
    expect(question.locator(".scc-author")).to_have_text("Anonymous classmate")
    expect(question).to_have_attribute("data-sender-id", "")
    vote = question.locator(".scc-qa-vote")
    vote.focus()
    classmate.keyboard.press("Enter")
    expect(vote).to_have_attribute("aria-pressed", "true")
    teacher_item = teacher.locator("#scc-questions .scc-questions-item", has_text=text)
    expect(teacher_item.locator(".scc-qa-votes")).to_have_text("1")

    message_action(question, "reply")
    send(classmate, "Only the common ones: O(1), O(log n), O(n), O(n log n).")
    answer = teacher.locator("#message-list li.scc-message", has_text="Only the common ones")
    answer.get_by_role("button", name="Endorse this answer").click()
    endorsed = classmate.locator("#message-list li.scc-endorsed", has_text="Only the common")
    expect(endorsed.locator(".scc-qa-endorsed")).to_have_text("Endorsed answer")

    own = asker.locator("#message-list li.scc-question", has_text=text)
    expect(own.locator(".scc-qa-vote")).to_be_disabled()
    own.get_by_role("button", name="Mark resolved").click()
    expect(question.locator(".scc-qa-resolved")).to_have_text("Resolved")
    for page in (classmate, teacher):
        item = page.locator("#message-list li.scc-question", has_text=text)
        expect(item.locator(".scc-author")).to_have_text("Anonymous classmate")
        assert "Alice" not in item.inner_text()
