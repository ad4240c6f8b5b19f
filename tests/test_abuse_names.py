"""Slugs and room names are no existence oracle and no look-alike trap (issue #14).

- Item 13: the slug a user gets for a name does not depend on rooms they cannot see, and
  private conversations get opaque slugs (no usernames).
- Look-alike names: names are normalised (NFKC, format characters and bidi controls out,
  white space collapsed), invisible-only names are refused, and so is a name confusable
  with another room the user can see in the same scope, through REST, HTML and the admin.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import translation

from courses.models import Course
from smartcampus_chat import services
from smartcampus_chat.domain import names
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.models import ChatRoom, RoomType

pytestmark = pytest.mark.django_db


def api(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client: Client, path: str, data: Any, method: str = "post") -> Any:
    return getattr(client, method)(path, json.dumps(data), content_type="application/json")


ROOMS = reverse("smartcampus_chat:api-room-list")


@pytest.fixture
def fixed_random(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Random slug parts from a fixed sequence; call the result to start it over."""
    state: dict[str, Iterator[int]] = {}

    def restart() -> None:
        state["n"] = itertools.count()

    def fake(length: int, allowed: str = "") -> str:
        return f"{next(state['n']):0{length}d}"

    restart()
    monkeypatch.setattr("smartcampus_chat.services.rooms.get_random_string", fake)
    return restart


def hidden_room(kind: str, make_user: Callable[..., Any]) -> ChatRoom:
    """A room alice cannot see, holding the slug a name-derived scheme would give."""
    bob, carol = make_user("bob"), make_user("carol")
    if kind == "private":
        room, _ = services.do_open_private(bob, carol)
        return room
    if kind == "group":
        group = Group.objects.create(name="Secret")
        room = services.do_create_room(
            bob, name="dm bob carol", room_type=RoomType.GROUP, group=group
        )
    else:
        course = Course.objects.create(code="SEC1", title="Secret course")
        room = services.do_create_room(
            bob, name="dm bob carol", room_type=RoomType.COURSE, course=course
        )
    # The plain slug, as the old scheme gave the first room of a name.
    ChatRoom.objects.filter(pk=room.pk).update(slug="dm-bob-carol")
    return room


@pytest.mark.parametrize("kind", ["private", "group", "course"])
def test_the_slug_a_user_gets_does_not_depend_on_hidden_rooms(
    kind: str, alice: Any, make_user: Callable[..., Any], fixed_random: Callable[[], None]
) -> None:
    client = api(alice)
    # Without the hidden room.
    alone = post_json(client, ROOMS, {"name": "dm bob carol"})
    assert alone.status_code == 201, alone.content
    ChatRoom.objects.filter(slug=alone.json()["slug"]).delete()
    # With it: the same slug, and the same answer (no look-alike refusal either).
    hidden = hidden_room(kind, make_user)
    assert not get_policy().visible_rooms(alice, ChatRoom.objects.filter(pk=hidden.pk)).exists()
    fixed_random()
    beside = post_json(client, ROOMS, {"name": "dm bob carol"})
    assert beside.status_code == 201, beside.content
    assert beside.json()["slug"] == alone.json()["slug"]
    # Named rooms never take the private conversations' namespace.
    assert beside.json()["slug"].startswith("room-dm-bob-carol-")


def test_private_conversation_slugs_name_nobody(alice: Any, bob: Any) -> None:
    response = post_json(api(alice), reverse("smartcampus_chat:api-private"), {"user": bob.pk})
    assert response.status_code == 201, response.content
    slug = response.json()["slug"]
    assert slug.startswith("dm-")
    assert "alice" not in slug
    assert "bob" not in slug
    room = ChatRoom.objects.get(slug=slug)
    # Opened again from either side: the same room.
    again = post_json(api(bob), reverse("smartcampus_chat:api-private"), {"user": alice.pk})
    assert (again.status_code, again.json()["slug"]) == (200, room.slug)


def test_named_slugs_always_carry_a_random_suffix(alice: Any) -> None:
    first = post_json(api(alice), ROOMS, {"name": "Chess club"}).json()["slug"]
    assert first.startswith("chess-club-")
    assert len(first) == len("chess-club-") + 6


