"""Announcements: an acknowledgement, and who has and has not acknowledged."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.shapes import UserRefSerializer, UTCDateTimeField


class AckSerializer(serializers.Serializer):
    """My acknowledgement of an announcement."""

    message_id = serializers.IntegerField()
    acked_at = UTCDateTimeField()


class AckRowSerializer(serializers.Serializer):
    user = UserRefSerializer()
    acked_at = UTCDateTimeField(allow_null=True, help_text=_("None: not yet."))


class AckStatusSerializer(serializers.Serializer):
    """Who acknowledged an announcement and who has not (the room's moderators, staff)."""

    message_id = serializers.IntegerField(source="message.pk")
    ack_due = UTCDateTimeField(source="message.ack_due", allow_null=True)
    acked = serializers.IntegerField(help_text=_("How many acknowledged."))
    total = serializers.IntegerField(help_text=_("How many are asked to."))
    acknowledged = AckRowSerializer(many=True, help_text=_("By name."))
    pending = AckRowSerializer(many=True, help_text=_("By name."))
