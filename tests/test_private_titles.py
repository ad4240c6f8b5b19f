"""Rough edge 9: a private room is titled, for each viewer, with the other person's display
name (pages, page title, API, live frames); people search pages past its first results."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from smartcampus_chat import queries, services
from smartcampus_chat.domain.names import display_name
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.testing import open_room, open_user

db = database_sync_to_async
SKIP = frozenset({"presence"})


@pytest.fixture
def chloe(make_user: Callable[..., Any]) -> Any:
    return make_user("chloe", first_name="Chloé", last_name="Dubois")


@pytest.fixture
def dm(alice: Any, chloe: Any) -> ChatRoom:
    room, _created = services.do_open_private(alice, chloe)
    return room


def _page(client: Client, user: Any, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return str(response.content.decode())


@pytest.mark.django_db
def test_display_name_is_the_full_name_else_the_username(
    chloe: Any, make_user: Callable[..., Any]
) -> None:
    assert display_name(chloe) == "Chloé Dubois"
    assert display_name(make_user("nameless")) == "nameless"


@pytest.mark.django_db
def test_each_viewer_sees_the_other_persons_name_in_the_room_list(
    client: Client, alice: Any, chloe: Any, dm: ChatRoom
) -> None:
    assert dm.name == "Alice & Chloé Dubois"  # stored for the pair, as before
    alices = _page(client, alice, reverse("smartcampus_chat:room_list"))
    card = alices.split(f'data-room="{dm.slug}"')[1].split("</li>")[0]
    assert '<span class="scc-room-label">Chloé Dubois</span>' in card
    assert 'data-name="Chloé Dubois"' in alices
    assert "Alice &amp; Chloé Dubois" not in alices
    chloes = _page(client, chloe, reverse("smartcampus_chat:room_list"))
    assert (
        '<span class="scc-room-label">Alice</span>'
        in chloes.split(f'data-room="{dm.slug}"')[1].split("</li>")[0]
    )


@pytest.mark.django_db
def test_the_room_page_header_and_title_name_the_other_person(
    client: Client, alice: Any, chloe: Any, dm: ChatRoom
) -> None:
    html = _page(client, alice, dm.get_absolute_url())
    assert re.search(r"<title>\s*Chloé Dubois · ", html)
    assert re.search(r'class="[^"]*scc-room-name" title="Chloé Dubois">Chloé Dubois</h1>', html)
    html = _page(client, chloe, dm.get_absolute_url())
    assert re.search(r"<title>\s*Alice · ", html)


@pytest.mark.django_db
def test_the_api_sends_a_per_viewer_title_and_keeps_the_name(
    client: Client, alice: Any, chloe: Any, dm: ChatRoom, public_room: ChatRoom
) -> None:
    client.force_login(alice)
    listed = client.get(reverse("smartcampus_chat:api-room-list")).json()["results"]
    by_slug = {room["slug"]: room for room in listed}
    assert by_slug[dm.slug]["title"] == "Chloé Dubois"
    assert by_slug[dm.slug]["name"] == "Alice & Chloé Dubois"
    assert by_slug[public_room.slug]["title"] == public_room.name
    detail = client.get(reverse("smartcampus_chat:api-room-detail", args=[dm.slug])).json()
    assert detail["title"] == "Chloé Dubois"
    client.force_login(chloe)
    detail = client.get(reverse("smartcampus_chat:api-room-detail", args=[dm.slug])).json()
    assert detail["title"] == "Alice"
    opened = client.post(
        reverse("smartcampus_chat:api-private"), {"user": alice.pk}, content_type="application/json"
    )
    assert opened.json()["title"] == "Alice"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("channel_layer")
async def test_live_frames_carry_each_recipients_title(alice: Any, chloe: Any) -> None:
    alices = await open_user(alice)
    chloes = await open_user(chloe)
    room, _created = await db(services.do_open_private)(chloe, alice)
    added = await alices.receive_frame("room.added", skip=SKIP)
    assert (added["room"]["title"], added["room"]["name"]) == (
        "Chloé Dubois",
        "Alice & Chloé Dubois",
    )
    added = await chloes.receive_frame("room.added", skip=SKIP)
    assert added["room"]["title"] == "Alice"
    in_room = await open_room(alice, room.slug)
    await db(services.do_update_room)(room, description="Project")
    updated = await alices.receive_frame("room.updated", skip=SKIP)
    assert updated["room"]["title"] == "Chloé Dubois"
    assert updated["room"]["description"] == "Project"
    updated = await chloes.receive_frame("room.updated", skip=SKIP)
    assert updated["room"]["title"] == "Alice"
    updated = await in_room.receive_frame("room.updated", skip=SKIP)
    assert updated["room"]["title"] == "Chloé Dubois"
    for socket in (alices, chloes, in_room):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("channel_layer")
async def test_a_public_rooms_frames_carry_its_name_as_title(
    alice: Any, public_room: ChatRoom
) -> None:
    socket = await open_user(alice)
    await db(services.do_update_room)(public_room, name="Lobby")
    updated = await socket.receive_frame("room.updated", skip=SKIP)
    assert (updated["room"]["name"], updated["room"]["title"]) == ("Lobby", "Lobby")
    await socket.disconnect()


# --- People search pages -------------------------------------------------------------------


@pytest.fixture
def students(make_user: Callable[..., Any], settings: Any) -> list[Any]:
    # Found by anyone, shown with their handles (the directory's settings, issue #17).
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "DIRECTORY_SCOPE": "everyone",
        "EXPOSE_USERNAME": True,
    }
    return [make_user(f"student{n:02d}") for n in range(45)]


def _people(html: str) -> list[str]:
    return re.findall(r"@(student\d+)</small>", html)


@pytest.mark.django_db
def test_people_search_pages_keep_the_query(
    client: Client, alice: Any, students: list[Any]
) -> None:
    url = reverse("smartcampus_chat:people")
    first = _page(client, alice, f"{url}?q=student")
    assert _people(first) == [f"student{n:02d}" for n in range(20)]
    more = re.search(r'class="[^"]*scc-people-next[^"]*" rel="next" href="([^"]*)"', first)
    assert more, "no link to more results"
    assert more.group(1) == "?q=student&amp;page=2"
    assert "scc-people-previous" not in first
    second = _page(client, alice, f"{url}?q=student&page=2")
    assert _people(second) == [f"student{n:02d}" for n in range(20, 40)]
    last = _page(client, alice, f"{url}?q=student&page=3")
    assert _people(last) == [f"student{n:02d}" for n in range(40, 45)]
    assert "scc-people-next" not in last
    assert 'rel="prev" href="?q=student&amp;page=2"' in last
    french = client.get(f"{url}?q=student", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Plus de résultats" in french


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["0", "x", "²", "-1", "99999999999999999999"])
def test_a_malformed_people_page_is_a_400(client: Client, alice: Any, page: str) -> None:
    client.force_login(alice)
    response = client.get(reverse("smartcampus_chat:people"), {"q": "a", "page": page})
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_api_user_search_pages_too(client: Client, alice: Any, students: list[Any]) -> None:
    client.force_login(alice)
    body = client.get(reverse("smartcampus_chat:api-user-list"), {"search": "student"}).json()
    assert body["count"] == 45
    assert len(body["results"]) == 45  # PAGE_SIZE (50) a page by default
    body = client.get(
        reverse("smartcampus_chat:api-user-list"), {"search": "student", "limit": 20}
    ).json()
    assert [user["username"] for user in body["results"]] == [f"student{n:02d}" for n in range(20)]
    assert "offset=20" in body["next"]
    assert "search=student" in body["next"]


@pytest.mark.django_db
def test_titles_cost_one_query_whatever_the_number_of_private_rooms(
    alice: Any, make_user: Callable[..., Any]
) -> None:
    services.do_open_private(alice, make_user("first"))
    with CaptureQueriesContext(connection) as one:
        queries.room_list_page(alice, "")
    for n in range(4):
        services.do_open_private(alice, make_user(f"other{n}"))
    with CaptureQueriesContext(connection) as five:
        page = queries.room_list_page(alice, "")
    assert len(five.captured_queries) == len(one.captured_queries)
    assert page.sidebar is not None
    rooms = [room for section in page.sidebar.sections for room in section.rooms]
    assert sorted(room.title for room in rooms) == [
        "first",
        "other0",
        "other1",
        "other2",
        "other3",
    ]
