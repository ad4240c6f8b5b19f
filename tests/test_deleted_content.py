"""A deleted message's content reaches nobody but the room's moderators (REST) and the
Django admin (audit), through any door; an edit never resurrects it (issue #14, items 7-8).

The rule lives in one place (``payloads.visible_content``); these tests go through the
doors a user takes: the HTML pages (edit form included, whatever the method and data), the
REST API (history, one message, edit and delete answers and errors, room lists and their
last message), the WebSocket (replay on connect, ``resume``, acks and errors of edit and
delete) on both endpoints. Edits and deletes of one message are serialised on its row: an
edit that loses the race against a delete is refused (``message_deleted``), checked with
the stale read a door makes before its write, and with real concurrent threads on
PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.exceptions import ChatError
from smartcampus_chat.models import ChatMessage, ChatQuestionVote, ChatRoom, RoomType
from smartcampus_chat.testing import CapturedEvents, open_room, open_user
from tests.http import api, logged_in

SECRET = "SECRET-words-of-the-deleted"
db = database_sync_to_async


def edit_url(message: ChatMessage) -> str:
    return reverse("smartcampus_chat:message_edit", args=[message.room.slug, message.pk])


def body(response: Any) -> str:
    return response.content.decode()


# --- HTML edit page (the reproduced leak) -------------------------------------------------


@pytest.fixture
def deleted_in_public(make_user: Callable[..., Any]) -> tuple[ChatMessage, Any, Any]:
    """A message of ``author`` deleted in a public room that ``reader`` joined."""
    owner, author, reader = make_user("owner"), make_user("author"), make_user("reader")
    room = services.do_create_room(owner, name="Hall", room_type=RoomType.PUBLIC)
    services.do_join_room(reader, room)
    message = services.do_send_message(author, room, SECRET).message
    services.do_delete_message(author, message)
    return message, author, reader


@pytest.fixture
def deleted_in_private(make_user: Callable[..., Any]) -> tuple[ChatMessage, Any, Any]:
    """A message of ``author`` deleted in their private conversation with ``reader``."""
    author, reader = make_user("author"), make_user("reader")
    room, _ = services.do_open_private(author, reader)
    message = services.do_send_message(author, room, SECRET).message
    services.do_delete_message(author, message)
    return message, author, reader


REQUESTS = [
    pytest.param("post", {}, id="empty-post"),
    pytest.param("post", {"content": "new words"}, id="post-content"),
    pytest.param("post", {"content": ""}, id="post-blank"),
    pytest.param("get", None, id="get"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("room", ["public", "private"])
@pytest.mark.parametrize("who", ["reader", "author"])
@pytest.mark.parametrize(("method", "data"), REQUESTS)
def test_the_edit_page_of_a_deleted_message_shows_and_saves_nothing(
    request: pytest.FixtureRequest, room: str, who: str, method: str, data: Any
) -> None:
    message, author, reader = request.getfixturevalue(f"deleted_in_{room}")
    client = logged_in(author if who == "author" else reader)
    response = getattr(client, method)(edit_url(message), data)
    assert response.status_code == 409, response.status_code
    assert SECRET not in body(response)
    assert "This message was deleted." in body(response)
    message.refresh_from_db()
    assert (message.is_deleted, message.content, message.is_edited) == (True, SECRET, False)


@pytest.mark.django_db
def test_an_empty_post_to_someone_else_s_edit_page_is_refused(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = services.do_send_message(alice, public_room, "alice's words").message
    response = logged_in(bob).post(edit_url(message), {})
    assert response.status_code == 403
    assert "alice&#x27;s words" not in body(response)


@pytest.mark.django_db
def test_an_empty_post_to_one_s_own_edit_page_is_a_form_error(
    alice: Any, public_room: ChatRoom
) -> None:
    message = services.do_send_message(alice, public_room, "alice's words").message
    response = logged_in(alice).post(edit_url(message), {})
    assert response.status_code == 400
    message.refresh_from_db()
    assert message.content == "alice's words"


# --- Every other door ---------------------------------------------------------------------


@pytest.fixture
def scene(make_user: Callable[..., Any]) -> dict[str, Any]:
    """Carol owns a public room; Alice (a plain member) posted two secrets, Bob replied to
    the first, Alice deleted both (the second is the room's last message)."""
    carol, alice, bob = make_user("carol"), make_user("alice"), make_user("bob")
    room = services.do_create_room(carol, name="Hall", room_type=RoomType.PUBLIC)
    services.do_join_room(alice, room)
    services.do_join_room(bob, room)
    first = services.do_send_message(alice, room, f"{SECRET}-1").message
    reply = services.do_send_message(bob, room, "a reply", reply_to=first).message
    last = services.do_send_message(alice, room, f"{SECRET}-2").message
    services.do_delete_message(alice, first)
    services.do_delete_message(alice, last)
    return {
        "room": room,
        "carol": carol,
        "alice": alice,
        "bob": bob,
        "first": first,
        "reply": reply,
        "last": last,
    }


def _http_doors(scene: dict[str, Any], user: Any) -> list[tuple[str, Any]]:
    room, first = scene["room"], scene["first"]
    client = logged_in(user)
    slug, pk = room.slug, first.pk
    detail = api("message-detail", room_slug=slug, pk=pk)
    json_patch = json.dumps({"content": "resurrected"})
    return [
        ("page", client.get(room.get_absolute_url())),
        ("page-older", client.get(room.get_absolute_url(), {"before": 3})),
        ("room-list", client.get(reverse("smartcampus_chat:room_list"))),
        ("edit-get", client.get(edit_url(first))),
        ("edit-empty-post", client.post(edit_url(first), {})),
        ("api-history", client.get(api("message-list", room_slug=slug))),
        ("api-history-after", client.get(api("message-list", room_slug=slug), {"after": 0})),
        ("api-message", client.get(detail)),
        ("api-edit", client.patch(detail, json_patch, content_type="application/json")),
        ("api-delete", client.delete(detail)),
        ("api-rooms", client.get(api("room-list"))),
        ("api-room", client.get(api("room-detail", slug=slug))),
        ("api-reply", client.get(api("message-detail", room_slug=slug, pk=scene["reply"].pk))),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "bob"])
