"""REST API views. Thin: parse with a serializer, call a service or a query, render.

No view writes to the database or decides access: the services do both through the policy,
and raise :class:`~smartcampus_chat.exceptions.ChatError` subclasses that the API's
exception handler renders. A room (or message) the user may not see answers 404, exactly
like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.views import APIView

from smartcampus_chat import queries, services, tickets
from smartcampus_chat.api import config
from smartcampus_chat.api.exceptions import exception_handler
from smartcampus_chat.api.pagination import LimitOffsetPage, SequencePagination
from smartcampus_chat.api.schema import SCHEMA_SETTINGS, ChatAutoSchema
from smartcampus_chat.api.serializers import (
    MAX_INTEGER,
    HistoryQuerySerializer,
    MemberSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    MessageUpdateSerializer,
    PrivateRoomInputSerializer,
    ReadMarkerInputSerializer,
    ReadMarkerSerializer,
    RoomCreateSerializer,
    RoomDetailSerializer,
    RoomListQuerySerializer,
    RoomSerializer,
    RoomUpdateSerializer,
    TicketSerializer,
    UnreadSummarySerializer,
    UserRefSerializer,
)
from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom
from smartcampus_chat.policies import RoomAccess, get_policy
from smartcampus_chat.schema import ws_path
from smartcampus_chat.services.reads import unread_count
from smartcampus_chat.validation import parse_int

SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="Room slug.")
ROOM_SLUG = OpenApiParameter("room_slug", str, OpenApiParameter.PATH, description="Room slug.")
MESSAGE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Message id.")
USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH, description="User id.")


def document(**kwargs: Any) -> Any:
    """``extend_schema`` for a view method, based on :class:`ChatAutoSchema`.

    ``extend_schema`` on a method extends the schema class it finds on the function, else the
    host's ``DEFAULT_SCHEMA_CLASS`` (DRF's own AutoSchema unless the host configured
    drf-spectacular), which cannot render this API. Naming the class here makes the schema
    independent of the host's REST_FRAMEWORK settings.
    """

    def decorator(method: Any) -> Any:
        method.schema = ChatAutoSchema
        return extend_schema(**kwargs)(method)

    return decorator


class SearchFilter(filters.SearchFilter):
    """``?search=``, whatever the host's ``REST_FRAMEWORK["SEARCH_PARAM"]``."""

    search_param = "search"


class ChatAPIView(APIView):
    """What every API view shares: JSON only, the app's settings, one error shape.

    The authentication, permission and throttle classes come from ``SMARTCAMPUS_CHAT`` (read
    per request), never from the host's ``REST_FRAMEWORK`` defaults.
    """

    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer]
    parser_classes: Sequence[type[BaseParser]] = [JSONParser]
    content_negotiation_class = DefaultContentNegotiation
    versioning_class = None
    schema: ViewInspector | None = ChatAutoSchema()
    #: Error statuses beyond the common ones, per action, for the schema.
    error_statuses: dict[str, tuple[str, ...]] = {}

    def get_authenticators(self) -> list[Any]:
        return [cls() for cls in config.authentication_classes()]

    def get_permissions(self) -> list[Any]:
        return [cls() for cls in config.classes("API_PERMISSION_CLASSES")]

    def get_throttles(self) -> list[Any]:
        return [cls() for cls in config.classes("API_THROTTLE_CLASSES")]

    def get_exception_handler(self) -> Any:
        return exception_handler


def _id(value: str) -> int:
    """A primary key from the URL; anything else is a missing object."""
    number = parse_int(value, maximum=MAX_INTEGER)
    if number is None:
        raise NotFound()
    return number


def _room_detail(user: Any, room: ChatRoom, access: RoomAccess) -> dict[str, Any]:
    """A room with the user's access, unread count and last message (fixed query count)."""
    joined = queries.my_rooms(user).filter(pk=room.pk).first()
    shown = joined or room
    context = {
        "access": access,
        "is_member": joined is not None,
        "can_join": joined is None and get_policy().can_join(access, room),
        "last_messages": queries.last_messages([shown]) if joined is not None else {},
    }
    return dict(RoomDetailSerializer(shown, context=context).data)


