"""Rooms: list, detail, create, update, join, leave, and private conversations."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import SLUG, ChatAPIView, SearchFilter, document
from smartcampus_chat.api.notifications import RoomNotificationActions
from smartcampus_chat.api.pagination import LimitOffsetPage
from smartcampus_chat.api.reads import ReadMarkerActions
from smartcampus_chat.api.serializers.rooms import (
    PrivateRoomInputSerializer,
    RoomCreateSerializer,
    RoomDetailSerializer,
    RoomListQuerySerializer,
    RoomSerializer,
    RoomUpdateSerializer,
)
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.models import ChatRoom


def room_detail(user: Any, room: ChatRoom, access: RoomAccess) -> dict[str, Any]:
    """A room with the user's access, unread count and last message (fixed query count)."""
    detail = queries.room_detail(user, room, access)
    context = {
        "access": detail.access,
        "is_member": detail.is_member,
        "can_join": detail.can_join,
        "last_messages": detail.last_messages,
        "titles": {room.pk: detail.title},
    }
    return dict(RoomDetailSerializer(detail.room, context=context).data)


@extend_schema(tags=["rooms"])
class RoomViewSet(ChatAPIView, ReadMarkerActions, RoomNotificationActions, viewsets.GenericViewSet):
    lookup_field = "slug"
    # Any segment reaches the view, which answers the API's JSON 404 for a bad one.
    lookup_value_regex = r"[^/]+"
    pagination_class = LimitOffsetPage
    filter_backends = [SearchFilter]
    search_fields = ["name"]
    serializer_class = RoomSerializer
    error_statuses = {"join": ("409",)}

    def get_queryset(self) -> QuerySet[ChatRoom]:
        if getattr(self, "swagger_fake_view", False):
            return ChatRoom.objects.none()
        params = RoomListQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return queries.room_list(
            self.request.user,
            scope=params.validated_data["scope"],
            room_type=params.validated_data.get("type"),
        )

    @document(
        summary="List my rooms, or the rooms I may join",
        parameters=[RoomListQuerySerializer],
        responses=RoomSerializer(many=True),
    )
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        context = {
            "last_messages": queries.last_messages(page),
            "titles": queries.room_titles(request.user, page),
        }
        data = RoomSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    @document(
        summary="A room, with my access to it", parameters=[SLUG], responses=RoomDetailSerializer
    )
    def retrieve(self, request: Request, slug: str) -> Response:
        room, access = services.get_room_for(request.user, slug)
        return Response(room_detail(request.user, room, access))

    @document(
        summary="Create a public, group or course room",
        request=RoomCreateSerializer,
        responses={201: RoomDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        params = RoomCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        room = services.check_create_room(request.user, **params.validated_data)
        access = services.room_access(request.user, room)
        return Response(room_detail(request.user, room, access), status=status.HTTP_201_CREATED)

    @document(
        summary="Rename, describe, archive or unarchive a room (moderators)",
        parameters=[SLUG],
        request=RoomUpdateSerializer,
        responses=RoomDetailSerializer,
    )
    def partial_update(self, request: Request, slug: str) -> Response:
        room, _access = services.get_room_for(request.user, slug)
        params = RoomUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        room = services.check_update_room(request.user, room, **params.validated_data)
        access = services.room_access(request.user, room)
        return Response(room_detail(request.user, room, access))

    @document(
        summary="Join a room", parameters=[SLUG], request=None, responses=RoomDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def join(self, request: Request, slug: str) -> Response:
        room, _access = services.get_room_for(request.user, slug)
        services.check_join_room(request.user, room)
        access = services.room_access(request.user, room)
        return Response(room_detail(request.user, room, access))

    @document(
        summary="Leave a room (not a private conversation)",
        parameters=[SLUG],
        request=None,
        responses={204: None},
    )
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, slug: str) -> Response:
        room, access = services.get_room_for(request.user, slug)
        services.check_leave_room(request.user, room, access)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PrivateRoomView(ChatAPIView):
    error_statuses = {"post": ("404",)}

    @document(
        tags=["rooms"],
        summary="Open (or find) my private conversation with a user",
        request=PrivateRoomInputSerializer,
        responses={
            201: OpenApiResponse(RoomDetailSerializer, description=_("Created.")),
            200: OpenApiResponse(RoomDetailSerializer, description=_("It already existed.")),
        },
    )
    def post(self, request: Request) -> Response:
        params = PrivateRoomInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        room, created = services.check_open_private(request.user, params.validated_data["user"])
        access = services.room_access(request.user, room)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(room_detail(request.user, room, access), status=code)
