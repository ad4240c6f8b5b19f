"""Read markers, unread counts and receipts: ``POST rooms/{slug}/read/``, ``GET
rooms/{slug}/receipts/``, ``GET unread/``; the reader's ``preferences/``."""

from __future__ import annotations

from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import SLUG, ChatAPIView, document
from smartcampus_chat.api.serializers.reads import (
    PreferencesSerializer,
    ReadMarkerInputSerializer,
    ReadMarkerSerializer,
    ReceiptsSerializer,
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

    @document(
        summary='Who has read how far ("Seen by"), where receipts are shown',
        parameters=[SLUG],
        responses=ReceiptsSerializer,
    )
    @action(detail=True, methods=["get"])
    def receipts(self, request: Request, slug: str) -> Response:
        room, _access = services.get_room_for(request.user, slug)
        found = queries.read_receipts(room, request.user)
        data = {"enabled": found is not None, "readers": found or []}
        return Response(ReceiptsSerializer(data).data)


class UnreadView(ChatAPIView):
    @document(
        tags=["rooms"], summary="Unread counts across my rooms", responses=UnreadSummarySerializer
    )
    def get(self, request: Request) -> Response:
        summary = queries.unread_summary(request.user)
        return Response(UnreadSummarySerializer(summary).data)


class PreferencesView(ChatAPIView):
    @document(tags=["people"], summary="My chat preferences", responses=PreferencesSerializer)
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(queries.preferences_of(request.user)).data)

    @document(
        tags=["people"],
        summary="Change my chat preferences",
        request=PreferencesSerializer,
        responses=PreferencesSerializer,
    )
    def patch(self, request: Request) -> Response:
        params = PreferencesSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        changed = services.check_set_preferences(request.user, **params.validated_data)
        return Response(PreferencesSerializer(changed).data)
