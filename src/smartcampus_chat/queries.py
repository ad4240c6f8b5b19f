"""Read-side queries shared by the doors: room lists and history pages.

Each function costs a fixed number of queries whatever the number of rooms, messages or
participants (the tests count them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role, RoomType

SEARCH_MAX_LENGTH = 100
PEOPLE_LIMIT = 20


def clean_search(value: Any) -> str:
    """A search term from a query string: text, trimmed, bounded (never an error)."""
    return value.strip()[:SEARCH_MAX_LENGTH] if isinstance(value, str) else ""


def my_rooms(user: Any, search: str = "") -> QuerySet[ChatRoom]:
    """Rooms the user joined and may still see, annotated for the room list.

    Annotations: ``my_last_read_seq``, ``unread`` (others' undeleted messages after the read
    marker), ``last_message_id``; newest activity first. ``search`` filters by name.
    """
    membership = ChatParticipant.objects.filter(room=OuterRef("pk"), user=user)
    # Inside the message subquery, OuterRef("pk") would be the *message*: reach the room
    # two levels up.
    read_marker = ChatParticipant.objects.filter(room=OuterRef(OuterRef("pk")), user=user)
    unread = (
        ChatMessage.objects.filter(
            room=OuterRef("pk"),
            is_deleted=False,
            seq__gt=Coalesce(Subquery(read_marker.values("last_read_seq")[:1]), Value(0)),
        )
        .exclude(sender=user)
        .order_by()
        .values("room")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_message = ChatMessage.objects.filter(room=OuterRef("pk")).order_by("-seq").values("pk")[:1]
    joined = ChatParticipant.objects.filter(user=user, is_banned=False).values("room_id")
    rooms = get_policy().visible_rooms(user, ChatRoom.objects.filter(pk__in=joined))
    if search:
        rooms = rooms.filter(name__icontains=search)
    return rooms.annotate(
        my_last_read_seq=Subquery(membership.values("last_read_seq")[:1]),
        unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
        last_message_id=Subquery(last_message),
    ).order_by("-last_message_at", "-created_at")


def joinable_rooms(user: Any, search: str = "") -> QuerySet[ChatRoom]:
    """Non-private, active rooms the user may see but has not joined (``search``: by name)."""
    joined = ChatParticipant.objects.filter(user=user).values("room_id")
    rooms = ChatRoom.objects.exclude(room_type=RoomType.PRIVATE).active().exclude(pk__in=joined)
    if search:
        rooms = rooms.filter(name__icontains=search)
    return get_policy().visible_rooms(user, rooms).order_by("name")


def last_messages(rooms: list[ChatRoom]) -> dict[int, ChatMessage]:
    """The ``last_message_id`` annotated by :func:`my_rooms`, loaded in one query."""
    ids = [getattr(room, "last_message_id", None) for room in rooms]
    messages = ChatMessage.objects.filter(pk__in=[i for i in ids if i]).select_related("sender")
    return {message.room_id: message for message in messages}


@dataclass(frozen=True)
class HistoryPage:
    messages: list[ChatMessage]
    has_before: bool
    has_after: bool


def clamp_page_size(value: Any) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return int(app_settings.PAGE_SIZE)
    return max(1, min(size, int(app_settings.MAX_PAGE_SIZE)))


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
    base = ChatMessage.objects.filter(room=room).select_related("sender")
    if after is not None:
        rows = list(base.filter(seq__gt=after).order_by("seq")[: size + 1])
        has_after = len(rows) > size
        messages = rows[:size]
        has_before = after > 0 and bool(messages or room.last_seq)
        return HistoryPage(messages, has_before=has_before, has_after=has_after)
    query = base.filter(seq__lt=before) if before is not None else base
    rows = list(query.order_by("-seq")[: size + 1])
    has_before = len(rows) > size
    messages = rows[:size][::-1]
    has_after = before is not None and before <= room.last_seq
    return HistoryPage(messages, has_before=has_before, has_after=has_after)


def changes_since(room: ChatRoom, event_seq: int, *, limit: int) -> list[ChatMessage]:
    """Messages whose latest change is newer than ``event_seq``, oldest change first."""
    return list(
        ChatMessage.objects.filter(room=room, event_seq__gt=event_seq)
        .select_related("sender")
        .order_by("event_seq")[:limit]
    )


def participants(room: ChatRoom) -> QuerySet[ChatParticipant]:
    """A room's participants: online first, then owners, moderators, members, by name."""
    rank = Case(
        When(role=Role.OWNER, then=Value(0)),
        When(role=Role.MODERATOR, then=Value(1)),
        default=Value(2),
    )
    return (
        ChatParticipant.objects.filter(room=room, is_banned=False)
        .select_related("user")
        .order_by("-is_online", rank, f"user__{get_user_model().USERNAME_FIELD}")
    )


def participant_rows(
    pairs: Iterable[tuple[Any, int]],
) -> dict[tuple[Any, int], ChatParticipant]:
    """The participant rows of ``(user id, room id)`` pairs, in one query (for the policy,
    which would read one row per pair); pairs without a row, or a user id, are absent."""
    users_by_room: dict[int, set[Any]] = defaultdict(set)
    for user_id, room_id in pairs:
        if user_id is not None:
            users_by_room[room_id].add(user_id)
    if not users_by_room:
        return {}
    condition = Q()
    for room_id, user_ids in users_by_room.items():
        condition |= Q(room_id=room_id, user_id__in=user_ids)
    return {
        (participant.user_id, participant.room_id): participant
        for participant in ChatParticipant.objects.filter(condition).order_by()
    }


def search_people(user: Any, search: str, *, limit: int = PEOPLE_LIMIT) -> list[Any]:
    """Active users other than ``user`` whose username or name contains ``search``.

    An empty search finds nobody: the page never lists the whole directory at once.
    """
    if not search:
        return []
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    field_names = {field.name for field in user_model._meta.get_fields()}
    match = Q(**{f"{username_field}__icontains": search})
    for name_field in ("first_name", "last_name"):
        if name_field in field_names:
            match |= Q(**{f"{name_field}__icontains": search})
    if "is_active" in field_names:
        match &= Q(is_active=True)
    people = user_model._default_manager.filter(match).exclude(pk=user.pk)
    return list(people.order_by(username_field)[:limit])


def followed_rooms(user: Any) -> list[tuple[int, str, int]]:
    """(id, slug, last_event_seq) of the rooms the user joined and may still see: what
    ``ws/chat/`` follows."""
    joined = ChatParticipant.objects.filter(user=user, is_banned=False).values("room_id")
    rooms = get_policy().visible_rooms(user, ChatRoom.objects.filter(pk__in=joined))
    return list(rooms.order_by().values_list("pk", "slug", "last_event_seq"))


def room_by_id(room_id: int) -> ChatRoom:
    """The room ``room_id`` (``ChatRoom.DoesNotExist`` when it is gone)."""
    return ChatRoom.objects.get(pk=room_id)


def room_exists(room_id: int) -> bool:
    return ChatRoom.objects.filter(pk=room_id).exists()
