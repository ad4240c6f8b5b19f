from __future__ import annotations
from collections.abc import Callable
from playwright.sync_api import expect
from tests.browser.conftest import OpenPage
from tests.browser.live import LiveServer

def test_scratch(open_page: OpenPage, room: Callable[..., str], live_site: LiveServer, axe_source: str) -> None:
    slug = room("bob", "alice")
    from tests.browser.conftest import Api
    bobp = open_page("bob")
    for i in range(3):
        Api(bobp).send(slug, f"hello {i}")
    live_site.manage("shell", "-c", f"""
from smartcampus_chat.models import *
from django.contrib.auth import get_user_model
U=get_user_model(); a=U.objects.get(username='alice'); b=U.objects.get(username='bob')
for m in ChatMessage.objects.filter(room__slug='{slug}'):
    ChatNotification.objects.get_or_create(user=a, message=m, defaults=dict(kind='mention', room=m.room, actor=b))
""")
    page = open_page("alice", "/chat/", bypass_csp=False)
    bell = page.locator(".scc-bell-button")
    expect(bell).to_be_visible()
    print(bell.get_attribute("aria-label"))
    bell.focus(); page.keyboard.press("Enter")
    expect(page.locator("#scc-notifications")).to_be_visible()
    expect(page.locator("#scc-notifications li")).to_have_count(3)
    print(page.locator("#scc-notifications").inner_text())
    page.screenshot(path="/tmp/ui-panel.png")
    page.keyboard.press("Escape")
    expect(page.locator("#scc-notifications")).to_be_hidden()
    expect(bell).to_be_focused()
    bell.click()
    page.locator(".scc-notify-all").click()
    expect(bell).to_have_attribute("aria-label", "Notifications")
    # room menu
    page.goto(f"/chat/room/{slug}/")
    page.locator("details.scc-notify-menu summary").click()
    page.screenshot(path="/tmp/ui-menu.png")
    page.locator('button[name="mute"][value="1h"]').click()
    expect(page.locator(f'#my-rooms li[data-room="{slug}"]')).to_have_class(__import__("re").compile("scc-muted"))
    page.locator("details.scc-notify-menu summary").click()
    page.screenshot(path="/tmp/ui-menu2.png")
    print(page.locator(".scc-notify-muted").evaluate("e => [e.hidden, e.textContent, e.outerHTML]"))
