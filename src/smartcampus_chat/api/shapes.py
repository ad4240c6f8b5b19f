"""Output serializers with the shapes of the protocol's models (messages, users).

The REST API and the WebSocket frames show a message or a user the same way by
construction: these serializers declare their fields from the protocol's pydantic models
(:mod:`smartcampus_chat.protocol.frames`, for the OpenAPI document) and render through
the protocol's own functions (:mod:`smartcampus_chat.protocol.render`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal, get_args, get_origin

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from pydantic import BaseModel
from rest_framework import ISO_8601, serializers

from smartcampus_chat.protocol.payloads import (
    AttachmentData,
    LinkPreviewData,
    MessageData,
    NotificationData,
    PollData,
    PollOptionData,
    ReactionData,
    ReplyData,
    RoomFileData,
    UserRef,
)
from smartcampus_chat.protocol.render import (
    attachment_data,
    message_data,
    message_poll_data,
    reply_data,
    room_file_data,
    user_ref,
)


class UTCDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC ("...Z"), as the WebSocket frames write it, whatever the host's zone."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(format=ISO_8601, default_timezone=dt.timezone.utc, **kwargs)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, ``(X, False)`` for ``X``."""
    args = get_args(annotation)
    if type(None) not in args:
        return annotation, False
    (inner,) = [arg for arg in args if arg is not type(None)]
    return inner, True


#: The API field of each scalar type of the protocol's models (a new type needs one here).
_SCALARS: dict[Any, type[serializers.Field]] = {
    int: serializers.IntegerField,
    bool: serializers.BooleanField,
    str: serializers.CharField,
}


#: One field class per named enum: two classes of one name would be two components.
_ENUM_FIELDS: dict[str, type[serializers.ChoiceField]] = {}


def _named_enum(field: serializers.ChoiceField, component: str) -> serializers.ChoiceField:
    """``field`` documented as a reference to the enum schema ``component`` (shared by
    every shape that names it)."""
    named = _ENUM_FIELDS.get(component)
    if named is None:
        schema = {"type": "string", "enum": list(field.choices)}
        named = _ENUM_FIELDS[component] = extend_schema_field(schema, component_name=component)(
            type(f"{component}Field", (serializers.ChoiceField,), {})
        )
    return named(choices=list(field.choices), read_only=True, allow_null=field.allow_null)


