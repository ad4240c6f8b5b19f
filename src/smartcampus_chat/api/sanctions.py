"""A room's moderators act on its members: mute, ban, lift, change a role; list the bans.

Each view parses, calls one service (which asks the policy) and answers the sanction as it
now stands. Refusals have the API's error shape: ``forbidden`` for someone who may not act
on that member, ``invalid`` with ``fields.duration`` or ``fields.reason`` for bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import (
    ROOM_SLUG,
    USER_ID,
    ChatAPIView,
    document,
    json_object,
    path_id,
)
from smartcampus_chat.api.serializers.members import MemberSerializer
from smartcampus_chat.api.serializers.sanctions import (
    RoleInputSerializer,
    SanctionInputSerializer,
    SanctionSerializer,
)
from smartcampus_chat.domain.sanctions import is_indefinite
from smartcampus_chat.models import ChatParticipant


def _until(until: Any) -> Any:
    return None if until is None or is_indefinite(until) else until


def _sanction(
    request: Request,
    room_slug: str,
    user_id: str,
    check: Callable[..., ChatParticipant],
    until_field: str,
) -> Response:
    """Give the sanction ``check`` (a mute or a ban) and answer it as it now stands."""
    room, _access = services.get_room_for(request.user, room_slug)
    body = json_object(request)
    participant = check(
        request.user,
        room,
        path_id(user_id),
        duration=body.get("duration"),
        reason=body.get("reason", ""),
    )
    data = {
        "user": participant.user,
        "until": _until(getattr(participant, until_field)),
        "reason": participant.sanction_reason,
    }
    return Response(SanctionSerializer(data).data)


@extend_schema(tags=["moderation"], parameters=[ROOM_SLUG, USER_ID])
class MuteView(ChatAPIView):
    @document(
        summary="Mute a member (moderators): they read but neither post nor react",
        request=SanctionInputSerializer,
        responses=SanctionSerializer,
    )
    def post(self, request: Request, room_slug: str, user_id: str) -> Response:
        return _sanction(request, room_slug, user_id, services.check_mute_member, "silenced_until")

    @document(summary="Unmute a member (moderators)", request=None, responses=None)
    def delete(self, request: Request, room_slug: str, user_id: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        services.check_unmute_member(request.user, room, path_id(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["moderation"], parameters=[ROOM_SLUG, USER_ID])
class BanView(ChatAPIView):
    @document(
        summary="Ban someone from a room (moderators): out at once, no rejoining until it ends",
        request=SanctionInputSerializer,
        responses=SanctionSerializer,
    )
    def post(self, request: Request, room_slug: str, user_id: str) -> Response:
        return _sanction(request, room_slug, user_id, services.check_ban_member, "banned_until")

    @document(
        summary="Lift a ban or removal before its end (moderators)", request=None, responses=None
    )
    def delete(self, request: Request, room_slug: str, user_id: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        services.check_lift_ban(request.user, room, path_id(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["moderation"], parameters=[ROOM_SLUG, USER_ID])
class RoleView(ChatAPIView):
    @document(
        summary="Give a member another role (read-only, member, moderator)",
        request=RoleInputSerializer,
        responses=MemberSerializer,
    )
    def put(self, request: Request, room_slug: str, user_id: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        participant = services.check_set_role(
            request.user, room, path_id(user_id), json_object(request).get("role")
        )
        return Response(MemberSerializer(participant).data)


@extend_schema(tags=["moderation"], parameters=[ROOM_SLUG])
class BansView(ChatAPIView):
    @document(
        summary="The bans and removals in force in a room (moderators)",
        responses=SanctionSerializer(many=True),
    )
    def get(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        bans = queries.room_bans(room, access)
        data = [{"user": b.user, "until": _until(b.until), "reason": b.reason} for b in bans]
        return Response(SanctionSerializer(data, many=True).data)
