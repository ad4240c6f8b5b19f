"""Serializers of the REST API, importable by hosts (``smartcampus_chat.api.serializers``).

One module per feature, with the same names as the views (``api/rooms.py`` renders with
``serializers/rooms.py``); every serializer is re-exported here.

Input serializers check types, choices and lengths (limits read from ``SMARTCAMPUS_CHAT``
when the serializer is built, so they follow the settings); the services then apply the
domain rules and the policy. Output serializers render the same shapes as the WebSocket
protocol: :class:`MessageSerializer` and :class:`UserRefSerializer` are the protocol's models
rendered by the protocol's own functions (:class:`ProtocolSerializer` in ``api.shapes``),
so a client can merge REST pages and real-time frames.
"""

from __future__ import annotations

from smartcampus_chat.api.serializers.errors import ErrorDetailSerializer, ErrorSerializer
from smartcampus_chat.api.serializers.fields import (
    MAX_INTEGER,
    SettingsLengthMixin,
    StrictIntegerField,
)
from smartcampus_chat.api.serializers.members import MemberSerializer
from smartcampus_chat.api.serializers.messages import (
    HistoryQuerySerializer,
    MessageCreateSerializer,
    MessageUpdateSerializer,
)
from smartcampus_chat.api.serializers.reads import (
    ReadMarkerInputSerializer,
    ReadMarkerSerializer,
    UnreadSummarySerializer,
)
from smartcampus_chat.api.serializers.rooms import (
    AccessSerializer,
    PrivateRoomInputSerializer,
    RoomCreateSerializer,
    RoomDetailSerializer,
    RoomListQuerySerializer,
    RoomSerializer,
    RoomUpdateSerializer,
)
from smartcampus_chat.api.serializers.tickets import TicketSerializer
from smartcampus_chat.api.shapes import (
    MessageSerializer,
    ProtocolSerializer,
    UserRefSerializer,
    UTCDateTimeField,
)

__all__ = [
    "MAX_INTEGER",
    "AccessSerializer",
    "ErrorDetailSerializer",
    "ErrorSerializer",
    "HistoryQuerySerializer",
    "MemberSerializer",
    "MessageCreateSerializer",
    "MessageSerializer",
    "MessageUpdateSerializer",
    "PrivateRoomInputSerializer",
    "ProtocolSerializer",
    "ReadMarkerInputSerializer",
    "ReadMarkerSerializer",
    "RoomCreateSerializer",
    "RoomDetailSerializer",
    "RoomListQuerySerializer",
    "RoomSerializer",
    "RoomUpdateSerializer",
    "SettingsLengthMixin",
    "StrictIntegerField",
    "TicketSerializer",
    "UTCDateTimeField",
    "UnreadSummarySerializer",
    "UserRefSerializer",
]
