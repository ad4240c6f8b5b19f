"""Read markers and unread counts: ``POST rooms/{slug}/read/`` and ``GET unread/``."""

from __future__ import annotations

from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import SLUG, ChatAPIView, document
from smartcampus_chat.api.serializers.reads import (
    ReadMarkerInputSerializer,
    ReadMarkerSerializer,
    UnreadSummarySerializer,
)
from smartcampus_chat.services.reads import unread_frame


class ReadMarkerActions:
    """The ``read`` action of the room view set (``rooms/{slug}/read/``, ``api-room-read``)."""

    @document(
        summary="Move my read marker forward",
        parameters=[SLUG],
        request=ReadMarkerInputSerializer,
        responses=ReadMarkerSerializer,
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, slug: str) -> Response:
        room, access = services.get_room_for(request.user, slug)
        params = ReadMarkerInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        marker = services.check_mark_read(request.user, room, params.validated_data["seq"], access)
        counts = unread_frame(request.user, room, marker)
        return Response(ReadMarkerSerializer(counts.model_dump()).data)


class UnreadView(ChatAPIView):
    @document(
        tags=["rooms"], summary="Unread counts across my rooms", responses=UnreadSummarySerializer
    )
    def get(self, request: Request) -> Response:
        summary = queries.unread_summary(request.user)
        return Response(UnreadSummarySerializer(summary).data)
