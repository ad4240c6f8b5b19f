"""A room's members: list them, remove one (moderators)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import (
    ROOM_SLUG,
    USER_ID,
    ChatAPIView,
    document,
    optional_body,
    path_id,
)
from smartcampus_chat.api.pagination import LimitOffsetPage
from smartcampus_chat.api.serializers.members import MemberSerializer, MentionCandidateSerializer
from smartcampus_chat.api.serializers.sanctions import ReasonInputSerializer
from smartcampus_chat.models import ChatParticipant
from smartcampus_chat.queries.search import clean_search

MENTION_SEARCH = OpenApiParameter(
    "q",
    OpenApiTypes.STR,
    description="The start of a member's name (or username) typed after @.",
)


@extend_schema(tags=["rooms"], parameters=[ROOM_SLUG])
class MemberViewSet(ChatAPIView, viewsets.GenericViewSet):
    pagination_class = LimitOffsetPage
    serializer_class = MemberSerializer
    lookup_field = "user_id"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self) -> QuerySet[ChatParticipant]:
        if getattr(self, "swagger_fake_view", False):
            return ChatParticipant.objects.none()
        room, _access = services.get_room_for(self.request.user, self.kwargs["room_slug"])
        return queries.participants(room)

    @document(summary="Members of a room, with role and online state")
    def list(self, request: Request, room_slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @document(
        summary="Remove a member from a room (moderators); optional JSON body {reason}",
        parameters=[USER_ID],
        request=ReasonInputSerializer,
        responses=None,
    )
    def destroy(self, request: Request, room_slug: str, user_id: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        reason = optional_body(request).get("reason", "")
        services.check_remove_member(request.user, room, path_id(user_id), reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @document(
        summary="Whom I may mention in a room (the composer's @ autocomplete)",
        parameters=[MENTION_SEARCH],
        responses=MentionCandidateSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="mentionable", pagination_class=None)
    def mentionable(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        found = queries.mention_candidates(
            room, access, clean_search(request.query_params.get("q"))
        )
        return Response(MentionCandidateSerializer(found, many=True).data)