@extend_schema(tags=["rooms"])
class RoomViewSet(ChatAPIView, viewsets.GenericViewSet):
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
        user = self.request.user
        if params.validated_data["scope"] == "joinable":
            rooms = queries.joinable_rooms(user)
        else:
            rooms = queries.my_rooms(user)
        if "type" in params.validated_data:
            rooms = rooms.filter(room_type=params.validated_data["type"])
        return rooms

    @document(
        summary="List my rooms, or the rooms I may join",
        parameters=[RoomListQuerySerializer],
        responses=RoomSerializer(many=True),
    )
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        context = {"last_messages": queries.last_messages(page)}
        data = RoomSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    @document(
        summary="A room, with my access to it", parameters=[SLUG], responses=RoomDetailSerializer
    )
    def retrieve(self, request: Request, slug: str) -> Response:
        room, access = services.get_room_for(request.user, slug)
        return Response(_room_detail(request.user, room, access))

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
        return Response(_room_detail(request.user, room, access), status=status.HTTP_201_CREATED)

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
        return Response(_room_detail(request.user, room, access))

    @document(
        summary="Join a room", parameters=[SLUG], request=None, responses=RoomDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def join(self, request: Request, slug: str) -> Response:
        room, _access = services.get_room_for(request.user, slug)
        services.check_join_room(request.user, room)
        access = services.room_access(request.user, room)
        return Response(_room_detail(request.user, room, access))

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
        data = {
            "room": room.slug,
            "last_read_seq": marker,
            "unread": unread_count(request.user, room, marker),
        }
        return Response(ReadMarkerSerializer(data).data)


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
        summary="Remove a member from a room (moderators)", parameters=[USER_ID], responses=None
    )
    def destroy(self, request: Request, room_slug: str, user_id: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        services.check_remove_member(request.user, room, _id(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["messages"], parameters=[ROOM_SLUG])
class MessageViewSet(ChatAPIView, viewsets.GenericViewSet):
    pagination_class = SequencePagination
    serializer_class = MessageSerializer
    lookup_value_regex = r"[^/]+"
    error_statuses = {
        "create": ("409",),
        "partial_update": ("409",),
        "destroy": ("409",),
    }

    def get_queryset(self) -> QuerySet[ChatMessage]:
        # History is read through queries.history(); this only serves the schema generator.
        return ChatMessage.objects.none()

    def _message(self, room: ChatRoom, pk: str) -> tuple[ChatMessage, RoomAccess]:
        message, access = services.get_message_for(self.request.user, _id(pk))
        if message.room_id != room.pk:
            raise NotFound()
        return message, access

    def _render(self, message: ChatMessage, access: RoomAccess | None = None) -> dict[str, Any]:
        context = {
            "room_slug": message.room.slug,
            "show_deleted_content": access is not None
            and get_policy().can_see_deleted_content(access),
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
        context = {
            "room_slug": room.slug,
            "show_deleted_content": get_policy().can_see_deleted_content(access),
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
        room, _access = services.get_room_for(request.user, room_slug)
        message, access = self._message(room, pk)
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
        room, _access = services.get_room_for(request.user, room_slug)
        message, access = self._message(room, pk)
        params = MessageUpdateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        message = services.check_edit_message(
            request.user, message, params.validated_data["content"], access
        )
        return Response(self._render(message))

    @document(
        summary="Delete a message (soft delete); answers the deleted message",
        parameters=[MESSAGE_ID],
        responses={200: MessageSerializer},
    )
    def destroy(self, request: Request, room_slug: str, pk: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        message, access = self._message(room, pk)
        message = services.check_delete_message(request.user, message, access)
        return Response(self._render(message))


@extend_schema(tags=["users"])
class UserViewSet(ChatAPIView, viewsets.GenericViewSet):
    pagination_class = LimitOffsetPage
    serializer_class = UserRefSerializer
    filter_backends = [SearchFilter]

    @property
    def search_fields(self) -> list[str]:
        user_model = get_user_model()
        names = {field.name for field in user_model._meta.get_fields()}
        return [user_model.USERNAME_FIELD, *(f for f in ("first_name", "last_name") if f in names)]

    def get_queryset(self) -> QuerySet[Any]:
        user_model = get_user_model()
        return user_model._default_manager.filter(is_active=True).order_by(
            user_model.USERNAME_FIELD, "pk"
        )

    @document(summary="Find active users (to open a conversation)")
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        return self.get_paginated_response(UserRefSerializer(page, many=True).data)


class UnreadView(ChatAPIView):
    @document(
        tags=["rooms"], summary="Unread counts across my rooms", responses=UnreadSummarySerializer
    )
    def get(self, request: Request) -> Response:
        rows: Any = queries.my_rooms(request.user).filter(unread__gt=0)  # type: ignore[misc]
        rooms = [
            {"room": slug, "unread": unread, "last_read_seq": marker or 0}
            for slug, unread, marker in rows.values_list("slug", "unread", "my_last_read_seq")
        ]
        total = sum(row["unread"] for row in rooms)
        return Response(UnreadSummarySerializer({"total": total, "rooms": rooms}).data)


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
        return Response(_room_detail(request.user, room, access), status=code)


class TicketView(ChatAPIView):
    @document(
        tags=["realtime"],
        summary="A short-lived ticket to open a WebSocket without the session cookie",
        request=None,
        responses={201: TicketSerializer},
    )
    def post(self, request: Request) -> Response:
        # Bound to this request's session or token: it stops working when they end.
        ticket = tickets.issue_ticket(request.user, tickets.credential_of(request))
        scheme = "wss" if request.is_secure() else "ws"
        ws_url = f"{scheme}://{request.get_host()}{ws_path('{room}')}?ticket={ticket}"
        data = {"ticket": ticket, "expires_in": app_settings.TICKET_MAX_AGE, "ws_url": ws_url}
        return Response(TicketSerializer(data).data, status=status.HTTP_201_CREATED)


class NotFoundView(ChatAPIView):
    """Every other URL under ``api/``: the API's JSON 404 rather than the site's HTML page."""

    schema = None

    def get_permissions(self) -> list[Any]:
        return []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()


# --- schema and documentation pages -------------------------------------------------------


class _DocsMixin:
    """Authentication and permissions of the schema and docs pages, from the app settings.

    The pages are not part of the API they document: ``schema = None`` leaves them out of
    any schema, including the whole-site one drf-spectacular's ``check --deploy`` builds
    with the host's ``DEFAULT_SCHEMA_CLASS`` (DRF's, which it refuses for these views).
    """

    schema: ViewInspector | None = None

    def get_authenticators(self) -> list[Any]:
        return [cls() for cls in config.authentication_classes()]

    def get_permissions(self) -> list[Any]:
        return [cls() for cls in config.classes("API_SCHEMA_PERMISSION_CLASSES")]

    def get_exception_handler(self) -> Any:
        return exception_handler


class SchemaView(_DocsMixin, SpectacularAPIView):
    """The OpenAPI 3 document of the chat API (YAML, or JSON with ``?format=json``)."""

    custom_settings = SCHEMA_SETTINGS


def _require_docs_apps() -> None:
    if not (apps.is_installed("drf_spectacular") and apps.is_installed("drf_spectacular_sidecar")):
        # Reported at start-up by check smartcampus_chat.W030.
        raise NotFound(str(_("The API docs need drf_spectacular and drf_spectacular_sidecar.")))


def _sidecar(path: str) -> str:
    from django.templatetags.static import static

    return static(f"drf_spectacular_sidecar/{path}")


class SwaggerView(_DocsMixin, SpectacularSwaggerView):
    """Swagger UI, its assets served from the site's static files (no CDN)."""

    url_name = "smartcampus_chat:api-schema"
    title = "smartcampus-chat API"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_docs_apps()
        return super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return _sidecar(f"swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return _sidecar("swagger-ui-dist/favicon-32x32.png")


class RedocView(_DocsMixin, SpectacularRedocView):
    """Redoc, its assets served from the site's static files (no CDN)."""

    url_name = "smartcampus_chat:api-schema"
    title = "smartcampus-chat API"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_docs_apps()
        return super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]

    @staticmethod
    def _redoc_standalone() -> str:
        return _sidecar("redoc/bundles/redoc.standalone.js")
