"""Browser tests of the server-rendered pages: login, room creation, private chats, French,
phone layout, escaping. They hold with or without the real-time client."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import XSS_IMG, XSS_SCRIPT, Api, OpenPage, composer
from tests.browser.live import VIEWPORTS, login_with_form


def no_horizontal_overflow(page: Page) -> bool:
    overflow: bool = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    return overflow


def test_login_form(open_page: OpenPage) -> None:
    page = open_page(path="/accounts/login/")
    page.get_by_label("Username").fill("chloe")
    page.get_by_label("Password").fill("wrong password")
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")

    login_with_form(page, "chloe")
    expect(page.get_by_role("navigation", name="Chat")).to_be_visible()
    expect(page.locator("#my-rooms li[data-room]").first).to_be_visible()
    # Her enrolment joined her course's room (the roster hook); a club she is not in is
    # not offered.
    expect(page.locator("#my-rooms")).to_contain_text("MATH201")
    expect(page.locator("main")).not_to_contain_text("Robotics Club")


def test_anonymous_user_is_sent_to_login(open_page: OpenPage) -> None:
    page = open_page(path="/chat/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/chat/$"))


def create_room(open_page: OpenPage, user: str, name: str, room_type: str, **selects: str) -> Page:
    """``user`` fills in the room creation form from the room list; the page it leads to."""
    page = open_page(user, "/chat/")
    page.get_by_role("group").filter(has_text="New conversation").locator("summary").click()
    page.get_by_role("link", name="Create a room").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Type").select_option(room_type)
    for label, option in selects.items():
        page.get_by_label(label).select_option(label=option)
    page.get_by_role("button", name="Create", exact=True).click()
    return page


def test_create_public_room(open_page: OpenPage, unique: Callable[[str], str]) -> None:
    name = unique("Chess club")
    page = create_room(open_page, "alice", name, "public")
    expect(page.locator(".scc-room-name")).to_have_text(name)
    expect(page.locator(".scc-room[data-room]")).to_be_visible()
    # Another student finds it among the rooms they can join, and joins it.
    other = open_page("chloe", "/chat/")
    joinable = other.locator("#joinable-rooms li[data-room]", has_text=name)
    joinable.get_by_role("button", name="Join").click()
    expect(other.locator(".scc-room-name")).to_have_text(name)
    other.goto("/chat/")
    expect(other.locator("#my-rooms li[data-room]", has_text=name)).to_be_visible()


def test_staff_creates_group_room(open_page: OpenPage, unique: Callable[[str], str]) -> None:
    name = unique("Council")
    page = create_room(open_page, "staff.admin", name, "group", Group="Student Council")
    expect(page.locator(".scc-room-name")).to_have_text(name)
    # A member of the group may join it; someone outside it does not see it.
    expect(open_page("chloe", "/chat/").locator("#joinable-rooms")).to_contain_text(name)
    bob = open_page("bob", "/chat/")
    expect(bob.locator("#my-rooms")).not_to_contain_text(name)
    expect(bob.locator("#joinable-rooms")).not_to_contain_text(name)


def test_teacher_creates_course_room(open_page: OpenPage, unique: Callable[[str], str]) -> None:
    name = unique("CS101 labs")
    page = create_room(
        open_page, "prof.martin", name, "course", Course="CS101 — Introduction to Programming"
    )
    expect(page.locator(".scc-room-name")).to_have_text(name)
    expect(open_page("alice", "/chat/").locator("#joinable-rooms")).to_contain_text(name)
    expect(open_page("chloe", "/chat/").locator("main")).not_to_contain_text(name)


def test_refused_creation_shows_the_form_error(
    open_page: OpenPage, unique: Callable[[str], str]
) -> None:
    name = unique("Not allowed")
    page = open_page("alice", "/chat/create/")
    # A student is offered public rooms only (the policy's creatable types).
    type_field = page.get_by_label("Type")
    expect(type_field.locator("option")).to_have_count(1)
    expect(page.get_by_label("Group")).to_have_count(0)
    # A forged type is a form error, not a crash.
    type_field.evaluate(
        "select => { select.add(new Option('Group', 'group')); select.value = 'group'; }"
    )
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page).to_have_url(re.compile(r"/chat/create/$"))
    error = page.locator(".scc-form-errors, .scc-field-error")
    expect(error.first).to_be_visible()
    expect(error.first).not_to_be_empty()
    expect(page.get_by_label("Name")).to_have_value(name)
    # Nothing was created.
    page.goto("/chat/")
    expect(page.locator("#my-rooms")).not_to_contain_text(name)


def test_private_conversation_from_the_room_list(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    room("prof.martin", "chloe")  # the directory finds people who share a room (#17)
    page = open_page("chloe", "/chat/")
    page.get_by_label("Find a person by name or username").fill("prof.martin")
    page.get_by_role("button", name="Search", exact=True).click()  # not "Search messages"
    page.locator("#people li", has_text="Claire Martin").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/chat/room/[^/]+/$"))
    # Titled, for Chloé, with the other person's display name.
    expect(page.locator(".scc-room-name")).to_have_text("Claire Martin")
    url = page.url
    composer(page).fill("Hello professor")
    page.locator("#composer button[type=submit]").click()
    expect(page.locator("#message-list .scc-content").last).to_have_text("Hello professor")

    # The other participant has it; a third user cannot tell it exists.
    teacher = open_page("prof.martin", url)
    expect(teacher.locator("#message-list")).to_contain_text("Hello professor")
    intruder = open_page("bob")
    answer = intruder.goto(url)
    assert answer is not None
    assert answer.status == 404
    expect(intruder.locator("body")).not_to_contain_text("Hello professor")


def test_french_interface(open_page: OpenPage) -> None:
    page = open_page("alice", "/chat/", locale="fr-FR")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Choisissez un salon")).to_be_visible()
    expect(page.get_by_role("heading", name="Salons que vous pouvez rejoindre")).to_be_visible()
    page.locator(".scc-new summary").click()
    expect(page.get_by_role("link", name="Créer un salon")).to_be_visible()
    page.locator("#my-rooms a", has_text="General").click()
    expect(page.get_by_role("heading", name="Participants")).to_be_visible()
    expect(page.locator("#composer textarea")).to_have_attribute(
        "placeholder", re.compile("message", re.IGNORECASE)
    )
    expect(page.locator("#composer").get_by_role("button", name="Envoyer")).to_be_visible()


PHONE = VIEWPORTS["phone"]


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_phone_layout(open_page: OpenPage, locale: str) -> None:
    page = open_page(
        "alice", "/chat/", viewport=PHONE, is_mobile=True, has_touch=True, locale=locale
    )
    expect(page.locator("#my-rooms li[data-room]").first).to_be_visible()
    assert no_horizontal_overflow(page)
    page.locator('#my-rooms li[data-room="general"] a').tap()
    expect(page.locator(".scc-room-name")).to_have_text("General")
    # The whole composer is on the first screen, without scrolling.
    expect(page.locator("#composer")).to_be_in_viewport(ratio=1)
    expect(page.locator("#message-list .scc-message").last).to_be_in_viewport()
    assert no_horizontal_overflow(page)
    for path in ("/chat/create/", "/chat/people/?q=a"):
        page.goto(path)
        assert no_horizontal_overflow(page), path


def test_long_words_do_not_overflow_on_a_phone(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    Api(open_page("alice")).send(slug, "x" * 300 + " https://example.com/" + "a" * 200)
    page = open_page("alice", f"/chat/room/{slug}/", viewport=PHONE, is_mobile=True)
    expect(page.locator("#message-list .scc-message")).to_have_count(1)
    assert no_horizontal_overflow(page)


def test_markup_in_messages_is_shown_as_text(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    Api(open_page("alice")).send(slug, f"look {XSS_IMG} and {XSS_SCRIPT}")
    page = open_page("bob", f"/chat/room/{slug}/")
    content = page.locator("#message-list .scc-content").last
    expect(content).to_have_text(f"look {XSS_IMG} and {XSS_SCRIPT}")
    expect(content.locator("img, script")).to_have_count(0)
    page.goto("/chat/")
    preview = page.locator(f'#my-rooms li[data-room="{slug}"] .scc-preview')
    expect(preview).to_contain_text("look <img src=x")
    expect(preview.locator("img")).to_have_count(0)
    assert page.evaluate("window.__xss") is None
