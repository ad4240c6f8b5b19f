"""WebSocket tickets."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text=_("Signed, short-lived WebSocket ticket."))
    expires_in = serializers.IntegerField(help_text=_("Seconds the ticket stays valid."))
    ws_url = serializers.CharField(
        help_text=_("WebSocket URL with the ticket; replace {room} with a room slug.")
    )
