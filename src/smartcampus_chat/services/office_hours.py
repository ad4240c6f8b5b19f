"""Office hours (docs/office-hours.md): a room's teachers open a queue, students raise a
hand with a topic, a teacher claims the next student (or a given one), which opens their
private conversation, then marks them done or absent.

Each change is a ``check_*`` (the policy's ``can_hold_office_hours`` or
``can_queue_for_office_hours``, the rules of :mod:`smartcampus_chat.domain.office_hours`)
and a ``do_*`` writing in one transaction; the frames are published after commit: the
room's state to everyone (no names), each queued student's own place to them, the whole
queue to the teachers.

Claims are race-free: two teachers claiming at once never get the same student. "Next"
takes the oldest waiting entry with ``SELECT ... FOR UPDATE SKIP LOCKED`` where the
database has it (PostgreSQL: a second teacher skips the row the first holds and takes the
next), and every claim is a conditional update (``status = 'waiting'``) that only one
transaction can win (on SQLite, writes are serialised anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat import queries
from smartcampus_chat.domain.office_hours import clean_times, clean_topic
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.exceptions import (
    NotFound,
    OfficeHoursClosed,
    PermissionDenied,
    ValidationFailed,
)
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import (
    OFFICE_HOURS_LIVE,
    ChatRoom,
    OfficeHoursEntry,
    OfficeHoursSession,
    OfficeHoursStatus,
)
from smartcampus_chat.protocol.frames import OfficeHoursPlace, OfficeHoursQueue, OfficeHoursState
from smartcampus_chat.realtime import events
from smartcampus_chat.services.rooms import do_open_private, room_access

#: How many waiting entries "claim next" tries when others are claimed under it.
_CLAIM_ATTEMPTS = 20


def _access(user: Any, room: ChatRoom) -> RoomAccess:
    access = room_access(user, room)
    if not access.can_see:
        raise NotFound()
    return access


def _check_teacher(user: Any, room: ChatRoom) -> None:
    if not get_policy().can_hold_office_hours(_access(user, room), room):
        raise PermissionDenied(_("Only the room's teachers hold office hours."))


def _current(room: ChatRoom) -> OfficeHoursSession:
    session = queries.current_session(room)
    if session is None or queries.session_state(session) == "closed":
        raise OfficeHoursClosed(_("Office hours are not open in this room."))
    return session


def publish_office_hours(
    room: ChatRoom, session: OfficeHoursSession, changed: Iterable[OfficeHoursEntry] = ()
) -> None:
    """Tell everyone concerned (after commit) how ``session`` now stands: the room its
    state, the teachers the queue, each queued student (and those of ``changed``, who
    may have just left it) their own place."""
    queue = queries.session_queue(session)
    events.publish_to_room(
        room.pk, OfficeHoursState(room=room.slug, session=queries.session_data(queue))
    )
    frames: list[tuple[int, Any]] = []
    entries = {entry.pk: entry for entry in changed}
    entries.update({entry.pk: entry for entry in queue.entries})
    for entry in entries.values():
        place = queries.place_data(queue, entry)
        frames.append(
            (entry.student_id, OfficeHoursPlace(room=room.slug, session=session.pk, place=place))
        )
    listing = OfficeHoursQueue(
        room=room.slug, session=session.pk, entries=queries.staff_queue(queue)
    )
    frames.extend((pk, listing) for pk in queries.office_hours_staff_ids(room))
    events.publish_many_to_users(frames)


# --- sessions ---------------------------------------------------------------------------


def check_open_office_hours(
    actor: Any, room: ChatRoom, *, starts_at: Any = None, ends_at: Any = None
) -> OfficeHoursSession:
    """Open the room's office hours now (``starts_at`` absent) or schedule them;
    ``ends_at``: they close by themselves then (absent: when a teacher closes them)."""
    _check_teacher(actor, room)
    start, end = clean_times(starts_at, ends_at)
    session = queries.current_session(room)
    if session is not None and queries.session_state(session) != "closed":
        raise ValidationFailed(_("Office hours are already open or scheduled in this room."))
    return do_open_office_hours(actor, room, start, end)


def do_open_office_hours(
    actor: Any, room: ChatRoom, starts_at: Any, ends_at: Any
) -> OfficeHoursSession:
    with transaction.atomic():
        stale = queries.current_session(room)
        if stale is not None:  # Past its end: closed now, before the next one.
            _close(stale, timezone.now())
        try:
            with transaction.atomic():
                session = OfficeHoursSession.objects.create(
                    room=room, opened_by=actor, starts_at=starts_at, ends_at=ends_at
                )
        except IntegrityError as exc:  # Another teacher opened them at the same time.
            raise ValidationFailed(
                _("Office hours are already open or scheduled in this room.")
            ) from exc
        publish_office_hours(room, session)
    return session


def _close(session: OfficeHoursSession, now: Any) -> list[OfficeHoursEntry]:
    """Close ``session``: who waits has left, who is being helped is done."""
    changed = list(
        OfficeHoursEntry.objects.select_for_update(of=("self",))
        .filter(session=session, status__in=OFFICE_HOURS_LIVE)
        .select_related("claimed_by", "conversation")
    )
    for entry in changed:
        helped = entry.status == OfficeHoursStatus.BEING_HELPED
        entry.status = OfficeHoursStatus.DONE if helped else OfficeHoursStatus.LEFT
        entry.finished_at = now
    OfficeHoursEntry.objects.bulk_update(changed, ["status", "finished_at"])
    session.closed_at = now
    session.save(update_fields=["closed_at"])
    return changed


def check_close_office_hours(actor: Any, room: ChatRoom) -> OfficeHoursSession:
    """Close the room's office hours (open, scheduled or past their end)."""
    _check_teacher(actor, room)
    session = queries.current_session(room)
    if session is None:
        raise OfficeHoursClosed(_("Office hours are not open in this room."))
    return do_close_office_hours(room, session)


