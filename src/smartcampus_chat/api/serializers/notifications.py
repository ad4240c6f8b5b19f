"""Notifications: the list, marking read, a room's level and mute."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from smartcampus_chat.api.serializers.fields import MAX_INTEGER, StrictIntegerField
from smartcampus_chat.api.shapes import NotificationSerializer, UTCDateTimeField


class NotificationListInputSerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, default=False, help_text=_("Only the unread ones.")
    )
    before = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_INTEGER,
        help_text=_("Older than this notification id (the next page)."),
    )
    limit = StrictIntegerField(required=False, min_value=1, max_value=100, default=30)


class NotificationPageSerializer(serializers.Serializer):
    results = NotificationSerializer(many=True, help_text=_("Newest first."))
    unread = serializers.IntegerField(help_text=_("My unread notifications."))
    next = serializers.CharField(
        allow_null=True, help_text=_("The next (older) page, or null at the end.")
    )


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_INTEGER),
        required=False,
        default=list,
        max_length=500,
        help_text=_("The notifications to mark read."),
    )
    all = serializers.BooleanField(
        required=False, default=False, help_text=_("Mark every notification read.")
    )


class UnreadNotificationsSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text=_("My unread notifications after the change."))


@extend_schema_field(
    {"type": "string", "enum": ["", "all", "mentions", "nothing"]},
    component_name="NotifyLevel",
)
class LevelField(serializers.ChoiceField):
    """A room's notification level; "" is the site's default (an enum with the blank)."""


class RoomNotificationsSerializer(serializers.Serializer):
    level = LevelField(
        choices=["all", "mentions", "nothing"],
        allow_blank=True,
        help_text=_('Which messages notify me; "" follows the site\'s default for the room.'),
    )
    effective_level = serializers.CharField(
        read_only=True, help_text=_("The level that applies (mine or the default).")
    )
    muted_until = serializers.DateTimeField(
        allow_null=True,
        required=False,
        default=None,
        help_text=_("No notification from this room until then; null: not muted."),
    )


class RoomNotificationsOutputSerializer(RoomNotificationsSerializer):
    muted_until = UTCDateTimeField(allow_null=True)
