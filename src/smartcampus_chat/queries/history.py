"""A room's history: keyset pages on ``seq``, and the changes a reconnecting client missed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.models import ChatMessage, ChatRoom


@dataclass(frozen=True)
class HistoryPage:
    messages: list[ChatMessage]
    has_before: bool
    has_after: bool
    #: The retention purge's watermark: no message numbered up to it exists any more.
    purged_through_seq: int = 0


def clamp_page_size(value: Any) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return app_settings.PAGE_SIZE
    return max(1, min(size, app_settings.MAX_PAGE_SIZE))


def history(
    room: ChatRoom,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> HistoryPage:
    """One page of a room's messages in ascending ``seq`` order (keyset pagination).

    With neither cursor: the latest page. ``before=N``: the page just older than N.
    ``after=N``: the page just newer than N. One query (the page plus one probe row).
    """
    size = clamp_page_size(limit)
    # The purge moves its watermark before it deletes: nothing at or below it is shown.
    floor = room.purged_through_seq
    base = ChatMessage.objects.filter(room=room, seq__gt=floor).shown()
    if after is not None:
        rows = list(base.filter(seq__gt=after).order_by("seq")[: size + 1])
        has_after = len(rows) > size
        messages = rows[:size]
        has_before = after > floor and bool(messages or room.last_seq)
        return HistoryPage(
            messages, has_before=has_before, has_after=has_after, purged_through_seq=floor
        )
    query = base.filter(seq__lt=before) if before is not None else base
    rows = list(query.order_by("-seq")[: size + 1])
    has_before = len(rows) > size
    messages = rows[:size][::-1]
    has_after = before is not None and before <= room.last_seq
    return HistoryPage(
        messages, has_before=has_before, has_after=has_after, purged_through_seq=floor
    )


def shows_deleted_content(access: RoomAccess | None) -> bool:
    """Whether a reader with ``access`` sees the text of deleted messages (the policy's
    ``can_see_deleted_content``); ``None`` (a write's own answer) never shows it."""
    return access is not None and get_policy().can_see_deleted_content(access)


def changes_since(room: ChatRoom, event_seq: int, *, limit: int) -> list[ChatMessage]:
    """Messages whose latest change is newer than ``event_seq``, oldest change first."""
    return list(
        ChatMessage.objects.filter(
            room=room, event_seq__gt=event_seq, seq__gt=room.purged_through_seq
        )
        .shown()
        .order_by("event_seq")[:limit]
    )


@dataclass(frozen=True)
class PurgeMarks:
    """What the retention purge left of a room (docs/retention.md, "The gap")."""

    #: No message numbered up to this exists any more.
    through_seq: int
    #: The newest change number of a message purged out of order (deleted, past its grace).
    event_seq: int

    def gap_after(self, event_seq: int) -> bool:
        """Whether a client that has every change up to ``event_seq`` missed a change of a
        message purged since, which no replay can name."""
        return event_seq < self.event_seq


def purge_marks(room_id: int) -> PurgeMarks:
    """The room's purge marks as they are now (one query)."""
    through, event = ChatRoom.objects.filter(pk=room_id).values_list(
        "purged_through_seq", "purged_event_seq"
    ).first() or (0, 0)
    return PurgeMarks(through_seq=through, event_seq=event)
