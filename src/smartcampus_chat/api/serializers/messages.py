"""Messages: the output shape shared with the WebSocket frames, the writes, the history query."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from smartcampus_chat.api.serializers.fields import (
    MAX_INTEGER,
    SettingsLengthMixin,
    StrictIntegerField,
    UTCDateTimeField,
)
from smartcampus_chat.api.serializers.people import UserRefSerializer
from smartcampus_chat.conf import ChatSettings
from smartcampus_chat.models import ChatMessage
from smartcampus_chat.protocol.render import visible_content


class MessageSerializer(serializers.Serializer):
    """A message, identical to the ``message`` of ``message.new``/``edited``/``deleted``.

    Context: ``room_slug`` (avoids loading each message's room) and ``show_deleted_content``
    (moderators reading history; the policy decides).
    """

    id = serializers.IntegerField(source="pk", read_only=True)
    room = serializers.SerializerMethodField(help_text=_("Slug of the message's room."))
    seq = serializers.IntegerField(read_only=True, help_text=_("Per-room message number."))
    event_seq = serializers.IntegerField(
        read_only=True, help_text=_("Per-room number of the message's latest change.")
    )
    sender = UserRefSerializer(read_only=True, allow_null=True)
    content = serializers.SerializerMethodField(help_text=_("None once deleted."))
    created_at = UTCDateTimeField()
    is_edited = serializers.BooleanField(read_only=True)
    edited_at = UTCDateTimeField(allow_null=True)
    is_deleted = serializers.BooleanField(read_only=True)
    deleted_at = UTCDateTimeField(allow_null=True)
    reply_to = serializers.IntegerField(source="reply_to_id", read_only=True, allow_null=True)
    client_id = serializers.SerializerMethodField()

    def get_room(self, message: ChatMessage) -> str:
        return str(self.context.get("room_slug") or message.room.slug)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_content(self, message: ChatMessage) -> str | None:
        return visible_content(message, show_deleted=bool(self.context.get("show_deleted_content")))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_client_id(self, message: ChatMessage) -> str | None:
        return message.client_id or None


_printable_ascii = RegexValidator(
    r"^[\x20-\x7e]*$", _("A client id is printable ASCII."), code="invalid"
)


class MessageCreateSerializer(SettingsLengthMixin, serializers.Serializer):
    max_lengths = {
        "content": ChatSettings.MAX_MESSAGE_LENGTH,
        "client_id": ChatSettings.MAX_CLIENT_ID_LENGTH,
    }

    content = serializers.CharField(
        help_text=_("Message text, shown as plain text (markup is not rendered).")
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


class MessageUpdateSerializer(SettingsLengthMixin, serializers.Serializer):
    max_lengths = {"content": ChatSettings.MAX_MESSAGE_LENGTH}

    content = serializers.CharField()


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
