"""Terms and sections: a course's rooms kept in step with the host's data (docs/terms.md).

:func:`sync_course` does, for one course: its room (created when missing), a room per
section (``COURSE_SECTIONS``), their ``ends_at`` (``COURSE_END``), archiving once the
course ended ``COURSE_GRACE_DAYS`` ago, and the participants of each open room diffed
against the host's whole roster (``COURSE_ROSTER``) with bulk statements: one insert for
the people who join, one delete per room for those who leave, one update per room and role
for a role changed, announced live after commit (``room.added`` / ``room.removed`` to the
person, ``participant.joined`` / ``participant.left`` to the room). The queries it makes
do not depend on how many students a course has.

:func:`sync_courses` runs it over every course, streamed (one course's roster in memory at
a time); ``manage.py chat_sync_courses`` calls it. :func:`course_changed` is the host's hook
after it edited a course (its end, its sections). What the roster leaves alone: a ban (the
banned stay banned), a moderator's "read-only" (not undone by the roster), room owners, and
staff who joined by hand.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, fields
from typing import Any

from django.db import IntegrityError, models, transaction

from smartcampus_chat import signals
from smartcampus_chat.domain import courses, terms
from smartcampus_chat.domain.names import normalise_name
from smartcampus_chat.models import ChatParticipant, ChatRoom, Role, RoomType
from smartcampus_chat.protocol.frames import (
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    RoomAdded,
    RoomRemoved,
)
from smartcampus_chat.protocol.render import room_data, user_ref
from smartcampus_chat.queries import terms as terms_queries
from smartcampus_chat.queries.courses import course_room_slug
from smartcampus_chat.realtime import events, presence
from smartcampus_chat.services.rooms import do_update_room

logger = logging.getLogger(__name__)

_NAME_LENGTH = 120


@dataclass
class CourseSyncCounts:
    """What a sync did (or, in a dry run, would do)."""

    courses: int = 0
    rooms_created: int = 0
    sections_created: int = 0
    ends_changed: int = 0
    archived: int = 0
    joined: int = 0
    removed: int = 0
    roles_changed: int = 0
    failed: int = 0

    def add(self, other: CourseSyncCounts) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    @property
    def changes(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "courses")


def sync_courses(*, dry_run: bool = False) -> CourseSyncCounts:
    """:func:`sync_course` for every course of ``COURSE_MODEL``, streamed by primary key."""
    total = CourseSyncCounts()
    model = courses.get_course_model()
    if model is None:
        return total
    for course in model._default_manager.order_by("pk").iterator(chunk_size=500):
        total.add(sync_course(course, dry_run=dry_run))
    return total


def course_changed(course: models.Model) -> CourseSyncCounts:
    """The host's hook after it changed ``course`` (its end, sections or roster): the
    course's rooms follow at once, live, without waiting for the next sync."""
    return sync_course(course)


def sync_course(course: models.Model, *, dry_run: bool = False) -> CourseSyncCounts:
    """Keep ``course``'s rooms in step with the host (see the module's docstring)."""
    try:
        with transaction.atomic():
            counts = _sync_course(course, dry_run=dry_run)
            if dry_run:
                transaction.set_rollback(True)
            return counts
    except IntegrityError:
        # A concurrent join or sync wrote a row this one meant to: the next run settles it.
        logger.warning("Course %s: sync lost a race; run it again.", courses.course_key(course))
        return CourseSyncCounts(courses=1, failed=1)


def _sync_course(course: models.Model, *, dry_run: bool) -> CourseSyncCounts:
    counts = CourseSyncCounts(courses=1)
    key = courses.course_key(course)
    rooms = terms_queries.course_rooms(key)
    main = _main_room(course, rooms)
    if main is None:
        main = _create_room(course, None, str(course), dry_run=dry_run)
        rooms.insert(0, main)
        counts.rooms_created += 1
    sections = {room.section_key: room for room in rooms if room.section_key is not None}
    for section_key, name in terms.course_sections(course).items():
        room = sections.get(section_key)
        label = _section_name(course, name)
        if room is None:
            sections[section_key] = room = _create_room(course, section_key, label, dry_run=dry_run)
            rooms.append(room)
            counts.sections_created += 1
        elif room.name != label and not dry_run:
            do_update_room(room, name=label)
    ends_at = terms.course_end(course)
    archive = terms.is_past_grace(ends_at)
    for room in [main, *sections.values()]:
        if room.ends_at != ends_at:
            counts.ends_changed += 1
            if not dry_run:
                do_update_room(room, ends_at=ends_at)
            room.ends_at = ends_at
        if archive and not room.is_archived:
            counts.archived += 1
            if not dry_run:
                do_update_room(room, is_archived=True)
            room.is_archived = True
    if terms.has_roster():
        open_rooms = {
            section_key: room
            for section_key, room in [(None, main), *sections.items()]
            if not room.is_archived
        }
        if open_rooms:
            _sync_roster(course, open_rooms, counts, dry_run=dry_run)
    return counts


def _main_room(course: models.Model, rooms: list[ChatRoom]) -> ChatRoom | None:
    """The course's own room: the one the system created, else its oldest course room."""
    plain = [room for room in rooms if room.section_key is None]
    slug = course_room_slug(course)
    return next((room for room in plain if room.slug == slug), plain[0] if plain else None)


