"""E-mail digests in Chromium: the digest's HTML with every payload of the XSS corpus runs
nothing and loads nothing; the unsubscribe page has no serious axe violation and works
from the keyboard (tests/test_email_digests.py covers the rest, without a browser)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Dialog, Route, expect

from smartcampus_chat.markup import render
from smartcampus_chat.models import (
    ChatMessage,
    ChatNotification,
    ChatNotificationDelivery,
    ChatPreferences,
    ChatRoom,
)
from smartcampus_chat.notifications.channels import Pending
from smartcampus_chat.notifications.digest import build_digest
from tests.browser.conftest import OpenPage
from tests.browser.live import LiveServer
from tests.browser.test_accessibility import axe_violations, describe
from tests.xss_corpus import PAYLOADS

SITE = "https://campus.example.edu"

#: What the digest template writes, and nothing else.
ELEMENTS = {"HTML", "HEAD", "META", "TITLE", "BODY", "P", "H2", "A", "UL", "LI"}
ELEMENTS |= {"STRONG", "SPAN", "EM", "HR"}
ATTRIBUTES = {"lang", "charset", "name", "content", "style", "href"}

INIT_SCRIPT = "window.__xss = (n) => window.__xssReport(String(n));"


def digest_of_every_payload() -> str:
    """One digest listing a notification per payload: the payload is the room's name, the
    sender's name and the message (unsaved rows: no database)."""
    user_model = get_user_model()
    reader = user_model(pk=1, username="reader", first_name="Reader", email="r@example.edu")
    rows = []
    for n, payload in enumerate(PAYLOADS, start=1):
        actor = user_model(pk=1000 + n, username=f"u{n}", first_name=payload.text)
        room = ChatRoom(pk=n, slug=f"room-{n}", name=payload.text, room_type="public")
        message = ChatMessage(
            pk=n, seq=1, room=room, sender=actor, content=payload.text,
            content_html=render(payload.text),
        )  # fmt: skip
        notification = ChatNotification(
            pk=n, user=reader, kind="mention", room=room, message=message, actor=actor
        )
        rows.append(Pending(ChatNotificationDelivery(pk=n, notification=notification),
                            ChatPreferences(user=reader)))  # fmt: skip
    digest = build_digest(rows)
    [(html, _kind)] = digest.alternatives
    assert isinstance(html, str)
    return html


def test_every_xss_payload_in_a_digest_runs_and_loads_nothing(
    browser: Browser, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "NOTIFY_SITE_URL": SITE}
    html = digest_of_every_payload()
    context = browser.new_context()
    page = context.new_page()
    ran: list[str] = []
    requests: list[str] = []
    dialogs: list[str] = []

    def report(what: str) -> None:
        ran.append(what)

    page.expose_function("__xssReport", report)
    page.add_init_script(INIT_SCRIPT)

    def refuse(route: Route) -> None:
        requests.append(route.request.url)
        route.abort()

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.route("**/*", refuse)
    page.on("dialog", dismiss)
    try:
        page.set_content(html, wait_until="load")
        page.wait_for_timeout(500)  # timers, transitions, late loads
        found = page.evaluate(
            """() => [...document.querySelectorAll("*")].map(
                (el) => [el.tagName, [...el.attributes].map((a) => [a.name, a.value])])"""
        )
        titles = page.locator("h2 a").all_inner_texts()
    finally:
        context.close()
    assert ran == []
    assert requests == []
    assert dialogs == []
    problems = []
    for tag, attributes in found:
        if tag not in ELEMENTS:
            problems.append(f"element {tag}")
        for name, value in attributes:
            if name not in ATTRIBUTES:
                problems.append(f"{name}={value!r} on {tag}")
            elif name == "href" and not value.startswith(SITE + "/"):
                problems.append(f"link {value!r}")
    assert problems == []
    # Each room name shown as its text (escaped once, not lost).
    assert [" ".join(t.split()) for t in titles] == [" ".join(p.text.split()) for p in PAYLOADS]


def _token(live_site: LiveServer, username: str) -> str:
    """An unsubscribe token signed by the live site (its own SECRET_KEY)."""
    return live_site.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model;"
        "from smartcampus_chat.domain.unsubscribe import unsubscribe_token;"
        f"print(unsubscribe_token(get_user_model().objects.get(username={username!r}).pk))",
    ).split()[-1]  # the shell prints what it imported first


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_unsubscribe_page_is_accessible(
    open_page: OpenPage, live_site: LiveServer, axe_source: str, scheme: str
) -> None:
    page = open_page(None, f"/chat/unsubscribe/{_token(live_site, 'bob')}/", color_scheme=scheme,
                     bypass_csp=True)  # fmt: skip
    expect(page.get_by_role("button", name="Unsubscribe from e-mail digests")).to_be_visible()
    violations = axe_violations(page, axe_source)
    assert not violations, describe(violations)


def test_unsubscribing_from_the_keyboard(open_page: OpenPage, live_site: LiveServer) -> None:
    """Signed out, as from a mail client: Tab to the button, Enter; the page says it is done
    (a status the screen reader reads) and links to the preferences."""
    page = open_page(None, f"/chat/unsubscribe/{_token(live_site, 'chloe')}/", locale="fr-FR")
    button = page.get_by_role("button", name="Se désabonner des résumés par e-mail")
    for _ in range(10):
        page.keyboard.press("Tab")
        if button.evaluate("(el) => el === document.activeElement"):
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Vous ne recevrez plus de résumés par e-mail.")
    expect(page.get_by_role("link", name="préférences de discussion")).to_have_attribute(
        "href", "/chat/preferences/"
    )
