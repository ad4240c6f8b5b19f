"""The word filter (docs/moderation.md, "Word filter"): the site's and a room's lists,
matched on whole words after folding case and Unicode look-alikes; "block" refuses a send
or an edit with ``blocked_content`` on every door; "hold" stores nothing as a message, puts
the text in the moderators' queue and answers ``held_for_review``; the held text reaches
no one else (no frame, history, search or notification) until a moderator approves it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.domain.word_filter import is_filtered
from smartcampus_chat.models import (
    AuditAction,
    ChatAuditEntry,
    ChatMessage,
    ChatNotification,
    ChatReport,
    ChatRoom,
)
from smartcampus_chat.testing import CapturedEvents, new_client_id, open_room
from tests import attachment_files as files
from tests.http import api, logged_in
from tests.test_attachments import send, uploaded
from tests.test_reports import frames_to, queue, resolve
from tests.test_sanctions import rest_send, ws_send

db = database_sync_to_async

CYRILLIC_A = "\u0430"


@pytest.mark.parametrize(
    ("text", "entries", "matched"),
    [
        ("you are a badword", ["badword"], True),
        ("BADWORD!", ["badword"], True),
        (f"b{CYRILLIC_A}dword", ["badword"], True),  # a Cyrillic look-alike
        ("b\u0430dw\u043erd", ["badword"], True),  # two of them
        ("\uff42\uff41\uff44word", ["badword"], True),  # fullwidth letters
        ("bad\u200bword", ["badword"], True),  # a zero-width space inside
        ("BÁDWORD", ["badword"], True),  # an accent
        ("b4dword", ["badword"], False),
        ("this class is great", ["ass"], False),  # whole words only
        ("badwords", ["badword"], False),
        ("Buy... NOW!", ["buy now"], True),  # a phrase, punctuation aside
        ("buy it now", ["buy now"], False),
        ("anything", [], False),
        ("anything", ["   "], False),
    ],
)
def test_the_match(text: str, entries: list[str], matched: bool) -> None:
    assert is_filtered(text, entries) is matched


@pytest.fixture
def filtered(settings: Any) -> Any:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "WORD_FILTER": ["badword"]}
    return settings


@pytest.fixture
def holding(filtered: Any) -> Any:
    filtered.SMARTCAMPUS_CHAT = {**filtered.SMARTCAMPUS_CHAT, "WORD_FILTER_ACTION": "hold"}
    return filtered


@pytest.mark.django_db(transaction=True)
async def test_block_refuses_on_every_door(
    alice: Any, bob: Any, public_room: ChatRoom, filtered: Any
) -> None:
    await db(services.do_join_room)(bob, public_room)
    client = await db(logged_in)(bob)
    refused = await db(rest_send)(client, public_room, f"a B{CYRILLIC_A.upper()}DWORD here")
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "blocked_content")
    page = await db(client.post)(public_room.get_absolute_url(), {"content": "badword"})
    assert page.status_code == 422
    assert "not allowed here" in page.content.decode()
    socket = await open_room(bob, public_room.slug)
    try:
        answer = await ws_send(socket, "so badword")
        assert (answer["type"], answer["code"]) == ("error", "blocked_content")
        assert (await ws_send(socket, "my class"))["type"] == "ack"
    finally:
        await socket.disconnect()
    contents = await db(lambda: list(ChatMessage.objects.values_list("content", flat=True)))()
    assert contents == ["my class"]
    # Edits too.
    message = await db(ChatMessage.objects.get)(content="my class")
    edited = await db(client.patch)(
        api("message-detail", room_slug=public_room.slug, pk=message.pk),
        {"content": "my badword"},
        content_type="application/json",
    )
    assert (edited.status_code, edited.json()["error"]["code"]) == (422, "blocked_content")
    assert (await db(ChatMessage.objects.get)(pk=message.pk)).content == "my class"


@pytest.mark.django_db
def test_a_rooms_own_list_set_by_its_moderators(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    url = api("room-detail", slug=public_room.slug)
    body = {"word_filter": "  spoiler\n\nthe ending \n"}
    member = logged_in(bob).patch(url, body, content_type="application/json")
    assert member.status_code == 403
    owner = logged_in(alice).patch(url, body, content_type="application/json")
    assert owner.status_code == 200, owner.content
    public_room.refresh_from_db()
    assert public_room.word_filter == "spoiler\nthe ending"
    entry = ChatAuditEntry.objects.get(action=AuditAction.WORD_FILTER)
    assert entry.details == {"entries": 2}
    refused = rest_send(logged_in(bob), public_room, "THE  ENDING: he dies")
    assert refused.json()["error"]["code"] == "blocked_content"
    other = services.do_create_room(alice, name="Other", room_type="public")
    services.do_join_room(bob, other)
    assert rest_send(logged_in(bob), other, "the ending").status_code == 201
    too_long = logged_in(alice).patch(
        url, {"word_filter": "x" * 101}, content_type="application/json"
    )
    assert list(too_long.json()["error"]["fields"]) == ["word_filter"]
    # The settings page (no JavaScript).
    settings_url = reverse("smartcampus_chat:room_settings", args=[public_room.slug])
    page = logged_in(alice).get(settings_url).content.decode()
    assert "spoiler\nthe ending</textarea>" in page
    data = {"name": public_room.name, "slow_mode_seconds": "0", "word_filter": "exam answers"}
    saved = logged_in(alice).post(settings_url, data)
    assert saved.status_code == 302
    public_room.refresh_from_db()
    assert public_room.word_filter == "exam answers"
    assert rest_send(logged_in(bob), public_room, "the ending").status_code == 201
    assert rest_send(logged_in(bob), public_room, "Exam ANSWERS").status_code == 422


@pytest.mark.django_db(transaction=True)
def test_hold_keeps_the_text_from_everyone_but_the_moderators(
    alice: Any,
    bob: Any,
    make_user: Any,
    public_room: ChatRoom,
    holding: Any,
    captured_events: CapturedEvents,
) -> None:
    carol = make_user("carol")
    services.do_join_room(bob, public_room)
    services.do_join_room(carol, public_room)
    secret = "@carol you badword zebra"
    held = rest_send(logged_in(bob), public_room, secret)
    assert (held.status_code, held.json()["error"]["code"]) == (422, "held_for_review")
    assert not ChatMessage.objects.exists()  # nothing stored as a message
    (item,) = queue(logged_in(alice), public_room).json()
    assert (item["held"], item["category"], item["content"], item["reporter"]) == (
        True,
        "filtered",
        secret,
        None,
    )
    assert item["author"]["id"] == bob.pk
    # No one else reads it anywhere.
    for user in (bob, carol):
        client = logged_in(user)
        history = client.get(api("message-list", room_slug=public_room.slug)).content.decode()
        found = client.get(api("search-messages"), {"q": "zebra"}).content.decode()
        page = client.get(public_room.get_absolute_url()).content.decode()
        notes = client.get(api("notification-list")).content.decode()
        for text in (history, found, page, notes):
            assert "zebra" not in text
        assert queue(client, public_room).status_code == 403
    assert not ChatNotification.objects.exists()
    for frame in captured_events.frames():
        assert "zebra" not in str(frame)
    # Approved: posted as the author's message, the author told.
    done = resolve(logged_in(alice), public_room, item["id"], "approve")
    assert done.json() == {"outcome": "approved"}
    message = ChatMessage.objects.get()
    assert (message.sender, message.content) == (bob, secret)
    (told,) = frames_to(captured_events, bob, "report.resolved")
    assert (told["report"], told["outcome"]) == (item["id"], "approved")
    assert ChatAuditEntry.objects.get(action=AuditAction.REPORT_RESOLVED).details == {
        "outcome": "approved",
        "reports": [item["id"]],
    }


@pytest.mark.django_db(transaction=True)
def test_a_held_reply_with_files_is_posted_whole_when_approved(
    alice: Any, bob: Any, public_room: ChatRoom, holding: Any
) -> None:
    """Held with its reply and files: the files wait with it (the purge of unsent uploads
    leaves them), and approving posts the reply with its files, in their order."""
    services.do_join_room(bob, public_room)
    question = services.check_send_message(alice, public_room, "Any questions?").message
    client = logged_in(bob)
    first = uploaded(client, public_room, files.png(), "first.png")["id"]
    second = uploaded(client, public_room, files.png(), "second.png")["id"]
    held = send(
        client,
        public_room,
        "a badword question",
        [second, first],
        reply_to=question.pk,
        client_id=new_client_id(),
    )
    assert (held.status_code, held.json()["error"]["code"]) == (422, "held_for_review")
    later = timezone.now() + timedelta(days=30)
    assert services.do_purge_attachments(now=later) == 0
    (item,) = queue(logged_in(alice), public_room).json()
    assert resolve(logged_in(alice), public_room, item["id"], "approve").status_code == 200
    message = ChatMessage.objects.get(sender=bob)
    assert (message.content, message.reply_to_id) == ("a badword question", question.pk)
    names = list(message.attachments.order_by("position").values_list("name", flat=True))
    assert names == ["second.png", "first.png"]
    shown = client.get(api("message-list", room_slug=public_room.slug)).json()
    posted = next(m for m in shown["results"] if m["id"] == message.pk)
    assert [a["name"] for a in posted["attachments"]] == ["second.png", "first.png"]
    assert posted["reply_to"] == question.pk


@pytest.mark.django_db(transaction=True)
async def test_a_held_send_on_the_socket_then_rejected(
    alice: Any, bob: Any, public_room: ChatRoom, holding: Any
) -> None:
    await db(services.do_join_room)(bob, public_room)
    author = await open_room(bob, public_room.slug)
    moderator = await open_room(alice, public_room.slug)
    try:
        answer = await ws_send(author, "such badword")
        assert (answer["type"], answer["code"]) == ("error", "held_for_review")
        changed = await moderator.receive_frame("reports.changed")
        assert changed["open"] == 1
        assert "badword" not in str(changed)
        report = await db(ChatReport.objects.get)()
        client = await db(logged_in)(alice)
        rejected = await db(resolve)(client, public_room, report.pk, "reject")
        assert rejected.json() == {"outcome": "rejected"}
        told = await author.receive_frame("report.resolved")
        assert (told["report"], told["outcome"]) == (report.pk, "rejected")
    finally:
        await author.disconnect()
        await moderator.disconnect()
    assert not await db(ChatMessage.objects.exists)()
    wrong = await db(resolve)(await db(logged_in)(alice), public_room, report.pk, "approve")
    assert wrong.status_code == 404  # resolved already


@pytest.mark.django_db
def test_the_settings_are_checked(settings: Any) -> None:
    from django.core.checks import run_checks

    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "WORD_FILTER": "badword",
        "WORD_FILTER_ACTION": "delete",
    }
    messages = " ".join(str(error.msg) for error in run_checks())
    assert "['WORD_FILTER'] must be a list of words" in messages
    assert '[\'WORD_FILTER_ACTION\'] must be "block" or "hold"' in messages
