"""Office hours (docs/office-hours.md) through the WebSocket and the REST API: a teacher
opens them, students raise a hand, a teacher claims (the private conversation opens, the
student is told where to go), done and no-show, leaving, closing with statistics; who may
do what on every door; students never see another student's name or topic."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.exceptions import NotFound, ValidationFailed
from smartcampus_chat.models import (
    ChatRoom,
    OfficeHoursEntry,
    OfficeHoursSession,
    OfficeHoursStatus,
    RoomType,
)
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async
pytestmark = pytest.mark.django_db(transaction=True)

ALICE_TOPIC = "Recursion in exercise 3"
BOB_TOPIC = "Pointer arithmetic"


@pytest.fixture
def teacher(make_user: Callable[..., Any]) -> Any:
    return make_user("teacher", first_name="Tess")


@pytest.fixture
def ta(make_user: Callable[..., Any]) -> Any:
    return make_user("ta", first_name="Theo")


@pytest.fixture
def outsider(make_user: Callable[..., Any]) -> Any:
    return make_user("outsider", first_name="Olga")


@pytest.fixture
def room(
    course_room: ChatRoom, course: Course, teacher: Any, ta: Any, alice: Any, bob: Any
) -> ChatRoom:
    """CS101's room: Tess and Theo teach it, Alice and Bob take it."""
    for user, role in ((teacher, "teacher"), (ta, "teacher"), (alice, "student"), (bob, "student")):
        Enrolment.objects.create(user=user, course=course, role=role)
    return course_room


def url(room: ChatRoom, name: str = "office-hours", **kwargs: Any) -> str:
    return api(name, room_slug=room.slug, **kwargs)


def post(client: Client, address: str, body: Any = None) -> Any:
    return client.post(address, body or {}, content_type="application/json")


async def act(socket: Any, frame_id: str, **fields: Any) -> dict[str, Any]:
    """Send an ``office_hours.*`` frame; its answer (``ack`` or ``error``)."""
    await socket.send_frame(id=frame_id, **fields)
    answer: dict[str, Any] = await socket.receive_until(lambda f: f.get("id") == frame_id)
    return answer


def queue_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"].startswith("office_hours.")]


def leaks(frames: list[dict[str, Any]], *secrets: str) -> list[str]:
    text = json.dumps(frames)
    return [secret for secret in secrets if secret in text]


async def test_a_queue_live_over_the_websocket_with_privacy(
    room: ChatRoom, teacher: Any, alice: Any, bob: Any
) -> None:
    tess = await open_room(teacher, room.slug)
    a = await open_room(alice, room.slug)
    b = await open_room(bob, room.slug)
    try:
        assert (await act(tess, "o", type="office_hours.open"))["type"] == "ack"
        for socket in (tess, a, b):
            state = await socket.receive_until(lambda f: f["type"] == "office_hours.state")
            assert state["session"]["state"] == "open"
            assert state["session"]["waiting"] == 0

        assert (await act(a, "r1", type="office_hours.raise", topic=ALICE_TOPIC))["type"] == "ack"
        place = await a.receive_until(lambda f: f["type"] == "office_hours.place")
        assert (place["place"]["position"], place["place"]["status"]) == (1, "waiting")
        assert (await act(b, "r2", type="office_hours.raise", topic=BOB_TOPIC))["type"] == "ack"
        place = await b.receive_until(lambda f: f["type"] == "office_hours.place")
        assert (place["place"]["position"], place["place"]["topic"]) == (2, BOB_TOPIC)
        state = await a.receive_until(
            lambda f: f["type"] == "office_hours.state" and f["session"]["waiting"] == 2
        )
        assert state["session"]["estimated_wait"] is None  # nobody served yet

        # The teacher sees the whole queue: names and topics, in order.
        listing = await tess.receive_until(
            lambda f: f["type"] == "office_hours.queue" and len(f["entries"]) == 2
        )
        assert [(e["user"]["id"], e["topic"]) for e in listing["entries"]] == [
            (alice.pk, ALICE_TOPIC),
            (bob.pk, BOB_TOPIC),
        ]

        # Claim next: Alice, who is told where to go; Bob moves up.
        assert (await act(tess, "c", type="office_hours.claim"))["type"] == "ack"
        claimed = await a.receive_until(
            lambda f: f["type"] == "office_hours.place" and f["place"]["status"] == "being_helped"
        )
        conversation = claimed["place"]["conversation"]
        assert conversation
        assert claimed["place"]["claimed_by"]["id"] == teacher.pk
        # The conversation was added to her rooms just before (one commit, in order).
        added = [f["room"]["slug"] for f in a.frames if f["type"] == "room.added"]
        assert added == [conversation]
        moved = await b.receive_until(
            lambda f: f["type"] == "office_hours.place" and f["place"]["position"] == 1
        )
        assert moved["place"]["status"] == "waiting"

        assert (
            await act(
                tess, "d", type="office_hours.finish", entry=claimed["place"]["id"], outcome="done"
            )
        )["type"] == "ack"
        done = await a.receive_until(
            lambda f: f["type"] == "office_hours.place" and f["place"]["status"] == "done"
        )
        assert done["place"]["position"] is None

        # Bob leaves; closing leaves nobody behind.
        assert (await act(b, "l", type="office_hours.leave"))["type"] == "ack"
        left = await b.receive_until(
            lambda f: f["type"] == "office_hours.place" and f["place"]["status"] == "left"
        )
        assert left["place"]["position"] is None
        assert (await act(tess, "x", type="office_hours.close"))["type"] == "ack"
        closed = await b.receive_until(
            lambda f: f["type"] == "office_hours.state" and f["session"]["state"] == "closed"
        )
        assert closed["session"]["waiting"] == 0

        # Privacy: neither student got the other's name or topic in any frame.
        # (Presence in the room names its members anyway: the queue's frames must not.)
        assert leaks(queue_frames(a.frames), BOB_TOPIC, "Bob") == []
        assert leaks(queue_frames(b.frames), ALICE_TOPIC, "Alice") == []
        assert leaks(a.frames, BOB_TOPIC) == leaks(b.frames, ALICE_TOPIC) == []
        assert not any(f["type"] == "office_hours.queue" for f in a.frames + b.frames)
    finally:
        for socket in (tess, a, b):
            await socket.disconnect()


