"""Polls (docs/polls.md): posted through the one send pipeline by a room's moderators (or
its members when the room allows it), voted on over the socket and the REST API, closed by
hand or by time; an anonymous poll names nobody anywhere."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from courses.models import Course
from smartcampus_chat import services
from smartcampus_chat.models import (
    ChatMessage,
    ChatParticipant,
    ChatPoll,
    ChatPollOption,
    ChatPollVote,
    ChatRoom,
    Role,
)
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async


@pytest.fixture
def classroom(
    course_room: ChatRoom, course: Course, enrol: Callable[..., Any], make_user: Any
) -> dict[str, Any]:
    """A course room with a teacher (a moderator by the roster) and two students."""
    people = {
        "teacher": make_user("teacher", first_name="Tess"),
        "ann": make_user("ann", first_name="Annabel"),
        "ben": make_user("ben", first_name="Benedict"),
    }
    enrol(people["teacher"], course, role="teacher")
    enrol(people["ann"], course)
    enrol(people["ben"], course)
    for name in ("teacher", "ann", "ben"):
        services.enrolment_changed(people[name], course)
    return {"room": course_room, **people}


def post(user: Any, room: ChatRoom, content: str = "Which day?", **poll: Any) -> Any:
    body = {"options": ["Monday", "Tuesday", "Wednesday"], **poll}
    return logged_in(user).post(
        api("message-list", room_slug=room.slug),
        {"content": content, "poll": body},
        content_type="application/json",
    )


def make_poll(user: Any, room: ChatRoom, **poll: Any) -> ChatMessage:
    spec = {"options": ["Monday", "Tuesday", "Wednesday"], **poll}
    return services.check_send_message(user, room, "Which day?", poll=spec).message


def vote(user: Any, message: ChatMessage, option_ids: list[int]) -> Any:
    return logged_in(user).put(
        api("poll-vote", room_slug=message.room.slug, message_id=message.pk),
        {"option_ids": option_ids},
        content_type="application/json",
    )


def options(message: ChatMessage) -> list[int]:
    return list(
        ChatPollOption.objects.filter(poll_id=message.pk)
        .order_by("position")
        .values_list("pk", flat=True)
    )


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a JSON document, however deep."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


@pytest.mark.django_db
def test_a_moderator_posts_a_poll_through_the_send_pipeline(classroom: dict[str, Any]) -> None:
    room, teacher = classroom["room"], classroom["teacher"]
    answer = post(teacher, room, options=[" Monday ", "Tuesday"], multiple=True)
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert data["content"] == "Which day?"
    poll = data["poll"]
    assert [o["text"] for o in poll["options"]] == ["Monday", "Tuesday"]
    assert (poll["multiple"], poll["anonymous"], poll["closed"], poll["voters"]) == (
        True,
        False,
        False,
        0,
    )
    message = ChatMessage.objects.get(pk=data["id"])
    assert message.seq == room.last_seq + 1 or message.seq >= 1
    assert ChatPoll.objects.get(pk=message.pk).multiple
    # History (a fresh read) shows the same poll.
    page = logged_in(teacher).get(api("message-list", room_slug=room.slug)).json()
    (shown,) = [m for m in page["results"] if m["id"] == message.pk]
    assert shown["poll"] == {**poll, "my_votes": []}


@pytest.mark.django_db
def test_who_may_post_a_poll(classroom: dict[str, Any]) -> None:
    room, teacher, ann = classroom["room"], classroom["teacher"], classroom["ann"]
    refused = post(ann, room)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "poll_not_allowed"
    assert not ChatPoll.objects.exists()
    # A moderator lets the members post polls through the room's settings.
    services.check_update_room(teacher, room, members_can_create_polls=True)
    assert post(ann, room).status_code == 201
    changed = logged_in(ann).patch(
        api("room-detail", slug=room.slug),
        {"members_can_create_polls": False},
        content_type="application/json",
    )
    assert changed.status_code == 403
    back = logged_in(teacher).patch(
        api("room-detail", slug=room.slug),
        {"members_can_create_polls": False},
        content_type="application/json",
    )
    assert back.status_code == 200, back.json()
    assert back.json()["members_can_create_polls"] is False
    assert post(ann, room).json()["error"]["code"] == "poll_not_allowed"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("poll", "code"),
    [
        ({"options": ["Only one"]}, "invalid_option"),
        ({"options": ["Yes", " yes "]}, "invalid_option"),
        ({"options": ["Yes", "  "]}, "invalid_option"),
        ({"options": [f"o{i}" for i in range(11)]}, "too_many_options"),
        ({"options": ["a", "b"], "closes_at": "2001-01-01T00:00:00Z"}, "invalid"),
    ],
)
def test_a_poll_s_options_are_checked(
    classroom: dict[str, Any], poll: dict[str, Any], code: str
) -> None:
    answer = post(classroom["teacher"], classroom["room"], **poll)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code
    assert not ChatMessage.objects.filter(room=classroom["room"], poll__isnull=False).exists()


@pytest.mark.django_db
def test_an_option_longer_than_200_characters_is_refused(classroom: dict[str, Any]) -> None:
    answer = post(classroom["teacher"], classroom["room"], options=["a" * 201, "b"])
    assert answer.status_code == 400
    with pytest.raises(Exception) as refused:
        make_poll(classroom["teacher"], classroom["room"], options=["a" * 201, "b"])
    assert getattr(refused.value, "code", None) == "invalid_option"


@pytest.mark.django_db
def test_single_choice_votes_change_and_withdraw(classroom: dict[str, Any]) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    message = make_poll(teacher, room)
    monday, tuesday, _wednesday = options(message)
    answer = vote(ann, message, [monday])
    assert answer.status_code == 200, answer.json()
    assert answer.json()["my_votes"] == [monday]
    assert vote(ben, message, [monday]).status_code == 200
    both = vote(ann, message, [monday, tuesday])
    assert (both.status_code, both.json()["error"]["code"]) == (400, "invalid_option")
    changed = vote(ann, message, [tuesday]).json()
    assert [o["votes"] for o in changed["options"]] == [1, 1, 0]
    assert changed["voters"] == 2
    assert [v["id"] for v in changed["options"][1]["voters"]] == [ann.pk]
    withdrawn = vote(ann, message, []).json()
    assert (withdrawn["voters"], withdrawn["my_votes"]) == (1, [])
    assert ChatPollVote.objects.filter(user=ann).count() == 0
    other_poll = make_poll(teacher, room, options=["x", "y"])
    foreign = vote(ann, message, [options(other_poll)[0]])
    assert foreign.json()["error"]["code"] == "invalid_option"


@pytest.mark.django_db
def test_multiple_choice_takes_several(classroom: dict[str, Any]) -> None:
    message = make_poll(classroom["teacher"], classroom["room"], multiple=True)
    monday, tuesday, wednesday = options(message)
    data = vote(classroom["ann"], message, [wednesday, monday]).json()
    assert data["my_votes"] == [monday, wednesday]
    assert ([o["votes"] for o in data["options"]], data["voters"]) == ([1, 0, 1], 1)
    repeated = vote(classroom["ann"], message, [tuesday, tuesday])
    assert repeated.json()["error"]["code"] == "invalid_option"


@pytest.mark.django_db
def test_muted_and_read_only_members_do_not_vote(classroom: dict[str, Any], make_user: Any) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    message = make_poll(teacher, room)
    services.check_mute_member(teacher, room, ann.pk, duration=3600, reason="noise")
    muted = vote(ann, message, [options(message)[0]])
    assert (muted.status_code, muted.json()["error"]["code"]) == (403, "muted")
    ChatParticipant.objects.filter(room=room, user=ben).update(role=Role.READ_ONLY)
    reader = vote(ben, message, [options(message)[0]])
    assert reader.status_code == 403
    stranger = vote(make_user("stranger"), message, [options(message)[0]])
    assert stranger.status_code == 404
    assert not ChatPollVote.objects.exists()


@pytest.mark.django_db
def test_closing_by_hand_and_by_time(classroom: dict[str, Any]) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    message = make_poll(teacher, room)
    first = options(message)[0]
    close_url = api("poll-close", room_slug=room.slug, message_id=message.pk)
    refused = logged_in(ann).post(close_url)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    closed = logged_in(teacher).post(close_url)
    assert closed.status_code == 200
    assert closed.json()["closed"] is True
    late = vote(ben, message, [first])
    assert (late.status_code, late.json()["error"]["code"]) == (409, "poll_closed")
    assert logged_in(teacher).post(close_url).status_code == 200  # idempotent

    # A member's own poll: its author closes it; by time, it closes itself.
    services.check_update_room(teacher, room, members_can_create_polls=True)
    soon = timezone.now() + timedelta(minutes=5)
    own = make_poll(ann, room, closes_at=soon.isoformat())
    assert vote(ben, own, [options(own)[1]]).status_code == 200
    # Time passes: the closing time is now in the past (no job runs).
    ChatPoll.objects.filter(pk=own.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    expired = vote(ben, own, [options(own)[0]])
    assert expired.json()["error"]["code"] == "poll_closed"
    read = logged_in(ben).get(api("poll", room_slug=room.slug, message_id=own.pk)).json()
    assert (read["closed"], read["closed_at"], read["my_votes"]) == (True, None, [options(own)[1]])
    author_close = logged_in(ann).post(api("poll-close", room_slug=room.slug, message_id=own.pk))
    assert author_close.status_code == 200
    stored = ChatPoll.objects.get(pk=own.pk)
    assert stored.closed_at == stored.closes_at  # closed when its time came, not later


@pytest.mark.django_db
def test_an_anonymous_poll_names_nobody_anywhere(classroom: dict[str, Any]) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    message = make_poll(teacher, room, anonymous=True)
    first = options(message)[0]
    assert vote(ann, message, [first]).status_code == 200
    assert vote(ben, message, [first]).status_code == 200
    reads = [
        logged_in(teacher).get(api("poll", room_slug=room.slug, message_id=message.pk)).json(),
        logged_in(teacher).get(api("message-list", room_slug=room.slug)).json(),
        logged_in(ann).get(api("message-detail", room_slug=room.slug, pk=message.pk)).json(),
    ]
    for document in reads:
        text = json.dumps(document)
        for person in (ann, ben):
            assert person.username not in text
            assert "Annabel" not in text
            assert "Benedict" not in text
        for key, value in walk(document):
            if key == "voters" and isinstance(value, list):
                assert value == []
            if key == "user_ids":
                assert ann.pk not in value
                assert ben.pk not in value
    (found,) = [m for m in reads[1]["results"] if m["id"] == message.pk]
    assert found["poll"]["options"][0]["votes"] == 2
    assert reads[0]["my_votes"] == []  # the teacher did not vote
    assert reads[2]["poll"]["my_votes"] == [first]  # Ann's own, to Ann only


@pytest.mark.django_db(transaction=True)
async def test_votes_over_the_socket_are_live(classroom: dict[str, Any]) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    moderator = await open_room(teacher, room.slug)
    voter = await open_room(ann, room.slug)
    other = await open_room(ben, room.slug)
    try:
        await moderator.send_frame(
            type="message.send",
            content="Lunch?",
            poll={"options": ["Pizza", "Salad"], "multiple": False},
            id="s1",
        )
        sent = await moderator.receive_until(lambda f: f["type"] == "ack")
        message_id = sent["message"]["id"]
        option_ids = [o["id"] for o in sent["message"]["poll"]["options"]]
        new = await voter.receive_frame("message.new")
        assert new["message"]["poll"]["options"][0]["text"] == "Pizza"
        await voter.send_frame(
            type="poll.vote", message_id=message_id, option_ids=[option_ids[0]], id="v1"
        )
        voted = await voter.receive_until(lambda f: f["type"] == "poll.voted" and "id" in f)
        assert (voted["option_ids"], voted["id"]) == ([option_ids[0]], "v1")
        live = await other.receive_until(lambda f: f["type"] == "poll.updated")
        assert live["message_id"] == message_id
        assert [o["votes"] for o in live["poll"]["options"]] == [1, 0]
        assert live["poll"]["options"][0]["voters"][0]["id"] == ann.pk
        assert live["poll"]["my_votes"] is None
        seen = await moderator.receive_until(lambda f: f["type"] == "poll.updated")
        assert seen["event_seq"] == live["event_seq"]
        # Ben is not told Ann's choice as his own.
        await other.send_frame(
            type="poll.vote", message_id=message_id, option_ids=option_ids, id="v2"
        )
        both = await other.receive_until(lambda f: f["type"] == "error")
        assert (both["code"], both["id"]) == ("invalid_option", "v2")
        await other.send_frame(type="poll.close", message_id=message_id, id="c1")
        denied = await other.receive_until(lambda f: f["type"] == "error")
        assert (denied["code"], denied["id"]) == ("forbidden", "c1")
        await moderator.send_frame(type="poll.close", message_id=message_id, id="c2")
        closed = await moderator.receive_until(lambda f: f["type"] == "ack")
        assert closed["message"]["poll"]["closed"] is True
        update = await voter.receive_until(
            lambda f: f["type"] == "poll.updated" and f["poll"]["closed"]
        )
        assert update["message_id"] == message_id
        await voter.send_frame(
            type="poll.vote", message_id=message_id, option_ids=[option_ids[1]], id="v3"
        )
        late = await voter.receive_until(lambda f: f["type"] == "error")
        assert (late["code"], late["id"]) == ("poll_closed", "v3")
    finally:
        for socket in (moderator, voter, other):
            await socket.disconnect()
    assert await db(ChatPollVote.objects.count)() == 1


@pytest.mark.django_db
def test_a_deleted_poll_shows_nothing(classroom: dict[str, Any]) -> None:
    room, teacher, ann = classroom["room"], classroom["teacher"], classroom["ann"]
    message = make_poll(teacher, room, options=["Secret option A", "Secret option B"])
    assert vote(ann, message, [options(message)[0]]).status_code == 200
    access = services.room_access(teacher, room)
    services.check_delete_message(teacher, message, access)
    read = logged_in(ann).get(api("message-list", room_slug=room.slug)).json()
    assert "Secret option" not in json.dumps(read)
    (shown,) = [m for m in read["results"] if m["id"] == message.pk]
    assert shown["poll"] is None
    voted = vote(ann, message, [options(message)[1]])
    assert (voted.status_code, voted.json()["error"]["code"]) == (409, "message_deleted")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_person_s_concurrent_votes_leave_one_choice(
    classroom: dict[str, Any], settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEND_RATE_BURST": 10_000}
    room, teacher, ann = classroom["room"], classroom["teacher"], classroom["ann"]
    message = make_poll(teacher, room)
    ids = options(message)
    threads_count = 6
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def cast(option_id: int) -> None:
        try:
            start.wait()
            for _ in range(5):
                fresh = ChatMessage.objects.shown().select_related("room").get(pk=message.pk)
                access = services.room_access(ann, fresh.room)
                services.check_poll_vote(ann, fresh, [option_id], access)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=cast, args=(ids[i % len(ids)],)) for i in range(threads_count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert ChatPollVote.objects.filter(poll_id=message.pk, user=ann).count() == 1


@pytest.mark.django_db
def test_erasure_removes_votes_and_a_deleted_poll_s_options(
    classroom: dict[str, Any], captured_events: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room, teacher, ann, ben = (classroom[k] for k in ("room", "teacher", "ann", "ben"))
    message = make_poll(teacher, room)
    first = options(message)[0]
    assert vote(ann, message, [first]).status_code == 200
    assert vote(ben, message, [first]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.do_erase_user(ann)
    assert not ChatPollVote.objects.filter(user=ann).exists()
    updated = [f for f in captured_events.frames() if f["type"] == "poll.updated"]
    assert updated[-1]["poll"]["voters"] == 1
    assert [v["id"] for v in updated[-1]["poll"]["options"][0]["voters"]] == [ben.pk]
    # The author erased with their messages: the poll's options go with the text.
    services.do_erase_user(teacher, messages="delete")
    assert not ChatPoll.objects.filter(pk=message.pk).exists()
    assert not ChatPollOption.objects.filter(poll_id=message.pk).exists()
