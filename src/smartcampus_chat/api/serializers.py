"""Serializers of the REST API, importable by hosts (``smartcampus_chat.api.serializers``).

Input serializers check types, choices and lengths (limits read from ``SMARTCAMPUS_CHAT``
when the serializer is built, so they follow the settings); the services then apply the
domain rules and the policy. Output serializers render the same shapes as the WebSocket
protocol: :class:`MessageSerializer` and :class:`UserRefSerializer` are the protocol's
models rendered by the protocol's own functions (:class:`ProtocolSerializer`), so a client
can merge REST pages and real-time frames.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.validators import MaxLengthValidator, RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from smartcampus_chat.api.shapes import (
    MessageSerializer,
    ProtocolSerializer,
    UserRefSerializer,
    UTCDateTimeField,
)
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.validation import parse_int
from smartcampus_chat.models import ChatParticipant, ChatRoom, Role, RoomType

#: Largest id or number the database stores (64-bit signed); larger input is invalid.
MAX_INTEGER = 2**63 - 1


class StrictIntegerField(serializers.IntegerField):
    """An integer: a JSON integer, or plain ASCII digits in a query string or a form.

    DRF's ``IntegerField`` reads text with ``int()``, which takes "٣" for 3, " 1" for 1
    and "1.0" for 1, and JSON floats such as ``1e9``; a number here is written one way
    only (:func:`smartcampus_chat.domain.validation.parse_int`, the rule of every door).
    """

    def get_value(self, dictionary: Any) -> Any:
        # DRF reads a blank query or form value of an optional field as "absent"; here
        # "?before=" is a malformed number, as on every other door.
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str):
            if len(data) > self.MAX_STRING_LENGTH:
                self.fail("max_string_length")
            number = parse_int(data, minimum=0, maximum=MAX_INTEGER)
            if number is None:
                if data.isascii() and data.isdigit():
                    number = int(data)  # Too large: max_value says so below.
                else:
                    self.fail("invalid")
            return int(number)
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return data


# --- errors -------------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable error code, see docs/api.md."))
    message = serializers.CharField(help_text=_("Human-readable, translated message."))
    # A declared field named "fields" is fine at run time (the serializer metaclass moves it
    # out of the class attributes); the stubs cannot know that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per input field (empty when the error concerns no field)."),
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error response: ``{"error": {"code", "message", "fields"}}``."""

    error = ErrorDetailSerializer()


class _SettingsLengthMixin:
    """Set ``max_length`` of fields from settings each time a serializer is built."""

    fields: Any
    max_lengths: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, setting in self.max_lengths.items():
            field = self.fields[name]
            limit = int(getattr(app_settings, setting))
            field.max_length = limit
            field.validators.append(
                MaxLengthValidator(
                    limit, message=field.error_messages["max_length"].format(max_length=limit)
                )
            )


_printable_ascii = RegexValidator(
    r"^[\x20-\x7e]*$", _("A client id is printable ASCII."), code="invalid"
)


class MessageCreateSerializer(_SettingsLengthMixin, serializers.Serializer):
    max_lengths = {"content": "MAX_MESSAGE_LENGTH", "client_id": "MAX_CLIENT_ID_LENGTH"}

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


class MessageUpdateSerializer(_SettingsLengthMixin, serializers.Serializer):
    max_lengths = {"content": "MAX_MESSAGE_LENGTH"}

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


# --- rooms --------------------------------------------------------------------------------


class AccessSerializer(serializers.Serializer):
    """What the requesting user may do in a room, as the policy decided it."""

    role = serializers.ChoiceField(choices=Role.choices, allow_null=True, read_only=True)
    is_member = serializers.BooleanField(read_only=True)
    read_only = serializers.BooleanField(read_only=True)  # type: ignore[assignment]
    can_post = serializers.BooleanField(read_only=True)
    can_join = serializers.BooleanField(read_only=True)
    can_moderate = serializers.BooleanField(read_only=True)
    can_manage = serializers.BooleanField(read_only=True)