async def test_a_student_cannot_open_claim_or_finish_on_the_websocket(
    room: ChatRoom, teacher: Any, alice: Any, bob: Any
) -> None:
    await db(services.check_open_office_hours)(teacher, room)
    await db(services.check_raise_hand)(bob, room, BOB_TOPIC)
    entry = await db(OfficeHoursEntry.objects.get)(student=bob)
    a = await open_room(alice, room.slug)
    try:
        for frame_id, fields in (
            ("o", {"type": "office_hours.open"}),
            ("c", {"type": "office_hours.claim"}),
            ("c2", {"type": "office_hours.claim", "entry": entry.pk}),
            ("f", {"type": "office_hours.finish", "entry": entry.pk, "outcome": "no_show"}),
            ("x", {"type": "office_hours.close"}),
        ):
            answer = await act(a, frame_id, **fields)
            assert (answer["type"], answer["code"]) == ("error", "forbidden"), fields
        answer = await act(a, "t", type="office_hours.raise", topic="x" * 201)
        assert (answer["code"], list(answer["fields"])) == ("invalid", ["topic"])
        answer = await act(a, "n", type="office_hours.leave")
        assert answer["code"] == "not_found"
    finally:
        await a.disconnect()
    await db(entry.refresh_from_db)()
    assert entry.status == OfficeHoursStatus.WAITING


