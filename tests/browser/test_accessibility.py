"""Accessibility: axe-core finds no serious or critical violation, and the keyboard reaches
what the mouse does. Real-time announcements are tested in ``test_realtime.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage, composer, send, tab_until

BLOCKING = {"serious", "critical"}


def axe_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.x A/AA and best practices) on the page as it is now.

    axe-core goes in as an inline script, which the chat pages' nonce-based CSP refuses:
    pages that run axe are opened with ``bypass_csp=True``; every other browser test runs
    under the real policy.
    """
    page.add_script_tag(path=axe_source)
    results: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                             "wcag22aa", "best-practice"]},
            resultTypes: ["violations"],
        })"""
    )
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n"
        + "\n".join(f"    {node['target']}: {node['failureSummary']}" for node in v["nodes"][:5])
        for v in violations
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("alice", "/chat/"),
        ("alice", "/chat/room/general/"),
        ("staff.admin", "/chat/create/"),
        ("alice", "/chat/people/?q=o"),
        ("alice", "/chat/room/no-such-room/"),
        ("alice", "/chat/browse/"),
    ],
    ids=["room-list", "conversation", "create", "people", "error-404", "browse"],
)
def test_no_serious_axe_violation(
    open_page: OpenPage, axe_source: str, user: str, path: str, scheme: str
) -> None:
    page = open_page(user, path, color_scheme=scheme, bypass_csp=True)
    expect(page.locator("main")).to_be_visible()
    violations = axe_violations(page, axe_source)
    assert not violations, describe(violations)


def test_no_serious_axe_violation_in_form_errors(open_page: OpenPage, axe_source: str) -> None:
    page = open_page("alice", "/chat/create/", bypass_csp=True)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator(".scc-field-error").first).to_be_visible()
    violations = axe_violations(page, axe_source)
    assert not violations, describe(violations)


def test_keyboard_reaches_rooms_and_the_composer(open_page: OpenPage) -> None:
    page = open_page("alice", "/chat/")
    # The first stop is the skip link, and it moves the focus to the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    tab_until(page, "#my-rooms a.scc-room-link")
    focused = page.evaluate(
        "document.activeElement.querySelector('.scc-room-label').textContent.trim()"
    )
    page.keyboard.press("Enter")
    expect(page.locator(".scc-room-name")).to_have_text(focused)
    # The shell opens the room in place and puts the reader in its composer.
    expect(composer(page)).to_be_focused()


def test_focus_is_visible(open_page: OpenPage) -> None:
    page = open_page("alice", "/chat/")
    tab_until(page, "#my-rooms a.scc-room-link")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


def test_no_serious_axe_violation_after_live_updates(
    open_page: OpenPage, axe_source: str, room: Callable[..., str]
) -> None:
    """Messages, presence and participants rendered by chat.js keep the page accessible."""
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/", bypass_csp=True)
    bob = open_page("bob", f"/chat/room/{slug}/")
    expect(alice.locator("#participants .scc-online")).to_have_count(2)
    send(bob, "from Bob")
    send(alice, "from Alice")
    expect(alice.locator("#message-list li.scc-message:not(.scc-pending)")).to_have_count(2)
    composer(bob).press_sequentially("typing")
    expect(alice.locator("#typing-indicator")).not_to_be_empty()
    violations = axe_violations(alice, axe_source)
    assert not violations, describe(violations)
