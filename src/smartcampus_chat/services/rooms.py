"""Rooms: create, join, open a private conversation, update, remove a member."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, models, transaction
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from smartcampus_chat import courses, events, signals
from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import NotFound, PermissionDenied, RoomArchived, ValidationFailed
from smartcampus_chat.models import ChatParticipant, ChatRoom, Role, RoomType
from smartcampus_chat.payloads import room_data, user_ref
from smartcampus_chat.policies import RoomAccess, get_policy
from smartcampus_chat.schema import (
    ParticipantJoined,
    ParticipantLeft,
    RoomAdded,
    RoomRemoved,
    RoomUpdated,
)
from smartcampus_chat.validation import is_object_id, is_unicode_text, parse_int

CREATABLE_TYPES = (RoomType.PUBLIC, RoomType.GROUP, RoomType.COURSE)


def room_access(user: Any, room: ChatRoom) -> RoomAccess:
    return get_policy().access(user, room)


def get_room_for(user: Any, slug: str) -> tuple[ChatRoom, RoomAccess]:
    """The room ``slug`` and the user's access; NotFound when it is missing *or* hidden."""
    room = ChatRoom.objects.filter(slug=slug).select_related("group").first()
    if room is None:
        raise NotFound()
    access = room_access(user, room)
    if not access.can_see:
        raise NotFound()
    return room, access


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "room"
    slug = base
    while ChatRoom.objects.filter(slug=slug).exists():
        slug = f"{base}-{get_random_string(6, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
    return slug


def _clean_text(value: Any, field: str, max_length: int, *, required: bool) -> str:
    if not isinstance(value, str) or not is_unicode_text(value):
        raise ValidationFailed(fields={field: [_("Must be text.")]})
    text = value.strip()
    if required and not text:
        raise ValidationFailed(fields={field: [_("This field is required.")]})
    if len(text) > max_length:
        message = _("At most %(max)d characters.") % {"max": max_length}
        raise ValidationFailed(fields={field: [message]})
    return text


def check_create_room(
    user: Any,
    *,
    name: Any,
    room_type: Any = RoomType.PUBLIC,
    description: Any = "",
    group: Group | None = None,
    course: models.Model | None = None,
) -> ChatRoom:
    name = _clean_text(name, "name", app_settings.MAX_ROOM_NAME_LENGTH, required=True)
    description = _clean_text(
        description, "description", app_settings.MAX_DESCRIPTION_LENGTH, required=False
    )
    if room_type not in CREATABLE_TYPES:
        raise ValidationFailed(fields={"room_type": [_("Unknown or unsupported room type.")]})
    if room_type == RoomType.GROUP and group is None:
        raise ValidationFailed(fields={"group": [_("A group room needs a group.")]})
    if room_type == RoomType.COURSE:
        if courses.get_course_model() is None:
            raise ValidationFailed(fields={"room_type": [_("Course rooms are not enabled.")]})
        if course is None:
            raise ValidationFailed(fields={"course": [_("A course room needs a course.")]})
    policy = get_policy()
    if not policy.can_create_room(user, room_type, group=group, course=course):
        field = {RoomType.GROUP: "group", RoomType.COURSE: "course"}.get(room_type, "room_type")
        raise PermissionDenied(
            _("You may not create this kind of room here."),
            fields={field: [_("You may not create this kind of room here.")]},
        )
    return do_create_room(
        user,
        name=name,
        room_type=room_type,
        description=description,
        group=group if room_type == RoomType.GROUP else None,
        course=course if room_type == RoomType.COURSE else None,
    )


def do_create_room(
    user: Any,
    *,
    name: str,
    room_type: str,
    description: str = "",
    group: Group | None = None,
    course: models.Model | None = None,
) -> ChatRoom:
    with transaction.atomic():
        room = ChatRoom.objects.create(
            name=name,
            slug=_unique_slug(name),
            room_type=room_type,
            description=description,
            created_by=user,
            group=group,
            course_key=courses.course_key(course) if course is not None else "",
        )
        participant = ChatParticipant.objects.create(room=room, user=user, role=Role.OWNER)
        events.publish_to_user(user.pk, RoomAdded(room=room_data(room)))
        signals.send_on_commit(signals.room_created, ChatRoom, room=room, user=user)
        signals.send_on_commit(
            signals.member_joined, ChatParticipant, participant=participant, room=room, user=user
        )
    return room


def check_join_room(user: Any, room: ChatRoom) -> ChatParticipant:
    policy = get_policy()
    access = policy.access(user, room)
    if not access.can_see:
        raise NotFound()
    if room.is_archived:
        raise RoomArchived()
    if not policy.can_join(access, room):
        raise PermissionDenied()
    return do_join_room(user, room)


def do_join_room(user: Any, room: ChatRoom, role: str = Role.MEMBER) -> ChatParticipant:
    with transaction.atomic():
        participant, created = ChatParticipant.objects.get_or_create(
            room=room, user=user, defaults={"role": role, "last_read_seq": room.last_seq}
        )
        if created:
            announce_joined(user, room, participant)
    return participant


def announce_joined(user: Any, room: ChatRoom, participant: ChatParticipant) -> None:
    """Publish a new participant (on commit of the caller's transaction).

    Every way of becoming a participant (joining, a first message) must say so: the user's
    ``ws/chat/`` sockets follow a room on ``room.added``, and the others' lists on
    ``participant.joined``.
    """
    events.publish_to_room(
        room.pk,
        ParticipantJoined(room=room.slug, user=user_ref(user), role=participant.role),
    )
    events.publish_to_user(user.pk, RoomAdded(room=room_data(room)))
    signals.send_on_commit(
        signals.member_joined, ChatParticipant, participant=participant, room=room, user=user
    )


