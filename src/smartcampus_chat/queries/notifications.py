"""Notifications: the notification centre's pages and counts, who the notify step
considers, and what the worker needs to decide whether a delivery still goes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import names
from smartcampus_chat.domain.anonymity import ANONYMOUS_NAME
from smartcampus_chat.domain.notifications import effective_level, is_muted, shows_content
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.models import (
    ChatConnection,
    ChatNotification,
    ChatNotificationDelivery,
    ChatParticipant,
    ChatPreferences,
    ChatRoom,
    NotificationKind,
)
from smartcampus_chat.protocol.payloads import NotificationData
from smartcampus_chat.protocol.render import message_url, notification_data, user_ref

#: Notifications of one page of the centre (REST and the HTML page), and the most a
#: client may ask for.
PAGE_SIZE = 30
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class NotificationsPage:
    items: list[NotificationData]
    #: Where the next (older) page starts (``before``), None at the end.
    next_before: int | None
    unread: int


def _title(notification: ChatNotification) -> str:
    """What the person calls the room: a private room is named after the other person, who
    is the sender of the message (no query more)."""
    people = {notification.actor.pk: notification.actor} if notification.actor else {}
    reader = SimpleNamespace(pk=notification.user_id)  # no query for the reader's row
    return names.room_title(notification.room, reader, people)


def render(notification: ChatNotification) -> NotificationData:
    """One notification, its message, room, actor and user loaded."""
    return notification_data(notification, room_name=_title(notification))


def _mine(user: Any) -> QuerySet[ChatNotification]:
    """``user``'s notifications in the rooms they may still see (the policy): a person
    removed from a room, or out of its group or course, no longer reads its text here."""
    visible = get_policy().visible_rooms(user, ChatRoom.objects.all()).values("pk")
    return ChatNotification.objects.filter(user=user, room__in=visible)


def unread_notification_count(user: Any) -> int:
    """``user``'s unread notifications (one query, after the policy's own for the rooms
    they see: their groups, their courses)."""
    return _mine(user).filter(read_at__isnull=True).count()


def notifications_of(
    user: Any,
    *,
    before: int | None = None,
    unread_only: bool = False,
    limit: int = PAGE_SIZE,
) -> NotificationsPage:
    """A page of ``user``'s notifications, newest first, older than the id ``before``, in
    the rooms they still see: two queries, after the policy's own."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    mine = _mine(user)
    rows = mine.select_related("message", "room", "actor")
    if before is not None:
        rows = rows.filter(pk__lt=before)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    found = list(rows.order_by("-pk")[: limit + 1])
    page = found[:limit]
    return NotificationsPage(
        items=[render(row) for row in page],
        next_before=page[-1].pk if len(found) > limit else None,
        unread=mine.filter(read_at__isnull=True).count(),
    )


@dataclass(frozen=True)
class RoomNotify:
    """A member's notification setting for a room (the room header's "Notifications"):
    their choice (``level``, "" for the site's default), what it comes to
    (``effective_level``), and the end of their mute (None: not muted now)."""

    level: str
    effective_level: str
    muted_until: datetime | None


def room_notify(participant: ChatParticipant, room: ChatRoom) -> RoomNotify:
    """The setting of ``participant`` (no query)."""
    until = participant.muted_until
    return RoomNotify(
        level=participant.notify_level,
        effective_level=effective_level(participant.notify_level, room.room_type),
        muted_until=until if is_muted(until, timezone.now()) else None,
    )


@dataclass(frozen=True)
class Candidate:
    """A member the notify step considers for a message of ``room_id``."""

    room_id: int
    user_id: int
    notify_level: str
    muted_until: datetime | None
    #: Removed from the room (the row stays so that they cannot join again).
    banned: bool = False


def notify_candidates(
    room_ids: Iterable[int], user_ids: Iterable[int], everyone_rooms: Iterable[int]
) -> list[Candidate]:
    """The members the notify step looks at, one query whatever the rooms' sizes: in
    ``room_ids``, those named in ``user_ids`` (mentioned, replied to), every member of
    ``everyone_rooms`` (``@everyone``, private rooms, rooms whose default is "all"), and
    whoever chose "all" for their room. Removed members are among them, marked: a
    mention of someone removed must not reach them as a non-member's would."""
    room_ids, user_ids, everyone_rooms = set(room_ids), set(user_ids), set(everyone_rooms)
    if not room_ids:
        return []
    wanted = Q(notify_level="all")
    if user_ids:
        wanted |= Q(user_id__in=user_ids)
    if everyone_rooms:
        wanted |= Q(room_id__in=everyone_rooms)
    rows = (
        ChatParticipant.objects.filter(room_id__in=room_ids)
        .filter(wanted)
        .values_list("room_id", "user_id", "notify_level", "muted_until", "is_banned")
    )
    return [Candidate(*row) for row in rows]