class ProtocolSerializer(serializers.Serializer):
    """An output serializer with the shape of a protocol model (``shape``), by construction.

    Its fields are declared from the model's fields (for the OpenAPI document, with
    ``help_texts``) and its values are the protocol's own rendering (:meth:`render`), the
    one the WebSocket frames carry: the API and the frames cannot drift apart.
    """

    shape: ClassVar[type[BaseModel]]
    help_texts: ClassVar[dict[str, Any]] = {}
    #: The serializer of each shape, for nested models (filled as subclasses are defined).
    by_shape: ClassVar[dict[type[BaseModel], type[ProtocolSerializer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        shape = getattr(cls, "shape", None)
        if shape is not None:  # The first serializer of a shape renders it when nested.
            ProtocolSerializer.by_shape.setdefault(shape, cls)

    #: Choice fields documented as a named schema component (``{field: component}``): a
    #: second set of choices under a field name already used ("kind") would otherwise be
    #: an enum name collision in any whole-site schema (drf-spectacular's W001).
    enum_components: ClassVar[dict[str, str]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = {}
        for name, info in self.shape.model_fields.items():
            field = self._field(info.annotation, self.help_texts.get(name))
            if name in self.enum_components and isinstance(field, serializers.ChoiceField):
                field = _named_enum(field, self.enum_components[name])
            fields[name] = field
        return fields

    @classmethod
    def _field(cls, annotation: Any, help_text: Any) -> serializers.Field:
        kind, nullable = _unwrap_optional(annotation)
        options: dict[str, Any] = {"read_only": True}
        if nullable:
            options["allow_null"] = True
        if help_text is not None:
            options["help_text"] = help_text
        if kind is dt.datetime:
            return UTCDateTimeField(**options)
        if get_origin(kind) is Literal:
            return serializers.ChoiceField(choices=list(get_args(kind)), **options)
        if get_origin(kind) is list:
            (item,) = get_args(kind)
            if item in cls.by_shape:
                return cls.by_shape[item](many=True, **options)
            return serializers.ListField(child=cls._field(item, None), **options)
        if kind in cls.by_shape:
            return cls.by_shape[kind](**options)
        if kind not in _SCALARS:
            raise TypeError(f"{cls.shape.__name__}: no API field for {annotation!r}")
        return _SCALARS[kind](**options)

    def render(self, instance: Any) -> BaseModel:
        raise NotImplementedError

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return self.render(instance).model_dump(mode="json")


class UserRefSerializer(ProtocolSerializer):
    """A user as the chat shows them: the same fields as the protocol's ``UserRef``."""

    shape = UserRef

    def render(self, instance: Any) -> BaseModel:
        return user_ref(instance)


class ReactionSerializer(ProtocolSerializer):
    """One emoji on a message: the protocol's ``ReactionData`` (rendered by its message)."""

    shape = ReactionData
    help_texts = {"user_ids": _("Who reacted, oldest first.")}

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, ReactionData)
        return instance


class ReplySerializer(ProtocolSerializer):
    """The quote of the message a reply answers: the protocol's ``ReplyData``."""

    shape = ReplyData
    help_texts = {"excerpt": _("The parent's text without formatting, cut; None once deleted.")}

    def render(self, instance: Any) -> BaseModel:
        reply = reply_data(instance)
        assert reply is not None
        return reply


class AttachmentSerializer(ProtocolSerializer):
    """A file sent with a message (or an upload not sent yet): ``AttachmentData``."""

    shape = AttachmentData
    enum_components = {"kind": "AttachmentKind"}
    help_texts = {
        "name": _("The uploader's file name: text to show."),
        "content_type": _("Detected from the content when uploaded."),
        "url": _("Opens the file: inline for raster images and PDF, a download otherwise."),
        "download_url": _("Always a download."),
        "thumbnail_url": _("Images: at most 320 px a side; None when the image is smaller."),
        "preview_url": _("Images: at most 1280 px a side; None when the image is smaller."),
    }

    def render(self, instance: Any) -> BaseModel:
        if isinstance(instance, AttachmentData):
            return instance
        return attachment_data(instance)


class LinkPreviewSerializer(ProtocolSerializer):
    """The card of a message's first link: ``LinkPreviewData``, text to show as text."""

    shape = LinkPreviewData
    help_texts = {
        "image_url": _("The page's image, re-encoded by the server; None without one."),
    }

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, LinkPreviewData)
        return instance


class RoomFileSerializer(ProtocolSerializer):
    """A file of a room's gallery, with the message that sent it: ``RoomFileData``."""

    shape = RoomFileData

    def render(self, instance: Any) -> BaseModel:
        return room_file_data(instance)


class PollOptionSerializer(ProtocolSerializer):
    """One answer of a poll and its votes: the protocol's ``PollOptionData``."""

    shape = PollOptionData
    help_texts = {"voters": _("Who chose it, oldest first; always empty in an anonymous poll.")}

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, PollOptionData)
        return instance


class PollSerializer(ProtocolSerializer):
    """A poll's state: the protocol's ``PollData`` (a message's ``poll``, ``poll.updated``).
    Given a message, its poll with the reader's own choice (``my_votes``)."""

    shape = PollData
    help_texts = {
        "closed": _("Closed by hand or by time."),
        "voters": _("People who voted."),
        "my_votes": _("The reader's own choice (option ids); None where not said."),
    }

    def render(self, instance: Any) -> BaseModel:
        if isinstance(instance, PollData):
            return instance
        data = message_poll_data(instance)
        assert data is not None
        return data


class MessageSerializer(ProtocolSerializer):
    """A message, identical to the ``message`` of ``message.new``/``edited``/``deleted``.

    Context: ``room_slug`` (avoids loading each message's room) and ``show_deleted_content``
    (moderators reading history; the policy decides).
    """

    shape = MessageData
    help_texts = {
        "room": _("Slug of the message's room."),
        "seq": _("Per-room message number."),
        "event_seq": _("Per-room number of the message's latest change."),
        "content": _("None once deleted."),
        "content_html": _("The content rendered and sanitised when written; None once deleted."),
        "reply": _("The message replied to, as its quote shows it."),
    }

    def render(self, instance: Any) -> BaseModel:
        return message_data(
            instance,
            room_slug=self.context.get("room_slug"),
            show_deleted=bool(self.context.get("show_deleted_content")),
            viewer_id=self.context.get("viewer_id"),
        )


class NotificationSerializer(ProtocolSerializer):
    """One notification: the protocol's ``NotificationData`` (the ``notification`` frame's)."""

    shape = NotificationData
    enum_components = {"kind": "NotificationKind"}
    help_texts = {
        "room_name": _("The room as I name it (a private room: the other person)."),
        "excerpt": _("The message's text without formatting, cut; empty once deleted."),
        "url": _("The message in its room."),
    }

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, NotificationData)
        return instance
