"""A room's office hours (docs/office-hours.md): what the person asking may see of them,
opening and closing (teachers), raising a hand and leaving (students), claiming and
finishing (teachers). Each view parses, calls one service or query and answers the office
hours as the person now sees them (the same view every time)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import ROOM_SLUG, ChatAPIView, document, json_object, path_id
from smartcampus_chat.api.serializers.office_hours import (
    OfficeHoursClaimSerializer,
    OfficeHoursFinishSerializer,
    OfficeHoursOpenSerializer,
    OfficeHoursRaiseSerializer,
    OfficeHoursViewSerializer,
)
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.models import ChatRoom

ENTRY_ID = OpenApiParameter("entry_id", int, OpenApiParameter.PATH, description="Entry id.")


def _view(
    request: Request, room: ChatRoom, access: RoomAccess, code: int = status.HTTP_200_OK
) -> Response:
    """The view after the request's action, with the access the door read (an action here
    changes no one's role)."""
    view = queries.office_hours_view(request.user, room, access)
    return Response(OfficeHoursViewSerializer(view).data, status=code)


@extend_schema(tags=["office hours"], parameters=[ROOM_SLUG])
class OfficeHoursView(ChatAPIView):
    @document(
        summary="A room's office hours as you may see them (teachers: the queue, the figures)",
        responses=OfficeHoursViewSerializer,
    )
    def get(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        return _view(request, room, access)

    @document(
        summary="Open office hours now, or schedule them (teachers)",
        request=OfficeHoursOpenSerializer,
        responses={201: OfficeHoursViewSerializer},
    )
    def post(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        body = json_object(request)
        services.check_open_office_hours(
            request.user, room, starts_at=body.get("starts_at"), ends_at=body.get("ends_at")
        )
        return _view(request, room, access, status.HTTP_201_CREATED)

    @document(
        summary="Close office hours (teachers): who still waits has left; the figures follow",
        request=None,
        responses=OfficeHoursViewSerializer,
    )
    def delete(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        services.check_close_office_hours(request.user, room)
        return _view(request, room, access)


@extend_schema(tags=["office hours"], parameters=[ROOM_SLUG])
class OfficeHoursQueueView(ChatAPIView):
    @document(
        summary="Raise your hand: join the queue with a short topic",
        request=OfficeHoursRaiseSerializer,
        responses={201: OfficeHoursViewSerializer},
    )
    def post(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        services.check_raise_hand(request.user, room, json_object(request).get("topic", ""))
        return _view(request, room, access, status.HTTP_201_CREATED)

    @document(summary="Leave the queue", request=None, responses=None)
    def delete(self, request: Request, room_slug: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        services.check_leave_queue(request.user, room)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["office hours"], parameters=[ROOM_SLUG])
class OfficeHoursClaimView(ChatAPIView):
    @document(
        summary="Claim the next student, or a given one (teachers): opens your conversation",
        request=OfficeHoursClaimSerializer,
        responses=OfficeHoursViewSerializer,
    )
    def post(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        services.check_claim(request.user, room, json_object(request).get("entry"))
        return _view(request, room, access)


@extend_schema(tags=["office hours"], parameters=[ROOM_SLUG, ENTRY_ID])
class OfficeHoursFinishView(ChatAPIView):
    @document(
        summary="Mark a student helped (done) or absent (no_show) (teachers)",
        request=OfficeHoursFinishSerializer,
        responses=OfficeHoursViewSerializer,
    )
    def post(self, request: Request, room_slug: str, entry_id: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        outcome = json_object(request).get("outcome")
        services.check_finish(request.user, room, path_id(entry_id), outcome)
        return _view(request, room, access)
