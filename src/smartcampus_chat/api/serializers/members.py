"""A room's members."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.shapes import UserRefSerializer, UTCDateTimeField
from smartcampus_chat.models import ChatParticipant


class MemberSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)
    joined_at = UTCDateTimeField()
    last_seen = UTCDateTimeField(allow_null=True)

    class Meta:
        model = ChatParticipant
        fields = ["user", "role", "is_online", "last_seen", "joined_at"]
        read_only_fields = fields


class MentionCandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text=_("The person (null: everyone)."))
    name = serializers.CharField(help_text=_("What to show: the display name, or @everyone."))
    insert = serializers.CharField(
        help_text=_(
            "What to insert in the text: @username, or @**Name|id** where usernames are private."
        )
    )