def people(user_ids: Iterable[int]) -> dict[int, Any]:
    """{user id: user} (one query)."""
    return {
        user.pk: user for user in get_user_model()._default_manager.filter(pk__in=set(user_ids))
    }


def preferences_by_user(user_ids: Iterable[int]) -> dict[int, ChatPreferences]:
    """{user id: preferences} (the defaults, unsaved, for those with no row): one query."""
    ids = set(user_ids)
    found = {row.user_id: row for row in ChatPreferences.objects.filter(user_id__in=ids)}
    return {pk: found.get(pk) or ChatPreferences(user_id=pk) for pk in ids}


def read_markers(pairs: Iterable[tuple[int, int]]) -> Mapping[tuple[int, int], ChatParticipant]:
    """{(room id, user id): membership} of these pairs (removed members included: the
    policy refuses them): one query (the worker reads the read marker, the level, the mute
    and, with the policy, whether they still see the room)."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rooms = {room for room, _user in pairs}
    users = {user for _room, user in pairs}
    rows = ChatParticipant.objects.filter(room_id__in=rooms, user_id__in=users)
    return {(row.room_id, row.user_id): row for row in rows if (row.room_id, row.user_id) in pairs}


def users_online(user_ids: Iterable[int]) -> set[int]:
    """Those of ``user_ids`` with an open chat socket somewhere (the presence store)."""
    ids = set(user_ids)
    if not ids:
        return set()
    return set(
        ChatConnection.objects.filter(user_id__in=ids).values_list("user_id", flat=True).distinct()
    )


def claimed_deliveries(ids: Iterable[int]) -> list[ChatNotificationDelivery]:
    """The deliveries ``ids`` with their notification, its message (and the message it
    answers), room, actor and person: one query."""
    return list(
        ChatNotificationDelivery.objects.filter(pk__in=set(ids))
        .select_related(
            "notification__message",
            "notification__room",
            "notification__actor",
            "notification__user",
        )
        .order_by("pk")
    )


@dataclass(frozen=True)
class NotificationText:
    """A notification told outside the chat (Web Push, e-mail): in the active language."""

    title: str
    body: str
    #: The message in its room, absolute (``NOTIFY_SITE_URL``).
    url: str


def _kind_title(kind: str, name: str, room: str) -> str:
    if kind == NotificationKind.ANNOUNCEMENT:
        return _("%(name)s asks you to acknowledge an announcement in %(room)s") % {
            "name": name,
            "room": room,
        }
    if kind == NotificationKind.MENTION:
        return _("%(name)s mentioned you in %(room)s") % {"name": name, "room": room}
    if kind == NotificationKind.REPLY:
        return _("%(name)s replied to you in %(room)s") % {"name": name, "room": room}
    if kind == NotificationKind.PRIVATE:
        return _("%(name)s wrote to you") % {"name": name}
    return _("%(name)s in %(room)s") % {"name": name, "room": room}


def notification_texts(
    notification: ChatNotification, *, with_content: bool | None = None
) -> NotificationText:
    """Title, text and link of ``notification`` (message, room, actor and user loaded), in
    the active language. ``with_content``: whether the text is the message's (default:
    the rule of :func:`~smartcampus_chat.domain.notifications.shows_content` with the
    person's defaults); otherwise "New message"."""
    room = notification.room
    if with_content is None:
        with_content = shows_content(ChatPreferences(), room.room_type)
    if notification.message.anonymous:
        name = str(ANONYMOUS_NAME)
    else:
        name = user_ref(notification.actor).name if notification.actor else _("Someone")
    title = _kind_title(notification.kind, name, _title(notification))
    data = render(notification)
    if notification.message.is_deleted:
        body = _("This message was deleted.")
    elif with_content and data.excerpt:
        body = data.excerpt
    else:
        body = _("New message")
    base = (app_settings.NOTIFY_SITE_URL or "").rstrip("/")
    return NotificationText(
        title=title, body=body, url=base + message_url(notification.message, room.slug)
    )
