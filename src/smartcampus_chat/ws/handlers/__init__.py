"""The handlers of client frames, one module per feature (``services/<feature>.py``).

Each family module lists its handlers in ``HANDLERS`` (frame model → coroutine taking the
socket and the validated frame). :func:`build_routes` joins them into the consumer's
dispatch table and checks it against the frame registry
(:mod:`smartcampus_chat.protocol.registry`): every client frame type has exactly one
handler, and nothing else has one. A frame type added to the protocol without a handler
fails at import, not when a client first sends it.

:mod:`.rooms` is the one family without client frames: what each endpoint does when the
hub says its rooms changed (``room.added``, ``room.removed``, a room deleted).
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcampus_chat.protocol.frames import ClientFrame
from smartcampus_chat.protocol.registry import Direction, client_spec, frame_type, specs
from smartcampus_chat.ws.handlers import (
    announcements,
    anonymity,
    history,
    message_search,
    messages,
    notifications,
    office_hours,
    ping,
    pins,
    polls,
    previews,
    questions,
    reactions,
    reads,
    typing,
)
from smartcampus_chat.ws.handlers.base import Handler, Handlers


@dataclass(frozen=True, slots=True)
class Route:
    """What the consumer does with a client frame of one ``type``."""

    model: type[ClientFrame]
    handler: Handler
    #: State-changing: checked again first on a socket not checked for a while.
    rechecks: bool


def build_routes(*families: Handlers) -> dict[str, Route]:
    """The dispatch table of ``families``' handlers: one per registered client type."""
    routes: dict[str, Route] = {}
    for family in families:
        for model, handler in family.items():
            spec = client_spec(frame_type(model))
            if spec is None or spec.model is not model:
                raise LookupError(f"{model.__name__} is not a registered client frame")
            if spec.type in routes:
                raise ValueError(f"Two handlers for client frame {spec.type!r}")
            routes[spec.type] = Route(model, handler, spec.rechecks)
    missing = {s.type for s in specs(Direction.CLIENT)} - set(routes)
    if missing:
        raise LookupError(f"No handler for client frames {sorted(missing)}")
    return routes


FAMILIES = (
    messages.HANDLERS,
    reactions.HANDLERS,
    pins.HANDLERS,
    announcements.HANDLERS,
    questions.HANDLERS,
    anonymity.HANDLERS,
    polls.HANDLERS,
    previews.HANDLERS,
    typing.HANDLERS,
    reads.HANDLERS,
    notifications.HANDLERS,
    office_hours.HANDLERS,
    history.HANDLERS,
    message_search.HANDLERS,
    ping.HANDLERS,
)
#: The consumer's dispatch table: client frame ``type`` → model, handler, facts.
ROUTES = build_routes(*FAMILIES)
