"""The protocol on the wire, for clients: socket paths, client frames out, server frames in.

One implementation for every client of the project: the in-process
:class:`~smartcampus_chat.testing.ChatCommunicator`, the test suite's over-the-network
reference client and the load generator of ``bench/``. It needs neither Django settings nor
a database: only the typed frames of :mod:`smartcampus_chat.protocol.frames`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from pydantic import TypeAdapter, ValidationError

from smartcampus_chat.protocol.frames import CLIENT_FRAMES, ServerFrame, ws_path

__all__ = [
    "InvalidFrame",
    "add_query",
    "client_frame",
    "parse_server_frame",
    "room_path",
    "user_path",
]

_SERVER_FRAME: TypeAdapter[Any] = TypeAdapter(ServerFrame)


class InvalidFrame(AssertionError):
    """A frame the protocol does not describe (an ``AssertionError``: test runners report
    it as a failed check, whether they are pytest or unittest)."""


def _query(params: dict[str, Any]) -> str:
    given = {key: value for key, value in params.items() if value is not None}
    return f"?{urlencode(given)}" if given else ""


def add_query(path: str, **params: Any) -> str:
    """``path`` with ``params`` added to its query string (None is left out)."""
    query = _query(params)
    if query and "?" in path:
        return f"{path}&{query[1:]}"
    return f"{path}{query}"


def room_path(slug: str, **params: Any) -> str:
    """The path of the socket of one room (:func:`~smartcampus_chat.protocol.frames.ws_path`).

    ``params`` become the query string (``v``, ``event_seq``, ``ticket``; None is left out),
    in the order given. The site's mount point of the chat's WebSocket routes is not
    included: the routes sit at the root of the host's ``URLRouter``.
    """
    return f"{ws_path(slug)}{_query(params)}"


def user_path(**params: Any) -> str:
    """The path of the multiplexed socket of a user (see :func:`room_path`)."""
    return f"{ws_path()}{_query(params)}"


def client_frame(**fields: Any) -> str:
    """The JSON text of a client frame, checked against its model in ``CLIENT_FRAMES``.

    Only the fields given are written (a frame without ``id`` has none). Raises
    :class:`InvalidFrame` for an unknown ``type`` or fields the model refuses: to send a
    malformed frame on purpose, send the text yourself.
    """
    model = CLIENT_FRAMES.get(str(fields.get("type")))
    if model is None:
        raise InvalidFrame(f"unknown client frame type {fields.get('type')!r}")
    try:
        frame = model.model_validate(fields)
    except ValidationError as exc:
        raise InvalidFrame(f"invalid {fields['type']} frame: {exc}") from exc
    return frame.model_dump_json(exclude_unset=True)


def parse_server_frame(text: str) -> dict[str, Any]:
    """A server frame as a dict, after checking it against ``ServerFrame`` (its typed model
    by ``type``); :class:`InvalidFrame` when the model refuses it."""
    try:
        _SERVER_FRAME.validate_json(text)
    except ValidationError as exc:
        raise InvalidFrame(
            f"the server sent a frame the protocol does not describe: {exc}"
        ) from exc
    frame = json.loads(text)
    if not isinstance(frame, dict):  # pragma: no cover - the model takes objects only
        raise InvalidFrame(f"not a JSON object: {text!r}")
    return frame
