"""Polls: a poll's results, a vote, closing it.

Posting one is a send with ``poll`` (:mod:`.messages`: the one send pipeline).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import ROOM_SLUG, ChatAPIView, document, path_id
from smartcampus_chat.api.reports import MESSAGE
from smartcampus_chat.api.serializers.polls import PollVoteSerializer
from smartcampus_chat.api.shapes import PollSerializer


@extend_schema(tags=["polls"], parameters=[ROOM_SLUG, MESSAGE])
class PollView(ChatAPIView):
    @document(
        summary="A poll's results, with my own choice (my_votes)",
        responses=PollSerializer,
    )
    def get(self, request: Request, room_slug: str, message_id: str) -> Response:
        message, _access = queries.poll_message(request.user, room_slug, path_id(message_id))
        return Response(PollSerializer(message).data)


@extend_schema(tags=["polls"], parameters=[ROOM_SLUG, MESSAGE])
class PollVoteView(ChatAPIView):
    error_statuses = {"put": ("409", "429")}

    @document(
        summary="Vote, change or withdraw my vote (empty option_ids) while the poll is open",
        request=PollVoteSerializer,
        responses=PollSerializer,
    )
    def put(self, request: Request, room_slug: str, message_id: str) -> Response:
        message, access = queries.poll_message(request.user, room_slug, path_id(message_id))
        params = PollVoteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.check_poll_vote(request.user, message, params.validated_data["option_ids"], access)
        queries.with_my_votes([message], request.user)
        return Response(PollSerializer(message).data)


@extend_schema(tags=["polls"], parameters=[ROOM_SLUG, MESSAGE])
class PollCloseView(ChatAPIView):
    error_statuses = {"post": ("409",)}

    @document(
        summary="Close a poll now (its author, the room's moderators; idempotent)",
        request=None,
        responses=PollSerializer,
    )
    def post(self, request: Request, room_slug: str, message_id: str) -> Response:
        message, access = queries.poll_message(request.user, room_slug, path_id(message_id))
        services.check_close_poll(request.user, message, access)
        queries.with_my_votes([message], request.user)
        return Response(PollSerializer(message).data)
