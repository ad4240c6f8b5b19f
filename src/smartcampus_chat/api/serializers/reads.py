"""Read markers and unread counts."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.serializers.fields import (
    MAX_INTEGER,
    StrictIntegerField,
    WallClockTimeField,
)
from smartcampus_chat.api.shapes import UserRefSerializer
from smartcampus_chat.domain.notifications import MAX_DIGEST_DELAY


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
    """My preferences. A null notification choice follows the site's default
    (docs/notifications.md); the service checks the values."""

    read_receipts = serializers.BooleanField(
        help_text=_(
            "Show others when I have seen their messages, and see when they have seen mine."
        )
    )
    browser_notifications = serializers.BooleanField(
        allow_null=True, help_text=_("Notifications of this browser while a chat tab is hidden.")
    )
    push_notifications = serializers.BooleanField(
        allow_null=True, help_text=_("Web Push notifications when no chat tab is open.")
    )
    email_digests = serializers.BooleanField(
        allow_null=True, help_text=_("E-mails gathering what stayed unread.")
    )
    digest_delay = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        max_value=MAX_DIGEST_DELAY,
        help_text=_("Minutes a notification stays unread before it is e-mailed."),
    )
    push_private_content = serializers.BooleanField(
        help_text=_("Show the text of private messages in push notifications.")
    )
    quiet_hours_start = WallClockTimeField(
        allow_null=True, help_text=_('No browser or push notification from this time ("22:00")')
    )
    quiet_hours_end = WallClockTimeField(
        allow_null=True, help_text=_('...until this time, in my time zone ("07:00").')
    )
    time_zone = serializers.CharField(
        allow_blank=True, max_length=64, help_text=_("An IANA time zone; empty: the site's.")
    )
    language = serializers.CharField(
        allow_blank=True,
        max_length=16,
        help_text=_("The language of e-mails and push texts; empty: the site's."),
    )
