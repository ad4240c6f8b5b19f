"""Message search through its doors: the REST API (``GET search/messages/``) and the
socket (``search`` → ``search.results``); bad input is a 400 / an error frame with a code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async


@pytest.mark.django_db
def test_the_api_searches_pages_and_links(alice: Any, public_room: ChatRoom) -> None:
    sent = [services.do_send_message(alice, public_room, f"exam {n}").message for n in range(3)]
    client = logged_in(alice)
    body = client.get(api("search-messages"), {"q": "exam", "limit": 2}).json()
    assert len(body["results"]) == 2
    first = body["results"][0]
    assert set(first) == {
        "id", "room", "seq", "kind", "sender", "created_at", "is_edited", "snippet_html", "url",
        "anonymous",
    }  # fmt: skip
    assert first["room"] == {"slug": public_room.slug, "title": "General"}
    assert first["sender"]["name"] == "Alice"
    assert first["snippet_html"].startswith("<mark>exam</mark>")
    assert first["url"] == f"/chat/room/{public_room.slug}/?message={first['id']}"
    rest = client.get(body["next"]).json()
    assert rest["next"] is None
    assert rest["next_cursor"] is None
    ids = [r["id"] for r in body["results"] + rest["results"]]
    assert sorted(ids) == sorted(m.pk for m in sent)
    newest = client.get(api("search-messages"), {"q": "exam", "order": "newest"}).json()
    assert [r["id"] for r in newest["results"]] == [m.pk for m in reversed(sent)]
    filtered = client.get(
        api("search-messages"), {"q": "exam", "room": public_room.slug, "author": "bob"}
    ).json()
    assert filtered["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 400, "bad_query"),
        ({"q": "-only"}, 400, "bad_query"),
        ({"q": "x has:video"}, 400, "bad_query"),
        ({"q": "x", "after": "soon"}, 400, "bad_query"),
        ({"q": "x", "order": "random"}, 400, "bad_query"),
        ({"q": "x", "cursor": "garbage!"}, 400, "bad_query"),
        ({"q": "x" * 201}, 400, "query_too_long"),
        ({"q": "mentions:you x"}, 400, "bad_query"),
        ({"q": "x", "limit": "٣"}, 400, "invalid"),
        ({"q": "x", "room": "no-such-room"}, 404, "not_found"),
        ({"q": 'NEAR("a" b) AND * OR "'}, 200, None),
    ],
)
def test_the_api_answers_bad_input_with_a_code(
    alice: Any, public_room: ChatRoom, params: dict[str, str], status: int, code: str | None
) -> None:
    response = logged_in(alice).get(api("search-messages"), params)
    assert response.status_code == status, response.content
    if code is not None:
        assert response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_the_api_needs_a_signed_in_user(public_room: ChatRoom) -> None:
    from django.test import Client

    assert Client().get(api("search-messages"), {"q": "x"}).status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
async def test_the_socket_searches_and_refuses_bad_input(alice: Any, public_room: ChatRoom) -> None:
    message = (await db(services.do_send_message)(alice, public_room, "exam on Friday")).message
    socket = await open_room(alice, public_room.slug)
    try:
        await socket.send_frame(type="search", q="friday", id="s1")
        answer = await socket.receive_until(lambda f: f["type"] == "search.results")
        assert answer["id"] == "s1"
        assert [r["id"] for r in answer["results"]] == [message.pk]
        assert answer["results"][0]["snippet_html"] == "exam on <mark>Friday</mark>"
        assert answer["next"] is None
        for frame, code in (
            ({"q": "x" * 201}, "query_too_long"),
            ({"q": ""}, "bad_query"),
            ({"q": "mentions:everyone"}, "bad_query"),
            ({"q": "x", "room": "hidden-or-missing"}, "not_found"),
            ({"q": "x", "has": ["video"]}, "invalid_frame"),
            ({"q": "x", "cursor": "garbage!"}, "bad_query"),
        ):
            # Written by hand: the test client refuses to send a frame its model refuses.
            await socket.send_to(text_data=json.dumps({"type": "search", "id": "e", **frame}))
            error = await socket.receive_until(lambda f: f["type"] == "error")
            assert (error["code"], error["id"]) == (code, "e"), frame
    finally:
        await socket.disconnect()


@pytest.mark.django_db
def test_searches_share_one_bucket_per_user_whatever_the_door(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "SEARCH_RATE_BURST": 2,
        "SEARCH_RATE_PER_SECOND": 0.001,
    }
    client = logged_in(alice)
    assert client.get(api("search-messages"), {"q": "x"}).status_code == 200
    assert client.get("/chat/search/", {"q": "x"}).status_code == 200
    refused = client.get(api("search-messages"), {"q": "x"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert client.get("/chat/search/", {"q": "x"}).status_code == 429
