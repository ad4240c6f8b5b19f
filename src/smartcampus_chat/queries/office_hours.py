"""Reads of office hours (docs/office-hours.md): a room's session, its queue as each
person may see it, a session's statistics. Each costs a fixed number of queries.

Privacy: a student's view (:class:`~smartcampus_chat.protocol.payloads.OfficeHoursPlaceData`)
and the room's (:class:`~smartcampus_chat.protocol.payloads.OfficeHoursSessionData`) carry
no other student's name or topic; only :func:`staff_queue` does, for the policy's
``can_hold_office_hours``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q
from django.utils import timezone

from smartcampus_chat.domain.office_hours import RECENT_SERVICES, estimated_wait
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.models import (
    OFFICE_HOURS_LIVE,
    ChatRoom,
    OfficeHoursEntry,
    OfficeHoursSession,
    OfficeHoursStatus,
)
from smartcampus_chat.protocol.payloads import (
    OfficeHoursEntryData,
    OfficeHoursPlaceData,
    OfficeHoursSessionData,
    OfficeHoursStateName,
    OfficeHoursStatsData,
)
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.queries.members import moderators_and_staff


def current_session(room: ChatRoom) -> OfficeHoursSession | None:
    """The room's session not closed (scheduled, open or past its end), if any."""
    return OfficeHoursSession.objects.filter(room=room, closed_at__isnull=True).first()


def latest_session(room: ChatRoom) -> OfficeHoursSession | None:
    """The room's session not closed, else its last closed one (for its statistics)."""
    return (
        OfficeHoursSession.objects.filter(room=room)
        .order_by(F("closed_at").desc(nulls_first=True), "-id")
        .first()
    )


def session_state(session: OfficeHoursSession, now: datetime | None = None) -> OfficeHoursStateName:
    now = now or timezone.now()
    if session.closed_at is not None or (session.ends_at is not None and session.ends_at <= now):
        return "closed"
    return "scheduled" if session.starts_at > now else "open"


@dataclass(frozen=True)
class Queue:
    """A session's live entries (waiting, then being helped, each in order of joining) and
    what the wait estimate needs: the recent service times."""

    session: OfficeHoursSession
    entries: list[OfficeHoursEntry]
    services: list[float]

    @property
    def waiting(self) -> list[OfficeHoursEntry]:
        return [e for e in self.entries if e.status == OfficeHoursStatus.WAITING]

    @property
    def helping(self) -> int:
        return sum(e.status == OfficeHoursStatus.BEING_HELPED for e in self.entries)

    def position(self, entry: OfficeHoursEntry) -> int | None:
        for index, waiting in enumerate(self.waiting, start=1):
            if waiting.pk == entry.pk:
                return index
        return None

    def wait_at(self, position: int | None) -> int | None:
        return None if position is None else estimated_wait(position, self.services, self.helping)


def session_queue(session: OfficeHoursSession) -> Queue:
    """The live queue of ``session``: two queries."""
    entries = list(
        OfficeHoursEntry.objects.filter(session=session, status__in=OFFICE_HOURS_LIVE)
        .select_related("student", "claimed_by", "conversation")
        .order_by("joined_at", "id")
    )
    recent = (
        OfficeHoursEntry.objects.filter(
            session=session, status=OfficeHoursStatus.DONE, claimed_at__isnull=False
        )
        .order_by("-finished_at", "-id")
        .values_list("claimed_at", "finished_at")[:RECENT_SERVICES]
    )
    services = [
        max((finished - claimed).total_seconds(), 0.0)
        for claimed, finished in recent
        if claimed is not None and finished is not None
    ]
    return Queue(session, entries, services)


def session_data(queue: Queue) -> OfficeHoursSessionData:
    session = queue.session
    waiting = len(queue.waiting)
    state = session_state(session)
    return OfficeHoursSessionData(
        id=session.pk,
        state=state,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        waiting=waiting if state != "closed" else 0,
        helping=queue.helping if state != "closed" else 0,
        estimated_wait=queue.wait_at(waiting + 1) if state == "open" else None,
    )


def _slug(entry: OfficeHoursEntry) -> str | None:
    return entry.conversation.slug if entry.conversation is not None else None


