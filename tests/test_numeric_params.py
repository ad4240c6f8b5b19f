"""Every numeric parameter of every door refuses hostile numbers with a clear error
(issue #14, item 9): a 400 (JSON on the API, the error page on HTML pages) for query and
body parameters, a 404 for ids in paths, a close code on the WebSocket URL, an ``error``
frame for frame fields; never a 500, an ``internal_error`` or a dead socket (1006).

``str.isdigit()`` accepts "²" (``int()`` refuses it) and "٣" (``int()`` reads 3);
``int()`` accepts signs, spaces and underscores, and past 4,300 digits raises; huge
numbers overflow the database driver. Numbers are plain ASCII digits within bounds
(:func:`smartcampus_chat.domain.validation.parse_int`), everywhere.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.testing import ChatCommunicator as WsClient
from smartcampus_chat.testing import open_room, open_user

#: Text a client can put where a number is expected.
HOSTILE_TEXT = [
    "²",
    "٣",
    "-1",
    "1e9",
    "9" * 30,
    "9" * 5000,
    "",
    " 1",
    "1 ",
    "0x1",
    "1.0",
    "1_0",
    "+1",
    "NaN",
]
#: And in JSON, where a number may also be a float, a boolean or a huge integer.
HOSTILE_JSON: list[Any] = [*HOSTILE_TEXT, -1, 1e9, 1.5, 2**63, 2**70, 10**30, True, None]


@pytest.fixture
def world(alice: Any, bob: Any, public_room: ChatRoom, group: Group) -> dict[str, Any]:
    services.do_join_room(bob, public_room)
    message = services.do_send_message(alice, public_room, "hello").message
    return {"room": public_room, "message": message, "alice": alice}


def http(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _check_json_error(response: Any, status: int, door: str) -> None:
    assert response.status_code == status, (door, response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"], door
    assert error["message"], door


# --- HTTP: query parameters ---------------------------------------------------------------

QUERY_DOORS = [
    ("html-room", "room", "before"),
    ("html-room", "room", "after"),
    ("api-rooms", "/chat/api/rooms/", "limit"),
    ("api-rooms", "/chat/api/rooms/", "offset"),
    ("api-members", "/chat/api/rooms/{slug}/members/", "limit"),
    ("api-members", "/chat/api/rooms/{slug}/members/", "offset"),
    ("api-users", "/chat/api/users/", "limit"),
    ("api-users", "/chat/api/users/", "offset"),
    ("api-history", "/chat/api/rooms/{slug}/messages/", "before"),
    ("api-history", "/chat/api/rooms/{slug}/messages/", "after"),
    ("api-history", "/chat/api/rooms/{slug}/messages/", "limit"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("door", "path", "param"), QUERY_DOORS)
def test_hostile_numbers_in_query_strings_are_a_400(
    world: dict[str, Any], door: str, path: str, param: str
) -> None:
    client = http(world["alice"])
    room = world["room"]
    url = room.get_absolute_url() if path == "room" else path.format(slug=room.slug)
    for value in HOSTILE_TEXT:
        response = client.get(f"{url}?{urlencode({param: value})}")
        label = f"{door} ?{param}={value[:20]!r}"
        if door.startswith("html"):
            assert response.status_code == 400, (label, response.status_code)
            assert "must be a whole number" in response.content.decode(), label
        else:
            _check_json_error(response, 400, label)
    # The same parameter with a good value still works.
    assert client.get(f"{url}?{urlencode({param: '1'})}").status_code == 200


# --- HTTP: ids in paths ---------------------------------------------------------------------

PATH_DOORS = [
    ("html-private-open", "post", "/chat/people/{x}/open/"),
    ("html-member-remove", "post", "/chat/room/{slug}/members/{x}/remove/"),
    ("html-message-edit", "get", "/chat/room/{slug}/message/{x}/edit/"),
    ("html-message-edit", "post", "/chat/room/{slug}/message/{x}/edit/"),
    ("html-message-delete", "post", "/chat/room/{slug}/message/{x}/delete/"),
    ("api-message", "get", "/chat/api/rooms/{slug}/messages/{x}/"),
    ("api-message", "patch", "/chat/api/rooms/{slug}/messages/{x}/"),
    ("api-message", "delete", "/chat/api/rooms/{slug}/messages/{x}/"),
    ("api-member", "delete", "/chat/api/rooms/{slug}/members/{x}/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("door", "method", "path"), PATH_DOORS)
def test_hostile_ids_in_paths_are_not_found(
    world: dict[str, Any], door: str, method: str, path: str
) -> None:
    client = http(world["alice"])
    for value in [*HOSTILE_TEXT, "0", str(2**63), str(2**64)]:
        url = path.format(slug=world["room"].slug, x=quote(value, safe=""))
        data = json.dumps({"content": "x"}) if method == "patch" else None
        kwargs = {"content_type": "application/json"} if method == "patch" else {}
        response = getattr(client, method)(url, data, **kwargs)
        label = f"{door} {method} {value[:20]!r}"
        if door.startswith("api"):
            _check_json_error(response, 404, label)
        else:
            assert response.status_code == 404, (label, response.status_code)


# --- HTTP: JSON bodies ----------------------------------------------------------------------

BODY_DOORS = [
    ("api-read", "/chat/api/rooms/{slug}/read/", "seq", {}),
    ("api-private", "/chat/api/private/", "user", {}),
    ("api-send", "/chat/api/rooms/{slug}/messages/", "reply_to", {"content": "hi"}),
    ("api-create-room", "/chat/api/rooms/", "group", {"name": "G", "room_type": "group"}),
    ("api-create-room", "/chat/api/rooms/", "course", {"name": "C", "room_type": "course"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("door", "path", "field", "rest"), BODY_DOORS)
def test_hostile_numbers_in_json_bodies_are_a_400(
    world: dict[str, Any], staff: Any, door: str, path: str, field: str, rest: dict[str, Any]
) -> None:
    client = http(staff)
    url = path.format(slug=world["room"].slug)
    for value in HOSTILE_JSON:
        if value is None and door != "api-private":
            continue  # null means "none" for the optional fields.
        response = client.post(url, json.dumps({**rest, field: value}), "application/json")
        _check_json_error(response, 400, f"{door} {field}={str(value)[:20]!r}")
    assert ChatMessage.objects.filter(content="hi").count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "room_type"), [("group", "group"), ("course", "course")])
def test_hostile_numbers_in_html_forms_are_a_form_error(
    staff: Any, group: Group, course: Any, field: str, room_type: str
) -> None:
    client = http(staff)
    for value in [*HOSTILE_TEXT, "0", str(2**63), str(2**64)]:
        if value == "":
            continue  # A blank choice is "none": the form says the field is required.
        response = client.post(
            "/chat/create/", {"name": "Room", "room_type": room_type, field: value}
        )
        assert response.status_code == 400, (field, value[:20], response.status_code)
    assert not ChatRoom.objects.filter(name="Room").exists()


# --- WebSocket: URL parameters --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("param", "code"), [("v", 4005), ("event_seq", 4400)])
@pytest.mark.parametrize("endpoint", ["room", "user"])
async def test_hostile_numbers_in_the_websocket_url_close_with_a_code(
    alice: Any, public_room: ChatRoom, param: str, code: int, endpoint: str
) -> None:
    base = f"/ws/chat/{public_room.slug}/" if endpoint == "room" else "/ws/chat/"
    for value in HOSTILE_TEXT:
        client = WsClient(f"{base}?{urlencode({param: value})}", alice)
        await client.open(ready=False)
        assert await client.wait_closed(timeout=5) == code, (param, value[:20])
        await client.disconnect()
    # A good value opens the socket (and, for event_seq, replays from there).
    good = (
        await open_room(alice, public_room.slug, **{param: "1"})
        if endpoint == "room"
        else (await open_user(alice, **{param: "1"}))
    )
    await good.send_frame(type="ping", id="alive")
    assert await good.receive_until(lambda f: f["type"] == "pong") == {
        "type": "pong",
        "id": "alive",
    }
    await good.disconnect()


# --- WebSocket: numbers in frames -----------------------------------------------------------

FRAME_FIELDS = [
    ("read", "seq", {}),
    ("resume", "event_seq", {}),
    ("message.edit", "message_id", {"content": "x"}),
    ("message.delete", "message_id", {}),
    ("message.send", "reply_to", {"content": "hi"}),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", ["room", "user"])
async def test_hostile_numbers_in_frames_are_answered_with_an_error(
    alice: Any, public_room: ChatRoom, endpoint: str, no_rate_limits: Any
) -> None:
    if endpoint == "room":
        client = await open_room(alice, public_room.slug)
    else:
        client = await open_user(alice)
    try:
        serial = 0
        for frame_type, field, rest in FRAME_FIELDS:
            for value in HOSTILE_JSON:
                if value is None and field == "reply_to":
                    continue  # No reply.
                serial += 1
                frame = {"type": frame_type, "room": public_room.slug, **rest, field: value}
                await client.send_json_to({"id": serial, **frame})
                answer = await client.receive_until(
                    lambda f, n=serial: (
                        f["type"] in ("ack", "error", "resumed") and f.get("id") == n
                    ),
                    timeout=5,
                )
                label = (frame_type, field, str(value)[:20])
                assert answer["type"] == "error", label
                assert answer["code"] not in ("internal_error", "unavailable"), (label, answer)
                await client.send_frame(type="ping", id=f"p{serial}")
                await client.receive_until(lambda f, n=serial: f == {"type": "pong", "id": f"p{n}"})
    finally:
        await client.disconnect()
    assert await _stored("hi") == 0


async def _stored(content: str) -> int:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(ChatMessage.objects.filter(content=content).count)()
