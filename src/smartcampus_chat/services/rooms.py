"""Rooms: create, open a private conversation, update; who may see one (``get_room_for``).

Joining, leaving and removal are in :mod:`.membership`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from smartcampus_chat import queries, signals
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import courses, names, word_filter
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.validation import has_nul, is_object_id, is_unicode_text, parse_int
from smartcampus_chat.exceptions import NotFound, PermissionDenied, ValidationFailed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import AuditAction, ChatParticipant, ChatRoom, Role, RoomType
from smartcampus_chat.protocol.frames import RoomAdded, RoomUpdated
from smartcampus_chat.protocol.render import room_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services import audit

CREATABLE_TYPES = (RoomType.PUBLIC, RoomType.GROUP, RoomType.COURSE)


def room_access(user: Any, room: ChatRoom) -> RoomAccess:
    return get_policy().access(user, room)


#: The room ``slug`` and the user's access; NotFound when it is missing *or* hidden (a
#: read: :func:`smartcampus_chat.queries.room_for`, named here for the doors that change
#: the room next).
def get_room_for(user: Any, slug: str) -> tuple[ChatRoom, RoomAccess]:
    """The room ``slug`` and the user's access (:func:`smartcampus_chat.queries.room_for`:
    NotFound when missing or hidden); staff reading a private conversation is logged."""
    room, access = queries.room_for(user, slug)
    audit.note_private_read(user, room, access)
    return room, access


#: Characters of the random part of slugs.
SLUG_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
#: Slugs of private conversations are ``dm-`` and random characters only; named rooms never
#: get a slug starting with it (see :func:`named_slug`).
PRIVATE_SLUG_PREFIX = "dm-"


def _free_slug(make: Callable[[], str]) -> str:
    """A slug from ``make()`` that no room has yet.

    Every candidate has a random part, so a retry (a clash of random parts) says nothing
    about which other rooms exist: the slug a user gets never depends on hidden rooms.
    """
    while True:
        slug = make()
        if not ChatRoom.objects.filter(slug=slug).exists():
            return slug


def named_slug(name: str) -> str:
    """A new slug for a room named ``name``: its slugified name and always a random suffix.

    Why always: with a suffix only on a clash ("general", then "general-x7k2qa"), the slug
    a user gets would tell them whether a room they cannot see holds the plain one (an
    existence oracle for hidden group, course and private rooms). A name slugifying to
    ``dm`` or ``dm-...`` is prefixed with ``room-``: that namespace is the private
    conversations' (:data:`PRIVATE_SLUG_PREFIX`), and slugs of older private rooms
    (``dm-<user>-<user>``) must not be imitable either.
    """
    base = slugify(name)[:60].strip("-") or "room"
    if base == PRIVATE_SLUG_PREFIX.rstrip("-") or base.startswith(PRIVATE_SLUG_PREFIX):
        base = f"room-{base}"[:60].strip("-")
    return _free_slug(lambda: f"{base}-{get_random_string(6, SLUG_ALPHABET)}")


def private_slug() -> str:
    """A new opaque slug for a private conversation: nothing in it names its members."""
    return _free_slug(lambda: PRIVATE_SLUG_PREFIX + get_random_string(16, SLUG_ALPHABET))


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


def clean_room_name(value: Any) -> str:
    """A room name in its normal form (:func:`smartcampus_chat.domain.names.normalise_name`), or
    :class:`ValidationFailed` on field ``name``: not text, empty, invisible or too long."""
    if not isinstance(value, str) or not is_unicode_text(value):
        raise ValidationFailed(fields={"name": [_("Must be text.")]})
    name = names.normalise_name(value)
    if not value.strip():
        raise ValidationFailed(fields={"name": [_("This field is required.")]})
    if not names.is_visible(name):
        raise ValidationFailed(fields={"name": [_("The name must contain visible characters.")]})
    max_length = app_settings.MAX_ROOM_NAME_LENGTH
    if len(name) > max_length:
        message = _("At most %(max)d characters.") % {"max": max_length}
        raise ValidationFailed(fields={"name": [message]})
    return name


def check_name_distinct(
    user: Any,
    name: str,
    *,
    room_type: str,
    group_id: int | None = None,
    course_key: str = "",
    exclude_pk: int | None = None,
) -> None:
    """Refuse ``name`` when it looks like (same :func:`~smartcampus_chat.domain.names.skeleton`)
    the name of another room in the same scope (public rooms; one group's rooms; one
    course's rooms) that ``user`` can see.

    Only rooms the user sees count, so the refusal never reveals a hidden room. Names are
    compared in Python (the skeleton is not a database function): one query of the
    scope's names per creation (rate-limited) or rename (moderators only).
    """
    scope = get_policy().visible_rooms(user, ChatRoom.objects.filter(room_type=room_type))
    if room_type == RoomType.GROUP:
        scope = scope.filter(group__pk=group_id) if group_id else scope.none()
    elif room_type == RoomType.COURSE:
        scope = scope.filter(course_key=course_key)
    if exclude_pk is not None:
        scope = scope.exclude(pk=exclude_pk)
    key = names.skeleton(name)
    for other in scope.values_list("name", flat=True).order_by().iterator():
        if names.skeleton(other) == key:
            raise ValidationFailed(
                fields={
                    "name": [
                        _(
                            "A room with the same or a look-alike name already exists "
                            "here; choose a more distinct name."
                        )
                    ]
                }
            )


def check_create_room(
    user: Any,
    *,
    name: Any,
    room_type: Any = RoomType.PUBLIC,
    description: Any = "",
    group: Group | None = None,
    course: models.Model | None = None,
) -> ChatRoom:
    name = clean_room_name(name)
    description = _clean_text(
        description, "description", app_settings.MAX_DESCRIPTION_LENGTH, required=False
    )
    if room_type not in CREATABLE_TYPES:
        raise ValidationFailed(fields={"room_type": [_("Unknown or unsupported room type.")]})
    policy = get_policy()
    if room_type == RoomType.COURSE and courses.get_course_model() is None:
        raise ValidationFailed(fields={"room_type": [_("Course rooms are not enabled.")]})
    missing = (room_type == RoomType.GROUP and group is None) or (
        room_type == RoomType.COURSE and course is None
    )
    if missing and room_type not in policy.creatable_room_types(user):
        # A type the user may not create at all is refused as such, before what it needs.
        raise PermissionDenied(
            _("You may not create this kind of room here."),
            fields={"room_type": [_("You may not create this kind of room here.")]},
        )
    if room_type == RoomType.GROUP and group is None:
        raise ValidationFailed(fields={"group": [_("A group room needs a group.")]})
    if room_type == RoomType.COURSE and course is None:
        raise ValidationFailed(fields={"course": [_("A course room needs a course.")]})
    if not policy.can_create_room(user, room_type, group=group, course=course):
        field = {RoomType.GROUP: "group", RoomType.COURSE: "course"}.get(room_type, "room_type")
        raise PermissionDenied(
            _("You may not create this kind of room here."),
            fields={field: [_("You may not create this kind of room here.")]},
        )
    ratelimit.check_rate("create", user)
    check_name_distinct(
        user,
        name,
        room_type=room_type,
        group_id=group.pk if room_type == RoomType.GROUP and group is not None else None,
        course_key=courses.course_key(course)
        if room_type == RoomType.COURSE and course is not None
        else "",
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
    slug: str | None = None,
    course_key: str = "",
) -> ChatRoom:
    """Create the room. ``slug``: a chosen slug (seed data, host code, the admin), else a
    new one (:func:`named_slug`). ``course_key``: the course's key when there is no
    ``course`` object (the admin's form holds the key)."""
    with transaction.atomic():
        room = ChatRoom.objects.create(
            name=name,
            slug=slug or named_slug(name),
            room_type=room_type,
            description=description,
            created_by=user,
            group=group,
            course_key=courses.course_key(course) if course is not None else course_key,
        )
        participant = ChatParticipant.objects.create(room=room, user=user, role=Role.OWNER)
        events.publish_to_user(user.pk, RoomAdded(room=room_data(room)))
        signals.send_on_commit(signals.room_created, ChatRoom, room=room, user=user)
        signals.send_on_commit(
            signals.member_joined, ChatParticipant, participant=participant, room=room, user=user
        )
    return room


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
    existing = ChatRoom.objects.filter(private_key=private_key(user, other)).first()
    if existing is not None:
        return existing, False
    ratelimit.check_rate("create", user)
    return do_open_private(user, other)


def do_open_private(user: Any, other: Any) -> tuple[ChatRoom, bool]:
    key = private_key(user, other)
    existing = ChatRoom.objects.filter(private_key=key).first()
    if existing is not None:
        return existing, False
    # The stored name is what lists show for the pair: display names, never the login
    # identifiers (an e-mail login would put two e-mail addresses in every room list).
    shown = sorted((names.display_name(user), names.display_name(other)))
    name_length = ChatRoom._meta.get_field("name").max_length or 120
    try:
        with transaction.atomic():
            room = ChatRoom.objects.create(
                name=" & ".join(shown)[:name_length],
                slug=private_slug(),
                room_type=RoomType.PRIVATE,
                created_by=user,
                private_key=key,
            )
            ChatParticipant.objects.bulk_create(
                [ChatParticipant(room=room, user=u, role=Role.MEMBER) for u in (user, other)]
            )
            pair = {user.pk: user, other.pk: other}
            for member in (user, other):
                title = names.room_title(room, member, pair)
                events.publish_to_user(member.pk, RoomAdded(room=room_data(room, title=title)))
    except IntegrityError:
        # Another request created the pair's room first: that one is the room.
        return ChatRoom.objects.get(private_key=key), False
    return room, True


_UPDATABLE = {
    "name",
    "description",
    "is_archived",
    "read_receipts",
    "is_locked",
    "slow_mode_seconds",
    "word_filter",
    "qa_mode",
    "allow_anonymous",
    "members_can_create_polls",
}
#: Changes that are moderation actions (audit-logged, but ``allow_anonymous``: each reveal
#: is); none applies to a private conversation.
_MODERATION = {"is_locked", "slow_mode_seconds", "word_filter", "allow_anonymous"}


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
        clean["name"] = clean_room_name(changes["name"])
        # A name that looks like the room's own adds no look-alike: checking it would
        # block every change to rooms named alike before the rule (a full PATCH).
        if names.skeleton(clean["name"]) != names.skeleton(room.name):
            check_name_distinct(
                actor,
                clean["name"],
                room_type=room.room_type,
                group_id=room.group_id,
                course_key=room.course_key,
                exclude_pk=room.pk,
            )
    if "description" in changes:
        clean["description"] = _clean_text(
            changes["description"],
            "description",
            app_settings.MAX_DESCRIPTION_LENGTH,
            required=False,
        )
    for flag in (
        "is_archived",
        "read_receipts",
        "is_locked",
        "qa_mode",
        "allow_anonymous",
        "members_can_create_polls",
    ):
        if flag in changes:
            if not isinstance(changes[flag], bool):
                raise ValidationFailed(fields={flag: [_("Must be true or false.")]})
            clean[flag] = changes[flag]
    if "slow_mode_seconds" in changes:
        clean["slow_mode_seconds"] = clean_slow_mode(changes["slow_mode_seconds"])
    if "word_filter" in changes:
        clean["word_filter"] = clean_word_filter(changes["word_filter"])
    if _MODERATION.intersection(clean) and room.room_type == RoomType.PRIVATE:
        raise PermissionDenied()
    if "qa_mode" in clean and not get_policy().can_set_qa_mode(access, room):
        raise PermissionDenied()
    return do_update_room(room, actor=actor, **clean)


def _audit_moderation(actor: Any, room: ChatRoom, before: dict[str, Any]) -> None:
    if actor is None:
        return
    if "is_locked" in before and before["is_locked"] != room.is_locked:
        action = AuditAction.ROOM_LOCKED if room.is_locked else AuditAction.ROOM_UNLOCKED
        audit.record(actor, action, room=room)
    if "slow_mode_seconds" in before and before["slow_mode_seconds"] != room.slow_mode_seconds:
        details = {"from": before["slow_mode_seconds"], "to": room.slow_mode_seconds}
        audit.record(actor, AuditAction.SLOW_MODE, room=room, details=details)
    if "word_filter" in before and before["word_filter"] != room.word_filter:
        entries = len(word_filter.room_entries(room.word_filter))
        audit.record(actor, AuditAction.WORD_FILTER, room=room, details={"entries": entries})


#: A room's word filter: at most this many entries, each at most this long.
MAX_WORD_FILTER_ENTRIES = 200
MAX_WORD_FILTER_ENTRY = 100


def clean_word_filter(value: Any) -> str:
    """A room's word filter: text, one word or phrase per line (blank lines dropped)."""
    if not isinstance(value, str) or not is_unicode_text(value) or has_nul(value):
        raise ValidationFailed(fields={"word_filter": [_("Must be text.")]})
    entries = word_filter.room_entries(value)
    if len(entries) > MAX_WORD_FILTER_ENTRIES or any(
        len(entry) > MAX_WORD_FILTER_ENTRY for entry in entries
    ):
        message = _("At most %(count)d lines of at most %(length)d characters.") % {
            "count": MAX_WORD_FILTER_ENTRIES,
            "length": MAX_WORD_FILTER_ENTRY,
        }
        raise ValidationFailed(fields={"word_filter": [message]})
    return "\n".join(entries)


def clean_slow_mode(value: Any) -> int:
    """Seconds between two messages of a member: 0 (off) to ``SLOW_MODE_MAX_SECONDS``."""
    limit = app_settings.SLOW_MODE_MAX_SECONDS
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        message = _("A whole number of seconds from 0 (off) to %(max)d.") % {"max": limit}
        raise ValidationFailed(fields={"slow_mode_seconds": [message]})
    return value


def do_update_room(room: ChatRoom, *, actor: Any = None, **changes: Any) -> ChatRoom:
    """Change ``room``; a lock or slow mode changed by ``actor`` is audit-logged."""
    if "is_archived" in changes:
        # "N days after the room is archived" counts from here; a room already archived
        # keeps its date (the admin hands ``room`` with the new flag already set).
        archived = changes["is_archived"]
        changes["archived_at"] = (room.archived_at or timezone.now()) if archived else None
    with transaction.atomic():
        before = {key: getattr(room, key) for key in changes}
        for key, value in changes.items():
            setattr(room, key, value)
        room.save(update_fields=[*changes, "updated_at"])
        _audit_moderation(actor, room, before)
        if room.room_type == RoomType.PRIVATE:
            # Each member calls it by the other's name: one frame each, not one for the room.
            for member_id, title in queries.private_titles(room).items():
                events.publish_to_user(member_id, RoomUpdated(room=room_data(room, title=title)))
        else:
            events.publish_to_room(room.pk, RoomUpdated(room=room_data(room)))
    return room