def place_data(queue: Queue, entry: OfficeHoursEntry) -> OfficeHoursPlaceData:
    """A student's own place (``entry`` may have left the queue: no position then)."""
    position = queue.position(entry) if entry.status == OfficeHoursStatus.WAITING else None
    return OfficeHoursPlaceData(
        id=entry.pk,
        status=entry.status,
        topic=entry.topic,
        position=position,
        estimated_wait=queue.wait_at(position),
        claimed_by=user_ref(entry.claimed_by) if entry.claimed_by is not None else None,
        conversation=_slug(entry),
    )


def entry_data(entry: OfficeHoursEntry) -> OfficeHoursEntryData:
    return OfficeHoursEntryData(
        id=entry.pk,
        user=user_ref(entry.student),
        topic=entry.topic,
        status=entry.status,
        joined_at=entry.joined_at,
        claimed_by=user_ref(entry.claimed_by) if entry.claimed_by is not None else None,
        claimed_at=entry.claimed_at,
        conversation=_slug(entry),
    )


def staff_queue(queue: Queue) -> list[OfficeHoursEntryData]:
    """The queue as its teachers see it: names and topics (the policy's
    ``can_hold_office_hours`` only)."""
    return [entry_data(entry) for entry in queue.entries]


def own_entry(session: OfficeHoursSession, user: Any) -> OfficeHoursEntry | None:
    """``user``'s live entry in ``session``, else their last one (to show how it ended)."""
    return (
        OfficeHoursEntry.objects.filter(session=session, student=user)
        .select_related("claimed_by", "conversation")
        .order_by(
            ExpressionWrapper(Q(status__in=OFFICE_HOURS_LIVE), BooleanField()).desc(),
            "-joined_at",
            "-id",
        )
        .first()
    )


def session_stats(session: OfficeHoursSession) -> OfficeHoursStatsData:
    """A session's figures: two queries."""
    counts = OfficeHoursEntry.objects.filter(session=session).aggregate(
        served=Count("pk", filter=Q(status=OfficeHoursStatus.DONE)),
        no_shows=Count("pk", filter=Q(status=OfficeHoursStatus.NO_SHOW)),
        left=Count("pk", filter=Q(status=OfficeHoursStatus.LEFT)),
    )
    times = OfficeHoursEntry.objects.filter(session=session, claimed_at__isnull=False).values_list(
        "status", "joined_at", "claimed_at", "finished_at"
    )
    waits: list[float] = []
    services: list[float] = []
    for status, joined, claimed, finished in times:
        if claimed is None:
            continue
        waits.append(max((claimed - joined).total_seconds(), 0.0))
        if status == OfficeHoursStatus.DONE and finished is not None:
            services.append(max((finished - claimed).total_seconds(), 0.0))

    def mean(values: list[float]) -> int | None:
        return round(sum(values) / len(values)) if values else None

    return OfficeHoursStatsData(
        session=session.pk,
        served=counts["served"],
        no_shows=counts["no_shows"],
        left=counts["left"],
        average_wait=mean(waits),
        average_service=mean(services),
    )


def office_hours_staff_ids(room: ChatRoom) -> list[int]:
    """Who sees the whole queue live: the room's moderators and owners, and the site's
    active staff, each confirmed by the policy (``can_hold_office_hours``)."""
    policy = get_policy()
    return sorted(
        user.pk
        for user, access in moderators_and_staff(room)
        if policy.can_hold_office_hours(access, room)
    )


@dataclass(frozen=True)
class OfficeHoursView:
    """What one person sees of a room's office hours (the REST answer, the panel's start)."""

    room: str
    session: OfficeHoursSessionData | None
    #: The person's own place (students; None when not queued in this session).
    mine: OfficeHoursPlaceData | None
    #: The whole queue: teachers only (None for others).
    queue: list[OfficeHoursEntryData] | None
    #: The statistics of the session shown: teachers only.
    stats: OfficeHoursStatsData | None


def office_hours_view(user: Any, room: ChatRoom, access: RoomAccess) -> OfficeHoursView:
    """The room's office hours as ``user`` (whose access is ``access``) may see them: the
    current session, else the last closed one. Six queries at most."""
    teacher = get_policy().can_hold_office_hours(access, room)
    session = latest_session(room)
    if session is None:
        return OfficeHoursView(room.slug, None, None, [] if teacher else None, None)
    queue = session_queue(session)
    entry = own_entry(session, user)
    return OfficeHoursView(
        room=room.slug,
        session=session_data(queue),
        mine=place_data(queue, entry) if entry is not None else None,
        queue=staff_queue(queue) if teacher else None,
        stats=session_stats(session) if teacher else None,
    )
