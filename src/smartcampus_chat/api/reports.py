"""Reports and the moderation queue: report a message; a room's queue and its actions.

Each view parses, calls one service or query and answers. The queue is its reviewers'
(the room's moderators, and staff): others get ``forbidden`` (a member) or ``not_found``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import ROOM_SLUG, ChatAPIView, document, json_object, path_id
from smartcampus_chat.api.serializers.reports import (
    MyReportSerializer,
    QueueItemSerializer,
    ReportInputSerializer,
    ResolutionSerializer,
    ResolveInputSerializer,
)

REPORT_ID = OpenApiParameter("report_id", int, OpenApiParameter.PATH, description="Report id.")
MESSAGE = OpenApiParameter("message_id", int, OpenApiParameter.PATH, description="Message id.")


@extend_schema(tags=["moderation"], parameters=[ROOM_SLUG, MESSAGE])
class ReportMessageView(ChatAPIView):
    error_statuses = {"post": ("409",)}

    @document(
        summary="Report a message to the room's moderators (not one's own)",
        request=ReportInputSerializer,
        responses={201: MyReportSerializer},
    )
    def post(self, request: Request, room_slug: str, message_id: str) -> Response:
        message, access = queries.message_in_room(request.user, room_slug, path_id(message_id))
        body = json_object(request)
        report = services.check_report_message(
            request.user, message, access, body.get("category"), body.get("note", "")
        )
        return Response(MyReportSerializer(report).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["moderation"], parameters=[ROOM_SLUG])
class ReportQueueView(ChatAPIView):
    @document(
        summary="The room's moderation queue: open reports and held messages (moderators)",
        responses=QueueItemSerializer(many=True),
    )
    def get(self, request: Request, room_slug: str) -> Response:
        room, access = queries.review_room(request.user, room_slug)
        items = queries.report_queue(room, access)
        context = {"room_slug": room.slug}
        return Response(QueueItemSerializer(items, many=True, context=context).data)


@extend_schema(tags=["moderation"], parameters=[ROOM_SLUG, REPORT_ID])
class ResolveReportView(ChatAPIView):
    @document(
        summary="Act on an item of the queue: dismiss, delete, mute, ban; approve, reject",
        request=ResolveInputSerializer,
        responses=ResolutionSerializer,
    )
    def post(self, request: Request, room_slug: str, report_id: str) -> Response:
        room, _access = queries.review_room(request.user, room_slug)
        report = queries.open_report(room, path_id(report_id))
        body = json_object(request)
        outcome = services.check_resolve_report(
            request.user,
            room,
            report,
            body.get("action"),
            duration=body.get("duration"),
            reason=body.get("reason", ""),
        )
        return Response(ResolutionSerializer({"outcome": outcome}).data)
