"""Course rooms and their rosters: the host's Python API (docs/integration.md, "Course rooms").

The chat never reads the host's enrolments itself: it asks ``COURSE_ROLE_RESOLVER``
(``(user, course) -> "member" | "moderator" | None``). The host tells it when a roster
changed, with :func:`enrolment_changed` (or the ``roster_changed`` signal), and the chat
joins or removes the person live: ``room.added`` / ``room.removed`` for them,
``participant.joined`` / ``participant.left`` for everyone in the room.

Rooms the system creates belong to nobody: no "owner" participant (the course's
moderators, as the resolver says, moderate them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction

from smartcampus_chat import signals
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import courses
from smartcampus_chat.domain.names import normalise_name
from smartcampus_chat.domain.policies import is_active_user
from smartcampus_chat.models import ChatParticipant, ChatRoom, Role, RoomType
from smartcampus_chat.queries.courses import course_room_slug, room_for_course

__all__ = [
    "SyncCounts",
    "enrolment_changed",
    "ensure_course_room",
    "join",
    "remove",
    "room_for_course",
    "sync_course_rooms",
]
from smartcampus_chat.realtime import events
from smartcampus_chat.services.members import announce_joined, do_delete_member

#: The roles a course resolver may give, as participant roles.
_COURSE_ROLES = {Role.MEMBER.value: Role.MEMBER, Role.MODERATOR.value: Role.MODERATOR}


def ensure_course_room(course: models.Model) -> tuple[ChatRoom, bool]:
    """The course's room, created (owned by nobody) when it has none; True if created."""
    existing = room_for_course(course)
    if existing is not None:
        return existing, False
    name_length = ChatRoom._meta.get_field("name").max_length or 120
    name = normalise_name(str(course))[:name_length] or courses.course_key(course)
    try:
        with transaction.atomic():
            room = ChatRoom.objects.create(
                name=name,
                slug=course_room_slug(course),
                room_type=RoomType.COURSE,
                course_key=courses.course_key(course),
            )
            signals.send_on_commit(signals.room_created, ChatRoom, room=room, user=None)
    except IntegrityError:
        # Another process created it first.
        return ChatRoom.objects.get(slug=course_room_slug(course)), False
    return room, True


@dataclass(frozen=True)
class SyncCounts:
    """What :func:`sync_course_rooms` did (or would do, in a dry run)."""

    courses: int
    created: int
    existing: int


def sync_course_rooms(*, dry_run: bool = False) -> SyncCounts:
    """A room for every course of ``COURSE_MODEL`` (idempotent: existing rooms are kept)."""
    model = courses.get_course_model()
    if model is None:
        return SyncCounts(0, 0, 0)
    have = set(
        ChatRoom.objects.filter(room_type=RoomType.COURSE).values_list("course_key", flat=True)
    )
    total = created = 0
    for course in model._default_manager.order_by("pk").iterator():
        total += 1
        if courses.course_key(course) in have:
            continue
        if not dry_run:
            ensure_course_room(course)
        created += 1
    return SyncCounts(total, created, total - created)


def join(user: Any, room: ChatRoom, role: str = Role.MEMBER) -> ChatParticipant:
    """Make ``user`` a participant of ``room`` (no policy check: the host decides), live.

    A removed (banned) participant stays removed; a new one is announced to everyone.
    """
    with transaction.atomic():
        participant, created = ChatParticipant.objects.get_or_create(
            room=room, user=user, defaults={"role": role, "last_read_seq": room.last_seq}
        )
        if created:
            announce_joined(user, room, participant)
        elif not participant.is_banned and participant.role not in (role, Role.OWNER):
            if participant.role == Role.READ_ONLY and role == Role.MEMBER:
                # A moderator made them read-only: the roster does not undo it.
                return participant
            participant.role = role
            participant.save(update_fields=["role"])
    return participant


def remove(user: Any, room: ChatRoom) -> bool:
    """Remove ``user`` from ``room`` (no policy check), live; True if they were a member.

    The row is deleted, not banned: when the host gives access again they join again.
    """
    with transaction.atomic():
        participant = (
            ChatParticipant.objects.select_for_update()
            .filter(room=room, user=user, is_banned=False)
            .first()
        )
        if participant is None:
            return False
        do_delete_member(None, participant)  # announced and signalled as any removal
    events.notify_access_changed(user.pk)
    return True


def enrolment_changed(user: Any, course: models.Model) -> ChatRoom | None:
    """The roster hook: call it after ``user``'s enrolment in ``course`` changed (added,
    role changed, removed). The resolver says what they are now; the chat follows live.

    Enrolled (and ``COURSE_ROOMS_AUTO_JOIN``): joined to the course room with the
    resolver's role, the room created first if ``COURSE_ROOMS_ON_DEMAND``. Not enrolled
    any more: removed. Their open sockets re-check their access either way.
    """
    if app_settings.COURSE_ROOMS_ON_DEMAND:
        room: ChatRoom | None = ensure_course_room(course)[0]
    else:
        room = room_for_course(course)
    role = _COURSE_ROLES.get(courses.course_role(user, course) or "")
    if room is not None:
        if role is None or not is_active_user(user):
            remove(user, room)
        elif app_settings.COURSE_ROOMS_AUTO_JOIN and not room.is_archived:
            join(user, room, role)
    events.notify_access_changed(user.pk)
    return room
