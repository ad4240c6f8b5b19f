"""The Web Push service worker in Chromium: registered from the chat's prefix, it controls
the chat's pages; a push message (delivered through the DevTools protocol, as the push
service would) shows a system notification with the payload's title, body, tag and link;
a link to another site is replaced by the chat's own start page."""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.sync_api import Page

from tests.browser.conftest import OpenPage
from tests.browser.live import LiveServer

REGISTER = """async (url) => {
  const registration = await navigator.serviceWorker.register(url);
  await navigator.serviceWorker.ready;
  return registration.scope;
}"""
NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url}));
}"""


def registration_id(page: Page, cdp: Any, scope: str) -> str:
    found: dict[str, str] = {}

    def seen(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not registration["isDeleted"]:
                found["id"] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while "id" not in found and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert "id" in found, "the service worker's registration was not reported"
    return found["id"]


def notifications(page: Page, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        shown: list[dict[str, Any]] = page.evaluate(NOTIFICATIONS)
        if len(shown) >= count or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(100)


def test_a_push_message_shows_a_notification_that_links_into_the_chat(
    open_page: OpenPage, live_site: LiveServer
) -> None:
    page = open_page("alice", "/chat/")
    page.context.grant_permissions(["notifications"], origin=live_site.url)
    scope = page.evaluate(REGISTER, "/chat/service-worker.js")
    assert scope == f"{live_site.url}/chat/"
    cdp = page.context.new_cdp_session(page)
    registration = registration_id(page, cdp, scope)

    payload = {
        "title": "Bob Martin mentioned you in General",
        "body": "the lab moved to room B12",
        "url": f"{live_site.url}/chat/room/general/#message-7",
        "tag": "scc-room-3",
        "notification_id": 12,
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_site.url, "registrationId": registration, "data": json.dumps(payload)},
    )
    assert notifications(page, 1) == [
        {
            "title": payload["title"],
            "body": payload["body"],
            "tag": "scc-room-3",
            "url": payload["url"],
        }
    ]

    # A newer one of the same room replaces it; a link out of the chat is not followed.
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_site.url,
            "registrationId": registration,
            "data": json.dumps({**payload, "body": "again", "url": "https://evil.example/"}),
        },
    )
    deadline = time.monotonic() + 10
    shown = notifications(page, 1)
    while shown[0]["body"] != "again" and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        shown = notifications(page, 1)
    assert shown == [
        {"title": payload["title"], "body": "again", "tag": "scc-room-3", "url": scope}
    ]
    # The chat's pages load under the worker as they do without it (it handles no fetch).
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.locator("#scc-config").count() == 1
