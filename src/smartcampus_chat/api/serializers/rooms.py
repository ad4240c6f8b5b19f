"""Rooms: lists, one room with its access, creation and changes, private conversations."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from smartcampus_chat.api.serializers.fields import (
    MAX_INTEGER,
    SettingsLengthMixin,
    StrictIntegerField,
)
from smartcampus_chat.api.shapes import MessageSerializer, UTCDateTimeField
from smartcampus_chat.conf import ChatSettings
from smartcampus_chat.domain.courses import get_course
from smartcampus_chat.domain.notifications import is_muted
from smartcampus_chat.models import ChatRoom, Role, RoomType


class AccessSerializer(serializers.Serializer):
    """What the requesting user may do in a room, as the policy decided it."""

    role = serializers.ChoiceField(choices=Role.choices, allow_null=True, read_only=True)
    is_member = serializers.BooleanField(read_only=True)
    read_only = serializers.BooleanField(read_only=True)  # type: ignore[assignment]
    can_post = serializers.BooleanField(read_only=True)
    can_react = serializers.BooleanField(read_only=True)
    muted_until = UTCDateTimeField(
        allow_null=True,
        help_text=_(
            "A moderator muted me until then (9999-12-31: until unmuted); null: not muted."
        ),
    )
    can_join = serializers.BooleanField(read_only=True)
    can_moderate = serializers.BooleanField(read_only=True)
    can_manage = serializers.BooleanField(read_only=True)


class RoomSerializer(serializers.ModelSerializer):
    """A room in lists. ``unread``, ``last_read_seq`` and ``last_message`` are null for rooms
    the user has not joined. Context: ``last_messages`` ({room id: message}) and ``titles``
    ({room id: the user's title of it}, :func:`smartcampus_chat.queries.room_titles`).
    """

    created_at = UTCDateTimeField()
    last_message_at = UTCDateTimeField(allow_null=True)
    ends_at = UTCDateTimeField(
        allow_null=True,
        help_text=_(
            "When the room's course ends (null: no end known); from then on it is read-only "
            "for everyone."
        ),
    )
    title = serializers.SerializerMethodField(
        help_text=_(
            "The room as the requesting user names it: a private room is titled with the "
            "other person's display name, any other room with its name."
        )
    )
    unread = serializers.SerializerMethodField()
    mentions = serializers.SerializerMethodField(
        help_text=_("Of the unread messages, those that mention me (or everyone).")
    )
    last_read_seq = serializers.SerializerMethodField()
    muted = serializers.SerializerMethodField(
        help_text=_(
            "I muted the room's notifications for now (rooms/{slug}/notifications/); "
            "null for rooms I have not joined."
        )
    )
    last_message = serializers.SerializerMethodField()
    course = serializers.SerializerMethodField(
        help_text="A course room's course: the primary key (as text) of the host's "
        "COURSE_MODEL object; null for other rooms."
    )

    class Meta:
        model = ChatRoom
        fields = [
            "id",
            "slug",
            "name",
            "title",
            "room_type",
            "course",
            "description",
            "is_archived",
            "read_receipts",
            "slow_mode_seconds",
            "is_locked",
            "qa_mode",
            "allow_anonymous",
            "members_can_create_polls",
            "ends_at",
            "created_at",
            "last_seq",
            "last_event_seq",
            "last_message_at",
            "unread",
            "mentions",
            "last_read_seq",
            "muted",
            "last_message",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_course(self, room: ChatRoom) -> str | None:
        return room.course_key or None

    @extend_schema_field(serializers.CharField())
    def get_title(self, room: ChatRoom) -> str:
        titles: dict[int, str] = self.context.get("titles", {})
        return titles.get(room.pk, room.name)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_unread(self, room: ChatRoom) -> int | None:
        return getattr(room, "unread", None)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_mentions(self, room: ChatRoom) -> int | None:
        return getattr(room, "mentions", None)

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_muted(self, room: ChatRoom) -> bool | None:
        if not hasattr(room, "my_muted_until"):
            return None
        return is_muted(room.my_muted_until, timezone.now())

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
            "can_react": access.can_react,
            "muted_until": access.muted_until,
            "can_join": self.context.get("can_join", False),
            "can_moderate": access.can_moderate,
            "can_manage": access.can_manage,
        }


class RoomCreateSerializer(SettingsLengthMixin, serializers.Serializer):
    """A new room. Which types a user may create, and what each needs (a group for group
    rooms, a course for course rooms), is checked by the service and the policy.
    """

    max_lengths = {
        "name": ChatSettings.MAX_ROOM_NAME_LENGTH,
        "description": ChatSettings.MAX_DESCRIPTION_LENGTH,
    }

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
        course = get_course(value)
        if course is None:
            raise serializers.ValidationError(_("No such course."))
        return course


class RoomUpdateSerializer(SettingsLengthMixin, serializers.Serializer):
    max_lengths = {
        "name": ChatSettings.MAX_ROOM_NAME_LENGTH,
        "description": ChatSettings.MAX_DESCRIPTION_LENGTH,
    }

    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    is_archived = serializers.BooleanField(required=False)
    read_receipts = serializers.BooleanField(
        required=False, help_text=_("Show who has seen the messages (small rooms only).")
    )
    is_locked = serializers.BooleanField(
        required=False, help_text=_("Only moderators may post (announcement mode).")
    )
    qa_mode = serializers.BooleanField(
        required=False,
        help_text=_("Q&A mode: top-level posts are questions, replies their answers."),
    )
    members_can_create_polls = serializers.BooleanField(
        required=False, help_text=_("Members, not only moderators, may post polls.")
    )
    slow_mode_seconds = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_INTEGER,
        help_text=_("Seconds between two messages of a member (0: off); moderators exempt."),
    )
    allow_anonymous = serializers.BooleanField(
        required=False,
        help_text=_("Students may post anonymously to classmates (moderators can reveal)."),
    )
    word_filter = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("The room's word filter: words or phrases, one per line (moderators)."),
    )


class RoomListQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=[("mine", _("Rooms I joined")), ("joinable", _("Rooms I may join"))],
        default="mine",
        help_text=_("mine: rooms I joined (with unread counts); joinable: rooms I may join."),
    )
    type = serializers.ChoiceField(
        choices=RoomType.choices, required=False, help_text=_("Only rooms of this type.")
    )


class PrivateRoomInputSerializer(serializers.Serializer):
    user = StrictIntegerField(
        min_value=1, max_value=MAX_INTEGER, help_text=_("Id of the other user.")
    )
