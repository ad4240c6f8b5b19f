"""Course rooms out of the box (issue #17, findings 2-4): the sync command, rooms owned by
nobody, the roster hook joining and removing people live, the resolver's role shown."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from campus.asgi import application
from courses.models import Course, Enrolment
from smartcampus_chat import services, signals
from smartcampus_chat.models import ChatParticipant, ChatRoom, RoomType

ORIGIN = (b"origin", b"http://testserver")


def sync(*args: str) -> str:
    out = StringIO()
    call_command("chat_sync_courses", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_sync_command_is_idempotent_has_a_dry_run_and_rooms_belong_to_nobody() -> None:
    Course.objects.create(code="CS101", title="Programming")
    Course.objects.create(code="MA201", title="Algebra")
    assert "2 courses: 2 rooms would be created," in sync("--dry-run")
    assert not ChatRoom.objects.exists()
    assert "2 courses: 2 rooms created," in sync()
    assert "2 courses: 0 rooms created, 0 section rooms created, 0 ends updated," in sync()
    rooms = ChatRoom.objects.filter(room_type=RoomType.COURSE)
    assert rooms.count() == 2
    assert {room.created_by for room in rooms} == {None}
    assert not ChatParticipant.objects.exists()


@pytest.mark.django_db
def test_room_json_names_its_course(staff: Any, course: Course) -> None:
    room, created = services.ensure_course_room(course)
    assert created
    assert services.ensure_course_room(course) == (room, False)
    services.join(staff, room)
    client = Client()
    client.force_login(staff)
    detail = client.get(reverse("smartcampus_chat:api-room-detail", kwargs={"slug": room.slug}))
    assert detail.json()["course"] == str(course.pk)
    listed = client.get(reverse("smartcampus_chat:api-room-list")).json()["results"]
    assert [r["course"] for r in listed] == [str(course.pk)]


def _members(user: Any, room: ChatRoom) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    url = reverse("smartcampus_chat:api-member-list", kwargs={"room_slug": room.slug})
    return {m["user"]["name"]: m["role"] for m in client.get(url).json()["results"]}


members = database_sync_to_async(_members)


async def _open(user: Any, path: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, path, headers=[ORIGIN])
    socket.scope["user"] = user
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "ping", "id": "ready"})
    while (await socket.receive_json_from(timeout=5)).get("type") != "pong":
        pass
    return socket


async def _next(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next frame of type ``kind`` (presence and the like may come between)."""
    while True:
        frame = json.loads(await socket.receive_from(timeout=5))
        if frame["type"] == kind:
            return dict(frame)


@pytest.mark.django_db(transaction=True)
async def test_enrolment_joins_and_unenrolment_removes_live_for_everyone(
    alice: Any, bob: Any, make_user: Any
) -> None:
    course = await Course.objects.acreate(code="CS101", title="Programming")
    await Enrolment.objects.acreate(user=bob, course=course, role="student")
    room = await ChatRoom.objects.aget(room_type=RoomType.COURSE, course_key=str(course.pk))
    assert await ChatParticipant.objects.filter(room=room).acount() == 1  # bob, no owner
    bob_room = await _open(bob, f"/ws/chat/{room.slug}/")
    alice_user = await _open(alice, "/ws/chat/")

    enrolment = await Enrolment.objects.acreate(user=alice, course=course, role="student")
    added = await _next(alice_user, "room.added")
    assert added["room"]["slug"] == room.slug
    joined = await _next(bob_room, "participant.joined")
    assert (joined["user"]["name"], joined["role"]) == ("Alice", "member")
    assert await members(bob, room) == {"Alice": "member", "Bob": "member"}

    # A TA, resolved as "moderator", is listed (and badged) as one.
    tim = await database_sync_to_async(make_user)("tim", first_name="Tim")
    await Enrolment.objects.acreate(user=tim, course=course, role="teacher")
    joined = await _next(bob_room, "participant.joined")
    assert (joined["user"]["name"], joined["role"]) == ("Tim", "moderator")
    assert (await members(bob, room))["Tim"] == "moderator"

    await enrolment.adelete()
    assert (await _next(alice_user, "room.removed"))["room"] == room.slug
    left = await _next(bob_room, "participant.left")
    assert left["user"]["name"] == "Alice"
    assert "Alice" not in await members(bob, room)
    for socket in (bob_room, alice_user):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_the_roster_signal_is_the_hook(alice: Any) -> None:
    course = Course.objects.create(code="CS101", title="Programming")
    Enrolment.objects.bulk_create([Enrolment(user=alice, course=course)])  # no post_save
    assert not ChatRoom.objects.exists()
    signals.roster_changed.send(sender=Course, user=alice, course=course)
    room = ChatRoom.objects.get(course_key=str(course.pk))
    assert ChatParticipant.objects.filter(room=room, user=alice).exists()
