"""Room lists and one room as its reader sees it, in a fixed number of queries; the room
or message a user may see, by its address."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import names
from smartcampus_chat.domain.policies import (
    RoomAccess,
    get_policy,
    is_active_user,
    is_banned_now,
)
from smartcampus_chat.domain.sanctions import is_indefinite
from smartcampus_chat.domain.validation import is_object_id
from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, RoomType
from smartcampus_chat.protocol.payloads import RoomData
from smartcampus_chat.protocol.render import room_data
from smartcampus_chat.queries.mentions import mentioning_me


def readable_rooms(user: Any) -> QuerySet[ChatRoom]:
    """The rooms the user joined and may still see (not removed from, the policy allows):
    the room list's rooms, what ``ws/chat/`` follows and what message search searches."""
    joined = ChatParticipant.objects.filter(user=user, is_banned=False).values("room_id")
    return get_policy().visible_rooms(user, ChatRoom.objects.filter(pk__in=joined))


def my_rooms(user: Any, search: str = "") -> QuerySet[ChatRoom]:
    """Rooms the user joined and may still see, annotated for the room list.

    Annotations: ``my_last_read_seq``, ``my_muted_until`` (notifications muted until
    then), ``unread`` (others' undeleted messages after the read
    marker), ``mentions`` (those of them that mention the user or everyone),
    ``last_message_id``; newest activity first. ``search`` filters by name.
    """
    membership = ChatParticipant.objects.filter(room=OuterRef("pk"), user=user)
    # Inside the message subquery, OuterRef("pk") would be the *message*: reach the room
    # two levels up.
    read_marker = ChatParticipant.objects.filter(room=OuterRef(OuterRef("pk")), user=user)
    after_marker = ChatMessage.objects.filter(
        room=OuterRef("pk"),
        is_deleted=False,
        seq__gt=Coalesce(Subquery(read_marker.values("last_read_seq")[:1]), Value(0)),
    ).exclude(sender=user)
    unread, mentions = (
        messages.order_by().values("room").annotate(n=Count("pk")).values("n")
        for messages in (after_marker, after_marker.filter(mentioning_me(user)))
    )
    last_message = ChatMessage.objects.filter(room=OuterRef("pk")).order_by("-seq").values("pk")[:1]
    rooms = readable_rooms(user)
    if search:
        rooms = rooms.filter(name__icontains=search)
    return rooms.annotate(
        my_last_read_seq=Subquery(membership.values("last_read_seq")[:1]),
        my_muted_until=Subquery(membership.values("muted_until")[:1]),
        unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
        mentions=Coalesce(Subquery(mentions, output_field=IntegerField()), Value(0)),
        last_message_id=Subquery(last_message),
    ).order_by("-last_message_at", "-created_at")


def joinable_rooms(user: Any, search: str = "") -> QuerySet[ChatRoom]:
    """Non-private, active rooms the user may see but has not joined (``search``: by name)."""
    joined = ChatParticipant.objects.filter(user=user).values("room_id")
    rooms = ChatRoom.objects.exclude(room_type=RoomType.PRIVATE).active().exclude(pk__in=joined)
    if search:
        rooms = rooms.filter(name__icontains=search)
    return get_policy().visible_rooms(user, rooms).order_by("name")


def room_list(
    user: Any, *, scope: str = "mine", room_type: str | None = None
) -> QuerySet[ChatRoom]:
    """:func:`my_rooms` (``scope="mine"``) or :func:`joinable_rooms` (``"joinable"``),
    of one ``room_type`` if given."""
    rooms = joinable_rooms(user) if scope == "joinable" else my_rooms(user)
    if room_type is not None:
        rooms = rooms.filter(room_type=room_type)
    return rooms


def room_titles(user: Any, rooms: Iterable[ChatRoom]) -> dict[int, str]:
    """{room id: what ``user`` calls it} (:func:`~smartcampus_chat.domain.names.room_title`):
    one query of the other members of the private rooms among ``rooms``, none without."""
    rooms = list(rooms)
    ids = {
        pk
        for room in rooms
        if room.room_type == RoomType.PRIVATE
        for pk in names.private_member_ids(room)
        if pk != user.pk
    }
    people = {p.pk: p for p in get_user_model()._default_manager.filter(pk__in=ids)} if ids else {}
    return {room.pk: names.room_title(room, user, people) for room in rooms}


def with_titles(user: Any, rooms: Iterable[ChatRoom]) -> list[ChatRoom]:
    """``rooms``, each with ``title`` set to what ``user`` calls it (the pages show it)."""
    rooms = list(rooms)
    titles = room_titles(user, rooms)
    for room in rooms:
        room.title = titles[room.pk]  # type: ignore[attr-defined]
    return rooms


def private_titles(room: ChatRoom) -> dict[int, str]:
    """{member id: what they call private room ``room``} (one query): a ``room.updated`` of
    a private room goes to each member with their own title."""
    people = {
        p.pk: p
        for p in get_user_model()._default_manager.filter(pk__in=names.private_member_ids(room))
    }
    return {pk: names.room_title(room, person, people) for pk, person in people.items()}


