"""The shell's room sidebar: the user's rooms in sections, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import names
from smartcampus_chat.domain.notifications import is_muted
from smartcampus_chat.markup import plain_text
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, RoomType
from smartcampus_chat.protocol.render import visible_html
from smartcampus_chat.queries.notifications import unread_notification_count
from smartcampus_chat.queries.rooms import last_messages, my_rooms

#: Section order of the sidebar: course rooms, groups, public rooms, direct messages.
SECTION_ORDER = (RoomType.COURSE, RoomType.GROUP, RoomType.PUBLIC, RoomType.PRIVATE)


@dataclass(frozen=True)
class SidebarSection:
    """One collapsible section; ``key`` is the room type (the template names it)."""

    key: str
    rooms: list[ChatRoom]


@dataclass(frozen=True)
class Sidebar:
    """The user's rooms, each annotated by :func:`my_rooms` plus ``last_message``,
    ``last_preview`` (what the user may read of it), ``title`` (what the user calls it:
    :func:`~smartcampus_chat.domain.names.room_title`) and, on direct messages, ``peer``
    (the other participant, with ``is_online``; None when they left), and ``muted``
    (notifications muted for now: the list shows it dimmed, the tab's count leaves it
    out) with ``muted_until`` (when that ends: the client un-dims it then)."""

    sections: list[SidebarSection]
    #: Rooms listed, and their unread messages in all (muted rooms not counted).
    count: int
    unread: int
    #: The bell's count: unread notifications (None: the site turned them off).
    notifications_unread: int | None = None


#: Before the file names of a message sent without text, in its preview.
FILES_MARK = "\U0001f4ce "


def preview_text(message: ChatMessage) -> str | None:
    """A message in the room list: its text without formatting; a message of files alone,
    their names ("📎 lab.jpg, notes.pdf"); None once deleted. ``js/chat/rooms.js``
    writes the same for live messages."""
    html = visible_html(message)
    if html is None:
        return None
    text = plain_text(html)
    if text:
        return text
    names = [row.name for row in getattr(message, "attachment_rows", None) or []]
    return FILES_MARK + ", ".join(names) if names else text


def sidebar(user: Any, search: str = "") -> Sidebar:
    """The rooms, their last messages, the peers of direct messages (skipped when the user
    has none), the unread notifications (three: skipped when the site turned them off)."""
    rooms = list(my_rooms(user, search))
    last = last_messages(rooms)
    private_ids = [room.pk for room in rooms if room.room_type == RoomType.PRIVATE]
    peers: dict[int, ChatParticipant] = {}
    if private_ids:
        rows = (
            ChatParticipant.objects.filter(room_id__in=private_ids, is_banned=False)
            .exclude(user_id=user.pk)
            .select_related("user")
        )
        peers = {row.room_id: row for row in rows}
    people = {row.user_id: row.user for row in peers.values()}
    now = timezone.now()
    for room in rooms:
        room.title = names.room_title(room, user, people)  # type: ignore[attr-defined]
        message = last.get(room.pk)
        room.last_message = message  # type: ignore[attr-defined]
        room.last_preview = None if message is None else preview_text(message)  # type: ignore[attr-defined]
        room.peer = peers.get(room.pk)  # type: ignore[attr-defined]
        room.muted = is_muted(room.my_muted_until, now)  # type: ignore[attr-defined]
        room.muted_until = room.my_muted_until if room.muted else None  # type: ignore[attr-defined]
    sections = [
        SidebarSection(str(kind), [room for room in rooms if room.room_type == kind])
        for kind in SECTION_ORDER
    ]
    unread = sum(getattr(room, "unread", 0) for room in rooms if not getattr(room, "muted", False))
    return Sidebar(
        sections,
        len(rooms),
        unread,
        unread_notification_count(user) if app_settings.NOTIFICATIONS else None,
    )
