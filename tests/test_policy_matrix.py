"""Who may do what, in one explicit table, checked through the services and the HTML pages.

Rows: a room type and the user's relation to it. Columns: the actions. Every cell is
``Y`` (allowed), ``N`` (the user sees the room but may not do this: 403 on the pages) or
``H`` (hidden: the room does not exist for this user, 404 on the pages).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.exceptions import NotFound, PermissionDenied
from smartcampus_chat.models import ChatMessage, ChatParticipant, RoomType
from tests.access import Case, World, create_rooms, write_case

pytestmark = pytest.mark.django_db

ACTIONS = ("see", "join", "post", "edit_own", "delete_own", "delete_other", "manage")

# Relations: outsider (no tie at all), member (a participant row, nothing else), group_member
# (in the room's auth group), student / teacher (enrolled in the room's course), staff,
# dm_other (the other party of the private room, whose first party is "member"), third (a
# user with no tie to the private conversation).
#                                       see join post edit del-own del-other manage
MATRIX: dict[tuple[str, str], str] = {
    ("public", "outsider"): "YYYYYNN",
    ("public", "member"): "YYYYYNN",
    ("public", "group_member"): "YYYYYNN",
    ("public", "student"): "YYYYYNN",
    ("public", "teacher"): "YYYYYNN",
    ("public", "staff"): "YYYYYYY",
    ("public", "dm_other"): "YYYYYNN",
    ("public", "third"): "YYYYYNN",
    ("group", "outsider"): "HHHHHHH",
    ("group", "member"): "HHHHHHH",
    ("group", "group_member"): "YYYYYNN",
    ("group", "student"): "HHHHHHH",
    ("group", "teacher"): "HHHHHHH",
    ("group", "staff"): "YYYYYYY",
    ("group", "dm_other"): "HHHHHHH",
    ("group", "third"): "HHHHHHH",
    ("course", "outsider"): "HHHHHHH",
    ("course", "member"): "HHHHHHH",
    ("course", "group_member"): "HHHHHHH",
    ("course", "student"): "YYYYYNN",
    ("course", "teacher"): "YYYYYYY",
    ("course", "staff"): "YYYYYYY",
    ("course", "dm_other"): "HHHHHHH",
    ("course", "third"): "HHHHHHH",
    ("private", "outsider"): "HHHHHHH",
    ("private", "member"): "YNYYYNN",
    ("private", "group_member"): "HHHHHHH",
    ("private", "student"): "HHHHHHH",
    ("private", "teacher"): "HHHHHHH",
    ("private", "staff"): "HHHHHHH",
    ("private", "dm_other"): "YNYYYNN",
    ("private", "third"): "HHHHHHH",
}
RELATIONS = sorted({relation for _, relation in MATRIX})


def test_the_matrix_covers_every_room_type_and_relation() -> None:
    assert {room_type for room_type, _ in MATRIX} == set(RoomType.values)
    assert len(MATRIX) == len(RoomType.values) * len(RELATIONS)
    assert all(len(row) == len(ACTIONS) and set(row) <= set("YNH") for row in MATRIX.values())


@pytest.fixture
def world(make_user: Callable[..., Any], group: Group, course: Course) -> World:
    names = ["owner", "outsider", "member", "group_member", "student", "teacher", "dm_other"]
    users = {name: make_user(name) for name in names}
    users["third"] = make_user("third")
    users["staff"] = make_user("staff", is_staff=True)
    users["group_member"].groups.add(group)
    Enrolment.objects.create(course=course, user=users["student"], role="student")
    Enrolment.objects.create(course=course, user=users["teacher"], role="teacher")
    rooms = {
        **create_rooms(users["owner"], group, course, course_room="CS101"),
        "private": services.do_open_private(users["member"], users["dm_other"])[0],
    }
    for room_type in ("public", "group", "course"):
        services.do_join_room(users["member"], rooms[room_type])
    return World(users=users, rooms=rooms)


def new_case(world: World, room_type: str, relation: str) -> Case:
    actor = world.users[relation]
    room = world.rooms[room_type]
    other_author = world.users["dm_other"] if room.is_private else world.users["owner"]
    if other_author == actor:
        other_author = world.users["member"]
    return write_case(actor, room, author=actor, other_author=other_author)


def _outcome(action: Callable[[], Any]) -> str:
    try:
        action()
    except NotFound:
        return "H"
    except PermissionDenied:
        return "N"
    return "Y"


def via_services(case: Case) -> str:
    user, room = case.actor, case.room

    def edit() -> None:
        message, access = services.get_message_for(user, case.own.pk)
        services.check_edit_message(user, message, "edited words", access)

    def delete(target: ChatMessage) -> Callable[[], None]:
        def run() -> None:
            message, access = services.get_message_for(user, target.pk)
            services.check_delete_message(user, message, access)

        return run

    return "".join(
        [
            _outcome(lambda: services.get_room_for(user, room.slug)),
            _outcome(lambda: services.check_join_room(user, room)),
            _outcome(lambda: services.check_send_message(user, room, "hello")),
            _outcome(edit),
            _outcome(delete(case.own)),
            _outcome(delete(case.other)),
            _outcome(lambda: services.check_update_room(user, room, description="managed")),
        ]
    )


@pytest.mark.parametrize(("room_type", "relation"), sorted(MATRIX))
def test_policy_matrix_through_the_services(world: World, room_type: str, relation: str) -> None:
    case = new_case(world, room_type, relation)
    assert via_services(case) == MATRIX[room_type, relation]


_STATUS = {200: "Y", 302: "Y", 403: "N", 404: "H"}


def _page_outcome(status: int, effect: bool) -> str:
    outcome = _STATUS[status]
    assert effect == (outcome == "Y"), f"status {status} but effect={effect}"
    return outcome


def via_pages(client: Client, case: Case) -> str:
    user, room = case.actor, case.room
    client.force_login(user)
    slug = room.slug
    joined = ChatParticipant.objects.filter(room=room, user=user)
    posted = ChatMessage.objects.filter(room=room, sender=user, content="hello")
    outcomes = []

    response = client.get(room.get_absolute_url())
    outcomes.append(_STATUS[response.status_code])

    # Sending the own message above made the user a participant: start the join afresh.
    joined.delete()
    response = client.post(reverse("smartcampus_chat:room_join", args=[slug]))
    outcomes.append(_page_outcome(response.status_code, joined.exists()))

    response = client.post(room.get_absolute_url(), {"content": "hello"})
    outcomes.append(_page_outcome(response.status_code, posted.exists()))

    url = reverse("smartcampus_chat:message_edit", args=[slug, case.own.pk])
    response = client.post(url, {"content": "edited words"})
    case.own.refresh_from_db()
    outcomes.append(_page_outcome(response.status_code, case.own.content == "edited words"))

    for message in (case.own, case.other):
        url = reverse("smartcampus_chat:message_delete", args=[slug, message.pk])
        response = client.post(url)
        message.refresh_from_db()
        outcomes.append(_page_outcome(response.status_code, message.is_deleted))

    url = reverse("smartcampus_chat:room_settings", args=[slug])
    response = client.post(url, {"name": room.name, "description": "managed"})
    room.refresh_from_db()
    outcomes.append(_page_outcome(response.status_code, room.description == "managed"))
    return "".join(outcomes)


@pytest.mark.parametrize(("room_type", "relation"), sorted(MATRIX))
def test_policy_matrix_through_the_pages(
    client: Client, world: World, room_type: str, relation: str
) -> None:
    case = new_case(world, room_type, relation)
    assert via_pages(client, case) == MATRIX[room_type, relation]
