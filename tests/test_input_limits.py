"""Inputs that used to reach a 500 or kill a socket (issue #14, items 10-12).

- Length settings above their database column (``MAX_ROOM_NAME_LENGTH`` > 120,
  ``MAX_CLIENT_ID_LENGTH`` > 64) are refused by check ``smartcampus_chat.E005``, whose
  ceilings are read from the models; at the ceiling, every door stores and answers.
- A frame whose ``id`` is invalid (a string over 64 characters, a lone surrogate, a float,
  a boolean, a list...) is answered with ``invalid_frame`` (without echoing the id), and
  the socket lives on.
- A NUL character in message content is refused by the content rule every send path
  shares (WebSocket single and group-commit sends, edits): ``invalid`` with the
  ``content`` field, never a database error; the other sends of the same batch are stored
  in that batch (no one-by-one retry, nothing logged).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client, override_settings
from django.urls import reverse

from smartcampus_chat import checks as chat_checks
from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType
from smartcampus_chat.services.batch import SendRequest, check_send_messages
from smartcampus_chat.testing import open_room

db = database_sync_to_async

# --- item 10: length settings and their columns ---------------------------------------------


def _ids(messages: list[Any]) -> set[str]:
    return {message.id for message in messages}


@pytest.mark.parametrize(
    ("setting", "ceiling"), [("MAX_ROOM_NAME_LENGTH", 120), ("MAX_CLIENT_ID_LENGTH", 64)]
)
def test_a_length_setting_above_its_column_is_refused(setting: str, ceiling: int) -> None:
    with override_settings(SMARTCAMPUS_CHAT={setting: ceiling + 1}):
        errors = [e for e in chat_checks.check_settings() if e.id == "smartcampus_chat.E005"]
        assert len(errors) == 1
        assert setting in errors[0].msg
        assert str(ceiling) in errors[0].msg
    with override_settings(SMARTCAMPUS_CHAT={setting: ceiling}):
        assert "smartcampus_chat.E005" not in _ids(chat_checks.check_settings())


def test_the_ceilings_are_read_from_the_models() -> None:
    assert chat_checks.column_max_length("MAX_ROOM_NAME_LENGTH") == (
        ChatRoom._meta.get_field("name").max_length
    )
    assert chat_checks.column_max_length("MAX_CLIENT_ID_LENGTH") == (
        ChatMessage._meta.get_field("client_id").max_length
    )


@pytest.fixture
def at_the_ceilings(settings: Any) -> Any:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "MAX_ROOM_NAME_LENGTH": 120,
        "MAX_CLIENT_ID_LENGTH": 64,
    }
    return settings


@pytest.mark.django_db
def test_room_names_at_the_ceiling_pass_every_door_and_one_more_is_refused(
    at_the_ceilings: Any, alice: Any
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    api_rooms = reverse("smartcampus_chat:api-room-list")
    html_create = reverse("smartcampus_chat:room_create")
    created = client.post(api_rooms, {"name": "a" * 120}, content_type="application/json")
    assert created.status_code == 201, created.content
    too_long = client.post(api_rooms, {"name": "b" * 121}, content_type="application/json")
    assert too_long.status_code == 400
    assert client.post(html_create, {"name": "c" * 120, "room_type": "public"}).status_code == 302
    assert client.post(html_create, {"name": "d" * 121, "room_type": "public"}).status_code == 400
    slug = created.json()["slug"]
    detail = reverse("smartcampus_chat:api-room-detail", args=[slug])
    renamed = client.patch(detail, {"name": "e" * 120}, content_type="application/json")
    assert renamed.status_code == 200
    assert (
        client.patch(detail, {"name": "f" * 121}, content_type="application/json").status_code
        == 400
    )
    html_settings = reverse("smartcampus_chat:room_settings", args=[slug])
    assert client.post(html_settings, {"name": "g" * 120}).status_code == 302
    assert client.post(html_settings, {"name": "h" * 121}).status_code == 400
    names = set(ChatRoom.objects.values_list("name", flat=True))
    assert {"c" * 120, "g" * 120} <= names


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch", [200, 1])
async def test_client_ids_at_the_ceiling_pass_every_door_and_one_more_is_refused(
    at_the_ceilings: Any, alice: Any, public_room: ChatRoom, batch: int
) -> None:
    at_the_ceilings.SMARTCAMPUS_CHAT = {**at_the_ceilings.SMARTCAMPUS_CHAT, "SEND_BATCH_MAX": batch}
    client = Client(raise_request_exception=False)
    await db(client.force_login)(alice)
    api = reverse("smartcampus_chat:api-message-list", args=[public_room.slug])

    def post(client_id: str) -> Any:
        return client.post(api, {"content": "x", "client_id": client_id}, "application/json")

    assert (await db(post)("r" * 64)).status_code == 201
    assert (await db(post)("s" * 65)).status_code == 400
    page = public_room.get_absolute_url()
    html = await db(client.post)(page, {"content": "y", "client_id": "t" * 64})
    assert html.status_code == 302
    assert (await db(client.post)(page, {"content": "y", "client_id": "u" * 65})).status_code == 400
    socket = await open_room(alice, public_room.slug)
    try:
        await socket.send_frame(type="message.send", content="z", client_id="v" * 64, id=1)
        ack = await socket.receive_until(lambda f: f.get("id") == 1)
        assert ack["type"] == "ack", ack
        await socket.send_frame(type="message.send", content="z", client_id="w" * 65, id=2)
        error = await socket.receive_until(lambda f: f.get("id") == 2)
        assert (error["type"], error["code"]) == ("error", "invalid")
        assert "client_id" in error["fields"]
    finally:
        await socket.disconnect()
    stored = await db(lambda: set(ChatMessage.objects.values_list("client_id", flat=True)))()
    assert stored == {"r" * 64, "t" * 64, "v" * 64}


# --- item 11: invalid frame ids -------------------------------------------------------------

VALID_IDS: list[Any] = [0, 1, -1, 2**63, 10**30, "", "a", "x" * 64, "é" * 64, "😀"]
INVALID_IDS: list[Any] = [
    "x" * 65,
    "y" * 1000,
    "z" * 30_000,
    "\ud800",
    "a\udfffb",
    1.5,
    1e308,
    True,
    False,
    [],
    ["x" * 100],
    {},
    {"id": 1},
]


@pytest.mark.django_db(transaction=True)
async def test_invalid_frame_ids_get_invalid_frame_and_the_socket_lives(
    alice: Any, public_room: ChatRoom, no_rate_limits: Any
) -> None:
    socket = await open_room(alice, public_room.slug)
    try:
        for kind in ("ping", "message.send", "read", "resume", "typing"):
            rest = {
                "ping": {},
                "message.send": {"content": "hello"},
                "read": {"seq": 0},
                "resume": {"event_seq": 0},
                "typing": {"state": "started"},
            }[kind]
            for bad in INVALID_IDS:
                # Raw JSON: json.dumps escapes lone surrogates into valid UTF-8 text.
                await socket.send_to(json.dumps({"type": kind, "id": bad, **rest}))
                error = await socket.receive_until(lambda f: f["type"] == "error", timeout=5)
                assert error["code"] == "invalid_frame", (kind, repr(bad)[:40], error)
                assert error["id"] is None
                assert "id" in " ".join(error["fields"]), error
                await socket.send_frame(type="ping", id="alive")
                assert await socket.receive_until(lambda f: f["type"] == "pong", timeout=5) == {
                    "type": "pong",
                    "id": "alive",
                }
        for good in VALID_IDS:
            await socket.send_frame(type="ping", id=good)
            assert await socket.receive_until(lambda f: f["type"] == "pong") == {
                "type": "pong",
                "id": good,
            }
            # And an error about something else repeats a valid id.
            await socket.send_frame(type="message.send", content="", id=good)
            error = await socket.receive_until(lambda f: f["type"] == "error")
            assert (error["code"], error["id"]) == ("invalid", good)
    finally:
        await socket.disconnect()
    assert await db(ChatMessage.objects.filter(content="hello").count)() == 0


# --- item 12: NUL in content ----------------------------------------------------------------

NUL = "before\x00after"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch", [200, 1])
async def test_nul_in_websocket_sends_and_edits_is_a_validation_error(
    alice: Any, public_room: ChatRoom, batch: int, settings: Any, caplog: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEND_BATCH_MAX": batch}
    caplog.set_level(logging.WARNING)
    socket = await open_room(alice, public_room.slug)
    try:
        await socket.send_frame(type="message.send", content=NUL, client_id="nul", id="s")
        error = await socket.receive_until(lambda f: f.get("id") == "s")
        assert (error["type"], error["code"]) == ("error", "invalid"), error
        assert list(error["fields"]) == ["content"]
        await socket.send_frame(type="message.send", content="fine", id="ok")
        ack = await socket.receive_until(lambda f: f.get("id") == "ok")
        await socket.send_frame(
            type="message.edit", message_id=ack["message"]["id"], content=NUL, id="e"
        )
        error = await socket.receive_until(lambda f: f.get("id") == "e")
        assert (error["type"], error["code"], list(error["fields"])) == (
            "error",
            "invalid",
            ["content"],
        )
        await socket.send_frame(type="ping", id="alive")
        await socket.receive_until(lambda f: f == {"type": "pong", "id": "alive"})
    finally:
        await socket.disconnect()
    contents = await db(lambda: list(ChatMessage.objects.values_list("content", flat=True)))()
    assert contents == ["fine"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.django_db(transaction=True)
def test_a_nul_send_does_not_break_its_batch(
    make_user: Any, no_rate_limits: Any, caplog: Any
) -> None:
    """Seven sends stored as one group commit, one of them with a NUL: it alone gets its
    validation error; the six others are stored by the batch itself (on PostgreSQL the
    NUL used to fail the batch's statement, and every send was redone alone, with a
    warning and a stack trace)."""
    caplog.set_level(logging.WARNING)
    users = [make_user() for _ in range(7)]
    room = services.do_create_room(users[0], name="Busy", room_type=RoomType.PUBLIC)
    requests = [
        SendRequest(user, room, NUL if i == 3 else f"message {i}", client_id=f"c{i}")
        for i, user in enumerate(users)
    ]
    stored_alone: list[Any] = []
    import smartcampus_chat.services.batch as batch_module

    original = batch_module._store_alone

    def spy(item: Any) -> Any:
        stored_alone.append(item)
        return original(item)

    batch_module._store_alone = spy  # type: ignore[assignment]
    try:
        results = check_send_messages(requests)
    finally:
        batch_module._store_alone = original  # type: ignore[assignment]
    refused = results[3]
    assert getattr(refused, "code", None) == "invalid", refused
    assert list(getattr(refused, "fields", {})) == ["content"]
    assert all(getattr(r, "created", False) for i, r in enumerate(results) if i != 3), results
    assert stored_alone == []
    assert sorted(ChatMessage.objects.values_list("content", flat=True)) == [
        f"message {i}" for i in range(7) if i != 3
    ]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.django_db(transaction=True)
async def test_a_nul_send_among_concurrent_sockets_leaves_the_others_stored(
    make_user: Any, public_room: ChatRoom, no_rate_limits: Any, caplog: Any
) -> None:
    """Through the door: seven sockets send at once (their sends share group commits)."""
    caplog.set_level(logging.WARNING)
    users = [await db(make_user)() for _ in range(7)]
    sockets = [await open_room(user, public_room.slug) for user in users]
    try:
        for i, socket in enumerate(sockets):
            await socket.send_frame(type="message.send", content=NUL if i == 3 else f"m{i}", id=i)
        answers = [
            await s.receive_until(lambda f, n=i: f.get("id") == n) for i, s in enumerate(sockets)
        ]
    finally:
        for socket in sockets:
            await socket.disconnect()
    assert [a["type"] for a in answers] == ["ack"] * 3 + ["error"] + ["ack"] * 3
    assert answers[3]["code"] == "invalid"
    contents = await db(lambda: sorted(ChatMessage.objects.values_list("content", flat=True)))()
    assert contents == [f"m{i}" for i in range(7) if i != 3]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
