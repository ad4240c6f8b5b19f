"""A moderator's sanctions: a mute or ban's input, a ban as listed, a role change."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.shapes import UserRefSerializer, UTCDateTimeField
from smartcampus_chat.models import ChatMessageEdit, Role


class SanctionInputSerializer(serializers.Serializer):
    """Checked by the service (the schema's documentation): ``duration`` in seconds."""

    duration = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("Seconds, from 60 to SANCTION_MAX_SECONDS; null or absent: indefinitely."),
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("Why (kept in the audit log and shown to the person; at most 500 characters)."),
    )


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Why (kept in the audit log).")
    )


class SanctionSerializer(serializers.Serializer):
    """A member's mute or ban as it now stands."""

    user = UserRefSerializer(read_only=True)
    until = UTCDateTimeField(
        allow_null=True, help_text=_("When it ends by itself (9999-12-31: until lifted).")
    )
    reason = serializers.CharField()


class RoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MessageEditSerializer(serializers.ModelSerializer):
    """One earlier text of a message: what it said until ``replaced_at``."""

    replaced_at = UTCDateTimeField()

    class Meta:
        model = ChatMessageEdit
        fields = ["content", "replaced_at"]
        read_only_fields = fields
