"""A room's messages: history pages, one message, send, edit, delete."""

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
from smartcampus_chat.api.base import (
    MESSAGE_ID,
    ROOM_SLUG,
    ChatAPIView,
    document,
    optional_body,
    path_id,
)
from smartcampus_chat.api.pagination import SequencePagination
from smartcampus_chat.api.serializers.anonymity import RevealInputSerializer, RevealSerializer
from smartcampus_chat.api.serializers.messages import (
    HistoryQuerySerializer,
    MessageCreateSerializer,
    MessageUpdateSerializer,
    ReactionInputSerializer,
)
from smartcampus_chat.api.serializers.sanctions import MessageEditSerializer, ReasonInputSerializer
from smartcampus_chat.api.shapes import MessageSerializer
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.models import ChatMessage


@extend_schema(tags=["messages"], parameters=[ROOM_SLUG])
class MessageViewSet(ChatAPIView, viewsets.GenericViewSet):
    pagination_class = SequencePagination
    serializer_class = MessageSerializer
    lookup_value_regex = r"[^/]+"
    error_statuses = {
        "create": ("409", "422"),
        "partial_update": ("409", "422"),
        "destroy": ("409",),
        "reactions": ("409",),
        "pin": ("409",),
        "preview": ("409",),
    }

    def get_queryset(self) -> QuerySet[ChatMessage]:
        # History is read through queries.history(); this only serves the schema generator.
        return ChatMessage.objects.none()

    def _message(self, room_slug: str, pk: str) -> tuple[ChatMessage, RoomAccess]:
        return queries.message_in_room(self.request.user, room_slug, path_id(pk))

    def _render(self, message: ChatMessage, access: RoomAccess | None = None) -> dict[str, Any]:
        context = {
            "room_slug": message.room.slug,
            "show_deleted_content": queries.shows_deleted_content(access),
            "viewer_id": self.request.user.pk,
        }
        return dict(MessageSerializer(message, context=context).data)

    @document(
        summary="A page of a room's history (keyset pagination on seq)",
        parameters=[HistoryQuerySerializer],
        responses=MessageSerializer(many=True),
    )
    def list(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        params = HistoryQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        cursor = params.validated_data
        page = queries.history(
            room, before=cursor.get("before"), after=cursor.get("after"), limit=cursor.get("limit")
        )
        queries.with_my_votes(page.messages, request.user)
        context = {
            "room_slug": room.slug,
            "show_deleted_content": queries.shows_deleted_content(access),
            "viewer_id": request.user.pk,
        }
        data = MessageSerializer(page.messages, many=True, context=context).data
        paginator = SequencePagination()
        return paginator.paginated_response(
            data,
            request=request,
            page=page,
            before=cursor.get("before"),
            after=cursor.get("after"),
        )

    @document(summary="One message", parameters=[MESSAGE_ID])
    def retrieve(self, request: Request, room_slug: str, pk: str) -> Response:
        message, access = self._message(room_slug, pk)
        queries.with_my_votes([message], request.user)
        return Response(self._render(message, access))

    @document(
        summary="Send a message (idempotent on client_id)",
        request=MessageCreateSerializer,
        responses={
            201: OpenApiResponse(MessageSerializer, description=_("Stored.")),
            200: OpenApiResponse(
                MessageSerializer, description=_("Already stored under this client_id.")
            ),
        },
    )
    def create(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        params = MessageCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        result = services.check_send_message(
            request.user,
            room,
            params.validated_data["content"],
            client_id=params.validated_data.get("client_id"),
            reply_to=params.validated_data.get("reply_to"),
            access=access,
            attachments=params.validated_data["attachments"],
            announcement=params.validated_data["announcement"],
            requires_ack=params.validated_data["requires_ack"],
            ack_due=params.validated_data["ack_due"],
            anonymous=params.validated_data["anonymous"],
            poll=params.validated_data["poll"],
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(self._render(result.message), status=code)

    @document(
        summary="Edit my message",
        parameters=[MESSAGE_ID],
        request=MessageUpdateSerializer,
        responses=MessageSerializer,
    )
    def partial_update(self, request: Request, room_slug: str, pk: str) -> Response:
        message, access = self._message(room_slug, pk)
        params = MessageUpdateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        message = services.check_edit_message(
            request.user, message, params.validated_data["content"], access
        )
        return Response(self._render(message))

    @document(
        summary="Delete a message (soft delete); answers the deleted message. A moderator "
        "deleting someone else's may give a reason (JSON body {reason}: the audit log)",
        parameters=[MESSAGE_ID],
        request=ReasonInputSerializer,
        responses={200: MessageSerializer},
    )
    def destroy(self, request: Request, room_slug: str, pk: str) -> Response:
        message, access = self._message(room_slug, pk)
        reason = optional_body(request).get("reason", "")
        message = services.check_delete_message(request.user, message, access, reason=reason)
        return Response(self._render(message))

    @document(
        methods=["POST"],
        summary="Add my reaction (adding it again changes nothing)",
        parameters=[MESSAGE_ID],
        request=ReactionInputSerializer,
        responses={200: MessageSerializer},
    )
    @document(
        methods=["DELETE"],
        summary="Remove my reaction (removing one not there changes nothing)",
        parameters=[MESSAGE_ID, ReactionInputSerializer],
        request=None,
        responses={200: MessageSerializer},
    )
    @action(detail=True, methods=["post", "delete"], url_path="reactions")
    def reactions(self, request: Request, room_slug: str, pk: str) -> Response:
        add = request.method == "POST"
        data = request.data if add else request.query_params
        return self._react(request, room_slug, pk, data, add=add)

    def _react(
        self, request: Request, room_slug: str, pk: str, data: Any, *, add: bool
    ) -> Response:
        message, access = self._message(room_slug, pk)
        params = ReactionInputSerializer(data=data)
        params.is_valid(raise_exception=True)
        message = services.check_react(
            request.user, message, params.validated_data["emoji"], access, add=add
        )
        return Response(self._render(message))

    @document(
        summary="Pin a message (POST) or unpin it (DELETE): the room's moderators",
        parameters=[MESSAGE_ID],
        request=None,
        responses={200: MessageSerializer},
    )
    @action(detail=True, methods=["post", "delete"], url_path="pin")
    def pin(self, request: Request, room_slug: str, pk: str) -> Response:
        message, access = self._message(room_slug, pk)
        pinned = request.method == "POST"
        message = services.check_pin(request.user, message, access, pinned=pinned)
        return Response(self._render(message))

    @document(
        summary="Remove the link preview of my message (removing it again changes nothing)",
        parameters=[MESSAGE_ID],
        request=None,
        responses={200: MessageSerializer},
    )
    @action(detail=True, methods=["delete"], url_path="preview")
    def preview(self, request: Request, room_slug: str, pk: str) -> Response:
        message, access = self._message(room_slug, pk)
        message = services.check_remove_preview(request.user, message, access)
        return Response(self._render(message))

    @document(
        summary="Reveal who wrote an anonymous message (moderators, staff; audit-logged)",
        parameters=[MESSAGE_ID],
        request=RevealInputSerializer,
        responses={200: RevealSerializer},
    )
    @action(detail=True, methods=["post"], url_path="reveal")
    def reveal(self, request: Request, room_slug: str, pk: str) -> Response:
        message, access = self._message(room_slug, pk)
        params = RevealInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        revealed = services.check_reveal_author(
            request.user, message, access, params.validated_data["reason"]
        )
        return Response(RevealSerializer(revealed).data)

    @document(
        summary="A message's earlier texts, oldest first (the room's moderators)",
        parameters=[MESSAGE_ID],
        responses=MessageEditSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="edits", pagination_class=None)
    def edits(self, request: Request, room_slug: str, pk: str) -> Response:
        message, access = self._message(room_slug, pk)
        history = queries.edit_history(message, access)
        return Response(MessageEditSerializer(history, many=True).data)

    @document(
        summary="The room's pinned messages, newest pin first",
        responses=MessageSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="pinned", pagination_class=None)
    def pinned(self, request: Request, room_slug: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        context = {"room_slug": room.slug, "show_deleted_content": False}
        context["viewer_id"] = request.user.pk
        messages = queries.pinned_messages(room)
        return Response(MessageSerializer(messages, many=True, context=context).data)
