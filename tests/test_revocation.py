"""Revocation reaches a live socket within 1 s, on the in-memory layer and on Redis.

The user of a socket is resolved at the handshake; these tests change access in the
ways a campus does (removal from the room, from the group, from the course, deactivation,
logout) while a room socket and a ``ws/chat/`` socket are open, and poll (no fixed sleep)
until the room socket is closed and the list socket told. The measured latency is printed
(``pytest -s``) and recorded in docs/reliability.md; then a message sent to the room must
not reach either socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import user_logged_out
from django.contrib.auth.models import Group

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom, RoomType
from tests.realtime import Client, Closed, open_room, open_user

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async
LIMIT = 1.0


def _setup(
    make_user: Callable[..., Any], group: Group, course: Course
) -> tuple[Any, Any, ChatRoom, ChatRoom]:
    owner = make_user("owner", is_staff=True)
    alice = make_user("alice")
    alice.groups.add(group)
    Enrolment.objects.create(user=alice, course=course, role="student")
    group_room = services.do_create_room(
        owner, name="Robots", room_type=RoomType.GROUP, group=group
    )
    course_room = services.do_create_room(
        owner, name="Course", room_type=RoomType.COURSE, course=course
    )
    for room in (group_room, course_room):
        services.do_join_room(alice, room)
    return owner, alice, group_room, course_room


def _remove_member(owner: Any, alice: Any, room: ChatRoom, **_: Any) -> None:
    services.check_remove_member(owner, room, alice.pk)


def _leave_group(alice: Any, group: Group, **_: Any) -> None:
    alice.groups.remove(group)


def _unenrol(alice: Any, course: Course, **_: Any) -> None:
    Enrolment.objects.filter(user=alice, course=course).delete()


def _deactivate(alice: Any, **_: Any) -> None:
    alice.is_active = False
    alice.save()


def _logout(alice: Any, **_: Any) -> None:
    user_logged_out.send(sender=type(alice), request=None, user=alice)


CASES: dict[str, tuple[Callable[..., None], str, int]] = {
    # revocation, room ("group" / "course"), expected close code of the room socket
    "removed from the room": (_remove_member, "group", 4003),
    "removed from the group": (_leave_group, "group", 4003),
    "enrolment deleted": (_unenrol, "course", 4003),
    "deactivated": (_deactivate, "course", 4001),
    "logged out": (_logout, "group", 4001),
}


async def _closed_within(client: Client, limit: float) -> int | None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            await client.recv(max(0.01, deadline - time.monotonic()))
        except Closed:
            return client.closed_code
        except TimeoutError:
            break
    return client.closed_code


async def _told_within(client: Client, slug: str, limit: float) -> str:
    """``"removed"`` when the list socket was sent ``room.removed``, else how it ended."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            frame = await client.recv(max(0.01, deadline - time.monotonic()))
        except Closed:
            return f"closed {client.closed_code}"
        except TimeoutError:
            break
        if frame["type"] == "room.removed" and frame["room"] == slug:
            return "removed"
    return "nothing"


@pytest.mark.parametrize("case", sorted(CASES))
async def test_revocation_stops_a_live_socket_within_a_second(
    make_user: Callable[..., Any],
    group: Group,
    course: Course,
    case: str,
    channel_layer: str,
) -> None:
    revoke, room_kind, code = CASES[case]
    owner, alice, group_room, course_room = await db(_setup)(make_user, group, course)
    room = group_room if room_kind == "group" else course_room
    room_socket = await open_room(alice, room.slug)
    list_socket = await open_user(alice)
    started = time.monotonic()
    await db(revoke)(owner=owner, alice=alice, room=room, group=group, course=course)
    assert await _closed_within(room_socket, LIMIT) == code
    room_latency = time.monotonic() - started
    told = "removed" if code == 4003 else f"closed {code}"
    assert await _told_within(list_socket, room.slug, LIMIT - room_latency) == told
    latency = time.monotonic() - started
    print(f"\n[revocation] {channel_layer} {case}: {latency * 1000:.1f} ms")
    assert latency < LIMIT
    await db(services.do_send_message)(owner, room, "after revocation")
    if list_socket.closed_code is None:
        await list_socket.nothing(timeout=0.3, ignore=frozenset({"presence", "participant.left"}))
    await room_socket.close()
    await list_socket.close()
