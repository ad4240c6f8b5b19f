"""Anonymous posts in the browser: a student ticks "Post anonymously to classmates" from
the keyboard (the note says the teachers can reveal the name), types (no typing frame goes
out while the box is ticked, one does without it) and asks; a classmate sees the question
under "Anonymous classmate", nothing naming the student; the teacher reveals the author
from the message's menu with a reason, sees the name in a dialog, and the audit log (the
admin) has the reveal. axe finds no serious violation in the composer or the dialog."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage, composer, message_action, wait_until_live
from tests.browser.test_accessibility import axe_violations, describe

COURSE = "/chat/room/cs101-introduction-to-programming/"


def sent_frames(page: Page) -> list[dict[str, Any]]:
    """The frames ``page`` sends from now on, as they go out."""
    frames: list[dict[str, Any]] = []

    def on_socket(socket: Any) -> None:
        socket.on("framesent", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


def wait_for(page: Page, condition: Callable[[], bool], seconds: float = 5) -> None:
    """Wait (letting the page run) until ``condition`` holds."""
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        page.wait_for_timeout(50)


def test_a_student_asks_anonymously_and_the_teacher_reveals(
    open_page: OpenPage, axe_source: str
) -> None:
    classmate = open_page("alice", COURSE, bypass_csp=True)  # axe runs inline
    wait_until_live(classmate)
    teacher = open_page("prof.martin", COURSE, bypass_csp=True)
    wait_until_live(teacher)
    student = open_page("bob", COURSE, bypass_csp=True)
    frames = sent_frames(student)
    student.reload()
    wait_until_live(student)

    # Without the box ticked, typing is announced (the comparison the next step needs).
    composer(student).press_sequentially("Signed draft")
    wait_for(student, lambda: any(f.get("type") == "typing" for f in frames))
    composer(student).fill("")

    box = student.get_by_label("Post anonymously to classmates")
    expect(box).to_be_visible()
    expect(box).to_have_attribute("aria-describedby", "scc-anonymous-note")
    expect(student.locator("#scc-anonymous-note")).to_have_text(
        "Your teachers can reveal your name if needed."
    )
    assert not teacher.get_by_label("Post anonymously to classmates").count()
    box.focus()
    student.keyboard.press("Space")
    expect(box).to_be_checked()
    for page in (student,):
        violations = axe_violations(page, axe_source)
        assert not violations, describe(violations)

    frames.clear()
    composer(student).press_sequentially("Is the **final exam** open book?")
    composer(student).press("Enter")
    mine = student.locator("#message-list li.scc-message", has_text="open book")
    expect(mine.locator(".scc-author")).to_have_text("Anonymous classmate")
    expect(mine).to_have_class(re.compile(r"\bscc-anonymous\b"))
    expect(mine).not_to_have_class(re.compile(r"\bscc-pending\b"))
    assert [f["type"] for f in frames if f.get("type") == "typing"] == []
    send = [f for f in frames if f.get("type") == "message.send"]
    assert send
    assert send[-1]["anonymous"] is True

    seen = classmate.locator("#message-list li.scc-message", has_text="open book")
    expect(seen.locator(".scc-author")).to_have_text("Anonymous classmate")
    expect(seen).to_have_attribute("data-sender-id", "")
    expect(seen.locator(".scc-anonymous-icon")).to_be_visible()
    assert "Bob" not in seen.inner_text()
    violations = axe_violations(classmate, axe_source)
    assert not violations, describe(violations)

    question = teacher.locator("#message-list li.scc-message", has_text="open book")
    expect(question.locator(".scc-author")).to_have_text("Anonymous classmate")
    message_action(question, "reveal-author")
    dialog = teacher.locator("dialog.scc-reveal-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Why (kept in the audit log)").fill("Checking a complaint")
    dialog.locator('[data-action="confirm-reveal"]').click()
    answer = teacher.locator("dialog.scc-reveal-dialog .scc-revealed-name")
    expect(answer).to_have_text("This post was written by Bob Martin.")
    violations = axe_violations(teacher, axe_source)
    assert not violations, describe(violations)
    teacher.keyboard.press("Escape")
    expect(answer).to_have_count(0)
    # The classmate learnt nothing.
    assert "Bob Martin" not in seen.inner_text()

    log = open_page("staff.admin", "/admin/smartcampus_chat/chatauditentry/")
    row = log.locator("#result_list tr", has_text="Revealed an anonymous author")
    expect(row.first).to_contain_text("Checking a complaint")
    expect(row.first).to_contain_text("Claire Martin")