def room_payload(user: Any, room: ChatRoom) -> RoomData:
    """``room`` as ``user`` receives it in ``room.added``/``room.updated`` (their title)."""
    return room_data(room, title=room_titles(user, [room])[room.pk])


def room_payload_by_id(user: Any, room_id: int) -> RoomData:
    """:func:`room_payload` of the room ``room_id`` (``ChatRoom.DoesNotExist`` when gone)."""
    return room_payload(user, room_by_id(room_id))


def last_messages(rooms: list[ChatRoom]) -> dict[int, ChatMessage]:
    """The ``last_message_id`` annotated by :func:`my_rooms`, loaded in one query."""
    ids = [getattr(room, "last_message_id", None) for room in rooms]
    messages = ChatMessage.objects.filter(pk__in=[i for i in ids if i]).shown()
    return {message.room_id: message for message in messages}


@dataclass(frozen=True)
class RoomDetail:
    """One room as ``user`` sees it: the :func:`my_rooms` row (unread count, read marker)
    when they joined it, else the plain room."""

    room: ChatRoom
    access: RoomAccess
    is_member: bool
    can_join: bool
    last_messages: dict[int, ChatMessage]
    #: What the user calls the room (:func:`room_titles`).
    title: str


def room_detail(user: Any, room: ChatRoom, access: RoomAccess) -> RoomDetail:
    """``room`` with the user's ``access``, whether they may join it, its last message and
    its title (two queries, three for a private room)."""
    joined = my_rooms(user).filter(pk=room.pk).first()
    return RoomDetail(
        room=joined or room,
        access=access,
        is_member=joined is not None,
        can_join=joined is None and get_policy().can_join(access, room),
        last_messages=last_messages([joined]) if joined is not None else {},
        title=room_titles(user, [room])[room.pk],
    )


def followed_rooms(user: Any) -> list[tuple[int, str, int]]:
    """(id, slug, last_event_seq) of the rooms the user joined and may still see: what
    ``ws/chat/`` follows."""
    return list(readable_rooms(user).order_by().values_list("pk", "slug", "last_event_seq"))


def lost_access_reason(room: ChatRoom, participant: ChatParticipant | None) -> str | None:
    """Why a participant of ``room`` can no longer see it, told to them only (they know the
    room exists: saying so leaks nothing); None for anyone else, who gets the same answer
    as for a room that does not exist."""
    if participant is None:
        return None
    if is_banned_now(participant):
        if participant.banned_until is None or is_indefinite(participant.banned_until):
            return _("You were removed from this room.")
        until = date_format(localtime(participant.banned_until), "DATETIME_FORMAT")
        return _("You are banned from this room until %(until)s.") % {"until": until}
    if room.is_archived:
        return _("This room was archived.")
    return _("You no longer have access to this room.")


def room_for(user: Any, slug: str) -> tuple[ChatRoom, RoomAccess]:
    """The room ``slug`` and the user's access; NotFound when it is missing *or* hidden
    (with :func:`lost_access_reason` for someone who was in it)."""
    room = ChatRoom.objects.filter(slug=slug).select_related("group").first()
    if room is None:
        raise NotFound()
    participant = (
        ChatParticipant.objects.filter(room=room, user=user).first()
        if is_active_user(user)
        else None
    )
    access = get_policy().access(user, room, participant)
    if not access.can_see:
        raise NotFound(lost_access_reason(room, participant))
    return room, access


def message_anchor(user: Any, slug: str, message_id: int) -> int:
    """The ``after`` cursor of the page of room ``slug`` that shows message ``message_id``
    near its middle (a permalink); NotFound when the room is hidden or the message not in it."""
    room, _access = room_for(user, slug)
    seq = ChatMessage.objects.filter(room=room, pk=message_id).values_list("seq", flat=True)
    found = seq.first()
    if found is None:
        raise NotFound()
    return max(0, found - 1 - app_settings.PAGE_SIZE // 2)


def message_for(user: Any, message_id: Any) -> tuple[ChatMessage, RoomAccess]:
    """A message the user may see, with their access to its room (NotFound otherwise)."""
    if not is_object_id(message_id):
        raise NotFound()
    message = ChatMessage.objects.shown().select_related("room").filter(pk=message_id).first()
    if message is None:
        raise NotFound()
    access = get_policy().access(user, message.room)
    if not access.can_see:
        raise NotFound()
    return message, access


def message_in_room(user: Any, slug: str, message_id: Any) -> tuple[ChatMessage, RoomAccess]:
    """The message, if the user may see it *and* it belongs to room ``slug`` (the pages' and
    the API's addresses name both: another room's message is not found there). One access
    decision, the message's room's."""
    message, access = message_for(user, message_id)
    if message.room.slug != slug:
        raise NotFound()
    return message, access


def room_by_id(room_id: int) -> ChatRoom:
    """The room ``room_id`` (``ChatRoom.DoesNotExist`` when it is gone)."""
    return ChatRoom.objects.get(pk=room_id)


def room_exists(room_id: int) -> bool:
    return ChatRoom.objects.filter(pk=room_id).exists()
