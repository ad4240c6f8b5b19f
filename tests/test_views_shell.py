"""The shell's server side: ``?pane=1`` answers the main pane alone (the same include as
the full page), with the same access decision and a fixed number of queries; the sidebar
lists the user's rooms in sections."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.domain.names import display_name
from smartcampus_chat.models import ChatRoom, RoomType

pytestmark = pytest.mark.django_db


def _pane_config(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="scc-pane-config" type="application/json">(.*?)</script>', html)
    assert found, "no #scc-pane-config"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def test_the_pane_of_a_room_is_the_include_of_its_page(
    client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    services.do_send_message(bob, public_room, "<b>hello</b>")
    client.force_login(alice)
    url = public_room.get_absolute_url()
    full = client.get(url).content.decode()
    response = client.get(url, {"pane": "1"})
    assert response.status_code == 200
    pane = response.content.decode()
    assert not pane.lstrip().startswith("<!doctype")
    assert "<html" not in pane
    assert 'id="scc-sidebar"' not in pane
    assert 'id="scc-config"' not in pane
    assert pane.lstrip().startswith('<div class="scc-room scc-pane-body"')

    # One rendering path: the full page holds the very same pane (but its CSRF tokens).
    def tokenless(html: str) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert tokenless(pane).strip() in tokenless(full)
    assert "&lt;b&gt;hello&lt;/b&gt;" in pane
    assert "<b>hello</b>" not in pane
    config = _pane_config(pane)
    assert config["room"] == public_room.slug
    assert config["joined"] is True
    assert config["title"] == public_room.name  # the base template adds the site
    assert config["roomWsUrl"] == f"/ws/chat/{public_room.slug}/"


def test_the_pane_of_the_room_list_offers_rooms_to_join(
    client: Client, alice: Any, bob: Any
) -> None:
    other = services.do_create_room(bob, name="Chess club", room_type=RoomType.PUBLIC)
    client.force_login(alice)
    pane = client.get(reverse("smartcampus_chat:room_list"), {"pane": "1"}).content.decode()
    assert f'data-room="{other.slug}"' in pane
    assert 'id="joinable-rooms"' in pane
    assert 'data-pane="list"' in pane
    assert "data-open" not in pane
    assert _pane_config(pane)["room"] is None
    browse = client.get(reverse("smartcampus_chat:room_browse"), {"pane": "1"}).content.decode()
    assert 'data-pane="list" data-open' in browse


@pytest.mark.parametrize("pane", [False, True], ids=["page", "pane"])
def test_a_room_one_may_not_see_is_the_chats_404_either_way(
    client: Client, alice: Any, bob: Any, make_user: Callable[..., Any], pane: bool
) -> None:
    chloe = make_user("chloe")
    private, _created = services.do_open_private(bob, chloe)
    client.force_login(alice)
    response = client.get(private.get_absolute_url(), {"pane": "1"} if pane else {})
    assert response.status_code == 404
    missing = client.get(
        reverse("smartcampus_chat:room", args=["no-such-room"]), {"pane": "1"} if pane else {}
    )
    assert missing.status_code == 404
    assert missing.content == response.content  # hidden and missing look the same


def test_the_pane_costs_the_same_queries_for_few_or_many_messages_and_rooms(
    client: Client,
    alice: Any,
    make_user: Callable[..., Any],
    public_room: ChatRoom,
    django_assert_num_queries: Any,
) -> None:
    client.force_login(alice)
    url = public_room.get_absolute_url()

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, {"pane": "1"}).status_code == 200
        return len(captured)

    services.do_send_message(alice, public_room, "first")
    few = count()
    for n in range(12):
        member = make_user()
        services.do_join_room(member, public_room)
        services.do_send_message(member, public_room, f"hi {n}")
        services.do_open_private(alice, member)
        services.do_create_room(alice, name=f"Room {n}", room_type=RoomType.PUBLIC)
    with django_assert_num_queries(few):
        response = client.get(url, {"pane": "1"})
    assert response.content.decode().count('class="scc-message scc-static') == 13
    # The full page adds the sidebar: the policy's groups and enrolments, the rooms, their
    # last messages (and those messages' reactions and files), the peers of direct messages,
    # the bell's unread notifications (of the rooms the policy still shows: its groups and
    # enrolments, then the count).
    with django_assert_num_queries(few + 10):
        client.get(url)


def test_the_sidebar_lists_rooms_in_sections_with_the_peer_of_direct_messages(
    client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    private, _created = services.do_open_private(alice, bob)
    services.do_send_message(bob, private, "psst")
    client.force_login(alice)
    html = client.get(reverse("smartcampus_chat:room_list")).content.decode()
    sidebar = html.split('id="scc-sidebar"')[1].split("</nav>")[0]
    public = sidebar.split('data-section="public"')[1].split("</section>")[0]
    direct = sidebar.split('data-section="private"')[1].split("</section>")[0]
    assert f'data-room="{public_room.slug}"' in public
    assert f'data-room="{private.slug}"' in direct
    assert f'data-peer-id="{bob.pk}"' in direct
    assert "scc-presence scc-offline" in direct
    assert f"{display_name(bob)}: psst" in direct
    assert re.search(r'aria-expanded="true" aria-controls="scc-section-private"', sidebar)
    # The tab title counts nothing yet: the client adds "(1) " from the badges.
    assert "<title>Chat · SmartCampus</title>" in html
