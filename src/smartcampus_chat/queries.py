"""Read-side queries shared by the doors: room lists, history pages, and the view models
of the HTML pages (what a page shows and what its viewer may do, decided by the policy).

Each function costs a fixed number of queries whatever the number of rooms, messages or
participants (the tests count them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
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
from smartcampus_chat.domain import courses
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.validation import is_object_id
from smartcampus_chat.exceptions import NotFound, PermissionDenied
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role, RoomType
from smartcampus_chat.protocol.render import visible_content

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


def room_for(user: Any, slug: str) -> tuple[ChatRoom, RoomAccess]:
    """The room ``slug`` and the user's access; NotFound when it is missing *or* hidden."""
    room = ChatRoom.objects.filter(slug=slug).select_related("group").first()
    if room is None:
        raise NotFound()
    access = get_policy().access(user, room)
    if not access.can_see:
        raise NotFound()
    return room, access


def message_for(user: Any, message_id: Any) -> tuple[ChatMessage, RoomAccess]:
    """A message the user may see, with their access to its room (NotFound otherwise)."""
    if not is_object_id(message_id):
        raise NotFound()
    message = ChatMessage.objects.select_related("room", "sender").filter(pk=message_id).first()
    if message is None:
        raise NotFound()
    access = get_policy().access(user, message.room)
    if not access.can_see:
        raise NotFound()
    return message, access


def message_in_room(user: Any, slug: str, message_id: Any) -> tuple[ChatMessage, RoomAccess]:
    """The message, if the user may see it *and* it belongs to room ``slug`` (the pages'
    addresses name both: another room's message is not found there)."""
    message, access = message_for(user, message_id)
    if message.room.slug != slug:
        raise NotFound()
    return message, access


@dataclass(frozen=True)
class RoomListPage:
    """The room list: the user's rooms (each annotated by :func:`my_rooms`, with
    ``last_message`` and ``last_preview``, what the user may read of it) and the rooms
    they may join."""

    rooms: list[ChatRoom]
    joinable_rooms: list[ChatRoom]
    search: str


def room_list_page(user: Any, search: str) -> RoomListPage:
    rooms = list(my_rooms(user, search))
    last = last_messages(rooms)
    for room in rooms:
        message = last.get(room.pk)
        room.last_message = message  # type: ignore[attr-defined]
        room.last_preview = None if message is None else visible_content(message)  # type: ignore[attr-defined]
    return RoomListPage(rooms, list(joinable_rooms(user, search)), search)


@dataclass(frozen=True)
class MessageRow:
    """A message with what the viewer may do to it, decided once by the policy."""

    message: ChatMessage
    #: What the viewer may read of it (:func:`~smartcampus_chat.protocol.render.visible_content`).
    content: str | None
    can_edit: bool
    can_delete: bool


@dataclass(frozen=True)
class RoomPage:
    """A room's page: one page of history and what the viewer may do there."""

    room: ChatRoom
    access: RoomAccess
    course: Any
    page: HistoryPage
    rows: list[MessageRow]
    participants: list[ChatParticipant]
    joined: bool
    can_join: bool
    can_leave: bool
    can_manage: bool
    #: The newest message shown when the viewer is a participant who has not read it, on
    #: the latest page: what the page's "mark as read" form sends (the page itself never
    #: moves the marker: a GET changes nothing). None: nothing to mark.
    unread_seq: int | None


def room_page(user: Any, slug: str, *, before: int | None, after: int | None) -> RoomPage:
    """The page of room ``slug`` (NotFound when hidden); ``before`` wins over ``after``."""
    room, access = room_for(user, slug)
    if before is not None:
        after = None  # Both given: "before" wins, as the page's own links expect.
    page = history(room, before=before, after=after)
    members = list(participants(room))
    mine = next((p for p in members if p.user_id == user.pk), None)
    newest = page.messages[-1].seq if page.messages and not page.has_after else None
    policy = get_policy()
    rows = [
        MessageRow(
            message,
            content=visible_content(message),
            can_edit=policy.can_edit_message(user, access, message),
            can_delete=policy.can_delete_message(user, access, message),
        )
        for message in page.messages
    ]
    joined = mine is not None
    return RoomPage(
        room=room,
        access=access,
        course=courses.room_course(room),
        page=page,
        rows=rows,
        participants=members,
        joined=joined,
        can_join=not joined and policy.can_join(access, room),
        can_leave=joined and policy.can_leave(room),
        can_manage=policy.can_manage_room(access, room),
        unread_seq=(
            newest
            if mine is not None and newest is not None and newest > mine.last_read_seq
            else None
        ),
    )


@dataclass(frozen=True)
class MemberRow:
    participant: ChatParticipant
    can_remove: bool


@dataclass(frozen=True)
class RoomSettingsPage:
    """A room's settings page, for those who may manage the room (else PermissionDenied)."""

    room: ChatRoom
    access: RoomAccess
    members: list[MemberRow]


def room_settings_page(user: Any, slug: str) -> RoomSettingsPage:
    room, access = room_for(user, slug)
    policy = get_policy()
    if not policy.can_manage_room(access, room):
        raise PermissionDenied()
    members = [
        # The row's role stands in for the full access check, which the service repeats.
        MemberRow(p, can_remove=policy.can_remove_user(user, access, room, p.user, p.role))
        for p in participants(room)
    ]
    return RoomSettingsPage(room, access, members)


@dataclass(frozen=True)
class RoomCreateChoices:
    """What the room creation form offers: groups, and courses (None: courses are off)."""

    groups: QuerySet[Any]
    courses: QuerySet[Any] | None


def room_create_choices(user: Any) -> RoomCreateChoices:
    """Staff pick any group and course; others their own groups and the courses they
    teach (the service asks the policy again on submission)."""
    groups = Group.objects.all() if user.is_staff else user.groups.all()
    course_model = courses.get_course_model()
    if course_model is None:
        return RoomCreateChoices(groups.order_by("name"), None)
    taught = course_model._default_manager.all()
    if not user.is_staff:
        roles = courses.course_roles_for_user(user)
        taught = taught.filter(pk__in=[k for k, r in roles.items() if r == Role.MODERATOR])
    return RoomCreateChoices(groups.order_by("name"), taught)
