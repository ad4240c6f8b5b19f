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
from datetime import date, timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from courses.models import Course, Enrolment
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


def test_retention_purge_of_expired_and_deleted_messages(
    alice: Any, bob: Any, general: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "RETENTION": {"public": {"days": 30}}}
    one, two = ChatMessage.objects.filter(room=general).order_by("seq")
    services.do_send_message(bob, general, "a reply to one", reply_to=one)
    services.do_send_message(alice, general, "three, @bob")
    services.do_delete_message(alice, two)
    long_ago = timezone.now() - timedelta(days=40)
    ChatMessage.objects.filter(pk=one.pk).update(created_at=long_ago)
    ChatMessage.objects.filter(pk=two.pk).update(deleted_at=long_ago)
    # "one" expired (the watermark), "two" deleted past its grace period (by number).
    verify(bob, services.do_purge_expired, ["messages.purged", "messages.purged"])


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


def test_an_anonymous_post_seen_by_a_classmate_then_revealed(
    alice: Any, bob: Any, general: ChatRoom
) -> None:
    """Carol asks anonymously: Bob's client learns the post from message.new alone (no
    join, no receipt); Alice's reveal tells Bob nothing."""
    general.allow_anonymous = True
    general.save(update_fields=["allow_anonymous"])
    carol = carol_of(general)
    body = {"content": "An anonymous question", "anonymous": True}
    verify(bob, call(carol, "post", messages_url(general), body), ["message.new"])
    message = ChatMessage.objects.filter(room=general).order_by("-seq").first()
    assert message is not None
    assert message.anonymous
    url = messages_url(general, message.pk) + "reveal/"
    verify(bob, call(alice, "post", url, {"reason": "A complaint"}), [], changes=False)


def _announce(alice: Any, room: ChatRoom) -> Callable[[], None]:
    body = {"content": "Read the rules", "announcement": True, "requires_ack": True}
    return call(alice, "post", messages_url(room), body)


def test_an_announcement_to_acknowledge_seen_by_a_member_and_its_moderator(
    alice: Any, bob: Any, general: ChatRoom
) -> None:
    verify(bob, _announce(alice, general), ["message.new", "notification"])
    verify(alice, _announce(alice, general), ["message.new"])


def test_an_acknowledgement_seen_by_its_author_the_moderator_and_another_member(
    alice: Any, bob: Any, general: ChatRoom
) -> None:
    _announce(alice, general)()
    message = ChatMessage.objects.filter(room=general).order_by("-seq").first()
    assert message is not None
    url = messages_url(general, message.pk) + "ack/"
    verify(bob, call(bob, "post", url), ["announcement.acked"])
    carol = carol_of(general)
    verify(alice, call(carol, "post", url), ["announcement.acks"])
    verify(bob, call(carol, "post", url), [], changes=False)  # Bob learns nothing of Carol


def test_a_deleted_announcement_leaves_the_list(alice: Any, bob: Any, general: ChatRoom) -> None:
    _announce(alice, general)()
    message = ChatMessage.objects.filter(room=general).order_by("-seq").first()
    assert message is not None
    url = messages_url(general, message.pk)
    verify(bob, call(alice, "delete", url), ["message.deleted", "notifications.read"])


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
    verify(
        carol,
        call(alice, "delete", url),
        ["moderation.notice", "participant.left", "room.removed"],
    )


# --- Moderation ------------------------------------------------------------------------------


def _member_url(name: str, room: ChatRoom, user: Any) -> str:
    return reverse(f"smartcampus_chat:api-member-{name}", args=[room.slug, user.pk])


def test_mute_and_unmute_seen_by_the_muted(alice: Any, carol: Any, general: ChatRoom) -> None:
    mute = _member_url("mute", general, carol)
    verify(carol, call(alice, "post", mute, {"duration": 600}), ["moderation.notice"])
    verify(carol, call(alice, "delete", mute), ["moderation.notice"])
    verify(carol, call(alice, "post", mute, {"reason": "until I say"}), ["moderation.notice"])


def test_a_role_change_seen_by_the_member(
    alice: Any, bob: Any, carol: Any, general: ChatRoom
) -> None:
    role = _member_url("role", general, carol)
    both = ["moderation.notice", "participant.updated"]
    verify(carol, call(alice, "put", role, {"role": "read_only"}), both)
    verify(carol, call(alice, "put", role, {"role": "moderator"}), both)
    verify(bob, call(alice, "put", role, {"role": "member"}), ["participant.updated"])


