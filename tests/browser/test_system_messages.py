"""System messages in the browser: a teacher posts notices from the example site's "My
courses" page (host code calling ``services.post_system_message``); a student with the
course room open sees them arrive live under the site's name, set apart, announced to
screen readers, and the same after a reload (server-rendered). Notices are samples of the
XSS corpus: each must read as its own formatted text and run nothing.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from smartcampus_chat.markup import render
from tests.browser.conftest import OpenPage
from tests.browser.test_accessibility import axe_violations, describe
from tests.markup_audit import TAGS, text_content
from tests.xss_corpus import PAYLOADS

NOTICE = "Lab 4 moves to room B12."
#: Payloads a form field keeps as they are (a textarea turns newlines into CRLF).
SAMPLE = [p.text for p in PAYLOADS[:: max(1, len(PAYLOADS) // 12)] if "\n" not in p.text][:12]
WATCH = "window.__xss = (n) => { (window.__xssCalls = window.__xssCalls || []).push(n); };"


def _calls(page: Page) -> list[object]:
    calls: list[object] = page.evaluate("window.__xssCalls || []")
    return calls


def test_a_teachers_notices_arrive_live_as_the_sites_and_read_as_text(
    open_page: OpenPage, axe_source: str
) -> None:
    student = open_page("alice")
    student.add_init_script(WATCH)
    dialogs: list[str] = []
    student.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    student.goto("/chat/")
    student.locator("#my-rooms a[data-shell-link]", has_text="CS101").first.click()
    expect(student.locator(".scc-room .scc-room-name", has_text="CS101")).to_be_visible()
    before = student.locator("#message-list li.scc-system").count()

    teacher = open_page("prof.martin")
    teacher.add_init_script(WATCH)
    teacher.goto("/courses/")
    course = teacher.locator("section", has=teacher.locator("h2", has_text="CS101"))
    texts = [*SAMPLE, NOTICE]
    for text in texts:
        form = course.locator(".campus-notice-form")
        form.locator("textarea").fill(text)
        form.locator("button[type=submit]").click()
        expect(teacher.locator(".alert-success")).to_contain_text("The notice was posted")

    system = student.locator("#message-list li.scc-system")
    expect(system).to_have_count(before + len(texts))
    expect(student.locator("#live-region")).to_contain_text(f"SmartCampus: {NOTICE}")
    for reload in (False, True):
        page = _reloaded(student) if reload else student
        shown = page.locator("#message-list li.scc-system")
        expect(shown).to_have_count(before + len(texts))
        last = shown.nth(before + len(texts) - 1)
        expect(last.locator(".scc-author")).to_have_text("SmartCampus")
        contents = shown.locator(".scc-content").all_text_contents()[before:]
        assert contents == [text_content(render(text.strip())) for text in texts]
        elements = shown.locator(".scc-content *").evaluate_all("all => all.map(e => e.localName)")
        assert set(elements) <= TAGS, "a notice became markup beyond its formatting"
        assert not shown.locator("[data-can-edit]").count(), "a student may edit a notice"
        assert _calls(page) == []
    assert _calls(teacher) == []
    assert dialogs == []
    for scheme in ("light", "dark"):
        checked = open_page("alice", student.url, bypass_csp=True, color_scheme=scheme)
        expect(checked.locator("#message-list li.scc-system").first).to_be_visible()
        violations = axe_violations(checked, axe_source)
        assert not violations, describe(violations)


def _reloaded(page: Page) -> Page:
    page.reload()
    expect(page.locator("#message-list")).to_be_visible()
    return page
