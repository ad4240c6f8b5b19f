"""Reading one client frame: size, encoding, JSON, type and fields, in that order.

The WebSocket door's parse step (docs/protocol.md, "Errors"): a text frame becomes the
:class:`~smartcampus_chat.protocol.frames.ClientFrame` of its registered type and the
:class:`~.handlers.Route` that handles it, or a :class:`BadFrame` saying what to answer.
Kept apart from the consumer so the rules for bad input are in one place and testable
without a socket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from pydantic import ValidationError

from smartcampus_chat.protocol.frames import ClientFrame, echo_id
from smartcampus_chat.ws.handlers import ROUTES, Route
from smartcampus_chat.ws.socket import CLOSE_TOO_LARGE


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that is not handled: an ``error`` frame to answer, or a close code."""

    code: str
    message: str
    frame_id: Any = None
    fields: dict[str, list[str]] | None = None
    #: Close the socket with this code instead of answering (the frame is too large).
    close: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedFrame:
    route: Route
    frame: ClientFrame = field(repr=False)


def _too_large() -> BadFrame:
    return BadFrame("too_large", "frame too large", close=CLOSE_TOO_LARGE)


def parse_frame(text_data: str | None, limit: int) -> ParsedFrame | BadFrame:
    """The frame in ``text_data`` (``None``: a binary frame), at most ``limit`` bytes."""
    if text_data is None:
        return BadFrame("binary_not_supported", _("Frames are JSON text, not binary."))
    if len(text_data) > limit:
        return _too_large()
    try:
        size = len(text_data.encode())
    except UnicodeEncodeError:
        # Lone surrogates: not UTF-8. ASGI servers decode strictly, but an ASGI application
        # can be handed any str; it must not crash the consumer.
        return BadFrame("bad_json", _("The frame is not valid UTF-8 text."))
    if size > limit:
        return _too_large()
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than ~1,000.
        return BadFrame("bad_json", _("The frame is not valid JSON."))
    if not isinstance(data, dict):
        return BadFrame("bad_json", _("A frame is a JSON object."))
    # Repeated in the answer only if valid: an invalid id is itself an invalid frame.
    frame_id = echo_id(data.get("id"))
    route = ROUTES.get(data["type"]) if isinstance(data.get("type"), str) else None
    if route is None:
        return BadFrame("unknown_type", _("Unknown frame type."), frame_id)
    try:
        frame = route.model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "__all__"
            fields.setdefault(key, []).append(error["msg"])
        return BadFrame("invalid_frame", _("Invalid frame."), frame_id, fields)
    return ParsedFrame(route, frame)
