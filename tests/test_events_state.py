"""Events checked against state (Zulip's ``verify_action``): for each state-changing service,
the frames it publishes, applied by a client's reducer to the state the client fetched
before (REST API: room list with unread counts, room detail, history, members), give the
state fetched after. A frame that misses a change fails here.

Each frame is checked against its typed model on the way (``capture_events``), and the
reducer (tests/events_state.py) only knows docs/protocol.md. The last tests prove the check
can fail: a frame with one stale field, or with a field left out.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from smartcampus_chat import services
from smartcampus_chat.infra import safe_fetch
from smartcampus_chat.models import (
    ChatAttachment,
    ChatMessage,
    ChatNotification,
    ChatRoom,
    RoomType,
)
from smartcampus_chat.realtime.events import room_group, user_group
from smartcampus_chat.testing import (
    CapturedEvents,
    InvalidFrame,
    capture_events,
    open_room,
    parse_server_frame,
)
from tests import attachment_files
from tests.events_state import NOT_IN_FRAMES, Reducer, State, fetch_state, room_loader
from tests.fetch_servers import news_site

pytestmark = pytest.mark.django_db(transaction=True)

Frame = dict[str, Any]
Tamper = Callable[[Frame], Frame]


def _diff(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        out = [f"{path}.{key}: only in one" for key in set(before) ^ set(after)]
        for key in set(before) & set(after):
            out += _diff(before[key], after[key], f"{path}.{key}")
        return out
    return [] if before == after else [f"{path}: {before!r} != {after!r}"]


def deliver(captured: CapturedEvents, reducer: Reducer, tamper: Tamper | None) -> list[Frame]:
    """Apply, in publish order, the frames the observer's ``ws/chat/`` socket would get:
    its user group's, and its rooms' (not its own typing and presence)."""
    applied = []
    for event in captured.events:
        frame = event.frame
        if frame is None:
            continue
        room_id = event.message.get("room_id")
        mine = event.group == user_group(reducer.me)
        followed = room_id is not None and event.group == room_group(room_id)
        if not (mine or (followed and reducer.follows(room_id))):
            continue
        if frame["type"] in ("typing", "presence") and frame["user"]["id"] == reducer.me:
            continue
        if tamper is not None:
            frame = tamper(json.loads(json.dumps(frame)))
            parse_server_frame(json.dumps(frame))  # A tampered frame is still a valid one.
        reducer.apply(frame)
        applied.append(frame)
    return applied


def check(before: State, after: State, reducer: Reducer, applied: list[Frame]) -> None:
    reduced = reducer.finish()
    problems = _diff(reduced, after)
    assert not problems, (
        "the frames do not bring the client's state up to date:\n"
        + "\n".join(sorted(problems))
        + f"\nframes: {[f['type'] for f in applied]}"
    )


def verify(
    observer: Any,
    action: Callable[[], Any],
    expect: list[str],
    *,
    changes: bool = True,
    tamper: Tamper | None = None,
) -> list[Frame]:
    """Fetch, run ``action`` capturing its events, apply them, fetch again, compare."""
    before = fetch_state(observer)
    with capture_events() as captured:
        action()
    after = fetch_state(observer)
    reducer = Reducer(before, observer.pk, room_loader(observer))
    applied = deliver(captured, reducer, tamper)
    assert sorted(f["type"] for f in applied) == sorted(expect)
    assert (before != after) is changes, "the action changed nothing the client shows"
    check(before, after, reducer, applied)
    return applied


async def averify(
    observer: Any,
    action: Callable[[], Awaitable[Any]],
    expect: list[str],
    *,
    changes: bool = True,
) -> list[Frame]:
    """:func:`verify` for actions on a socket (the frames may come after the answer)."""
    before = await database_sync_to_async(fetch_state)(observer)
    with capture_events() as captured:
        await action()
        for frame_type in set(expect):
            await captured.wait_for(frame_type, expect.count(frame_type))
    after = await database_sync_to_async(fetch_state)(observer)
    reducer = Reducer(before, observer.pk, room_loader(observer))
    applied = await database_sync_to_async(deliver)(captured, reducer, None)
    assert sorted(f["type"] for f in applied) == sorted(expect)
    assert (before != after) is changes
    await database_sync_to_async(check)(before, after, reducer, applied)
    return applied


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def call(user: Any, method: str, url: str, data: Any = None) -> Callable[[], None]:
    """An action: one request of ``user`` to the API, which must succeed."""

    def run() -> None:
        response = getattr(api(user), method)(url, data, format="json")
        assert response.status_code < 300, (url, response.status_code, response.content)

    return run


def messages_url(room: ChatRoom, pk: int | None = None) -> str:
    if pk is None:
        return reverse("smartcampus_chat:api-message-list", args=[room.slug])
    return reverse("smartcampus_chat:api-message-detail", args=[room.slug, pk])


def room_url(room: ChatRoom, action: str = "detail") -> str:
    return reverse(f"smartcampus_chat:api-room-{action}", args=[room.slug])


@pytest.fixture
def carol(make_user: Callable[..., Any]) -> Any:
    return make_user("carol", first_name="Carol")


@pytest.fixture
def general(alice: Any, bob: Any, carol: Any, public_room: ChatRoom) -> ChatRoom:
    """Alice's room: Bob and Carol joined; two of Alice's messages, Bob read the first."""
    services.do_join_room(bob, public_room)
    services.do_join_room(carol, public_room)
    first = services.do_send_message(alice, public_room, "one").message
    services.do_send_message(alice, public_room, "two")
    services.do_mark_read(bob, public_room, first.seq)
    return public_room


def carol_of(room: ChatRoom) -> Any:
    return room.participants.get(user__username="carol").user


def first_message(room: ChatRoom) -> ChatMessage:
    return ChatMessage.objects.filter(room=room).order_by("seq").first()  # type: ignore[return-value]


# --- Messages ------------------------------------------------------------------------------


def test_send_by_someone_else(alice: Any, bob: Any, general: ChatRoom) -> None:
    verify(bob, call(alice, "post", messages_url(general), {"content": "three"}), ["message.new"])


def test_send_by_the_client_itself_reads_the_room(bob: Any, general: ChatRoom) -> None:
    verify(bob, call(bob, "post", messages_url(general), {"content": "mine"}), ["message.new"])


def test_first_message_of_a_newcomer(bob: Any, general: ChatRoom, make_user: Any) -> None:
    dave = make_user("dave")
    verify(
        bob,
        call(dave, "post", messages_url(general), {"content": "hi all"}),
        ["participant.joined", "message.new"],
    )


def test_system_message(bob: Any, general: ChatRoom) -> None:
    verify(
        bob,
        lambda: services.post_system_message(general, "Assignment 3 is due on Friday."),
        ["message.new"],
    )


def test_edit(alice: Any, bob: Any, general: ChatRoom) -> None:
    pk = first_message(general).pk
    verify(
        bob, call(alice, "patch", messages_url(general, pk), {"content": "1"}), ["message.edited"]
    )


def test_delete_of_an_unread_message(alice: Any, bob: Any, general: ChatRoom) -> None:
    last = ChatMessage.objects.filter(room=general).order_by("-seq").first()
    assert last is not None
    verify(bob, call(alice, "delete", messages_url(general, last.pk)), ["message.deleted"])


def test_reply(alice: Any, bob: Any, general: ChatRoom) -> None:
    pk = first_message(general).pk
    verify(
        bob,
        call(alice, "post", messages_url(general), {"content": "**yes**", "reply_to": pk}),
        ["message.new"],
    )


def test_edit_and_delete_of_a_message_with_replies(alice: Any, bob: Any, general: ChatRoom) -> None:
    parent = first_message(general)
    services.do_send_message(bob, general, "a reply", reply_to=parent)
    services.do_send_message(alice, general, "another", reply_to=parent)
    patch = call(alice, "patch", messages_url(general, parent.pk), {"content": "`changed`"})
    verify(bob, patch, ["message.edited"])
    verify(bob, call(alice, "delete", messages_url(general, parent.pk)), ["message.deleted"])


def test_reactions_added_and_removed(alice: Any, bob: Any, general: ChatRoom) -> None:
    pk = first_message(general).pk
    url = messages_url(general, pk) + "reactions/"
    verify(bob, call(alice, "post", url, {"emoji": "👍"}), ["message.reactions"])
    verify(bob, call(bob, "post", url, {"emoji": "👍"}), ["message.reactions"])
    verify(bob, call(alice, "delete", url + "?emoji=%F0%9F%91%8D"), ["message.reactions"])


def test_files_uploaded_sent_removed_and_deleted(alice: Any, bob: Any, general: ChatRoom) -> None:
    upload_url = reverse("smartcampus_chat:api-attachment-list", args=[general.slug])

    def upload(name: str, data: bytes) -> None:
        response = api(alice).post(upload_url, {"file": SimpleUploadedFile(name, data)})
        assert response.status_code == 201, response.content

    # An upload not sent yet changes nothing anyone else sees, and says nothing.
    verify(bob, lambda: upload("lab.jpg", attachment_files.photo(800, 600)), [], changes=False)
    upload("slides.pdf", attachment_files.PDF)
    ids = list(ChatAttachment.objects.order_by("pk").values_list("pk", flat=True))
    send = call(alice, "post", messages_url(general), {"content": "", "attachments": ids})
    verify(bob, send, ["message.new"])
    removed = ChatAttachment.objects.filter(pk=ids[0])
    verify(bob, lambda: services.do_remove_attachments(removed), ["message.edited"])
    message = ChatMessage.objects.filter(room=general).order_by("-seq").first()
    assert message is not None
    verify(bob, call(alice, "delete", messages_url(general, message.pk)), ["message.deleted"])


def test_a_link_preview_arrives_and_its_author_removes_it(
    alice: Any, bob: Any, general: ChatRoom, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "LINK_PREVIEWS": True,
        "LINK_PREVIEW_ENQUEUE": "tests.fetch_servers.record_enqueue",
    }
    with news_site() as (_server, network):
        monkeypatch.setattr(safe_fetch, "default_network", network.network())
        send = call(alice, "post", messages_url(general), {"content": "see http://news.example/"})
        verify(bob, send, ["message.new"])
        message = ChatMessage.objects.filter(room=general).order_by("-seq").first()
        assert message is not None
        verify(bob, lambda: services.do_fetch_preview(message.pk), ["message.preview"])
        remove = call(alice, "delete", messages_url(general, message.pk) + "preview/")
        verify(bob, remove, ["message.preview"])


def test_pin_and_unpin(alice: Any, bob: Any, general: ChatRoom) -> None:
    url = messages_url(general, first_message(general).pk) + "pin/"
    verify(bob, call(alice, "post", url), ["message.pinned"])
    verify(bob, call(alice, "delete", url), ["message.pinned"])


def test_a_mention_of_the_client_and_of_everyone(alice: Any, bob: Any, general: ChatRoom) -> None:
    verify(
        bob,
        call(alice, "post", messages_url(general), {"content": "@bob look"}),
        ["message.new", "notification"],
    )
    verify(
        bob,
        call(alice, "post", messages_url(general), {"content": "@everyone"}),
        ["message.new", "notification"],
    )
    # Reading the room reads the notifications of what it read.
    verify(
        bob,
        call(bob, "post", room_url(general, "read"), {"seq": 3}),
        ["unread", "notifications.read"],
    )


def test_notifications_marked_read_one_then_all(alice: Any, bob: Any, general: ChatRoom) -> None:
    for text in ("@bob one", "@bob two", "@bob three"):
        verify(
            bob,
            call(alice, "post", messages_url(general), {"content": text}),
            ["message.new", "notification"],
        )
    newest = ChatNotification.objects.filter(user=bob).latest("pk").pk
    read = reverse("smartcampus_chat:api-notifications-read")
    verify(bob, call(bob, "post", read, {"ids": [newest]}), ["notifications.read"])
    verify(bob, call(bob, "post", read, {"all": True}), ["notifications.read"])
    verify(bob, call(bob, "post", read, {"all": True}), [], changes=False)


def test_a_notified_message_edited_then_deleted(alice: Any, bob: Any, general: ChatRoom) -> None:
    verify(
        bob,
        call(alice, "post", messages_url(general), {"content": "@bob see the plan"}),
        ["message.new", "notification"],
    )
    message = ChatMessage.objects.filter(room=general).latest("seq")
    url = messages_url(general, message.pk)
    verify(bob, call(alice, "patch", url, {"content": "@bob see the new plan"}), ["message.edited"])
    verify(bob, call(alice, "delete", url), ["message.deleted", "notifications.read"])


def test_an_edit_that_adds_and_removes_a_mention(alice: Any, bob: Any, general: ChatRoom) -> None:
    unread = ChatMessage.objects.filter(room=general).order_by("-seq").first()
    assert unread is not None
    assert unread.seq > 1
    url = messages_url(general, unread.pk)
    verify(
        bob,
        call(alice, "patch", url, {"content": "now @bob"}),
        ["message.edited", "unread", "notification"],
    )
    verify(bob, call(alice, "patch", url, {"content": "not bob"}), ["message.edited", "unread"])
    read = messages_url(general, first_message(general).pk)
    # A mention added to a message already read is news: it is notified (unread).
    verify(
        bob,
        call(alice, "patch", read, {"content": "@bob, read"}),
        ["message.edited", "notification"],
    )


def test_mark_read(bob: Any, general: ChatRoom) -> None:
    verify(bob, call(bob, "post", room_url(general, "read"), {"seq": 2}), ["unread"])


def test_receipts_of_a_read_and_a_send(alice: Any, bob: Any, general: ChatRoom) -> None:
    verify(alice, call(bob, "post", room_url(general, "read"), {"seq": 2}), ["receipt"])
    verify(
        alice,
        call(carol_of(general), "post", messages_url(general), {"content": "hi"}),
        ["message.new"],
    )


def test_receipts_turned_off_for_the_room(alice: Any, bob: Any, general: ChatRoom) -> None:
    verify(bob, call(alice, "patch", room_url(general), {"read_receipts": False}), ["room.updated"])
    verify(alice, call(bob, "post", room_url(general, "read"), {"seq": 2}), [], changes=False)


# --- Membership ------------------------------------------------------------------------------


def test_someone_joins(bob: Any, general: ChatRoom, make_user: Any) -> None:
    dave = make_user("dave")
    verify(bob, call(dave, "post", room_url(general, "join")), ["participant.joined"])


def test_the_client_joins(bob: Any, carol: Any, general: ChatRoom) -> None:
    other = services.do_create_room(carol, name="Other", room_type=RoomType.PUBLIC)
    services.do_send_message(carol, other, "before bob")
    verify(bob, call(bob, "post", room_url(other, "join")), ["room.added"])


def test_someone_leaves(bob: Any, carol: Any, general: ChatRoom) -> None:
    verify(bob, call(carol, "post", room_url(general, "leave")), ["participant.left"])


def test_the_client_leaves(bob: Any, general: ChatRoom) -> None:
    verify(bob, call(bob, "post", room_url(general, "leave")), ["participant.left", "room.removed"])


def test_removal_seen_by_another_member(
    alice: Any, bob: Any, carol: Any, general: ChatRoom
) -> None:
    url = reverse("smartcampus_chat:api-member-detail", args=[general.slug, carol.pk])
    verify(bob, call(alice, "delete", url), ["participant.left"])


def test_removal_seen_by_the_removed(alice: Any, carol: Any, general: ChatRoom) -> None:
    url = reverse("smartcampus_chat:api-member-detail", args=[general.slug, carol.pk])
    verify(carol, call(alice, "delete", url), ["participant.left", "room.removed"])


# --- Rooms -----------------------------------------------------------------------------------


def test_create_room(alice: Any, general: ChatRoom) -> None:
    url = reverse("smartcampus_chat:api-room-list")
    verify(alice, call(alice, "post", url, {"name": "Brand new"}), ["room.added"])


def test_open_private_conversation(alice: Any, bob: Any, general: ChatRoom) -> None:
    url = reverse("smartcampus_chat:api-private")
    verify(bob, call(alice, "post", url, {"user": bob.pk}), ["room.added"])


def test_rename_and_describe(alice: Any, bob: Any, general: ChatRoom) -> None:
    change = {"name": "Plaza", "description": "Everyone"}
    verify(bob, call(alice, "patch", room_url(general), change), ["room.updated"])


def test_archive(alice: Any, bob: Any, general: ChatRoom) -> None:
    verify(bob, call(alice, "patch", room_url(general), {"is_archived": True}), ["room.updated"])


def test_unarchive(alice: Any, bob: Any, general: ChatRoom) -> None:
    services.do_update_room(general, is_archived=True)
    verify(bob, call(alice, "patch", room_url(general), {"is_archived": False}), ["room.updated"])


# --- Sockets: the batched send, presence, typing ----------------------------------------------


async def test_send_on_a_socket(alice: Any, bob: Any, general: ChatRoom) -> None:
    socket = await open_room(alice, general.slug)
    try:
        await averify(bob, lambda: socket.send_message(None, "by socket"), ["message.new"])
    finally:
        await socket.disconnect()


async def test_presence(bob: Any, carol: Any, general: ChatRoom) -> None:
    opened = []

    async def connect() -> None:
        opened.append(await open_room(carol, general.slug))

    try:
        await averify(bob, connect, ["presence"])
    finally:
        for socket in opened:
            await socket.disconnect()


async def test_typing_changes_nothing_stored(bob: Any, carol: Any, general: ChatRoom) -> None:
    socket = await open_room(carol, general.slug)
    try:
        await averify(
            bob,
            lambda: socket.send_frame(type="typing", state="started"),
            ["typing"],
            changes=False,
        )
    finally:
        await socket.disconnect()


# --- The check can fail -----------------------------------------------------------------------


def _stale(frame_type: str, path: tuple[str, ...], value: Any) -> Tamper:
    """A tamper that sets one field of the frames of ``frame_type`` to a stale value."""

    def tamper(frame: Frame) -> Frame:
        if frame["type"] == frame_type:
            target = frame
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        return frame

    return tamper


@pytest.mark.parametrize(
    ("frame_type", "path", "value"),
    [
        ("room.updated", ("room", "name"), "General"),
        ("room.updated", ("room", "description"), ""),
    ],
)
def test_a_stale_field_of_room_updated_fails_the_check(
    alice: Any, bob: Any, general: ChatRoom, frame_type: str, path: tuple[str, ...], value: Any
) -> None:
    change = {"name": "Plaza", "description": "Everyone"}
    with pytest.raises(AssertionError, match="do not bring the client's state up to date"):
        verify(
            bob,
            call(alice, "patch", room_url(general), change),
            ["room.updated"],
            tamper=_stale(frame_type, path, value),
        )


@pytest.mark.parametrize(
    ("path", "value"),
    [(("message", "content"), "one"), (("message", "is_edited"), False)],
)
def test_a_stale_field_of_message_edited_fails_the_check(
    alice: Any, bob: Any, general: ChatRoom, path: tuple[str, ...], value: Any
) -> None:
    url = messages_url(general, first_message(general).pk)
    with pytest.raises(AssertionError, match="do not bring the client's state up to date"):
        verify(
            bob,
            call(alice, "patch", url, {"content": "1"}),
            ["message.edited"],
            tamper=_stale("message.edited", path, value),
        )


def test_a_stale_unread_count_fails_the_check(bob: Any, general: ChatRoom) -> None:
    with pytest.raises(AssertionError, match="do not bring the client's state up to date"):
        verify(
            bob,
            call(bob, "post", room_url(general, "read"), {"seq": 2}),
            ["unread"],
            tamper=_stale("unread", ("unread",), 1),
        )


def test_a_frame_missing_a_field_fails_its_model(alice: Any, bob: Any, general: ChatRoom) -> None:
    def drop_name(frame: Frame) -> Frame:
        del frame["room"]["name"]
        return frame

    with pytest.raises(InvalidFrame, match="name"):
        verify(
            bob,
            call(alice, "patch", room_url(general), {"name": "Plaza"}),
            ["room.updated"],
            tamper=drop_name,
        )


def test_what_no_frame_carries_is_written_down() -> None:
    """The reducer's UNKNOWN fields are listed (and reported), not skipped silently."""
    assert set(NOT_IN_FRAMES) == {"members.joined_at", "receipts"}


def test_last_message_at_is_the_created_at_of_the_last_message(
    alice: Any, bob: Any, general: ChatRoom
) -> None:
    before = fetch_state(bob)
    with capture_events() as captured:
        call(alice, "post", messages_url(general), {"content": "three"})()
    (frame,) = captured.room_frames(general)
    after = fetch_state(bob)
    assert (
        after["rooms"][general.slug]["last_message_at"]
        != (before["rooms"][general.slug]["last_message_at"])
    )
    assert after["rooms"][general.slug]["last_message_at"] == frame["message"]["created_at"]
