"""Q&A mode (docs/questions.md): a room's questions; up-vote, endorse, resolve.

Asking and answering are sends (``messages``: a reply answers); the room's Q&A mode is a
room setting (``PATCH rooms/<slug>/`` with ``qa_mode``).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import ROOM_SLUG, ChatAPIView, document, path_id
from smartcampus_chat.api.pagination import LimitOffsetPage
from smartcampus_chat.api.reports import MESSAGE
from smartcampus_chat.api.serializers.questions import (
    QuestionSerializer,
    QuestionStateSerializer,
    QuestionVoteSerializer,
)
from smartcampus_chat.domain import questions as rules
from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.models import ChatMessage
from smartcampus_chat.queries.questions import question_state

STATUS = OpenApiParameter(
    "status",
    OpenApiTypes.STR,
    enum=list(rules.STATUSES),
    description="Which questions (default: unresolved).",
)
SORT = OpenApiParameter(
    "sort",
    OpenApiTypes.STR,
    enum=list(rules.SORTS),
    description="votes: most up-votes first (default); recent: newest first.",
)


@extend_schema(tags=["questions"], parameters=[ROOM_SLUG])
class QuestionsView(ChatAPIView, generics.GenericAPIView):
    pagination_class = LimitOffsetPage
    serializer_class = QuestionSerializer

    @document(
        summary="A room's questions (Q&A mode), with their state and whether I up-voted",
        parameters=[STATUS, SORT],
        responses=QuestionSerializer(many=True),
    )
    def get(self, request: Request, room_slug: str) -> Response:
        status_ = rules.clean_status(request.query_params.get("status"))
        sort = rules.clean_sort(request.query_params.get("sort"))
        room, _access = services.get_room_for(request.user, room_slug)
        rules.check_qa_room(room)
        page = self.paginate_queryset(queries.question_list(room, request.user, status_, sort))
        data = queries.render_questions(list(page or []), room.slug, request.user)
        return self.get_paginated_response(QuestionSerializer(data, many=True).data)


def _state(message: ChatMessage) -> Response:
    state = question_state(message.room, message.pk)
    if state is None:
        raise NotFound()
    return Response(QuestionStateSerializer(state).data)


@extend_schema(tags=["questions"], parameters=[ROOM_SLUG, MESSAGE])
class VoteView(ChatAPIView):
    error_statuses = {"post": ("409",), "delete": ("409",)}

    @document(
        summary="Up-vote a question (once; idempotent)",
        request=None,
        responses={
            201: OpenApiResponse(QuestionVoteSerializer, description="Voted."),
            200: OpenApiResponse(QuestionVoteSerializer, description="Voted before."),
        },
    )
    def post(self, request: Request, room_slug: str, message_id: str) -> Response:
        return self._vote(request, room_slug, message_id, vote=True)

    @document(
        summary="Take my up-vote back (idempotent)", request=None, responses=QuestionVoteSerializer
    )
    def delete(self, request: Request, room_slug: str, message_id: str) -> Response:
        return self._vote(request, room_slug, message_id, vote=False)

    def _vote(self, request: Request, room_slug: str, message_id: str, *, vote: bool) -> Response:
        message, access = queries.message_in_room(request.user, room_slug, path_id(message_id))
        result = services.check_vote(request.user, message, access, vote=vote)
        data = QuestionVoteSerializer(
            {"message_id": message.pk, "voted": result.voted, "votes": result.votes}
        ).data
        code = status.HTTP_201_CREATED if vote and result.changed else status.HTTP_200_OK
        return Response(data, status=code)


@extend_schema(tags=["questions"], parameters=[ROOM_SLUG, MESSAGE])
class EndorseView(ChatAPIView):
    error_statuses = {"post": ("409",), "delete": ("409",)}

    @document(
        summary="Endorse an answer (teachers, TAs: the room's moderators); its question's state",
        request=None,
        responses=QuestionStateSerializer,
    )
    def post(self, request: Request, room_slug: str, message_id: str) -> Response:
        return self._endorse(request, room_slug, message_id, endorse=True)

    @document(
        summary="Withdraw the endorsement of an answer; its question's state",
        request=None,
        responses=QuestionStateSerializer,
    )
    def delete(self, request: Request, room_slug: str, message_id: str) -> Response:
        return self._endorse(request, room_slug, message_id, endorse=False)

    def _endorse(
        self, request: Request, room_slug: str, message_id: str, *, endorse: bool
    ) -> Response:
        message, access = queries.message_in_room(request.user, room_slug, path_id(message_id))
        services.check_endorse(request.user, message, access, endorse=endorse)
        assert message.reply_to is not None  # check_endorse: an answer to a question.
        return _state(message.reply_to)


@extend_schema(tags=["questions"], parameters=[ROOM_SLUG, MESSAGE])
class ResolveView(ChatAPIView):
    error_statuses = {"post": ("409",), "delete": ("409",)}

    @document(
        summary="Mark a question resolved (moderators, its author); its state",
        request=None,
        responses=QuestionStateSerializer,
    )
    def post(self, request: Request, room_slug: str, message_id: str) -> Response:
        return self._resolve(request, room_slug, message_id, resolve=True)

    @document(
        summary="Reopen a question; its state", request=None, responses=QuestionStateSerializer
    )
    def delete(self, request: Request, room_slug: str, message_id: str) -> Response:
        return self._resolve(request, room_slug, message_id, resolve=False)

    def _resolve(
        self, request: Request, room_slug: str, message_id: str, *, resolve: bool
    ) -> Response:
        message, access = queries.message_in_room(request.user, room_slug, path_id(message_id))
        services.check_resolve(request.user, message, access, resolve=resolve)
        return _state(message)
