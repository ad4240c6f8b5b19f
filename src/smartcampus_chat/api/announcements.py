"""Announcements: acknowledge one; who has and has not (the room's moderators, staff).

Posting one is a send with ``announcement`` (:mod:`.messages`: the one send pipeline).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import ROOM_SLUG, ChatAPIView, document, path_id
from smartcampus_chat.api.reports import MESSAGE
from smartcampus_chat.api.serializers.announcements import AckSerializer, AckStatusSerializer
from smartcampus_chat.api.shapes import MessageSerializer


@extend_schema(tags=["announcements"], parameters=[ROOM_SLUG])
class PendingAnnouncementsView(ChatAPIView):
    @document(
        summary="The room's announcements I am asked to acknowledge and have not, oldest first",
        responses=MessageSerializer(many=True),
    )
    def get(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        messages = queries.pending_announcements(request.user, room, access)
        context = {"room_slug": room.slug}
        return Response(MessageSerializer(messages, many=True, context=context).data)


@extend_schema(tags=["announcements"], parameters=[ROOM_SLUG, MESSAGE])
class AcknowledgeView(ChatAPIView):
    error_statuses = {"post": ("409",)}

    @document(
        summary='Acknowledge an announcement ("I have read this"; idempotent)',
        request=None,
        responses={
            201: OpenApiResponse(AckSerializer, description="Acknowledged."),
            200: OpenApiResponse(AckSerializer, description="Acknowledged before."),
        },
    )
    def post(self, request: Request, room_slug: str, message_id: str) -> Response:
        message, access = queries.message_in_room(request.user, room_slug, path_id(message_id))
        result = services.check_acknowledge(request.user, message, access)
        data = AckSerializer({"message_id": message.pk, "acked_at": result.ack.acked_at}).data
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(data, status=code)


@extend_schema(tags=["announcements"], parameters=[ROOM_SLUG, MESSAGE])
class AcksView(ChatAPIView):
    @document(
        summary="Who acknowledged an announcement, who has not (moderators, staff)",
        responses=AckStatusSerializer,
    )
    def get(self, request: Request, room_slug: str, message_id: str) -> Response:
        message, _access = queries.acks_message(request.user, room_slug, path_id(message_id))
        return Response(AckStatusSerializer(queries.ack_status(message)).data)
