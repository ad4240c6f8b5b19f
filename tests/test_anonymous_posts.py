"""Anonymous-to-classmates posts (docs/anonymous-posts.md): where the room allows it, a
student posts without their name; every door that shows the post names nobody (checked by
walking each payload and grepping its raw text for the author's id, username and name);
author filters do not find it; only the room's moderators and staff reveal the author,
with a reason, audit-logged."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

from courses.models import Course
from smartcampus_chat import queries, services
from smartcampus_chat.models import (
    AuditAction,
    ChatAuditEntry,
    ChatMessage,
    ChatNotification,
    ChatNotificationDelivery,
    ChatParticipant,
    ChatPreferences,
    ChatReport,
    ChatRoom,
)
from smartcampus_chat.notifications import email
from smartcampus_chat.notifications.channels import Pending
from smartcampus_chat.queries.exports import room_message_row, user_export
from smartcampus_chat.testing import open_room
from smartcampus_chat.web.audit_export import audit_rows
from tests.http import api, logged_in

db = database_sync_to_async

#: The author's identity: distinctive, so that a grep of any payload finds it if it leaks.
USERNAME = "quillonmarbury"
FIRST, LAST = "Zephyrine", "Oxtaby"


@pytest.fixture(autouse=True)
def usernames_shown(settings: Any) -> None:
    """Usernames shown wherever the chat may show them: the strictest case for anonymity."""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "EXPOSE_USERNAME": True}


@pytest.fixture
def classroom(
    course_room: ChatRoom, course: Course, enrol: Callable[..., Any], make_user: Any
) -> dict[str, Any]:
    """A course room allowing anonymous posts: a teacher, the author, a classmate."""
    people = {
        "teacher": make_user("teacher", first_name="Tess"),
        "author": make_user(USERNAME, first_name=FIRST, last_name=LAST, email="q@example.org"),
        "ben": make_user("ben", first_name="Ben"),
        "outsider": make_user("outsider"),
    }
    enrol(people["teacher"], course, role="teacher")
    enrol(people["author"], course)
    enrol(people["ben"], course)
    for name in ("teacher", "author", "ben"):
        services.enrolment_changed(people[name], course)
    course_room.allow_anonymous = True
    course_room.save(update_fields=["allow_anonymous"])
    return {"room": course_room, **people}


def _walk(value: Any) -> Iterator[tuple[str | None, Any]]:
    stack: list[tuple[str | None, Any]] = [(None, value)]
    while stack:
        key, item = stack.pop()
        yield key, item
        if isinstance(item, dict):
            stack.extend(item.items())
        elif isinstance(item, list):
            stack.extend((key, element) for element in item)


def assert_names_nobody(payload: Any, author: Any) -> None:
    """No person in ``payload`` is the author (a UserRef, a reactor's id, an author id
    field), and its raw text has neither their username, name nor e-mail."""
    for key, item in _walk(payload):
        if isinstance(item, dict) and {"id", "name"} <= item.keys() and "username" in item:
            assert item["id"] != author.pk, payload
        if key in ("user_ids", "sender_id", "author_id", "user_id", "actor_id"):
            assert author.pk not in (item if isinstance(item, list) else [item]), payload
    assert_text_names_nobody(json.dumps(payload), author)


def assert_text_names_nobody(text: str, author: Any) -> None:
    for secret in (USERNAME, FIRST, LAST, author.email):
        assert secret.lower() not in text.lower(), secret


def send_anonymously(classroom: dict[str, Any], content: str = "Is the exam open book?") -> Any:
    return services.check_send_message(
        classroom["author"], classroom["room"], content, anonymous=True
    ).message


def post(user: Any, room: ChatRoom, **body: Any) -> Any:
    return logged_in(user).post(
        api("message-list", room_slug=room.slug),
        {"content": "A question", **body},
        content_type="application/json",
    )


# --- The setting and who may post ---------------------------------------------------------


@pytest.mark.django_db
def test_the_room_setting_is_the_moderators_and_off_by_default(
    course_room: ChatRoom, course: Course, enrol: Callable[..., Any], make_user: Any
) -> None:
    assert course_room.allow_anonymous is False
    teacher, student = make_user("teacher"), make_user("student")
    enrol(teacher, course, role="teacher")
    enrol(student, course)
    for person in (teacher, student):
        services.enrolment_changed(person, course)
    url = api("room-detail", slug=course_room.slug)
    body = {"allow_anonymous": True}
    refused = logged_in(student).patch(url, body, content_type="application/json")
    assert refused.status_code == 403
    assert post(student, course_room, anonymous=True).json()["error"]["code"] == (
        "anonymous_not_allowed"
    )
    answer = logged_in(teacher).patch(url, body, content_type="application/json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["allow_anonymous"] is True
    assert post(student, course_room, anonymous=True).status_code == 201


@pytest.mark.django_db
def test_moderators_staff_and_private_conversations_post_signed(
    classroom: dict[str, Any], staff: Any
) -> None:
    room = classroom["room"]
    for person in (classroom["teacher"], staff):
        refused = post(person, room, anonymous=True)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "anonymous_not_allowed"
    assert post(classroom["outsider"], room, anonymous=True).status_code == 404
    private, _created = services.do_open_private(classroom["author"], classroom["ben"])
    assert post(classroom["author"], private, anonymous=True).status_code == 403
    assert not ChatMessage.objects.filter(anonymous=True).exists()


@pytest.mark.django_db
def test_the_no_js_form_posts_anonymously_and_refuses_where_not_allowed(
    classroom: dict[str, Any],
) -> None:
    room, author = classroom["room"], classroom["author"]
    url = reverse("smartcampus_chat:room", kwargs={"slug": room.slug})
    page = logged_in(author).get(url).content.decode()
    # The composer's box (the poll dialog has an "anonymous" box of its own: a poll's).
    assert 'class="scc-anonymous-option' in page
    assert "Your teachers can reveal your name if needed." in page
    teacher_page = logged_in(classroom["teacher"]).get(url).content.decode()
    assert 'class="scc-anonymous-option' not in teacher_page
    answer = logged_in(author).post(url, {"content": "Form question", "anonymous": "on"})
    assert answer.status_code == 302
    assert ChatMessage.objects.get(content="Form question").anonymous is True
    room.allow_anonymous = False
    room.save(update_fields=["allow_anonymous"])
    refused = logged_in(author).post(url, {"content": "Again", "anonymous": "on"})
    assert refused.status_code == 403
    assert not ChatMessage.objects.filter(content="Again").exists()


# --- Every door names nobody --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_websocket_frames_to_classmates_name_nobody(classroom: dict[str, Any]) -> None:
    room, author, ben = (classroom[k] for k in ("room", "author", "ben"))
    writer = await open_room(author, room.slug)
    reader = await open_room(ben, room.slug)
    try:
        await writer.send_frame(
            type="message.send", content="Anonymous q", anonymous=True, client_id="c-1", id="s1"
        )
        ack = await writer.receive_until(lambda f: f["type"] == "ack")
        assert ack["message"]["own"] is True
        assert ack["client_id"] == "c-1"
        assert ack["message"]["sender"] is None
        message_id = ack["message"]["id"]
        new = await reader.receive_frame("message.new")
        assert new["message"]["anonymous"] is True
        assert new["message"]["own"] is False
        assert new["message"]["client_id"] is None
        frames = [new]
        await writer.send_frame(
            type="message.edit", message_id=message_id, content="Anonymous q, edited", id="e1"
        )
        edit_ack = await writer.receive_until(lambda f: f.get("id") == "e1")
        assert edit_ack["message"]["own"] is True
        frames.append(await reader.receive_frame("message.edited"))
        await reader.send_frame(type="reaction.add", message_id=message_id, emoji="👍", id="r1")
        frames.append(await reader.receive_until(lambda f: f["type"] == "message.reactions"))
        await writer.send_frame(type="reaction.add", message_id=message_id, emoji="👍", id="r2")
        own_reaction = await writer.receive_until(lambda f: f.get("id") == "r2")
        assert own_reaction["type"] == "error"
        assert own_reaction["code"] == "forbidden"
        await reader.send_frame(type="resume", event_seq=0, id="h1")
        frames.append(await reader.receive_until(lambda f: f["type"] == "resumed"))
        await reader.send_frame(type="search", q="anonymous", id="q1")
        results = await reader.receive_until(lambda f: f["type"] == "search.results")
        assert [hit["id"] for hit in results["results"]] == [message_id]
        frames.append(results)
        await reader.send_frame(type="search", q=f"from:{USERNAME} anonymous", id="q2")
        by_author = await reader.receive_until(lambda f: f.get("id") == "q2")
        assert by_author["results"] == []
        await writer.send_frame(type="message.delete", message_id=message_id, id="d1")
        frames.append(await reader.receive_frame("message.deleted"))
        for frame in frames:
            assert_names_nobody(frame, author)
        # No "joined", no receipt, no typing tied to the post reached the classmate.
        await reader.assert_no_frame(
            ignore=frozenset({"presence", "presence.batch", "unread", "message.new"})
        )
    finally:
        for socket in (writer, reader):
            await socket.disconnect()


@pytest.mark.django_db
def test_rest_reads_name_nobody_but_tell_the_author_it_is_theirs(
    classroom: dict[str, Any],
) -> None:
    room, author, ben = classroom["room"], classroom["author"], classroom["ben"]
    message = send_anonymously(classroom)
    listing = logged_in(ben).get(api("message-list", room_slug=room.slug)).json()
    detail = logged_in(ben).get(api("message-detail", room_slug=room.slug, pk=message.pk)).json()
    search = logged_in(ben).get(api("search-messages"), {"q": "exam"}).json()
    rooms = logged_in(ben).get(api("room-list")).json()
    for payload in (listing, detail, search, rooms):
        assert_names_nobody(payload, author)
    assert detail["anonymous"] is True
    assert detail["sender"] is None
    assert [hit["id"] for hit in search["results"]] == [message.pk]
    filtered = logged_in(ben).get(api("search-messages"), {"q": "exam", "author": USERNAME})
    assert filtered.json()["results"] == []
    mine = logged_in(author).get(api("message-detail", room_slug=room.slug, pk=message.pk))
    assert mine.json()["own"] is True
    assert mine.json()["sender"] is None
    # The author's own search by their name does not find it either (nothing to tell).
    own_search = logged_in(author).get(api("search-messages"), {"q": "exam", "author": USERNAME})
    assert own_search.json()["results"] == []


@pytest.mark.django_db
def test_pins_replies_and_the_page_name_nobody(classroom: dict[str, Any]) -> None:
    room, author, ben, teacher = (classroom[k] for k in ("room", "author", "ben", "teacher"))
    message = send_anonymously(classroom)
    services.check_pin(teacher, message, _access(teacher, room), pinned=True)
    reply = post(ben, room, content="Yes it is", reply_to=message.pk).json()
    assert reply["reply"]["anonymous"] is True
    assert reply["reply"]["sender"] is None
    assert_names_nobody(reply, author)
    pins = logged_in(ben).get(api("message-pinned", room_slug=room.slug)).json()
    assert [pin["id"] for pin in pins] == [message.pk]
    assert_names_nobody(pins, author)
    page = logged_in(ben).get(reverse("smartcampus_chat:room", kwargs={"slug": room.slug}))
    html = page.content.decode()
    pattern = rf'<li class="scc-message[^"]*"[^>]* id="message-{message.pk}".*?</li>'
    item = re.search(pattern, html, re.S)
    assert item is not None
    assert 'data-sender-id=""' in item.group(0)
    assert "Anonymous classmate" in item.group(0)
    assert_text_names_nobody(item.group(0), author)
    # The reply's quote and the pinned panel name nobody either.
    quote = re.search(r'<a class="scc-reply" href[^>]*>.*?</a>', html, re.S)
    assert quote is not None
    assert "Anonymous classmate" in quote.group(0)
    assert_text_names_nobody(quote.group(0), author)
    pinned = re.search(r'<ol class="list-unstyled scc-pinned-list">.*?</ol>', html, re.S)
    assert pinned is not None
    assert_text_names_nobody(pinned.group(0), author)


def _access(user: Any, room: ChatRoom) -> Any:
    return services.get_room_for(user, room.slug)[1]


@pytest.mark.django_db
def test_a_mention_notifies_without_naming_its_author(
    classroom: dict[str, Any], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "NOTIFY_SITE_URL": "https://campus.example.org",
    }
    author, ben = classroom["author"], classroom["ben"]
    with django_capture_on_commit_callbacks(execute=True):
        message = send_anonymously(classroom, "@ben do you know?")
    notification = ChatNotification.objects.select_related("message", "room", "actor", "user").get(
        user=ben, message=message
    )
    assert notification.actor_id is None
    listed = logged_in(ben).get(api("notification-list")).json()
    assert_names_nobody(listed, author)
    texts = queries.notification_texts(notification)
    assert texts.title.startswith("Anonymous classmate")
    assert_text_names_nobody(f"{texts.title} {texts.body} {texts.url}", author)
    delivery = ChatNotificationDelivery(pk=1, notification=notification, channel="email")
    digest = email.build_digest([Pending(delivery, ChatPreferences(user=ben))])
    assert "Anonymous classmate mentioned you" in digest.body
    assert_text_names_nobody(digest.body + str(digest.alternatives), author)


@pytest.mark.django_db
def test_the_report_queue_and_a_room_export_name_nobody(classroom: dict[str, Any]) -> None:
    room, author, ben, teacher = (classroom[k] for k in ("room", "author", "ben", "teacher"))
    message = send_anonymously(classroom)
    reported = logged_in(ben).post(
        api("message-report", room_slug=room.slug, message_id=message.pk),
        {"category": "off_topic"},
        content_type="application/json",
    )
    assert reported.status_code == 201, reported.json()
    report = ChatReport.objects.get(message=message)
    assert report.author_id is None
    queue = logged_in(teacher).get(api("report-list", room_slug=room.slug)).json()
    assert_names_nobody(queue, author)
    assert "Anonymous classmate" in json.dumps(queue)
    moderation = logged_in(teacher).get(
        reverse("smartcampus_chat:room_moderation", kwargs={"slug": room.slug})
    )
    assert moderation.status_code == 200
    assert_text_names_nobody(moderation.content.decode(), author)
    mute = logged_in(teacher).post(
        api("report-resolve", room_slug=room.slug, report_id=report.pk),
        {"action": "mute"},
        content_type="application/json",
    )
    assert mute.status_code == 400
    row = room_message_row(ChatMessage.objects.select_related("sender").get(pk=message.pk))
    assert row["sender"] is None
    assert row["anonymous"] is True
    assert_names_nobody(row, author)
    # The author's own export lists it as theirs.
    own = user_export(author, now=message.created_at)
    rows = own.documents["messages.json"]
    assert [(row["id"], row["anonymous"]) for row in rows] == [(message.pk, True)]


@pytest.mark.django_db
def test_an_anonymous_post_moves_no_marker_and_joins_no_group(classroom: dict[str, Any]) -> None:
    room, author = classroom["room"], classroom["author"]
    signed = services.check_send_message(author, room, "Signed first").message
    marker = ChatParticipant.objects.get(room=room, user=author).last_read_seq
    assert marker == signed.seq
    anonymous = send_anonymously(classroom)
    assert ChatParticipant.objects.get(room=room, user=author).last_read_seq == marker
    page = logged_in(classroom["ben"]).get(
        reverse("smartcampus_chat:room", kwargs={"slug": room.slug})
    )
    html = page.content.decode()
    item = re.search(rf'<li class="(scc-message[^"]*)"[^>]* id="message-{anonymous.pk}"', html)
    assert item is not None
    assert "scc-grouped" not in item.group(1)
    assert "scc-anonymous" in item.group(1)


@pytest.mark.django_db
def test_the_word_filter_refuses_what_it_would_hold(
    classroom: dict[str, Any], settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "WORD_FILTER_ACTION": "hold"}
    room = classroom["room"]
    room.word_filter = "cheat"
    room.save(update_fields=["word_filter"])
    refused = post(classroom["author"], room, content="how to cheat?", anonymous=True)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "blocked_content"
    assert not ChatReport.objects.exists()


# --- Reveal -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reveal_is_for_moderators_and_staff_with_a_reason_and_audit_logged(
    classroom: dict[str, Any], staff: Any
) -> None:
    room, author, ben, teacher = (classroom[k] for k in ("room", "author", "ben", "teacher"))
    message = send_anonymously(classroom)
    url = api("message-reveal", room_slug=room.slug, pk=message.pk)
    body = {"reason": "Harassment complaint"}
    refused = logged_in(ben).post(url, body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert logged_in(author).post(url, body, content_type="application/json").status_code == 403
    assert logged_in(classroom["outsider"]).post(url, body).status_code == 404
    no_reason = logged_in(teacher).post(url, {"reason": " "}, content_type="application/json")
    assert no_reason.status_code == 400
    assert not ChatAuditEntry.objects.filter(action=AuditAction.AUTHOR_REVEALED).exists()
    answer = logged_in(teacher).post(url, body, content_type="application/json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["author"]["id"] == author.pk
    entry = ChatAuditEntry.objects.get(action=AuditAction.AUTHOR_REVEALED)
    assert (entry.actor_id, entry.message_id, entry.target_user_id, entry.reason) == (
        teacher.pk,
        message.pk,
        author.pk,
        "Harassment complaint",
    )
    assert logged_in(staff).post(url, body, content_type="application/json").status_code == 200
    signed = services.check_send_message(ben, room, "signed").message
    plain = api("message-reveal", room_slug=room.slug, pk=signed.pk)
    assert logged_in(teacher).post(plain, body, content_type="application/json").status_code == 400
    assert ChatAuditEntry.objects.filter(action=AuditAction.AUTHOR_REVEALED).count() == 2
    # The audit log's export (the admin's CSV) shows the reveal.
    rows = list(audit_rows(ChatAuditEntry.objects.all()))
    assert [row[1] for row in rows[1:]] == ["message.revealed", "message.revealed"]
    assert {row[8] for row in rows[1:]} == {str(message.pk)}


@pytest.mark.django_db(transaction=True)
async def test_reveal_over_the_socket_answers_that_socket_only(
    classroom: dict[str, Any],
) -> None:
    room, author, ben, teacher = (classroom[k] for k in ("room", "author", "ben", "teacher"))
    message = await db(send_anonymously)(classroom)
    moderator = await open_room(teacher, room.slug)
    reader = await open_room(ben, room.slug)
    try:
        await reader.send_frame(
            type="message.reveal", message_id=message.pk, reason="curious", id="x1"
        )
        refused = await reader.receive_until(lambda f: f["type"] == "error")
        assert (refused["code"], refused["id"]) == ("forbidden", "x1")
        await moderator.send_frame(
            type="message.reveal", message_id=message.pk, reason="Safeguarding", id="v1"
        )
        revealed = await moderator.receive_until(lambda f: f["type"] == "message.revealed")
        assert (revealed["id"], revealed["message_id"]) == ("v1", message.pk)
        assert revealed["author"]["id"] == author.pk
        await reader.assert_no_frame(ignore=frozenset({"presence", "presence.batch"}))
    finally:
        for socket in (moderator, reader):
            await socket.disconnect()
    entries = await db(list)(ChatAuditEntry.objects.filter(action=AuditAction.AUTHOR_REVEALED))
    assert [(e.actor_id, e.reason) for e in entries] == [(teacher.pk, "Safeguarding")]


@pytest.mark.django_db(transaction=True)
async def test_an_anonymous_question_resolved_by_its_author_names_nobody(
    classroom: dict[str, Any],
) -> None:
    """In a room in Q&A mode (docs/questions.md) too: the question's state says it is
    resolved, never by whom when its anonymous author resolved it."""
    room, author, ben = (classroom[k] for k in ("room", "author", "ben"))
    room.qa_mode = True
    await db(room.save)(update_fields=["qa_mode"])
    question = await db(send_anonymously)(classroom)
    writer = await open_room(author, room.slug)
    reader = await open_room(ben, room.slug)
    try:
        await writer.send_frame(type="question.resolve", message_id=question.pk, id="r1")
        assert (await writer.receive_until(lambda f: f.get("id") == "r1"))["type"] == "ack"
        updated = await reader.receive_until(lambda f: f["type"] == "question.updated")
        assert updated["question"]["resolved"] is True
        assert updated["question"]["resolved_by"] is None
        assert_names_nobody(updated, author)
    finally:
        for socket in (writer, reader):
            await socket.disconnect()
    listing = await db(
        lambda: logged_in(ben).get(api("room-questions", room_slug=room.slug), {"status": "all"})
    )()
    assert listing.status_code == 200
    assert [q["state"]["resolved"] for q in listing.json()["results"]] == [True]
    assert [(q["anonymous"], q["own"]) for q in listing.json()["results"]] == [(True, False)]
    assert_names_nobody(listing.json(), author)
    mine = await db(
        lambda: logged_in(author).get(api("room-questions", room_slug=room.slug), {"status": "all"})
    )()
    assert [(q["sender"], q["own"]) for q in mine.json()["results"]] == [(None, True)]
