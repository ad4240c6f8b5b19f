"""The API's views, re-exported from their feature modules for code that imported them here.

New code imports from the feature module: ``api.rooms``, ``api.messages``, ``api.reads``,
``api.members``, ``api.people``, ``api.tickets``, ``api.docs`` (``api.base`` for
:class:`ChatAPIView`).
"""

from __future__ import annotations

from smartcampus_chat.api.base import ChatAPIView, NotFoundView, SearchFilter, document
from smartcampus_chat.api.docs import RedocView, SchemaView, SwaggerView
from smartcampus_chat.api.members import MemberViewSet
from smartcampus_chat.api.messages import MessageViewSet
from smartcampus_chat.api.people import UserViewSet
from smartcampus_chat.api.reads import UnreadView
from smartcampus_chat.api.rooms import PrivateRoomView, RoomViewSet
from smartcampus_chat.api.tickets import TicketView

__all__ = [
    "ChatAPIView",
    "MemberViewSet",
    "MessageViewSet",
    "NotFoundView",
    "PrivateRoomView",
    "RedocView",
    "RoomViewSet",
    "SchemaView",
    "SearchFilter",
    "SwaggerView",
    "TicketView",
    "UnreadView",
    "UserViewSet",
    "document",
]