class RoomSerializer(serializers.ModelSerializer):
    """A room in lists. ``unread``, ``last_read_seq`` and ``last_message`` are null for rooms
    the user has not joined. Context: ``last_messages`` ({room id: message}).
    """

    created_at = UTCDateTimeField()
    last_message_at = UTCDateTimeField(allow_null=True)
    unread = serializers.SerializerMethodField()
    last_read_seq = serializers.SerializerMethodField()
    last_message = serializers.SerializerMethodField()

    class Meta:
        model = ChatRoom
        fields = [
            "id",
            "slug",
            "name",
            "room_type",
            "description",
            "is_archived",
            "created_at",
            "last_seq",
            "last_event_seq",
            "last_message_at",
            "unread",
            "last_read_seq",
            "last_message",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_unread(self, room: ChatRoom) -> int | None:
        return getattr(room, "unread", None)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_last_read_seq(self, room: ChatRoom) -> int | None:
        return getattr(room, "my_last_read_seq", None)

    @extend_schema_field(MessageSerializer(allow_null=True))
    def get_last_message(self, room: ChatRoom) -> dict[str, Any] | None:
        message = self.context.get("last_messages", {}).get(room.pk)
        if message is None:
            return None
        return MessageSerializer(message, context={"room_slug": room.slug}).data


class RoomDetailSerializer(RoomSerializer):
    """One room with the requesting user's access. Context: ``access`` (a RoomAccess),
    ``is_member`` and ``can_join``.
    """

    access = serializers.SerializerMethodField()

    class Meta(RoomSerializer.Meta):
        fields = [*RoomSerializer.Meta.fields, "access"]
        read_only_fields = fields

    @extend_schema_field(AccessSerializer)
    def get_access(self, room: ChatRoom) -> dict[str, Any]:
        access = self.context["access"]
        return {
            "role": access.role,
            "is_member": self.context.get("is_member", False),
            "read_only": access.read_only,
            "can_post": access.can_post,
            "can_join": self.context.get("can_join", False),
            "can_moderate": access.can_moderate,
            "can_manage": access.can_manage,
        }


class RoomCreateSerializer(_SettingsLengthMixin, serializers.Serializer):
    """A new room. Which types a user may create, and what each needs (a group for group
    rooms, a course for course rooms), is checked by the service and the policy.
    """

    max_lengths = {"name": "MAX_ROOM_NAME_LENGTH", "description": "MAX_DESCRIPTION_LENGTH"}

    name = serializers.CharField()
    room_type = serializers.ChoiceField(
        choices=RoomType.choices,
        default=RoomType.PUBLIC,
        help_text=_("public, group or course (private rooms are opened with POST private/)."),
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    group = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(),
        pk_field=StrictIntegerField(),
        required=False,
        allow_null=True,
        help_text=_("Id of the group of a group room."),
    )
    course = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=64,
        help_text=_("Primary key of the host's course, for a course room."),
    )

    def validate_course(self, value: str | None) -> Any:
        if value is None:
            return None
        from smartcampus_chat.domain.courses import get_course

        course = get_course(value)
        if course is None:
            raise serializers.ValidationError(_("No such course."))
        return course


class RoomUpdateSerializer(_SettingsLengthMixin, serializers.Serializer):
    max_lengths = {"name": "MAX_ROOM_NAME_LENGTH", "description": "MAX_DESCRIPTION_LENGTH"}

    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    is_archived = serializers.BooleanField(required=False)


class RoomListQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=[("mine", _("Rooms I joined")), ("joinable", _("Rooms I may join"))],
        default="mine",
        help_text=_("mine: rooms I joined (with unread counts); joinable: rooms I may join."),
    )
    type = serializers.ChoiceField(
        choices=RoomType.choices, required=False, help_text=_("Only rooms of this type.")
    )


class MemberSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)
    joined_at = UTCDateTimeField()
    last_seen = UTCDateTimeField(allow_null=True)

    class Meta:
        model = ChatParticipant
        fields = ["user", "role", "is_online", "last_seen", "joined_at"]
        read_only_fields = fields


# --- reads, private rooms, tickets -------------------------------------------------------


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


class UnreadSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text=_("Unread messages across my rooms."))
    rooms = ReadMarkerSerializer(many=True, help_text=_("My rooms with unread messages."))


class PrivateRoomInputSerializer(serializers.Serializer):
    user = StrictIntegerField(
        min_value=1, max_value=MAX_INTEGER, help_text=_("Id of the other user.")
    )


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text=_("Signed, short-lived WebSocket ticket."))
    expires_in = serializers.IntegerField(help_text=_("Seconds the ticket stays valid."))
    ws_url = serializers.CharField(
        help_text=_("WebSocket URL with the ticket; replace {room} with a room slug.")
    )


__all__ = [
    "AccessSerializer",
    "ErrorSerializer",
    "HistoryQuerySerializer",
    "MemberSerializer",
    "MessageCreateSerializer",
    "MessageSerializer",
    "MessageUpdateSerializer",
    "PrivateRoomInputSerializer",
    "ProtocolSerializer",
    "ReadMarkerInputSerializer",
    "ReadMarkerSerializer",
    "RoomCreateSerializer",
    "RoomDetailSerializer",
    "RoomListQuerySerializer",
    "RoomSerializer",
    "RoomUpdateSerializer",
    "TicketSerializer",
    "UnreadSummarySerializer",
    "UserRefSerializer",
]