def test_no_http_door_shows_deleted_content_to_members_or_its_author(
    scene: dict[str, Any], who: str
) -> None:
    for door, response in _http_doors(scene, scene[who]):
        assert response.status_code < 500, door
        assert SECRET not in body(response), door
    first = ChatMessage.objects.get(pk=scene["first"].pk)
    assert (first.is_deleted, first.content) == (True, f"{SECRET}-1")


@pytest.mark.django_db
def test_editing_a_deleted_message_over_rest_is_a_conflict(scene: dict[str, Any]) -> None:
    client = logged_in(scene["alice"])
    detail = api("message-detail", room_slug=scene["room"].slug, pk=scene["first"].pk)
    response = client.patch(detail, {"content": "again"}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "message_deleted"
    assert SECRET not in body(response)


@pytest.mark.django_db
def test_the_room_s_moderators_read_deleted_content_through_the_api_only(
    scene: dict[str, Any],
) -> None:
    """The documented exception: moderators (here the room's owner) read deleted content
    in the API's history, for moderation; pages and previews show it to nobody."""
    client = logged_in(scene["carol"])
    history = client.get(api("message-list", room_slug=scene["room"].slug)).json()
    contents = {m["id"]: m["content"] for m in history["results"]}
    assert contents[scene["first"].pk] == f"{SECRET}-1"
    assert SECRET not in body(client.get(scene["room"].get_absolute_url()))
    assert SECRET not in body(client.get(reverse("smartcampus_chat:room_list")))
    assert SECRET not in body(client.get(api("room-list")))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
async def test_no_websocket_door_shows_deleted_content(scene: dict[str, Any], who: str) -> None:
    user, room, first = scene[who], scene["room"], scene["first"]
    texts: list[str] = []
    room_socket = await open_room(user, room.slug, event_seq=0)  # Replays every change.
    all_rooms = await open_user(user)
    try:
        for client in (room_socket, all_rooms):
            await client.send_frame(type="resume", room=room.slug, event_seq=0, id="r")
            await client.receive_until(lambda f: f["type"] == "resumed" and f.get("id") == "r")
            await client.send_frame(
                type="message.edit", room=room.slug, message_id=first.pk, content="x", id="e"
            )
            error = await client.receive_until(lambda f: f["type"] == "error")
            assert error["code"] == "message_deleted"
            await client.send_frame(
                type="message.delete", room=room.slug, message_id=first.pk, id="d"
            )
            ack = await client.receive_until(
                lambda f: f["type"] in ("ack", "error") and f["id"] == "d"
            )
            if ack["type"] == "ack":
                assert ack["message"]["content"] is None
            await client.send_frame(type="ping", id="p")
            await client.receive_until(lambda f: f == {"type": "pong", "id": "p"})
            texts.extend(json.dumps(frame) for frame in client.frames)
        replayed = [json.loads(t) for t in texts if '"message.deleted"' in t]
        assert {f["message"]["id"] for f in replayed} >= {first.pk, scene["last"].pk}
        assert not [t for t in texts if SECRET in t]
    finally:
        await room_socket.disconnect()
        await all_rooms.disconnect()
    stored = await db(ChatMessage.objects.get)(pk=first.pk)
    assert (stored.is_deleted, stored.content) == (True, f"{SECRET}-1")


@pytest.mark.django_db
def test_the_admin_shows_deleted_content_for_audit_and_never_edits_it(
    make_user: Callable[..., Any], scene: dict[str, Any]
) -> None:
    client = logged_in(make_user("root", is_staff=True, is_superuser=True))
    first = scene["first"]
    url = reverse("admin:smartcampus_chat_chatmessage_change", args=[first.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert f"{SECRET}-1" in body(page)  # Audit: staff read it...
    assert 'name="content"' not in body(page)  # ...read-only.
    assert client.post(url, {"content": "rewritten"}).status_code == 302
    first.refresh_from_db()
    assert (first.content, first.is_edited) == (f"{SECRET}-1", False)
    # An admin form opened before the delete cannot edit it either: the service refuses.
    live = services.do_send_message(scene["alice"], scene["room"], "live").message
    stale = ChatMessage.objects.get(pk=live.pk)
    services.do_delete_message(scene["alice"], live)
    with pytest.raises(ChatError) as refused:
        services.do_edit_message(scene["alice"], stale, "rewritten")
    assert refused.value.code == "message_deleted"


# --- Edit/delete race ------------------------------------------------------------------


def _after_delete(frames: list[dict[str, Any]], message_id: int) -> list[dict[str, Any]]:
    """The frames about ``message_id`` after its ``message.deleted``, by event_seq."""
    mine = sorted(
        (f for f in frames if f.get("message", {}).get("id") == message_id),
        key=lambda f: f["message"]["event_seq"],
    )
    kinds = [f["type"] for f in mine]
    if "message.deleted" not in kinds:
        return []
    return mine[kinds.index("message.deleted") + 1 :]


@pytest.mark.django_db(transaction=True)
def test_an_edit_that_read_the_message_before_its_delete_is_refused(
    alice: Any, public_room: ChatRoom, captured_events: CapturedEvents
) -> None:
    """The interleaving of the race, without threads: the edit's door read the message
    (and decided it may be edited) before the delete committed; its write comes after."""
    sent = services.do_send_message(alice, public_room, SECRET).message
    editing, access = services.get_message_for(alice, sent.pk)  # The edit door's read.
    deleting, delete_access = services.get_message_for(alice, sent.pk)
    services.check_delete_message(alice, deleting, delete_access)
    with pytest.raises(ChatError) as refused:
        services.check_edit_message(alice, editing, "resurrected", access)
    assert refused.value.code == "message_deleted"
    stored = ChatMessage.objects.get(pk=sent.pk)
    assert (stored.is_deleted, stored.content, stored.is_edited) == (True, SECRET, False)
    frames = captured_events.frames()
    assert _after_delete(frames, sent.pk) == []
    assert not [f for f in frames if "resurrected" in json.dumps(f)]
    public_room.refresh_from_db()
    assert public_room.last_event_seq == stored.event_seq  # The refused edit took no number.


def _race(
    author: Any, moderator: Any, message_id: int, text: str, errors: list[BaseException]
) -> list[bool]:
    """The author edits and the moderator deletes at once, each through a door's path
    (read the message, check, write) in its own thread and connection; whether the edit
    was refused with ``message_deleted``."""
    start = threading.Barrier(2)
    refused: list[bool] = []

    def edit() -> None:
        try:
            found, access = services.get_message_for(author, message_id)
            start.wait()
            try:
                services.check_edit_message(author, found, text, access)
            except ChatError as exc:
                refused.append(exc.code == "message_deleted")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def delete() -> None:
        try:
            found, access = services.get_message_for(moderator, message_id)
            start.wait()
            services.check_delete_message(moderator, found, access)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return refused


ROUNDS = 40


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_and_deletes_never_resurrect_content(
    make_user: Callable[..., Any], captured_events: CapturedEvents, settings: Any
) -> None:
    """Real threads on PostgreSQL: per round, the author edits while a moderator deletes
    (each through the door's path: read, check, write). Whatever wins, a deleted message
    keeps its original content and no frame about it follows its ``message.deleted``."""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEND_RATE_BURST": 100_000}
    owner, author = make_user("owner"), make_user("author")
    room = services.do_create_room(owner, name="Race", room_type=RoomType.PUBLIC)
    services.do_join_room(author, room)
    outcomes: dict[str, int] = {"edit_refused": 0, "edited_then_deleted": 0}
    errors: list[BaseException] = []
    for round_ in range(ROUNDS):
        message = services.do_send_message(author, room, f"original {round_}").message
        refused = _race(author, owner, message.pk, f"edited {round_}", errors)
        assert errors == []
        stored = ChatMessage.objects.get(pk=message.pk)
        assert stored.is_deleted
        assert stored.content in (f"original {round_}", f"edited {round_}")
        if refused:
            assert refused == [True]
            assert stored.content == f"original {round_}"
            assert not stored.is_edited
            outcomes["edit_refused"] += 1
        else:
            outcomes["edited_then_deleted"] += 1
        assert _after_delete(captured_events.frames(), message.pk) == [], round_
    print(f"\n[race] {outcomes}")
    assert sum(outcomes.values()) == ROUNDS


@pytest.mark.django_db
def test_a_deleted_announcement_leaks_through_no_door_of_announcements(
    make_user: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    """An announcement asking for acknowledgement, deleted: gone from the top of the room
    and the moderators' panel, and its text in none of the announcements' doors (the
    pending list, the acknowledgement and its error, the lists, the CSV, the
    notifications it made)."""
    carol, alice = make_user("carol"), make_user("alice")
    room = services.do_create_room(carol, name="Hall", room_type=RoomType.PUBLIC)
    services.do_join_room(alice, room)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.check_send_message(
            carol, room, f"{SECRET}-a", announcement=True, requires_ack=True
        ).message
    services.do_delete_message(carol, message)
    slug, pk = room.slug, message.pk
    doors = [
        ("page", logged_in(alice).get(room.get_absolute_url())),
        ("moderator-page", logged_in(carol).get(room.get_absolute_url())),
        ("pending", logged_in(alice).get(api("room-announcements", room_slug=slug))),
        ("ack", logged_in(alice).post(api("message-ack", room_slug=slug, message_id=pk))),
        ("acks", logged_in(carol).get(api("message-acks", room_slug=slug, message_id=pk))),
        (
            "csv",
            logged_in(carol).get(
                reverse("smartcampus_chat:announcement_acks_csv", args=[slug, pk])
            ),
        ),
        (
            "ack-form",
            logged_in(alice).post(reverse("smartcampus_chat:announcement_ack", args=[slug, pk])),
        ),
        ("notifications", logged_in(alice).get(api("notification-list"))),
        ("notifications-page", logged_in(alice).get(reverse("smartcampus_chat:notifications"))),
    ]
    for door, response in doors:
        assert response.status_code < 500, door
        assert SECRET not in body(response), door
    assert logged_in(alice).get(api("room-announcements", room_slug=slug)).json() == []
    assert f'data-acks-id="{pk}"' not in body(doors[1][1])


def test_a_deleted_question_leaks_through_no_door_of_q_and_a_mode(
    make_user: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    """A question deleted in a room in Q&A mode: out of the questions list whatever the
    filter, its votes gone with it, and its text in none of the Q&A doors (the list, a
    vote's, an endorsement's and a resolution's answers and errors)."""
    carol, alice = make_user("carol"), make_user("alice")
    room = services.do_create_room(carol, name="Lecture", room_type=RoomType.PUBLIC)
    services.do_join_room(alice, room)
    room = services.do_update_room(room, qa_mode=True)
    with django_capture_on_commit_callbacks(execute=True):
        question = services.check_send_message(alice, room, f"{SECRET}-q").message
        answer = services.check_send_message(carol, room, "an answer", reply_to=question.pk)
    services.do_vote(carol, question, vote=True)
    services.do_delete_message(alice, question)
    slug, pk = room.slug, question.pk
    doors = [
        (
            f"list-{status}",
            logged_in(carol).get(api("room-questions", room_slug=slug), {"status": status}),
        )
        for status in ("all", "resolved", "unresolved")
    ] + [
        ("vote", logged_in(carol).post(api("question-vote", room_slug=slug, message_id=pk))),
        ("resolve", logged_in(carol).post(api("question-resolve", room_slug=slug, message_id=pk))),
        (
            "endorse",
            logged_in(carol).post(
                api("answer-endorse", room_slug=slug, message_id=answer.message.pk)
            ),
        ),
        ("page", logged_in(carol).get(room.get_absolute_url())),
    ]
    for door, response in doors:
        assert response.status_code < 500, door
        assert SECRET not in body(response), door
    assert doors[0][1].json()["count"] == 0
    assert not ChatQuestionVote.objects.filter(question_id=pk).exists()


@pytest.mark.django_db
def test_a_deleted_poll_leaks_through_no_door_of_polls(
    make_user: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
    captured_events: CapturedEvents,
) -> None:
    """A poll with votes, deleted: its question and options in none of the polls' doors
    (the page, the history, the message, the results, a vote and a close and their
    errors) nor in the frames the deletion and a late vote make."""
    carol, alice = make_user("carol"), make_user("alice")
    room = services.do_create_room(carol, name="Hall", room_type=RoomType.PUBLIC)
    services.do_join_room(alice, room)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.check_send_message(
            carol,
            room,
            f"{SECRET}-q",
            poll={"options": [f"{SECRET}-1", f"{SECRET}-2"]},
        ).message
    option = message.poll.options.order_by("position").first()
    assert option is not None
    access = services.room_access(alice, room)
    services.check_poll_vote(alice, message, [option.pk], access)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_delete_message(carol, message)
    slug, pk = room.slug, message.pk
    doors = [
        ("page", logged_in(alice).get(room.get_absolute_url())),
        ("moderator-page", logged_in(carol).get(room.get_absolute_url())),
        ("history", logged_in(alice).get(api("message-list", room_slug=slug))),
        ("message", logged_in(alice).get(api("message-detail", room_slug=slug, pk=pk))),
        ("results", logged_in(alice).get(api("poll", room_slug=slug, message_id=pk))),
        (
            "vote",
            logged_in(alice).put(
                api("poll-vote", room_slug=slug, message_id=pk),
                {"option_ids": [option.pk]},
                content_type="application/json",
            ),
        ),
        ("close", logged_in(carol).post(api("poll-close", room_slug=slug, message_id=pk))),
    ]
    for door, response in doors:
        assert response.status_code < 500, door
        assert SECRET not in body(response), door
    assert doors[5][1].status_code == 409
    deleted = [f for f in captured_events.frames() if f["type"] == "message.deleted"]
    assert deleted
    assert SECRET not in json.dumps(deleted)
