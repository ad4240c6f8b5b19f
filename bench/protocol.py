"""Wire adapters: the only place that knows each server's frame format.

The load generator speaks to every server through a :class:`Protocol`: which URL a
connection of room ``n`` opens, how a send is framed, and what a received frame is (a
broadcast delivery, an acknowledgement, an error). The app's frames and socket paths are
written by :mod:`smartcampus_chat.testing.wire`, the codec every client of the project
shares (each frame checked against its model); :class:`AppProtocol` only maps them to the
load generator's needs.

Every sent message carries a probe in its text, ``bench|<step>|<sender>|<n>|<ns>|``, where
``<ns>`` is the intended send time on ``time.monotonic_ns()`` (one clock for all processes
of a Linux machine). Receivers find the probe with ``str.find`` instead of decoding JSON,
so that the client stays cheap enough to outrun the server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum

from smartcampus_chat.protocol.frames import WS_PATH
from smartcampus_chat.testing.wire import add_query, client_frame, parse_server_frame

PROBE_MARK = "bench|"
_TYPE_RE = re.compile(r'\{\s*"type"\s*:\s*"([^"]+)"')


class FrameKind(Enum):
    DELIVERY = "delivery"
    ACK = "ack"
    ERROR = "error"
    #: End of a replay (``resumed``): the catch-up workload times it.
    RESUMED = "resumed"
    OTHER = "other"


@dataclass(frozen=True)
class Probe:
    step: int
    sender: int
    number: int
    sent_ns: int


def probe_text(step: int, sender: int, number: int, sent_ns: int, padding: str = "") -> str:
    return f"{PROBE_MARK}{step}|{sender}|{number}|{sent_ns}|{padding}"


def find_probe(frame: str) -> Probe | None:
    start = frame.find(PROBE_MARK)
    if start < 0:
        return None
    parts = frame[start + len(PROBE_MARK) :].split("|", 4)
    try:
        return Probe(int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]))
    except (IndexError, ValueError):
        return None


class Protocol:
    """Frames of one kind of server. Subclasses override what differs."""

    name = "abstract"
    #: Whether the server acknowledges sends (needed by closed-loop workloads).
    acks = False

    def path(self, room: int, credential: str = "", resume_from: int | None = None) -> str:
        """URL path of a connection to ``room``; ``credential`` authenticates (app only)."""
        raise NotImplementedError

    def send_frame(self, content: str, frame_id: int, client_id: str) -> str:
        raise NotImplementedError

    def kind(self, frame: str) -> FrameKind:
        return FrameKind.DELIVERY


class BareProtocol(Protocol):
    """``bench.reference.bare_ws``: the frame is the message, relayed as is."""

    name = "bare"

    def path(self, room: int, credential: str = "", resume_from: int | None = None) -> str:
        return f"/room/{room}"

    def send_frame(self, content: str, frame_id: int, client_id: str) -> str:
        return content


class StockChannelsProtocol(Protocol):
    """``bench.reference.stock_channels``: the Channels tutorial's ``{"message": ...}``."""

    name = "stock"

    def path(self, room: int, credential: str = "", resume_from: int | None = None) -> str:
        return f"/ws/room/{room}/"

    def send_frame(self, content: str, frame_id: int, client_id: str) -> str:
        return json.dumps({"message": content})


class AppProtocol(Protocol):
    """smartcampus-chat's protocol version 1 (docs/protocol.md).

    ``ws/chat/<slug>/?v=1&ticket=<ticket>`` (a signed ticket from
    ``smartcampus_chat.realtime.tickets.issue_ticket``, one user per connection; with
    ``resume_from``, ``&event_seq=N`` replays the room after N at once); ``message.send``
    with a ``client_id`` → ``ack`` (after commit) to the sender and ``message.new`` to the
    room; ``resume`` → the missed changes, then ``resumed``.
    """

    name = "app"
    acks = True
    version = 1
    _kinds = {
        "message.new": FrameKind.DELIVERY,
        "ack": FrameKind.ACK,
        "error": FrameKind.ERROR,
        "resumed": FrameKind.RESUMED,
    }

    def path(self, room: int, credential: str = "", resume_from: int | None = None) -> str:
        # The bench servers use the default prefix; the load generator runs without Django
        # settings, so the path is not read from WS_PREFIX (``room_path``).
        return add_query(
            f"/{WS_PATH}{app_room_slug(room)}/",
            v=self.version,
            ticket=credential or None,
            event_seq=resume_from,
        )

    def resume_frame(self, room: int, event_seq: int, frame_id: int) -> str:
        return client_frame(
            type="resume", room=app_room_slug(room), event_seq=event_seq, id=frame_id
        )

    @staticmethod
    def resumed_event_seq(frame: str) -> tuple[int, bool]:
        """``(event_seq, truncated)`` of a ``resumed`` frame."""
        data = parse_server_frame(frame)
        return int(data["event_seq"]), bool(data["truncated"])

    def send_frame(self, content: str, frame_id: int, client_id: str) -> str:
        return client_frame(type="message.send", content=content, client_id=client_id, id=frame_id)

    def kind(self, frame: str) -> FrameKind:
        match = _TYPE_RE.match(frame)
        if match is not None:
            frame_type = match.group(1)
        else:
            try:
                frame_type = str(json.loads(frame).get("type"))
            except (ValueError, AttributeError):
                return FrameKind.OTHER
        return self._kinds.get(frame_type, FrameKind.OTHER)


def app_room_slug(room: int) -> str:
    return f"bench-room-{room}"


PROTOCOLS: dict[str, type[Protocol]] = {
    cls.name: cls for cls in (BareProtocol, StockChannelsProtocol, AppProtocol)
}
