"""WebSocket tickets: open a socket without the session cookie (token clients)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat.api.base import ChatAPIView, document
from smartcampus_chat.api.serializers.tickets import TicketSerializer
from smartcampus_chat.conf import app_settings
from smartcampus_chat.protocol.frames import ws_path
from smartcampus_chat.realtime import tickets


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
