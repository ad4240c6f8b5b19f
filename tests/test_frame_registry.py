"""The frame registry is complete and consistent, and drives dispatch and routing.

Every frame model is registered once; every client frame type has exactly one handler, in
the handler module of its family; the schema of server frames is the registry's; routing
facts come from the registry. (``tests/test_protocol_doc.py`` checks the docs against it.)
"""

from __future__ import annotations

import inspect
from datetime import datetime, timezone
from typing import Any, Literal, get_args

import pytest

from smartcampus_chat.protocol import frames, registry
from smartcampus_chat.protocol.registry import Direction, routing_facts
from smartcampus_chat.realtime.events import layer_message
from smartcampus_chat.ws.handlers import FAMILIES, ROUTES, build_routes

USER = frames.UserRef(id=7, username="ann", name="Ann")
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ROOM = frames.RoomData(
    id=3,
    slug="lobby",
    name="Lobby",
    title="Lobby",
    room_type="public",
    description="",
    is_archived=False,
    read_receipts=True,
    last_seq=1,
    last_event_seq=4,
)


def frame_models() -> set[type[Any]]:
    """Every class of ``frames`` with a ``type`` field: the frames, registered or not."""
    return {
        value
        for value in vars(frames).values()
        if inspect.isclass(value)
        and issubclass(value, frames.BaseModel)
        and "type" in getattr(value, "model_fields", {})
    }


def test_every_frame_model_is_registered_once() -> None:
    registered = [spec.model for spec in registry.specs()]
    assert len(registered) == len(set(registered))
    assert set(registered) == frame_models()


def test_directions_split_the_models() -> None:
    for spec in registry.specs(Direction.CLIENT):
        assert issubclass(spec.model, frames.ClientFrame), spec.type
        assert spec.family, spec.type
    for spec in registry.specs(Direction.SERVER):
        assert issubclass(spec.model, frames.Schema), spec.type
        assert not spec.family, spec.type


def test_server_frame_schema_is_the_registry() -> None:
    (union, _discriminator) = get_args(frames.ServerFrame)
    assert set(get_args(union)) == {s.model for s in registry.specs(Direction.SERVER)}
    assert frames.server_frame_types() == {s.type for s in registry.specs(Direction.SERVER)}
    assert {s.type: s.model for s in registry.specs(Direction.CLIENT)} == frames.CLIENT_FRAMES


def test_every_client_frame_has_exactly_one_handler_in_its_family_module() -> None:
    client = {s.type: s for s in registry.specs(Direction.CLIENT)}
    assert set(ROUTES) == set(client)
    for frame_type, route in ROUTES.items():
        spec = client[frame_type]
        assert route.model is spec.model
        assert route.rechecks is spec.rechecks
        assert route.handler.__module__ == f"smartcampus_chat.ws.handlers.{spec.family}"
    handlers = [handler for family in FAMILIES for handler in family.values()]
    assert len(handlers) == len(client)


def test_a_missing_handler_is_caught_when_the_table_is_built() -> None:
    without_typing = [family for family in FAMILIES if frames.TypingFrame not in family]
    assert len(without_typing) == len(FAMILIES) - 1
    with pytest.raises(LookupError, match="typing"):
        build_routes(*without_typing)


def test_a_second_handler_or_an_unregistered_frame_is_caught() -> None:
    with pytest.raises(ValueError, match="ping"):
        build_routes(*FAMILIES, {frames.Ping: ROUTES["ping"].handler})

    class Shout(frames.ClientFrame):
        type: Literal["shout"]

    with pytest.raises(LookupError, match="Shout"):
        build_routes(*FAMILIES, {Shout: ROUTES["ping"].handler})


def test_a_type_is_registered_once() -> None:
    with pytest.raises(ValueError, match="twice"):
        registry.register(frames.Pong, Direction.SERVER)

    class Pong2(frames.Schema):
        type: Literal["pong"] = "pong"

    with pytest.raises(ValueError, match="twice"):
        registry.register(Pong2, Direction.SERVER)
    assert registry.server_spec("pong") is not None
    assert registry.server_spec("pong").model is frames.Pong  # type: ignore[union-attr]


def message(frame_type: type[Any]) -> Any:
    data = frames.MessageData(
        id=1,
        room="lobby",
        seq=1,
        event_seq=4,
        kind="user",
        sender=USER,
        content="hi",
        content_html="<p>hi</p>",
        created_at=NOW,
        is_edited=False,
        edited_at=None,
        is_deleted=False,
        deleted_at=None,
        reply_to=None,
        reply=None,
        reactions=[],
        pinned_at=None,
        attachments=[],
        client_id=None,
    )
    return frame_type(message=data)


@pytest.mark.parametrize(
    ("frame", "facts"),
    [
        (message(frames.MessageNew), {"event_seq": 4}),
        (message(frames.MessageEdited), {"event_seq": 4}),
        (message(frames.MessageDeleted), {"event_seq": 4}),
        (
            frames.Typing(room="lobby", user=USER, state="started", expires_in=5.0),
            {"sender_id": 7},
        ),
        (frames.Presence(room="lobby", user=USER, online=True, last_seen=None), {"sender_id": 7}),
        (frames.RoomAdded(room=ROOM), {"room_id": 3, "room_slug": "lobby"}),
        (frames.RoomRemoved(room="lobby"), {"room_slug": "lobby"}),
        (frames.RoomUpdated(room=ROOM), {}),
        (frames.ParticipantJoined(room="lobby", user=USER, role="member"), {}),
        (frames.UnreadUpdate(room="lobby", unread=0, mentions=0, last_read_seq=1), {}),
    ],
    ids=lambda value: getattr(value, "type", ""),
)
def test_routing_facts_come_from_the_registry(frame: Any, facts: dict[str, Any]) -> None:
    assert routing_facts(frame) == {"frame_type": frame.type, **facts}
    assert layer_message(frame, room_id=3) == {
        "type": "chat.frame",
        "frame": frame.model_dump_json(),
        "frame_type": frame.type,
        "room_id": 3,
        **facts,
    }


def test_delivery_sets_are_the_registry_facts() -> None:
    assert {"room.added", "room.removed"} == frames.MEMBERSHIP_TYPES
    assert {"room.updated"} == frames.REFRESHING_TYPES


def test_rest_message_and_user_shapes_are_the_protocol_models() -> None:
    from smartcampus_chat.api.serializers import MessageSerializer, UserRefSerializer

    assert list(MessageSerializer().fields) == list(frames.MessageData.model_fields)
    assert list(UserRefSerializer().fields) == list(frames.UserRef.model_fields)
    nullable = {name for name, field in MessageSerializer().fields.items() if field.allow_null}
    assert nullable == {
        name
        for name, info in frames.MessageData.model_fields.items()
        if type(None) in get_args(info.annotation)
    }
