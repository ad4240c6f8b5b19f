"""The frame registry: every frame ``type``, its model, its direction and its routing facts.

Each frame type is registered in this table once. The rest of the code reads its facts
from it instead of re-deriving them from names or ``isinstance`` chains: the consumer's
dispatch (a handler per client type, registered by :mod:`smartcampus_chat.ws.handlers`),
the routing facts that publishing attaches to a layer message
(:func:`smartcampus_chat.realtime.events.layer_message`), the schema of server frames
(:data:`~.frames.ServerFrame`) and the documentation check (``tests/test_protocol_doc.py``).

The models register themselves where :mod:`.frames` defines them (``@server_frame(...)``,
``@client_frame(...)``), so the table is complete once ``frames`` is imported (everything
that reads it imports ``frames`` first). This module knows no model: ``frames`` imports it.

Adding a frame type: define its model in :mod:`.frames` with its decorator and facts,
document it in ``docs/protocol.md``; a client frame also needs one handler in
``ws/handlers/<family>.py`` (the registry test fails until it has one).
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel


class Direction(enum.Enum):
    CLIENT = "client → server"
    SERVER = "server → client"


@dataclass(frozen=True, slots=True)
class FrameSpec:
    """One frame type and what the code needs to know about it.

    Server frames:

    - ``numbered``: a room change carrying ``message.event_seq``; a connection drops it at
      or below the seam of a replay (``event_seq`` routing fact).
    - ``about_user``: about ``user`` (typing, presence); not sent back to that user
      (``sender_id`` routing fact).
    - ``membership``: changes which rooms a connection follows (``room.added``,
      ``room.removed``); handled in turn with client frames, later frames wait for it.
    - ``refreshes_room``: the room changed (archived, renamed): a connection re-reads the
      room and the user's access on next use.

    Client frames:

    - ``family``: the feature it belongs to (``ws/handlers/<family>.py``).
    - ``rechecks``: state-changing; a socket whose last access check is older than
      ``REVALIDATE_FRAME_AGE`` checks again before handling it.
    """

    type: str
    model: builtins.type[BaseModel]  # ``builtins``: the field above shadows ``type``.
    direction: Direction
    numbered: bool = False
    about_user: bool = False
    membership: bool = False
    refreshes_room: bool = False
    family: str = ""
    rechecks: bool = False


_REGISTRY: dict[tuple[Direction, str], FrameSpec] = {}


def frame_type(model: type[BaseModel]) -> str:
    """The ``type`` a frame model carries."""
    default = model.model_fields["type"].default
    if isinstance(default, str):
        return default
    # Client frames have a required ``type`` (a Literal): read it from the annotation.
    (literal,) = getattr(model.model_fields["type"].annotation, "__args__", (None,))
    if not isinstance(literal, str):
        raise TypeError(f"{model.__name__}.type is not a single string literal")
    return literal


def register(model: type[BaseModel], direction: Direction, **facts: Any) -> FrameSpec:
    """Record ``model`` under its ``type``; a type is registered once per direction."""
    spec = FrameSpec(frame_type(model), model, direction, **facts)
    key = (direction, spec.type)
    if any(s.model is model for s in _REGISTRY.values()):
        raise ValueError(f"{model.__name__} registered twice")
    if key in _REGISTRY:
        raise ValueError(f"Frame type {spec.type!r} ({direction.value}) registered twice")
    _REGISTRY[key] = spec
    return spec


T = TypeVar("T", bound=BaseModel)


def server_frame(**facts: bool) -> Callable[[type[T]], type[T]]:
    """Register a frame the server sends, with its routing facts (see :class:`FrameSpec`)."""

    def decorate(model: type[T]) -> type[T]:
        register(model, Direction.SERVER, **facts)
        return model

    return decorate


def client_frame(family: str, *, rechecks: bool = True) -> Callable[[type[T]], type[T]]:
    """Register a frame a client sends, with its feature ``family`` (handler module)."""

    def decorate(model: type[T]) -> type[T]:
        register(model, Direction.CLIENT, family=family, rechecks=rechecks)
        return model

    return decorate


# --- Views of the table -----------------------------------------------------------------


def specs(direction: Direction | None = None) -> list[FrameSpec]:
    """Every registered frame (of ``direction``), in registration order."""
    return [s for s in _REGISTRY.values() if direction is None or s.direction is direction]


def client_spec(type_: str) -> FrameSpec | None:
    return _REGISTRY.get((Direction.CLIENT, type_))


def server_spec(type_: str) -> FrameSpec | None:
    return _REGISTRY.get((Direction.SERVER, type_))


def server_types(**fact: bool) -> frozenset[str]:
    """The types of server frames (with ``fact`` set to the value given, if one is)."""
    return frozenset(
        s.type
        for s in specs(Direction.SERVER)
        if all(getattr(s, name) is value for name, value in fact.items())
    )


def routing_facts(frame: BaseModel) -> dict[str, Any]:
    """What a connection needs to route ``frame`` without decoding its JSON: the layer
    message's ``frame_type``, ``event_seq``, ``sender_id``, ``room_id`` and ``room_slug``."""
    type_ = getattr(frame, "type", "")
    facts: dict[str, Any] = {"frame_type": type_}
    spec = server_spec(type_)
    if spec is None:
        return facts
    if spec.numbered:
        facts["event_seq"] = getattr(frame, "message").event_seq  # noqa: B009
    if spec.about_user:
        facts["sender_id"] = getattr(frame, "user").id  # noqa: B009
    if spec.membership:
        room = getattr(frame, "room")  # noqa: B009
        if isinstance(room, str):  # room.removed names the room by its slug.
            facts["room_slug"] = room
        else:  # room.added carries the room's data.
            facts["room_id"] = room.id
            facts["room_slug"] = room.slug
    return facts
