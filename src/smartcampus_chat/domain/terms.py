"""Terms and sections: the host's hooks a course sync reads (docs/terms.md).

``COURSE_END`` says when a course ends (a field of the course model or a callable);
``COURSE_ROSTER`` gives a course's whole roster at once and ``COURSE_SECTIONS`` its
sections. The rule a door applies is the policy's (:class:`~.policies.RoomAccess`,
``ended``): a room whose stored ``ends_at`` has passed is read-only for everyone, decided
against the clock at each use, so no scheduled job is needed for it to hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import timezone

from smartcampus_chat.conf import ChatSettings, app_settings
from smartcampus_chat.models import Role

#: The roles a roster may give, as participant roles.
ROSTER_ROLES = {Role.MEMBER.value: Role.MEMBER, Role.MODERATOR.value: Role.MODERATOR}
#: The longest section key and name the chat stores (ChatRoom.section_key, ChatRoom.name).
MAX_SECTION_KEY = 64


@dataclass(frozen=True)
class RosterEntry:
    """One person of a course's roster: their role and the sections they belong to."""

    user_id: int
    role: str
    sections: frozenset[str]


def as_end(value: date | datetime | None) -> datetime | None:
    """The moment a course ends: a datetime as is (aware), a date at the end of that day
    in the site's time zone (a course "ending on 12 December" is open all that day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    start_of_next = datetime.combine(value + timedelta(days=1), time.min)
    return timezone.make_aware(start_of_next)


def course_end(course: models.Model) -> datetime | None:
    """When ``course`` ends, as the host says (``COURSE_END``); None when unknown."""
    end = app_settings.COURSE_END
    if end is None:
        return None
    if end.isidentifier():
        return as_end(getattr(course, end, None))
    return as_end(app_settings.load(ChatSettings.COURSE_END)(course))


def last_day(ends_at: datetime) -> date:
    """The course's last day, in the site's time zone: a course that ends at midnight
    ended on the day before it."""
    return timezone.localtime(ends_at - timedelta(microseconds=1)).date()


def has_ended(ends_at: datetime | None, now: datetime | None = None) -> bool:
    return ends_at is not None and ends_at <= (now or timezone.now())


def is_past_grace(ends_at: datetime | None, now: datetime | None = None) -> bool:
    """The course ended more than ``COURSE_GRACE_DAYS`` ago: its rooms are archived."""
    if ends_at is None:
        return False
    return ends_at + timedelta(days=app_settings.COURSE_GRACE_DAYS) <= (now or timezone.now())


def course_sections(course: models.Model) -> dict[str, str]:
    """{section key: name} of ``course`` (empty without ``COURSE_SECTIONS``)."""
    hook = app_settings.load(ChatSettings.COURSE_SECTIONS)
    if hook is None:
        return {}
    sections: dict[str, str] = {}
    for key, name in hook(course):
        key = str(key)
        if key and len(key) <= MAX_SECTION_KEY:
            sections[key] = str(name)
    return sections


def has_roster() -> bool:
    return app_settings.COURSE_ROSTER is not None


def course_roster(course: models.Model) -> Iterator[RosterEntry]:
    """The host's roster of ``course`` (``COURSE_ROSTER``); people with a role the chat
    does not know are left out, as the per-user resolver's would be."""
    hook = app_settings.load(ChatSettings.COURSE_ROSTER)
    if hook is None:
        return
    for user_id, role, sections in hook(course):
        chat_role = ROSTER_ROLES.get(str(role)) if role else None
        if chat_role is not None:
            yield RosterEntry(int(user_id), chat_role, frozenset(str(key) for key in sections))


def wanted_members(
    roster: list[RosterEntry], section_keys: set[str]
) -> dict[str | None, dict[int, str]]:
    """{section key (None: the course room): {user id: role}} the roster asks for."""
    wanted: dict[str | None, dict[int, str]] = {None: {}}
    wanted.update({key: {} for key in section_keys})
    for entry in roster:
        wanted[None][entry.user_id] = entry.role
        for key in entry.sections & section_keys:
            wanted[key][entry.user_id] = entry.role
    return wanted
