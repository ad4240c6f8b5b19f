"""Read markers and unread counts."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.serializers.fields import MAX_INTEGER, StrictIntegerField
from smartcampus_chat.api.shapes import UserRefSerializer


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


class ReceiptSerializer(serializers.Serializer):
    user = UserRefSerializer()
    last_read_seq = serializers.IntegerField(help_text=_("The last message they read."))


class ReceiptsSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(
        help_text=_(
            "Whether I am shown receipts here: the room's setting, its size "
            "(READ_RECEIPTS_MAX_MEMBERS) and my own preference."
        )
    )
    readers = ReceiptSerializer(
        many=True, help_text=_("The other members who share their receipts.")
    )


class PreferencesSerializer(serializers.Serializer):
    read_receipts = serializers.BooleanField(
        help_text=_(
            "Show others when I have seen their messages, and see when they have seen mine."
        )
    )