def test_a_course_end_seen_by_a_student(bob: Any) -> None:
    """The host sets the course's end in the past (the example site's receiver calls
    ``services.course_changed``): ``room.updated`` carries ``ends_at``, and the client
    holding it knows the room is read-only, as a fresh fetch says (docs/terms.md)."""
    course = Course.objects.create(code="CS101", title="Programming")
    Enrolment.objects.create(course=course, user=bob)
    services.sync_courses()

    def end_course() -> None:
        course.ends_on = date.today() - timedelta(days=1)
        course.save()

    verify(bob, end_course, ["room.updated"])


def test_lock_and_slow_mode_seen_by_a_member(alice: Any, carol: Any, general: ChatRoom) -> None:
    verify(carol, call(alice, "patch", room_url(general), {"is_locked": True}), ["room.updated"])
    change = {"slow_mode_seconds": 30}
    verify(carol, call(alice, "patch", room_url(general), change), ["room.updated"])
    verify(carol, call(alice, "patch", room_url(general), {"is_locked": False}), ["room.updated"])


def test_a_ban_seen_by_the_banned(alice: Any, carol: Any, general: ChatRoom) -> None:
    ban = _member_url("ban", general, carol)
    verify(
        carol,
        call(alice, "post", ban, {"duration": 3600}),
        ["moderation.notice", "participant.left", "room.removed"],
    )


# --- Rooms -----------------------------------------------------------------------------------


# --- Office hours (Alice, the room's owner, holds them; Bob and Carol queue) ---------------


def office_hours_url(room: ChatRoom, name: str = "office-hours") -> str:
    return reverse(f"smartcampus_chat:api-{name}", args=[room.slug])


def test_office_hours_opened_seen_by_a_student(alice: Any, bob: Any, general: ChatRoom) -> None:
    verify(bob, call(alice, "post", office_hours_url(general)), ["office_hours.state"])


def test_a_hand_raised_seen_by_the_student_another_and_the_teacher(
    alice: Any, bob: Any, carol: Any, general: ChatRoom
) -> None:
    services.check_open_office_hours(alice, general)
    services.check_raise_hand(carol, general, "Loops")
    url = office_hours_url(general, "office-hours-queue")
    verify(
        bob,
        call(bob, "post", url, {"topic": "Recursion"}),
        ["office_hours.state", "office_hours.place"],
    )
    services.check_leave_queue(bob, general)
    expect = ["office_hours.state", "office_hours.place"]
    verify(carol, call(bob, "post", url, {"topic": "Again"}), expect)
    services.check_leave_queue(bob, general)
    verify(
        alice,
        call(bob, "post", url, {"topic": "Again"}),
        ["office_hours.state", "office_hours.queue"],
    )


CLAIM_SEEN_BY = {
    "bob": ["office_hours.state", "office_hours.place", "room.added"],
    "carol": ["office_hours.state", "office_hours.place"],
    "alice": ["office_hours.state", "office_hours.queue", "room.added"],
}


@pytest.mark.parametrize("observer", sorted(CLAIM_SEEN_BY))
def test_a_claim_seen_by_the_claimed_the_next_and_the_teacher(
    observer: str, alice: Any, bob: Any, carol: Any, general: ChatRoom
) -> None:
    services.check_open_office_hours(alice, general)
    services.check_raise_hand(bob, general, "Recursion")
    services.check_raise_hand(carol, general, "Loops")
    claim = office_hours_url(general, "office-hours-claim")
    who = {"alice": alice, "bob": bob, "carol": carol}[observer]
    verify(who, call(alice, "post", claim, {}), CLAIM_SEEN_BY[observer])


def test_done_and_close_seen_by_the_student_and_the_teacher(
    alice: Any, bob: Any, carol: Any, general: ChatRoom
) -> None:
    services.check_open_office_hours(alice, general)
    services.check_raise_hand(bob, general, "Recursion")
    services.check_raise_hand(carol, general, "Loops")
    entry = services.check_claim(alice, general)
    finish = reverse("smartcampus_chat:api-office-hours-finish", args=[general.slug, entry.pk])
    verify(
        bob,
        call(alice, "post", finish, {"outcome": "done"}),
        ["office_hours.state", "office_hours.place"],
    )
    services.check_claim(alice, general)
    expect = ["office_hours.state", "office_hours.queue"]
    verify(alice, call(alice, "delete", office_hours_url(general)), expect)


def test_a_new_session_seen_by_a_student_of_the_last_one(
    alice: Any, carol: Any, general: ChatRoom
) -> None:
    services.check_open_office_hours(alice, general)
    services.check_raise_hand(carol, general, "Loops")
    services.check_close_office_hours(alice, general)
    # Carol's place (left) in the last session is gone from what the new one shows.
    verify(carol, call(alice, "post", office_hours_url(general)), ["office_hours.state"])


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
    assert set(NOT_IN_FRAMES) == {"members.joined_at", "receipts", "office_hours.stats", "acks"}


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


