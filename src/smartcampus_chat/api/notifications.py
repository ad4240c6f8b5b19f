"""Notifications: ``GET notifications/``, ``POST notifications/read/``, and a room's level
and mute, ``GET|PUT rooms/{slug}/notifications/`` (docs/notifications.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils.http import urlencode
from drf_spectacular.utils import OpenApiParameter
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import SLUG, ChatAPIView, document
from smartcampus_chat.api.serializers.notifications import (
    MarkReadInputSerializer,
    NotificationListInputSerializer,
    NotificationPageSerializer,
    RoomNotificationsOutputSerializer,
    RoomNotificationsSerializer,
    UnreadNotificationsSerializer,
)


class NotificationListView(ChatAPIView):
    @document(
        tags=["notifications"],
        summary="My notifications, newest first",
        parameters=[
            OpenApiParameter("unread", bool, description="Only the unread ones."),
            OpenApiParameter("before", int, description="Older than this notification id."),
            OpenApiParameter("limit", int, description="At most this many (1-100, 30)."),
        ],
        responses=NotificationPageSerializer,
    )
    def get(self, request: Request) -> Response:
        params = NotificationListInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        wanted: dict[str, Any] = params.validated_data
        page = queries.notifications_of(
            request.user,
            before=wanted.get("before"),
            unread_only=wanted["unread"],
            limit=wanted["limit"],
        )
        following = None
        if page.next_before is not None:
            query = {"before": page.next_before, "limit": wanted["limit"]}
            if wanted["unread"]:
                query["unread"] = "true"
            following = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
        data = {"results": page.items, "unread": page.unread, "next": following}
        return Response(NotificationPageSerializer(data).data)


class NotificationsReadView(ChatAPIView):
    @document(
        tags=["notifications"],
        summary="Mark notifications read (some, or all)",
        request=MarkReadInputSerializer,
        responses=UnreadNotificationsSerializer,
    )
    def post(self, request: Request) -> Response:
        params = MarkReadInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        left = services.check_mark_notifications_read(
            request.user, params.validated_data["ids"], everything=params.validated_data["all"]
        )
        return Response(UnreadNotificationsSerializer({"unread": left}).data)


class RoomNotificationActions:
    """The ``notifications`` action of the room view set (``rooms/{slug}/notifications/``)."""

    @document(
        methods=["GET"],
        summary="My notification level and mute for a room",
        parameters=[SLUG],
        responses=RoomNotificationsOutputSerializer,
    )
    @document(
        methods=["PUT"],
        summary="Change my notification level and mute for a room",
        parameters=[SLUG],
        request=RoomNotificationsSerializer,
        responses=RoomNotificationsOutputSerializer,
    )
    @action(detail=True, methods=["get", "put"])
    def notifications(self, request: Request, slug: str) -> Response:
        room, access = services.get_room_for(request.user, slug)
        if request.method == "GET":
            found = services.room_notifications(request.user, room, access)
        else:
            params = RoomNotificationsSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            found = services.check_set_room_notifications(
                request.user, room, access, **params.validated_data
            )
        return Response(RoomNotificationsOutputSerializer(asdict(found)).data)
