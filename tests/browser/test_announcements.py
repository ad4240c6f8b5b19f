"""Announcements in the browser: the teacher posts one asking the students to acknowledge
it by a date from the composer; a student sees it pinned at the top of the course room with
its due date, acknowledges it from the keyboard ("I have read this"), and it leaves the top
while staying in the timeline; the teacher's "x of y acknowledged" and the list of who has
update live. Nothing uncaught in either page (the fixture fails the test otherwise)."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, composer, wait_until_live
from tests.browser.test_accessibility import axe_violations, describe

COURSE = "/chat/room/cs101-introduction-to-programming/"


def test_a_student_acknowledges_and_the_teacher_sees_it_live(
    open_page: OpenPage, axe_source: str
) -> None:
    student = open_page("bob", COURSE, bypass_csp=True)  # axe runs inline
    wait_until_live(student)
    teacher = open_page("prof.martin", COURSE, bypass_csp=True)
    wait_until_live(teacher)

    composer(teacher).fill("Read the **lab safety rules** before Thursday")
    teacher.get_by_label("Post as an announcement").check()
    teacher.get_by_label("Members must acknowledge it").check()
    due = datetime.now(dt_timezone.utc) + timedelta(days=7)
    teacher.get_by_label("Acknowledge by").fill(due.strftime("%Y-%m-%dT%H:%M"))
    composer(teacher).press("Enter")

    posted = teacher.locator("#message-list li.scc-announcement", has_text="lab safety rules")
    expect(posted).to_have_count(1)
    expect(posted.locator(".scc-announcement-label")).to_be_visible()
    panel = teacher.locator("#scc-acks .scc-acks-item", has_text="lab safety rules")
    expect(panel.locator(".scc-acks-count")).to_have_text("0")
    total = panel.locator(".scc-acks-total").inner_text()
    assert int(total) >= 2  # alice and bob, the course's students

    top = student.locator("#scc-announcements")
    item = top.locator(".scc-announcement-item", has_text="lab safety rules")
    expect(item).to_be_visible()
    expect(item.locator(".scc-announcement-author")).to_have_text("Announcement from Claire Martin")
    expect(item.locator(".scc-announcement-due")).to_contain_text("Acknowledge by")
    expect(item.locator(".scc-overdue-badge")).to_be_hidden()
    expect(item.locator("strong")).to_have_text("lab safety rules")  # formatted, sanitised

    # The top of the room and the moderators' panel, as rendered live: no serious
    # accessibility violation (axe-core).
    for page in (student, teacher):
        violations = axe_violations(page, axe_source)
        assert not violations, describe(violations)

    button = item.get_by_role("button", name="I have read this")
    button.focus()
    student.keyboard.press("Enter")
    expect(item).to_have_count(0)
    expect(student.locator("#live-region")).to_contain_text("the announcement is acknowledged")
    # It stays in the timeline, styled as an announcement.
    expect(
        student.locator("#message-list li.scc-announcement", has_text="lab safety rules")
    ).to_have_count(1)

    expect(panel.locator(".scc-acks-count")).to_have_text("1")
    panel.locator("summary").click()
    expect(panel.locator(".scc-acks-done")).to_contain_text("Bob Martin")
    expect(panel.locator(".scc-acks-pending")).not_to_contain_text("Bob Martin")

    student.reload()  # acknowledged for good: not back at the top
    wait_until_live(student)
    expect(student.locator(".scc-announcement-item", has_text="lab safety rules")).to_have_count(0)
