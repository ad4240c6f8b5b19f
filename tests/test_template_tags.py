"""The host's template tags: the navbar's unread badge and a course page's chat link
(issue #17), the navbar's notifications bell (issue #20), and the display-name filters,
every user-visible text escaped."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.utils.timezone import now

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.models import ChatNotification, ChatRoom
from tests.xss_corpus import PAYLOADS

pytestmark = pytest.mark.django_db


def render(text: str, user: Any, **context: Any) -> str:
    request = RequestFactory().get("/courses/")
    request.user = user
    template = Template("{% load smartcampus_chat_tags %}" + text)
    return template.render(Context({"request": request, **context}))


def test_unread_badge_counts_the_users_unread_messages(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    assert "data-scc-unread-total" not in render("{% chat_unread_badge %}", bob)
    services.do_send_message(alice, public_room, "one")
    services.do_send_message(alice, public_room, "two")
    badge = render("{% chat_unread_badge %}", bob)
    assert 'data-scc-unread-total="2"' in badge
    assert 'href="/chat/"' in badge or "href=" in badge


def test_course_link_only_for_people_who_may_see_the_room(
    alice: Any, bob: Any, course: Course
) -> None:
    room, _created = services.ensure_course_room(course)
    Enrolment.objects.create(user=alice, course=course)
    link = render("{% chat_room_for_course course %}", alice, course=course)
    assert f'href="{room.get_absolute_url()}"' in link
    assert render("{% chat_room_for_course course %}", bob, course=course).strip() == ""


def test_course_link_escapes_the_room_name(alice: Any) -> None:
    for payload in PAYLOADS[:: max(1, len(PAYLOADS) // 300)]:
        course = Course.objects.create(code=f"X{payload.number}", title=payload.text[:150])
        room, _created = services.ensure_course_room(course)
        Enrolment.objects.create(user=alice, course=course)
        link = render("{% chat_room_for_course course %}", alice, course=course)
        shown = link.split('<span class="visually-hidden">: ', 1)[1].rsplit("</span>", 1)[0]
        assert html.unescape(shown) == room.name
        assert "<" not in shown


def test_display_name_filters_hide_the_login_unless_exposed(make_user: Any) -> None:
    user = make_user("jo@campus.example", first_name="")
    shown = render("{{ u|chat_display_name }}|{{ u|chat_username }}", user, u=user)
    assert shown == f"User {user.pk}|"


def test_notifications_bell_links_to_the_notifications_with_the_unread_count(
    alice: Any, bob: Any, public_room: ChatRoom, django_assert_num_queries: Any
) -> None:
    services.do_join_room(bob, public_room)
    bell = render("{% chat_notifications_bell %}", bob)
    assert 'href="/chat/notifications/"' in bell
    assert "data-scc-notifications-unread" not in bell  # none unread: no count
    for text in ("one", "two", "three"):
        message = services.do_send_message(alice, public_room, text).message
        ChatNotification.objects.get_or_create(
            user=bob, message=message, defaults={"kind": "mention", "room": public_room}
        )
    ChatNotification.objects.filter(user=bob, message__content="one").update(read_at=now())
    # The count is of the rooms the person may still see: the policy's groups and
    # enrolments, then the count.
    with django_assert_num_queries(3):
        bell = render("{% chat_notifications_bell %}", bob)
    assert 'data-scc-notifications-unread="2"' in bell
    assert ">2<" in bell
    assert "Notifications" in bell  # named for screen readers


def test_notifications_bell_shows_nothing_to_anonymous_visitors_or_when_off(
    bob: Any, settings: Any
) -> None:
    assert render("{% chat_notifications_bell %}", AnonymousUser()).strip() == ""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "NOTIFICATIONS": False}
    assert render("{% chat_notifications_bell %}", bob).strip() == ""
