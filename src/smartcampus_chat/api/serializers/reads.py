"""Read markers and unread counts."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.serializers.fields import MAX_INTEGER, StrictIntegerField


class ReadMarkerInputSerializer(serializers.Serializer):
    seq = StrictIntegerField(
        min_value=0,
        max_value=MAX_INTEGER,
        help_text=_("Number of the last message read (the marker never goes back)."),
    )


class ReadMarkerSerializer(serializers.Serializer):
    room = serializers.CharField(help_text=_("Room slug."))
    last_read_seq = serializers.IntegerField()
    unread = serializers.IntegerField()
    mentions = serializers.IntegerField(
        help_text=_("Of the unread messages, those that mention me (or everyone).")
    )


class UnreadSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text=_("Unread messages across my rooms."))
    mentions = serializers.IntegerField(
        help_text=_("Unread messages that mention me (or everyone), across my rooms.")
    )
    rooms = ReadMarkerSerializer(many=True, help_text=_("My rooms with unread messages."))