def do_close_office_hours(room: ChatRoom, session: OfficeHoursSession) -> OfficeHoursSession:
    with transaction.atomic():
        changed = _close(session, timezone.now())
        publish_office_hours(room, session, changed)
    return session


# --- students ---------------------------------------------------------------------------


def check_raise_hand(user: Any, room: ChatRoom, topic: Any = "") -> OfficeHoursEntry:
    """Join the queue of the room's open office hours with a short ``topic``."""
    if not get_policy().can_queue_for_office_hours(_access(user, room), room):
        raise PermissionDenied(_("You may not join this queue."))
    session = _current(room)
    if queries.session_state(session) != "open":
        raise OfficeHoursClosed(_("Office hours have not started yet."))
    topic = clean_topic(topic)
    # Each hand raised or lowered is told to everyone queued and to the teachers.
    ratelimit.check_rate("membership", user)
    return do_raise_hand(user, room, session, topic)


def do_raise_hand(
    user: Any, room: ChatRoom, session: OfficeHoursSession, topic: str
) -> OfficeHoursEntry:
    try:
        with transaction.atomic():
            entry = OfficeHoursEntry.objects.create(session=session, student=user, topic=topic)
            publish_office_hours(room, session)
    except IntegrityError as exc:  # The constraint: one live entry per student.
        raise ValidationFailed(_("You are already in the queue.")) from exc
    return entry


def check_leave_queue(user: Any, room: ChatRoom) -> OfficeHoursEntry:
    """Leave the queue (waiting, or ending the help one is getting)."""
    _access(user, room)
    session = queries.current_session(room)
    entry = (
        OfficeHoursEntry.objects.filter(
            session=session, student=user, status__in=OFFICE_HOURS_LIVE
        ).first()
        if session is not None
        else None
    )
    if session is None or entry is None:
        raise NotFound(_("You are not in the queue."))
    ratelimit.check_rate("membership", user)
    return do_leave_queue(room, session, entry)


def do_leave_queue(
    room: ChatRoom, session: OfficeHoursSession, entry: OfficeHoursEntry
) -> OfficeHoursEntry:
    with transaction.atomic():
        left = OfficeHoursEntry.objects.filter(pk=entry.pk, status__in=OFFICE_HOURS_LIVE).update(
            status=OfficeHoursStatus.LEFT, finished_at=timezone.now()
        )
        if not left:
            raise NotFound(_("You are not in the queue."))
        entry.refresh_from_db()
        publish_office_hours(room, session, [entry])
    return entry


# --- teachers ---------------------------------------------------------------------------