# --- Q&A mode ------------------------------------------------------------------------------


def _qa(alice: Any, room: ChatRoom) -> tuple[ChatRoom, ChatMessage]:
    """``room`` in Q&A mode with a question of Bob's."""
    room = services.check_update_room(alice, room, qa_mode=True)
    bob = room.participants.get(user__username="bob").user
    return room, services.check_send_message(bob, room, "Why?").message


def test_a_question_asked_voted_answered_endorsed_resolved(
    alice: Any, bob: Any, general: ChatRoom
) -> None:
    room = services.check_update_room(alice, general, qa_mode=True)
    carol = carol_of(room)
    verify(
        carol,
        call(bob, "post", messages_url(room), {"content": "Why?"}),
        ["message.new", "question.updated"],
    )
    question = ChatMessage.objects.filter(room=room).order_by("-seq").first()
    assert question is not None
    vote = messages_url(room, question.pk) + "vote/"
    verify(carol, call(carol, "post", vote), ["question.voted", "question.updated"])
    verify(bob, call(alice, "post", vote), ["question.updated"])
    verify(
        carol,
        call(alice, "post", messages_url(room), {"content": "Because", "reply_to": question.pk}),
        ["message.new", "question.updated"],
    )
    answer = ChatMessage.objects.filter(room=room).order_by("-seq").first()
    assert answer is not None
    verify(
        bob, call(alice, "post", messages_url(room, answer.pk) + "endorse/"), ["question.updated"]
    )
    verify(
        carol, call(bob, "post", messages_url(room, question.pk) + "resolve/"), ["question.updated"]
    )
    verify(carol, call(carol, "delete", vote), ["question.voted", "question.updated"])


def test_a_deleted_question_leaves_and_a_deleted_answer_counts_no_more(
    alice: Any, bob: Any, general: ChatRoom
) -> None:
    room, question = _qa(alice, general)
    carol = carol_of(room)
    services.do_vote(carol, question, vote=True)
    answer = services.check_send_message(carol, room, "Yes", reply_to=question.pk).message
    verify(
        bob,
        call(carol, "delete", messages_url(room, answer.pk)),
        ["message.deleted", "question.updated", "notifications.read"],
    )
    verify(carol, call(bob, "delete", messages_url(room, question.pk)), ["message.deleted"])


# --- Polls (docs/polls.md) ----------------------------------------------------------------


def _poll(alice: Any, room: ChatRoom, **options: Any) -> ChatMessage:
    poll = {"options": ["Yes", "No"], **options}
    body = {"content": "Agreed?", "poll": poll}
    call(alice, "post", messages_url(room), body)()
    message = ChatMessage.objects.filter(room=room).order_by("-seq").first()
    assert message is not None
    return message


def _vote_url(room: ChatRoom, message: ChatMessage, action: str = "vote") -> str:
    return reverse(f"smartcampus_chat:api-poll-{action}", args=[room.slug, message.pk])


def test_a_poll_posted_voted_changed_and_closed(alice: Any, bob: Any, general: ChatRoom) -> None:
    body = {"content": "Agreed?", "poll": {"options": ["Yes", "No"]}}
    verify(bob, call(alice, "post", messages_url(general), body), ["message.new"])
    message = ChatMessage.objects.filter(room=general).order_by("-seq").first()
    assert message is not None
    yes, no = message.poll.options.order_by("position").values_list("pk", flat=True)
    url = _vote_url(general, message)
    verify(bob, call(bob, "put", url, {"option_ids": [yes]}), ["poll.updated", "poll.voted"])
    verify(alice, call(bob, "put", url, {"option_ids": [no]}), ["poll.updated"])
    verify(bob, call(bob, "put", url, {"option_ids": []}), ["poll.updated", "poll.voted"])
    verify(bob, call(alice, "post", _vote_url(general, message, "close")), ["poll.updated"])


def test_an_anonymous_poll_s_votes_seen_by_another_member(
    alice: Any, bob: Any, general: ChatRoom
) -> None:
    message = _poll(alice, general, anonymous=True, multiple=True)
    yes, no = message.poll.options.order_by("position").values_list("pk", flat=True)
    carol = carol_of(general)
    verify(
        bob,
        call(carol, "put", _vote_url(general, message), {"option_ids": [yes, no]}),
        ["poll.updated"],
    )


def test_a_deleted_poll(alice: Any, bob: Any, general: ChatRoom) -> None:
    message = _poll(alice, general)
    verify(bob, call(alice, "delete", messages_url(general, message.pk)), ["message.deleted"])


def test_members_allowed_to_post_polls(alice: Any, bob: Any, general: ChatRoom) -> None:
    change = call(alice, "patch", room_url(general), {"members_can_create_polls": True})
    verify(bob, change, ["room.updated"])