def test_rest_flow_privacy_and_statistics(
    room: ChatRoom, teacher: Any, ta: Any, alice: Any, bob: Any
) -> None:
    tess, theo, a, b = (logged_in(u) for u in (teacher, ta, alice, bob))
    assert a.get(url(room)).json() == {
        "room": room.slug,
        "session": None,
        "mine": None,
        "queue": None,
        "stats": None,
    }
    opened = post(tess, url(room))
    assert opened.status_code == 201, opened.content
    assert opened.json()["session"]["state"] == "open"
    assert opened.json()["queue"] == []

    assert post(a, url(room, "office-hours-queue"), {"topic": ALICE_TOPIC}).status_code == 201
    answer = post(b, url(room, "office-hours-queue"), {"topic": BOB_TOPIC})
    assert answer.status_code == 201
    mine = answer.json()
    assert (mine["mine"]["position"], mine["session"]["waiting"]) == (2, 2)
    assert (mine["queue"], mine["stats"]) == (None, None)
    assert leaks([mine], ALICE_TOPIC, "Alice") == []
    twice = post(b, url(room, "office-hours-queue"), {"topic": "again"})
    assert (twice.status_code, twice.json()["error"]["code"]) == (400, "invalid")

    staff_view = theo.get(url(room)).json()
    assert [e["topic"] for e in staff_view["queue"]] == [ALICE_TOPIC, BOB_TOPIC]

    # Two teachers claim "next": each gets a different student, in order.
    first = post(tess, url(room, "office-hours-claim")).json()["queue"]
    assert [(e["user"]["id"], e["status"]) for e in first] == [
        (alice.pk, "being_helped"),
        (bob.pk, "waiting"),
    ]
    second = post(theo, url(room, "office-hours-claim"))
    assert second.status_code == 200
    entries = {e["user"]["id"]: e for e in second.json()["queue"]}
    assert entries[bob.pk]["claimed_by"]["id"] == ta.pk
    assert entries[alice.pk]["claimed_by"]["id"] == teacher.pk
    nobody = post(theo, url(room, "office-hours-claim"))
    assert (nobody.status_code, nobody.json()["error"]["code"]) == (404, "not_found")
    # Claiming a student someone else has: refused.
    again = post(theo, url(room, "office-hours-claim"), {"entry": entries[alice.pk]["id"]})
    assert again.status_code == 400

    # Alice's view: her place, her teacher, her conversation; nobody else.
    alice_view = a.get(url(room)).json()
    assert alice_view["mine"]["status"] == "being_helped"
    assert alice_view["mine"]["claimed_by"]["id"] == teacher.pk
    assert alice_view["mine"]["conversation"]
    assert leaks([alice_view], BOB_TOPIC, "Bob") == []

    # Alice was helped for ten minutes, after waiting five.
    now = timezone.now()
    OfficeHoursEntry.objects.filter(student=alice).update(
        joined_at=now - timedelta(minutes=15), claimed_at=now - timedelta(minutes=10)
    )
    finish = url(room, "office-hours-finish", entry_id=entries[alice.pk]["id"])
    assert post(tess, finish, {"outcome": "done"}).status_code == 200
    no_show = url(room, "office-hours-finish", entry_id=entries[bob.pk]["id"])
    assert post(theo, no_show, {"outcome": "no_show"}).status_code == 200
    assert post(theo, no_show, {"outcome": "done"}).status_code == 400
    bad = post(theo, no_show, {"outcome": "maybe"})
    assert list(bad.json()["error"]["fields"]) == ["outcome"]

    closed = tess.delete(url(room))
    assert closed.status_code == 200
    stats = closed.json()["stats"]
    assert (stats["served"], stats["no_shows"], stats["left"]) == (1, 1, 0)
    assert 590 <= stats["average_service"] <= 610
    assert stats["average_wait"] is not None
    assert a.get(url(room)).json()["stats"] is None


def test_estimated_wait_follows_recent_service_times(
    room: ChatRoom,
    teacher: Any,
    alice: Any,
    bob: Any,
    make_user: Callable[..., Any],
    course: Course,
) -> None:
    carol = make_user("carol", first_name="Carol")
    Enrolment.objects.create(user=carol, course=course, role="student")
    services.check_open_office_hours(teacher, room)
    for student in (alice, bob, carol):
        services.check_raise_hand(student, room, "")
    helped = services.check_claim(teacher, room)
    OfficeHoursEntry.objects.filter(pk=helped.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=300)
    )
    services.check_finish(teacher, room, helped.pk, "done")
    view = logged_in(carol).get(url(room)).json()
    # Bob is next, Carol second: 2 x 300 s with nobody being helped now (one helper).
    assert view["mine"]["position"] == 2
    assert 590 <= view["mine"]["estimated_wait"] <= 610
    services.check_claim(teacher, room)  # Bob: one helper busy, Carol next
    view = logged_in(carol).get(url(room)).json()
    assert view["mine"]["position"] == 1
    assert 290 <= view["mine"]["estimated_wait"] <= 310