def check_claim(actor: Any, room: ChatRoom, entry_id: Any = None) -> OfficeHoursEntry:
    """Claim the student ``entry_id`` (None: the one waiting longest): they are "being
    helped" by ``actor``, whose private conversation with them opens (or is reused)."""
    _check_teacher(actor, room)
    session = _current(room)
    if entry_id is not None and (not isinstance(entry_id, int) or isinstance(entry_id, bool)):
        raise ValidationFailed(fields={"entry": [_("Must be an entry id.")]})
    if entry_id is None:
        return do_claim_next(actor, room, session)
    return do_claim_entry(actor, room, session, entry_id)


def _take(actor: Any, entry_id: int) -> bool:
    """The conditional update only one claimer of ``entry_id`` wins."""
    return bool(
        OfficeHoursEntry.objects.filter(pk=entry_id, status=OfficeHoursStatus.WAITING).update(
            status=OfficeHoursStatus.BEING_HELPED, claimed_by=actor, claimed_at=timezone.now()
        )
    )


def _next_waiting(session: OfficeHoursSession) -> int | None:
    waiting = OfficeHoursEntry.objects.filter(
        session=session, status=OfficeHoursStatus.WAITING
    ).order_by("joined_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        waiting = waiting.select_for_update(skip_locked=True)
    return waiting.values_list("pk", flat=True).first()


def do_claim_next(actor: Any, room: ChatRoom, session: OfficeHoursSession) -> OfficeHoursEntry:
    for _attempt in range(_CLAIM_ATTEMPTS):
        with transaction.atomic():
            entry_id = _next_waiting(session)
            if entry_id is None:
                raise NotFound(_("Nobody is waiting."))
            if _take(actor, entry_id):
                return _claimed(actor, room, session, entry_id)
    raise ValidationFailed(_("Others are claiming at the same time: try again."))


def do_claim_entry(
    actor: Any, room: ChatRoom, session: OfficeHoursSession, entry_id: int
) -> OfficeHoursEntry:
    with transaction.atomic():
        if not OfficeHoursEntry.objects.filter(pk=entry_id, session=session).exists():
            raise NotFound(_("No such entry."))
        if not _take(actor, entry_id):
            raise ValidationFailed(_("This student is no longer waiting."))
        return _claimed(actor, room, session, entry_id)


def _claimed(
    actor: Any, room: ChatRoom, session: OfficeHoursSession, entry_id: int
) -> OfficeHoursEntry:
    """Open (or reuse) the pair's private conversation and tell everyone (in the claim's
    transaction)."""
    entry = OfficeHoursEntry.objects.select_related("student", "claimed_by").get(pk=entry_id)
    if entry.student_id != actor.pk:
        entry.conversation, _created = do_open_private(actor, entry.student)
        entry.save(update_fields=["conversation"])
    publish_office_hours(room, session, [entry])
    return entry


def check_finish(actor: Any, room: ChatRoom, entry_id: Any, outcome: Any) -> OfficeHoursEntry:
    """Mark the student ``entry_id`` helped (``outcome`` "done": they were being helped) or
    absent ("no_show": claimed or still waiting)."""
    _check_teacher(actor, room)
    session = queries.current_session(room)
    if outcome not in ("done", "no_show"):
        raise ValidationFailed(fields={"outcome": [_('Either "done" or "no_show".')]})
    if not isinstance(entry_id, int) or isinstance(entry_id, bool) or session is None:
        raise NotFound(_("No such entry."))
    entry = OfficeHoursEntry.objects.filter(pk=entry_id, session=session).first()
    if entry is None:
        raise NotFound(_("No such entry."))
    return do_finish(room, session, entry, outcome)


def do_finish(
    room: ChatRoom, session: OfficeHoursSession, entry: OfficeHoursEntry, outcome: str
) -> OfficeHoursEntry:
    allowed = [OfficeHoursStatus.BEING_HELPED]
    if outcome == "no_show":
        allowed.append(OfficeHoursStatus.WAITING)
    status = OfficeHoursStatus.DONE if outcome == "done" else OfficeHoursStatus.NO_SHOW
    with transaction.atomic():
        changed = OfficeHoursEntry.objects.filter(pk=entry.pk, status__in=allowed).update(
            status=status, finished_at=timezone.now()
        )
        if not changed:
            raise ValidationFailed(_("This student is not being helped."))
        entry = OfficeHoursEntry.objects.select_related("claimed_by", "conversation").get(
            pk=entry.pk
        )
        publish_office_hours(room, session, [entry])
    return entry