# --- Names ----------------------------------------------------------------------------


def test_names_are_normalised() -> None:
    assert names.normalise_name("  Chess\u200b \t\n club\u202e ") == "Chess club"
    assert names.normalise_name("\uff27\uff45\uff4e\uff45\uff52\uff41\uff4c") == "General"
    assert names.normalise_name("\u2066Lab\u2069\u00ad") == "Lab"
    # Cyrillic small letters ie and a:
    assert names.skeleton("G\u0435n\u0435r\u0430l") == names.skeleton("general")
    assert names.skeleton("Café") == names.skeleton("CAFE")
    assert names.skeleton("Chess") != names.skeleton("Chest")


FULLWIDTH_GENERAL = "\uff27\uff45\uff4e\uff45\uff52\uff41\uff4c"
LOOK_ALIKES = [
    "General",
    "general",
    "Gen\u200beral",  # zero-width space
    "\u202eGeneral",  # right-to-left override
    "General\u2066\u2069",  # bidi isolates
    "\uff27\uff45\uff4e\uff45\uff52\uff41\uff4c",  # fullwidth
    "G\u0435n\u0435r\u0430l",  # Cyrillic small letters ie and a
    " General  ",
]
INVISIBLE = ["\u200b", "\u200b\u200c\u200d", "\u202e", "\u3164", " \u2800 "]


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_rest_create_refuses_a_look_alike_of_a_visible_room(
    name: str, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    response = post_json(api(bob), ROOMS, {"name": name})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "look-alike" in error["fields"]["name"][0]
    assert ChatRoom.objects.count() == 1


@pytest.mark.parametrize("name", INVISIBLE)
def test_rest_create_refuses_an_invisible_name(name: str, alice: Any) -> None:
    response = post_json(api(alice), ROOMS, {"name": name})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["name"] == [
        "The name must contain visible characters."
    ]
    assert not ChatRoom.objects.exists()


def test_rest_create_stores_the_normal_form(alice: Any) -> None:
    response = post_json(api(alice), ROOMS, {"name": "\u202eChess\u200b   club\u2069"})
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Chess club"
    assert ChatRoom.objects.get().name == "Chess club"


def test_only_visible_rooms_of_the_same_scope_count(
    alice: Any, staff: Any, make_user: Callable[..., Any]
) -> None:
    group = Group.objects.create(name="Robotics")
    services.do_create_room(staff, name="Lab", room_type=RoomType.GROUP, group=group)
    # A public "Lab": another scope, and alice cannot see the group room anyway.
    assert post_json(api(alice), ROOMS, {"name": "Lab"}).status_code == 201
    # A member of the group creating a group room "Lab" there: refused (she sees it).
    member = make_user("member")
    member.groups.add(group)
    member.is_staff = True  # Staff create group rooms (the policy's rule).
    member.save()
    response = post_json(
        api(member), ROOMS, {"name": "\uff2c\uff21\uff22", "room_type": "group", "group": group.pk}
    )
    assert response.status_code == 400, response.content
    # Another group's scope: accepted.
    other = Group.objects.create(name="Chess")
    member.groups.add(other)
    response = post_json(
        api(member), ROOMS, {"name": "Lab", "room_type": "group", "group": other.pk}
    )
    assert response.status_code == 201, response.content


def test_a_room_hidden_by_a_ban_does_not_block_its_name(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    services.check_remove_member(alice, public_room, bob.pk)
    assert post_json(api(bob), ROOMS, {"name": "General"}).status_code == 201


def test_rest_rename_refuses_a_look_alike(alice: Any, public_room: ChatRoom) -> None:
    chess = services.do_create_room(alice, name="Chess", room_type=RoomType.PUBLIC)
    path = reverse("smartcampus_chat:api-room-detail", kwargs={"slug": chess.slug})
    response = post_json(api(alice), path, {"name": "Gen\u200beral"}, method="patch")
    assert response.status_code == 400, response.content
    assert "look-alike" in response.json()["error"]["fields"]["name"][0]
    # Its own name, restyled, is fine.
    response = post_json(api(alice), path, {"name": "CHESS"}, method="patch")
    assert (response.status_code, response.json()["name"]) == (200, "CHESS")


@pytest.mark.parametrize(("language", "text"), [("en", "look-alike"), ("fr", "ressemble")])
def test_html_create_form_shows_the_error(
    language: str, text: str, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    client = api(bob)
    with translation.override(language):
        response = client.post(
            reverse("smartcampus_chat:room_create"),
            {"name": FULLWIDTH_GENERAL, "room_type": "public", "description": ""},
            HTTP_ACCEPT_LANGUAGE=language,
        )
    assert response.status_code == 400
    assert text in response.content.decode()
    assert ChatRoom.objects.count() == 1


def test_html_settings_rename_refuses_an_invisible_name(alice: Any, public_room: ChatRoom) -> None:
    response = api(alice).post(
        reverse("smartcampus_chat:room_settings", kwargs={"slug": public_room.slug}),
        {"name": "\u200b\u200d", "description": ""},
    )
    assert response.status_code == 400
    assert "visible characters" in response.content.decode()
    public_room.refresh_from_db()
    assert public_room.name == "General"


def test_admin_create_and_rename_use_the_same_rule(
    admin_client: Client, public_room: ChatRoom
) -> None:
    add = reverse("admin:smartcampus_chat_chatroom_add")
    data = {
        "name": "Gen\u200beral",
        "slug": "general-2",
        "room_type": "public",
        "description": "",
        "course_key": "",
        "participants-TOTAL_FORMS": "0",
        "participants-INITIAL_FORMS": "0",
    }
    response = admin_client.post(add, data)
    assert response.status_code == 200  # The form again, with the error.
    assert "look-alike" in response.content.decode()
    data["name"] = "\u202eChess\u200b club"
    assert admin_client.post(add, data).status_code == 302
    assert ChatRoom.objects.get(slug="general-2").name == "Chess club"


@pytest.fixture
def legacy_twin(alice: Any, public_room: ChatRoom) -> ChatRoom:
    """A room named like ``public_room``, as rooms created before the look-alike rule
    (an upgrade keeps them): the rule must not block every later change to them."""
    twin = services.do_create_room(alice, name="Chess", room_type=RoomType.PUBLIC)
    ChatRoom.objects.filter(pk=twin.pk).update(name="General")
    twin.refresh_from_db()
    return twin


def test_rest_changes_to_a_legacy_look_alike_that_keep_its_name_are_saved(
    alice: Any, legacy_twin: ChatRoom
) -> None:
    path = reverse("smartcampus_chat:api-room-detail", kwargs={"slug": legacy_twin.slug})
    response = post_json(
        api(alice),
        path,
        {"name": "General", "description": "Old one", "is_archived": True},
        method="patch",
    )
    assert response.status_code == 200, response.content
    legacy_twin.refresh_from_db()
    assert (legacy_twin.description, legacy_twin.is_archived) == ("Old one", True)
    # A new look-alike is still refused.
    response = post_json(api(alice), path, {"name": FULLWIDTH_GENERAL + "!"}, method="patch")
    assert response.status_code == 200  # "General!" looks like no other room.
    response = post_json(api(alice), path, {"name": FULLWIDTH_GENERAL}, method="patch")
    assert response.status_code == 400


def test_admin_archives_a_legacy_look_alike(admin_client: Client, legacy_twin: ChatRoom) -> None:
    change = reverse("admin:smartcampus_chat_chatroom_change", args=[legacy_twin.pk])
    data = {
        "name": "General",
        "slug": legacy_twin.slug,
        "room_type": "public",
        "description": "",
        "is_archived": "on",
        "course_key": "",
        "created_by": str(legacy_twin.created_by_id),
        "participants-TOTAL_FORMS": "0",
        "participants-INITIAL_FORMS": "0",
    }
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    legacy_twin.refresh_from_db()
    assert legacy_twin.is_archived