def test_who_may_on_the_rest_api(
    room: ChatRoom, teacher: Any, alice: Any, bob: Any, outsider: Any
) -> None:
    tess, a, olga = (logged_in(u) for u in (teacher, alice, outsider))
    refused = post(a, url(room))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    # Not open yet: a hand is refused with its own code.
    early = post(a, url(room, "office-hours-queue"), {"topic": "x"})
    assert (early.status_code, early.json()["error"]["code"]) == (400, "office_hours_closed")
    assert post(tess, url(room)).status_code == 201
    assert post(tess, url(room)).status_code == 400  # already open
    assert post(a, url(room, "office-hours-queue"), {"topic": ALICE_TOPIC}).status_code == 201
    entry = OfficeHoursEntry.objects.get(student=alice)
    for address, body in (
        (url(room, "office-hours-claim"), {}),
        (url(room, "office-hours-claim"), {"entry": entry.pk}),
        (url(room, "office-hours-finish", entry_id=entry.pk), {"outcome": "no_show"}),
    ):
        answer = post(logged_in(bob), address, body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (403, "forbidden")
    assert logged_in(bob).delete(url(room)).status_code == 403
    # Someone outside the course: the room does not exist for them.
    assert olga.get(url(room)).status_code == 404
    assert post(olga, url(room, "office-hours-queue"), {"topic": "x"}).status_code == 404
    assert post(olga, url(room, "office-hours-claim")).status_code == 404
    assert logged_in(bob).delete(url(room, "office-hours-queue")).status_code == 404
    assert a.delete(url(room, "office-hours-queue")).status_code == 204
    entry.refresh_from_db()
    assert entry.status == OfficeHoursStatus.LEFT


def test_scheduled_office_hours_take_no_hands_before_they_start(
    room: ChatRoom, teacher: Any, alice: Any
) -> None:
    tess, a = logged_in(teacher), logged_in(alice)
    start = timezone.now() + timedelta(hours=2)
    body = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    scheduled = post(tess, url(room), body)
    assert scheduled.status_code == 201
    assert scheduled.json()["session"]["state"] == "scheduled"
    early = post(a, url(room, "office-hours-queue"), {"topic": "x"})
    assert early.json()["error"]["code"] == "office_hours_closed"
    backwards = post(tess, url(room), {"starts_at": start.isoformat(), "ends_at": "nonsense"})
    assert list(backwards.json()["error"]["fields"]) == ["ends_at"]
    # Past its end, a session counts as closed; opening again closes it for good.
    OfficeHoursSession.objects.filter(room=room).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    assert a.get(url(room)).json()["session"]["state"] == "closed"
    assert post(tess, url(room)).status_code == 201
    assert OfficeHoursSession.objects.filter(room=room, closed_at__isnull=True).count() == 1


def test_claiming_a_student_already_claimed_is_refused(
    room: ChatRoom, teacher: Any, ta: Any, alice: Any
) -> None:
    """The conditional update (SQLite or PostgreSQL): the second claim of one entry loses,
    and "next" passes over a student someone claimed."""
    services.check_open_office_hours(teacher, room)
    entry = services.check_raise_hand(alice, room, "")
    session = entry.session
    assert services.do_claim_entry(teacher, room, session, entry.pk).claimed_by_id == teacher.pk
    with pytest.raises(ValidationFailed, match="no longer waiting"):
        services.do_claim_entry(ta, room, session, entry.pk)
    with pytest.raises(NotFound, match="Nobody is waiting"):
        services.do_claim_next(ta, room, session)
    entry.refresh_from_db()
    assert entry.claimed_by_id == teacher.pk


def test_office_hours_are_not_held_in_a_private_conversation(alice: Any, bob: Any) -> None:
    room, _created = services.check_open_private(alice, bob.pk)
    assert room.room_type == RoomType.PRIVATE
    answer = post(logged_in(alice), url(room))
    assert answer.status_code == 403


def test_raising_and_lowering_a_hand_is_rate_limited(
    room: ChatRoom, teacher: Any, alice: Any, settings: Any
) -> None:
    """Each hand raised or lowered is told to the whole queue: the membership bucket."""
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "MEMBERSHIP_RATE_BURST": 3,
        "MEMBERSHIP_RATE_PER_SECOND": 0.001,
    }
    services.check_open_office_hours(teacher, room)
    a = logged_in(alice)
    assert post(a, url(room, "office-hours-queue"), {"topic": "x"}).status_code == 201
    assert a.delete(url(room, "office-hours-queue")).status_code == 204
    assert post(a, url(room, "office-hours-queue"), {"topic": "x"}).status_code == 201
    refused = a.delete(url(room, "office-hours-queue"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "rate_limited")
