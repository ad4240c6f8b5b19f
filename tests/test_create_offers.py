"""Rough edge 6: the create form offers only what the policy lets the user create; the API
refuses the same types; "create" is not offered to someone who may create nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from courses.models import Course
from smartcampus_chat.domain.policies import ChatPolicy
from smartcampus_chat.models import ChatRoom, RoomType

pytestmark = pytest.mark.django_db

CREATE = reverse("smartcampus_chat:room_create")
API_ROOMS = reverse("smartcampus_chat:api-room-list")


class NoRoomsPolicy(ChatPolicy):
    """A host's policy under which only staff create rooms."""

    def can_create_room(
        self, user: Any, room_type: str, *, group: Any = None, course: Any = None
    ) -> bool:
        return bool(user.is_staff) and super().can_create_room(
            user, room_type, group=group, course=course
        )


@pytest.fixture
def no_rooms_policy(settings: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "POLICY": "tests.test_create_offers.NoRoomsPolicy",
    }


def _type_options(html: str) -> list[str]:
    select = re.search(r'<select name="room_type".*?</select>', html, re.S)
    assert select, "no room type select"
    return re.findall(r'<option value="(\w+)"', select.group(0))


def _field_errors(html: str) -> list[str]:
    return re.findall(r'class="invalid-feedback d-block scc-field-error">([^<]*)<', html)


def test_a_student_is_offered_public_rooms_only(
    client: Client, alice: Any, group: Group, course: Course, enrol: Callable[..., Any]
) -> None:
    alice.groups.add(group)  # a member of a group, a student of a course
    enrol(alice, course, "student")
    client.force_login(alice)
    html = client.get(CREATE).content.decode()
    assert _type_options(html) == ["public"]
    assert 'name="group"' not in html
    assert 'name="course"' not in html


def test_a_teacher_is_offered_the_courses_they_teach_only(
    client: Client, make_user: Callable[..., Any], enrol: Callable[..., Any]
) -> None:
    teacher = make_user("teacher")
    taught = Course.objects.create(code="CS1", title="Taught")
    attended = Course.objects.create(code="CS2", title="Attended")
    enrol(teacher, taught, "teacher")
    enrol(teacher, attended, "student")
    client.force_login(teacher)
    html = client.get(CREATE).content.decode()
    assert _type_options(html) == ["public", "course"]
    assert f'<option value="{taught.pk}">' in html
    assert f'<option value="{attended.pk}">' not in html
    assert 'name="group"' not in html


def test_staff_are_offered_group_only_when_there_is_a_group(
    client: Client, staff: Any, course: Course
) -> None:
    client.force_login(staff)
    assert _type_options(client.get(CREATE).content.decode()) == ["public", "course"]
    Group.objects.create(name="Robotics")
    assert _type_options(client.get(CREATE).content.decode()) == ["public", "group", "course"]


@pytest.mark.parametrize("room_type", ["group", "course"])
def test_a_forged_post_of_a_refused_type_is_a_form_error(
    client: Client, alice: Any, group: Group, course: Course, room_type: str
) -> None:
    alice.groups.add(group)
    client.force_login(alice)
    data = {"name": "Forged", "room_type": room_type, "group": group.pk, "course": course.pk}
    response = client.post(CREATE, data)
    assert response.status_code == 400
    assert _field_errors(response.content.decode()) == [
        "You may not create this kind of room here."
    ]
    assert not ChatRoom.objects.exists()


@pytest.mark.parametrize("room_type", ["group", "course"])
def test_the_api_refuses_the_same_types_with_403(
    client: Client, alice: Any, course: Course, room_type: str
) -> None:
    client.force_login(alice)
    response = client.post(
        API_ROOMS, json.dumps({"name": "Mine", "room_type": room_type}), "application/json"
    )
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert error["fields"] == {"room_type": ["You may not create this kind of room here."]}


def test_staff_still_get_what_a_type_needs(client: Client, staff: Any, group: Group) -> None:
    client.force_login(staff)
    response = client.post(
        API_ROOMS, json.dumps({"name": "Club", "room_type": RoomType.GROUP}), "application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"group": ["A group room needs a group."]}


def test_create_is_offered_to_whoever_may_create(client: Client, alice: Any) -> None:
    client.force_login(alice)
    html = client.get(reverse("smartcampus_chat:room_list")).content.decode()
    assert CREATE in html


@pytest.mark.usefixtures("no_rooms_policy")
def test_create_is_not_offered_to_whoever_may_create_nothing(
    client: Client, alice: Any, staff: Any
) -> None:
    client.force_login(alice)
    response = client.get(reverse("smartcampus_chat:room_list"))
    assert response.context["can_create_room"] is False
    assert CREATE not in response.content.decode()
    refused = client.get(CREATE)
    assert refused.status_code == 403
    assert "You may not create rooms." in refused.content.decode()
    client.force_login(staff)
    response = client.get(reverse("smartcampus_chat:room_list"))
    assert response.context["can_create_room"] is True
    assert CREATE in response.content.decode()
