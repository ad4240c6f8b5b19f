"""Formatting in the browser (docs/formatting.md): a student writes Markdown in the composer
and everyone in the room sees it formatted, live and after a reload; editing starts from
the Markdown; the preview in the sidebar and the screen-reader announcement are its plain
text, the same live as rendered by the server; the "Formatting" help opens and closes by
keyboard; the page with code and maths passes axe in light and dark."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from smartcampus_chat.markup import plain_text, render
from tests.browser.conftest import MESSAGES, OpenPage, composer, edit_inline, tab_until
from tests.browser.test_accessibility import axe_violations, describe
from tests.browser.test_shell import RECORD_LIVE_REGION
from tests.markup_audit import text_content

LINES = [
    "**Exam** on *Friday*, room `B12` — see https://uni.example/exam",
    "$E = mc^2$ and $$\\sum_{i=1}^{n} i$$",
    "```python",
    "def mean(xs):",
    "    return sum(xs) / len(xs)",
    "```",
    "| day | room |",
    "|:--|--:|",
    "| Fri | B12 |",
]
SOURCE = "\n".join(LINES)


def write(page: Page, lines: list[str]) -> None:
    """Type ``lines`` in the composer as a user does (Shift+Enter between lines), send."""
    box = composer(page)
    box.click()
    for number, line in enumerate(lines):
        if number:
            box.press("Shift+Enter")
        box.press_sequentially(line)
    box.press("Enter")


def check_formatted(message: Locator) -> None:
    content = message.locator(".scc-content")
    expect(content.locator("strong")).to_have_text("Exam")
    expect(content.locator("em")).to_have_text("Friday")
    expect(content.locator("p > code")).to_have_text("B12")
    link = content.locator("a")
    expect(link).to_have_attribute("href", "https://uni.example/exam")
    expect(link).to_have_attribute("rel", "noopener nofollow ugc")
    expect(content.locator("math")).to_have_count(2)
    expect(content.locator('math[display="block"]')).to_have_count(1)
    expect(content.locator("pre.scc-code .scc-hl-k", has_text="def")).to_have_count(1)
    expect(content.locator("td.scc-align-right")).to_have_text("B12")
    assert content.text_content() == text_content(render(SOURCE))


def test_markdown_is_formatted_live_and_after_a_reload(
    open_page: OpenPage, room: Callable[..., str], axe_source: str
) -> None:
    slug = room("alice", "bob")
    reader = open_page("bob", f"/chat/room/{slug}/")
    reader.evaluate(RECORD_LIVE_REGION)
    rooms = open_page("bob", "/chat/")
    writer = open_page("alice", f"/chat/room/{slug}/")
    write(writer, LINES)

    for page in (writer, reader):
        message = page.locator(MESSAGES).last
        check_formatted(message)
    # The screen reader hears the text without its markup, as the server writes it.
    text = plain_text(render(SOURCE))
    reader.wait_for_function("() => window.__announced.length > 0")
    assert reader.evaluate("window.__announced") == [f"New message from Alice Durand: {text}"]
    preview = rooms.locator(f'#my-rooms li[data-room="{slug}"] .scc-preview')
    live_preview = "Alice Durand: " + (text if len(text) <= 80 else text[:79] + "…")
    expect(preview).to_have_text(live_preview)
    rooms.reload()
    expect(preview).to_have_text(live_preview)  # the server's preview: the same text

    reader.reload()
    check_formatted(reader.locator(MESSAGES).last)
    for scheme in ("light", "dark"):
        checked = open_page("bob", f"/chat/room/{slug}/", bypass_csp=True, color_scheme=scheme)
        expect(checked.locator(f"{MESSAGES} .scc-code")).to_have_count(1)
        violations = axe_violations(checked, axe_source)
        assert not violations, describe(violations)


def test_an_edit_starts_from_the_markdown_and_is_formatted_again(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    reader = open_page("bob", f"/chat/room/{slug}/")
    writer = open_page("alice", f"/chat/room/{slug}/")
    write(writer, ["see **this**"])
    mine = writer.locator(MESSAGES).last
    expect(mine.locator(".scc-content strong")).to_have_text("this")
    for page in (writer, open_page("alice", f"/chat/room/{slug}/")):  # live, then rendered
        message = page.locator(MESSAGES).last
        message.hover()
        message.locator(".scc-menu-button").click()
        message.locator('[role=menu] [data-action="edit"]').click()
        expect(message.locator(".scc-edit textarea")).to_have_value("see **this**")
        message.locator(".scc-edit textarea").press("Escape")
    edit_inline(mine, "see ~~this~~ *that*")
    for page in (writer, reader):
        content = page.locator(MESSAGES).last.locator(".scc-content")
        expect(content.locator("s")).to_have_text("this")
        expect(content.locator("em")).to_have_text("that")
        expect(content.locator("strong")).to_have_count(0)


def test_the_formatting_help_opens_and_closes_by_keyboard(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/")
    composer(page).focus()
    tab_until(page, ".scc-format-help > summary")
    panel = page.locator(".scc-format-help-panel")
    expect(panel).to_be_hidden()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(panel.locator("caption")).to_have_text("Formatting help")
    expect(page.locator("details.scc-format-help")).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('.scc-format-help > summary')")
    page.keyboard.press("Space")
    expect(panel).to_be_visible()
    page.locator("h1").first.click()  # a click elsewhere closes it
    expect(panel).to_be_hidden()
