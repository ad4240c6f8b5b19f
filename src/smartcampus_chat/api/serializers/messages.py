"""Messages: the output shape shared with the WebSocket frames, the writes, the history query."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.serializers.fields import (
    MAX_INTEGER,
    SettingsLengthMixin,
    StrictIntegerField,
)
from smartcampus_chat.api.serializers.polls import PollInputSerializer
from smartcampus_chat.conf import ChatSettings

_printable_ascii = RegexValidator(
    r"^[\x20-\x7e]*$", _("A client id is printable ASCII."), code="invalid"
)


class MessageCreateSerializer(SettingsLengthMixin, serializers.Serializer):
    max_lengths = {
        "content": ChatSettings.MAX_MESSAGE_LENGTH,
        "client_id": ChatSettings.MAX_CLIENT_ID_LENGTH,
    }

    content = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Message text in Markdown, rendered once as content_html (see Formatting); "
            "may be empty when files are attached."
        ),
    )
    attachments = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_INTEGER),
        required=False,
        default=list,
        help_text=_("Ids of your uploads in this room to send with the message."),
    )
    client_id = serializers.CharField(
        required=False,
        validators=[_printable_ascii],
        help_text=_(
            "Client-made id; sending again with the same id returns the stored message "
            "(200) instead of storing a second one (201)."
        ),
    )
    reply_to = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_INTEGER,
        help_text=_("Id of a message replied to."),
    )
    announcement = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Post it as an announcement (the room's moderators only)."),
    )
    requires_ack = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("An announcement the members are asked to acknowledge."),
    )
    ack_due = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("When the members should have acknowledged it by (in the future)."),
    )
    anonymous = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Post it anonymously to classmates, where the room allows it."),
    )
    poll = PollInputSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Post it as a poll; the content is the question (docs/polls.md)."),
    )


class MessageUpdateSerializer(SettingsLengthMixin, serializers.Serializer):
    max_lengths = {"content": ChatSettings.MAX_MESSAGE_LENGTH}

    content = serializers.CharField()


class ReactionInputSerializer(serializers.Serializer):
    """The emoji of a reaction added (body of POST) or removed (query of DELETE)."""

    emoji = serializers.CharField(
        max_length=32, trim_whitespace=False, help_text=_("One emoji, e.g. 👍.")
    )


class HistoryQuerySerializer(serializers.Serializer):
    """Query parameters of a room's history (keyset pagination on ``seq``)."""

    before = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_INTEGER,
        help_text=_("Messages with a number lower than this."),
    )
    after = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_INTEGER,
        help_text=_("Messages with a number higher than this."),
    )
    limit = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_INTEGER,
        help_text=_("Page size; capped by MAX_PAGE_SIZE."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError(
                {"after": [_("Use either before or after, not both.")]}
            )
        return attrs
