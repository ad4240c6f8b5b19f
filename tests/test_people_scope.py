"""Whom the people directory finds (``DIRECTORY_SCOPE``), on the HTML people page and the
API's user list alike, and that the login identifier is neither shown nor searched unless
``EXPOSE_USERNAME`` (issue #17, finding 1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom

pytestmark = pytest.mark.django_db


def found(user: Any, search: str) -> tuple[set[str], set[str]]:
    """(names on the people page, names in the API's user list) for ``search``."""
    client = Client()
    client.force_login(user)
    page = client.get(reverse("smartcampus_chat:people"), {"q": search}).content.decode()
    names = {name for name in ("Bob", "Zoe", "Alice") if f"{name} " in page or f"{name}<" in page}
    api = client.get(reverse("smartcampus_chat:api-user-list"), {"search": search}).json()
    return names, {row["name"] for row in api["results"]}


def chat_settings(**values: Any) -> Any:
    return override_settings(SMARTCAMPUS_CHAT={**settings.SMARTCAMPUS_CHAT, **values})


@pytest.fixture
def people(alice: Any, bob: Any, make_user: Any, public_room: ChatRoom) -> dict[str, Any]:
    services.do_join_room(bob, public_room)
    zoe = make_user("zoe", first_name="Zoe")  # shares no room with alice
    staff = make_user("sam", first_name="Sam", is_staff=True)
    return {"alice": alice, "bob": bob, "zoe": zoe, "staff": staff}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [("shared", {"Bob"}), ("everyone", {"Bob", "Zoe"}), ("nobody", set())],
)
def test_scope_decides_whom_a_student_finds(
    people: dict[str, Any], scope: str, expected: set[str]
) -> None:
    with chat_settings(DIRECTORY_SCOPE=scope):
        page, api = found(people["alice"], "o")
    assert page == expected
    assert api == expected


def test_staff_find_everyone(people: dict[str, Any]) -> None:
    with chat_settings(DIRECTORY_SCOPE="nobody"):
        page, api = found(people["staff"], "o")
    assert page == api == {"Bob", "Zoe"}


def test_the_login_is_shown_only_when_exposed(people: dict[str, Any]) -> None:
    client = Client()
    client.force_login(people["alice"])
    url = reverse("smartcampus_chat:api-user-list")
    assert [row["username"] for row in client.get(url).json()["results"]] == [None, None]
    page = client.get(reverse("smartcampus_chat:people"), {"q": "Bob"}).content.decode()
    assert "@bob" not in page
    with chat_settings(EXPOSE_USERNAME=True):
        assert [row["username"] for row in client.get(url).json()["results"]] == ["alice", "bob"]
        page = client.get(reverse("smartcampus_chat:people"), {"q": "Bob"}).content.decode()
        assert "@bob" in page