def private_key(user_a: Any, user_b: Any) -> str:
    low, high = sorted((int(user_a.pk), int(user_b.pk)))
    return f"{low}:{high}"


def check_open_private(user: Any, other_id: Any) -> tuple[ChatRoom, bool]:
    """The one private room of ``user`` and user ``other_id``, created if needed."""
    user_model = get_user_model()
    if isinstance(other_id, str):
        other_id = parse_int(other_id)
    if not is_object_id(other_id):
        raise NotFound(_("No such user."))
    try:
        other = user_model._default_manager.get(pk=other_id, is_active=True)
    except (user_model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("No such user.")) from exc
    if not get_policy().can_open_private(user, other):
        raise ValidationFailed(
            fields={"user": [_("You cannot open a conversation with this user.")]}
        )
    return do_open_private(user, other)


def do_open_private(user: Any, other: Any) -> tuple[ChatRoom, bool]:
    key = private_key(user, other)
    existing = ChatRoom.objects.filter(private_key=key).first()
    if existing is not None:
        return existing, False
    names = sorted((user.get_username(), other.get_username()))
    try:
        with transaction.atomic():
            room = ChatRoom.objects.create(
                name=" & ".join(names),
                slug=_unique_slug("dm-" + "-".join(names)),
                room_type=RoomType.PRIVATE,
                created_by=user,
                private_key=key,
            )
            ChatParticipant.objects.bulk_create(
                [ChatParticipant(room=room, user=u, role=Role.MEMBER) for u in (user, other)]
            )
            for member in (user, other):
                events.publish_to_user(member.pk, RoomAdded(room=room_data(room)))
    except IntegrityError:
        # Another request created the pair's room first: that one is the room.
        return ChatRoom.objects.get(private_key=key), False
    return room, True


_UPDATABLE = {"name", "description", "is_archived"}


def check_update_room(actor: Any, room: ChatRoom, **changes: Any) -> ChatRoom:
    access = room_access(actor, room)
    if not access.can_see:
        raise NotFound()
    if not get_policy().can_manage_room(access, room):
        raise PermissionDenied()
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValidationFailed(
            fields={key: [_("This field cannot be changed.")] for key in unknown}
        )
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = _clean_text(
            changes["name"], "name", app_settings.MAX_ROOM_NAME_LENGTH, required=True
        )
    if "description" in changes:
        clean["description"] = _clean_text(
            changes["description"],
            "description",
            app_settings.MAX_DESCRIPTION_LENGTH,
            required=False,
        )
    if "is_archived" in changes:
        if not isinstance(changes["is_archived"], bool):
            raise ValidationFailed(fields={"is_archived": [_("Must be true or false.")]})
        clean["is_archived"] = changes["is_archived"]
    return do_update_room(room, **clean)


def do_update_room(room: ChatRoom, **changes: Any) -> ChatRoom:
    with transaction.atomic():
        for key, value in changes.items():
            setattr(room, key, value)
        room.save(update_fields=[*changes, "updated_at"])
        events.publish_to_room(room.pk, RoomUpdated(room=room_data(room)))
    return room


def check_remove_member(actor: Any, room: ChatRoom, user_id: Any) -> ChatParticipant:
    policy = get_policy()
    access = policy.access(actor, room)
    if not access.can_see:
        raise NotFound()
    target = ChatParticipant.objects.filter(room=room, user_id=user_id, is_banned=False).first()
    if target is None:
        raise NotFound(_("No such member."))
    target_access = policy.access(target.user, room, target)
    if not policy.can_remove_user(
        actor, access, room, target.user, target_access.role or Role.MEMBER
    ):
        raise PermissionDenied()
    return do_remove_member(actor, room, target)


def do_remove_member(actor: Any, room: ChatRoom, participant: ChatParticipant) -> ChatParticipant:
    with transaction.atomic():
        participant.is_banned = True
        participant.is_online = False
        participant.save(update_fields=["is_banned", "is_online"])
        events.publish_to_room(
            room.pk, ParticipantLeft(room=room.slug, user=user_ref(participant.user))
        )
        events.publish_to_user(participant.user_id, RoomRemoved(room=room.slug))
        signals.send_on_commit(
            signals.member_removed,
            ChatParticipant,
            participant=participant,
            room=room,
            user=participant.user,
            by=actor,
        )
    return participant


def check_leave_room(user: Any, room: ChatRoom, access: RoomAccess | None = None) -> bool:
    """Leave ``room``; True if the user was a member. Private conversations cannot be left.

    ``access``: the user's access to the room, when the caller decided it already.
    """
    access = access or room_access(user, room)
    if not access.can_see:
        raise NotFound()
    if not get_policy().can_leave(room):
        raise PermissionDenied(_("You cannot leave a private conversation."))
    participant = ChatParticipant.objects.filter(room=room, user=user, is_banned=False).first()
    if participant is None:
        return False
    do_leave_room(user, room, participant)
    return True


def do_leave_room(user: Any, room: ChatRoom, participant: ChatParticipant) -> None:
    """Delete the membership: the user may join again while the policy lets them see the room."""
    with transaction.atomic():
        participant.delete()
        events.publish_to_room(room.pk, ParticipantLeft(room=room.slug, user=user_ref(user)))
        events.publish_to_user(user.pk, RoomRemoved(room=room.slug))
        signals.send_on_commit(signals.member_left, ChatParticipant, room=room, user=user)
