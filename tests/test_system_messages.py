"""System messages (issue #17, "post a system message"): host code posts in a room as the
site with ``services.post_system_message``. Checked through the doors people use: the
WebSocket (live and replayed), the REST history and unread counts, the HTML room page and
room list, and the example site's own notice form (host code calling the public API).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from courses.models import Course, Enrolment
from smartcampus_chat import services, signals
from smartcampus_chat.exceptions import ChatError, RoomArchived, ValidationFailed
from smartcampus_chat.markup import render
from smartcampus_chat.models import ChatMessage, ChatRoom, MessageKind
from smartcampus_chat.testing import open_room, open_user
from tests import markup_audit
from tests.http import api, logged_in
from tests.xss_corpus import PAYLOADS

db = database_sync_to_async
NOTICE = "Assignment 3 is due on Friday."


@pytest.mark.django_db(transaction=True)
async def test_a_system_message_is_delivered_live_and_replayed_as_the_sites(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    room_socket = await open_room(bob, public_room.slug)
    all_rooms = await open_user(bob)
    try:
        stored = await db(services.post_system_message)(public_room, f"  {NOTICE}\n")
        for client in (room_socket, all_rooms):
            frame = await client.receive_frame("message.new")
            message = frame["message"]
            assert (message["kind"], message["sender"]) == ("system", None)
            assert (message["content"], message["id"]) == (NOTICE, stored.pk)
            assert message["seq"] == stored.seq == 1
        replay = await open_room(bob, public_room.slug, event_seq=0)
        try:
            frame = await replay.receive_until(lambda f: f["type"] == "message.new")
            assert frame["message"]["kind"] == "system"
        finally:
            await replay.disconnect()
    finally:
        await room_socket.disconnect()
        await all_rooms.disconnect()
    assert (stored.kind, stored.sender_id, stored.content) == (MessageKind.SYSTEM, None, NOTICE)


@pytest.mark.django_db
def test_a_system_message_is_unread_for_every_member_and_shown_under_the_sites_name(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SITE_NAME": "Uni Nord"}
    services.do_join_room(bob, public_room)
    services.post_system_message(public_room, NOTICE)
    for user in (alice, bob):
        client = logged_in(user)
        assert client.get(api("unread")).json()["total"] == 1
        history = client.get(api("message-list", room_slug=public_room.slug)).json()
        (message,) = history["results"]
        assert (message["kind"], message["sender"], message["content"]) == ("system", None, NOTICE)
        page = client.get(public_room.get_absolute_url()).content.decode()
        item = re.search(r'<li class="scc-message[^"]*scc-system[^"]*".*?</li>', page, re.S)
        assert item is not None, "no system message item on the room page"
        assert '<span class="scc-author">Uni Nord</span>' in item.group(0)
        assert NOTICE in item.group(0)
        rooms = client.get(reverse("smartcampus_chat:room_list")).content.decode()
        assert f"Uni Nord: {NOTICE}" in html.unescape(rooms)


@pytest.mark.django_db
def test_the_api_schema_names_the_kinds() -> None:
    schema = Client().get(api("schema"), HTTP_ACCEPT="application/json").json()
    kind = schema["components"]["schemas"]["Message"]["properties"]["kind"]
    assert kind.get("enum") == ["user", "system"] or "$ref" in kind or "allOf" in kind


@pytest.mark.django_db
@pytest.mark.parametrize("content", ["", "   ", "a\x00b", "x" * 100_000, 42])
def test_bad_content_is_refused_and_nothing_is_stored(public_room: ChatRoom, content: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.post_system_message(public_room, content)
    public_room.refresh_from_db()
    assert (ChatMessage.objects.count(), public_room.last_seq) == (0, 0)


@pytest.mark.django_db
def test_an_archived_room_refuses_a_system_message(alice: Any, public_room: ChatRoom) -> None:
    services.do_update_room(public_room, is_archived=True)
    with pytest.raises(RoomArchived):
        services.post_system_message(public_room, NOTICE)
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db
def test_nobody_edits_a_system_message_and_moderators_delete_it(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = services.post_system_message(public_room, NOTICE)
    for user in (alice, bob):
        access = services.room_access(user, public_room)
        with pytest.raises(ChatError):
            services.check_edit_message(user, message, "changed", access)
    with pytest.raises(ChatError):
        services.check_delete_message(bob, message, services.room_access(bob, public_room))
    deleted = services.check_delete_message(
        alice, message, services.room_access(alice, public_room)
    )
    assert deleted.is_deleted


@pytest.mark.django_db
def test_message_sent_is_sent_with_no_user(
    public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    signals.message_sent.connect(receiver, dispatch_uid="test-system")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = services.post_system_message(public_room, NOTICE)
    finally:
        signals.message_sent.disconnect(dispatch_uid="test-system")
    assert [(r["message"].pk, r["room"].pk, r["user"]) for r in received] == [
        (message.pk, public_room.pk, None)
    ]


@pytest.mark.django_db
def test_the_xss_corpus_posted_as_the_site_renders_only_formatting(
    alice: Any, public_room: ChatRoom
) -> None:
    sample = PAYLOADS[:: max(1, len(PAYLOADS) // 200)]
    for payload in sample:
        services.post_system_message(public_room, payload.text)
    client = logged_in(alice)
    shown: list[str] = []
    url = public_room.get_absolute_url()
    while url:
        page = client.get(url).content.decode()
        # The empty one is the client's template of a message (#scc-message-template).
        shown += [
            t
            for t in re.findall(
                r'<div class="scc-content">(.*?)</div>\n    <div class="scc-poll"',
                page,
                re.S,
            )
            if t
        ]
        older = re.search(r'id="older"[^>]*href="([^"]+)"', page)
        url = public_room.get_absolute_url() + html.unescape(older.group(1)) if older else ""
    assert [problem for text in shown for problem in markup_audit.problems(text)] == []
    # Each payload shows as its own formatting, exactly (nothing lost, nothing escaped twice).
    expected = {render(payload.text.strip()) for payload in sample}
    assert set(shown) == expected
    assert len(shown) == len(sample)


@pytest.mark.django_db
def test_a_teacher_posts_a_notice_from_the_example_sites_course_page(
    make_user: Callable[..., Any],
) -> None:
    teacher, student = make_user("prof"), make_user("stu")
    course = Course.objects.create(code="CS9", title="Notices")
    Enrolment.objects.create(user=teacher, course=course, role=Enrolment.Role.TEACHER)
    Enrolment.objects.create(user=student, course=course)
    url = reverse("course_notice", args=[course.pk])
    assert logged_in(student).post(url, {"text": NOTICE}).status_code == 403
    assert not ChatMessage.objects.exists()
    response = logged_in(teacher).post(url, {"text": NOTICE}, follow=True)
    assert "The notice was posted to the course chat." in response.content.decode()
    room = services.room_for_course(course)
    assert room is not None
    (message,) = ChatMessage.objects.filter(room=room)
    assert (message.kind, message.sender_id, message.content) == ("system", None, NOTICE)
    refused = logged_in(teacher).post(url, {"text": "   "}, follow=True).content.decode()
    assert "A message cannot be empty." in refused
    assert ChatMessage.objects.count() == 1
    page = logged_in(student).get(reverse("my_courses")).content.decode()
    assert room.get_absolute_url() in page
    assert "campus-notice-form" not in page