def _section_name(course: models.Model, name: str) -> str:
    return normalise_name(f"{course} · {name}")[:_NAME_LENGTH]


def _create_room(
    course: models.Model, section_key: str | None, name: str, *, dry_run: bool
) -> ChatRoom:
    """A room owned by nobody. A section's slug is random (kept once created: the sync
    finds the room by course and section key), so it tells nothing about the section."""
    key = courses.course_key(course)
    slug = course_room_slug(course) if section_key is None else f"s-{secrets.token_hex(8)}"
    room = ChatRoom(
        name=normalise_name(name)[:_NAME_LENGTH] or key,
        slug=slug,
        room_type=RoomType.COURSE,
        course_key=key,
        section_key=section_key,
    )
    if not dry_run:
        room.save()
        signals.send_on_commit(signals.room_created, ChatRoom, room=room, user=None)
    return room


def _sync_roster(
    course: models.Model,
    rooms: dict[str | None, ChatRoom],
    counts: CourseSyncCounts,
    *,
    dry_run: bool,
) -> None:
    roster = list(terms.course_roster(course))
    active = terms_queries.active_user_ids({entry.user_id for entry in roster})
    roster = [entry for entry in roster if entry.user_id in active]
    section_keys = {key for key in rooms if key is not None}
    wanted = terms.wanted_members(roster, section_keys)
    saved = [room for room in rooms.values() if room.pk is not None]
    current = terms_queries.room_members(saved) if saved else {}
    joins: list[ChatParticipant] = []
    leaves: dict[int, list[int]] = {}
    roles: dict[tuple[int, str], list[int]] = defaultdict(list)
    for section_key, room in rooms.items():
        have = current.get(room.pk, {}) if room.pk is not None else {}
        want = wanted.get(section_key, {})
        for user_id, role in want.items():
            member = have.get(user_id)
            if member is None:
                joins.append(
                    ChatParticipant(
                        room=room, user_id=user_id, role=role, last_read_seq=room.last_seq
                    )
                )
            elif _role_follows(member, role):
                roles[(room.pk, role)].append(user_id)
        gone = [
            member.user_id
            for member in have.values()
            if member.user_id not in want
            and not member.is_banned
            and not member.is_staff
            and member.role != Role.OWNER
        ]
        if gone:
            leaves[room.pk] = gone
    counts.joined += len(joins)
    counts.removed += sum(len(ids) for ids in leaves.values())
    counts.roles_changed += sum(len(ids) for ids in roles.values())
    if dry_run or not (joins or leaves or roles):
        return
    _apply(rooms, joins, leaves, roles)


def _role_follows(member: terms_queries.Member, role: str) -> bool:
    """Whether the roster's ``role`` replaces the member's (as :func:`services.join` does)."""
    if member.is_banned or member.role in (role, Role.OWNER):
        return False
    # A moderator made them read-only: the roster does not undo it.
    return not (member.role == Role.READ_ONLY and role == Role.MEMBER)


def _apply(
    rooms: dict[str | None, ChatRoom],
    joins: list[ChatParticipant],
    leaves: dict[int, list[int]],
    roles: dict[tuple[int, str], list[int]],
) -> None:
    by_pk = {room.pk: room for room in rooms.values()}
    ChatParticipant.objects.bulk_create(joins)
    for room_id, user_ids in leaves.items():
        # One DELETE, no row-by-row post_delete (whose receiver would tell each person's
        # sockets one by one): they are told together below.
        gone = ChatParticipant.objects.filter(room_id=room_id, user_id__in=user_ids)
        gone._raw_delete(gone.db)
    for (room_id, role), user_ids in roles.items():
        ChatParticipant.objects.filter(room_id=room_id, user_id__in=user_ids).update(role=role)
    left = {(room_id, user_id) for room_id, ids in leaves.items() for user_id in ids}
    people = terms_queries.users_by_id(
        {p.user_id for p in joins}
        | {user_id for _, user_id in left}
        | {user_id for ids in roles.values() for user_id in ids}
    )
    to_rooms: list[tuple[int, Any]] = []
    to_users: list[tuple[int, Any]] = []
    for participant in joins:
        room, user = by_pk[participant.room_id], people[participant.user_id]
        participant.user = user
        to_rooms.append(
            (room.pk, ParticipantJoined(room=room.slug, user=user_ref(user), role=participant.role))
        )
        to_users.append((user.pk, RoomAdded(room=room_data(room))))
        signals.send_on_commit(
            signals.member_joined, ChatParticipant, participant=participant, room=room, user=user
        )
    for room_id, user_id in sorted(left):
        room, user = by_pk[room_id], people[user_id]
        to_rooms.append((room_id, ParticipantLeft(room=room.slug, user=user_ref(user))))
        to_users.append((user_id, RoomRemoved(room=room.slug)))
    for (room_id, role), user_ids in roles.items():
        room = by_pk[room_id]
        for user_id in user_ids:
            to_rooms.append(
                (
                    room_id,
                    ParticipantUpdated(room=room.slug, user=user_ref(people[user_id]), role=role),
                )
            )
    events.publish_many_to_rooms(to_rooms)
    events.publish_many_to_users(to_users)
    events.notify_access_changed_many(sorted({user_id for _, user_id in left}))
    joined_ids = [p.user_id for p in joins]
    transaction.on_commit(lambda: presence.joined_while_connected(joined_ids))
