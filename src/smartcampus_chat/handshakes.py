"""Connection set-up in batches: sockets opening together share trips to the database.

Why: a new socket needs its user (from its ticket), its rooms and its access to them
before it may receive anything, and Channels runs every database call of a process on one
thread. One socket at a time, that thread did three or four round trips per handshake,
and a burst of reconnecting clients queued behind them (~80 handshakes/s measured). Here
the sockets waiting while a batch is being set up form the next batch (no timer, as for
sends: :mod:`smartcampus_chat.batcher`), set up with one query for all tickets' users, one
for all rooms and one for all participant rows, whatever the batch size. Access is decided
by the policy for each socket exactly as one by one, before the socket follows any room.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from smartcampus_chat import queries
from smartcampus_chat.batching import Batcher
from smartcampus_chat.exceptions import NotFound, ServiceUnavailable
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.policies import RoomAccess, get_policy, is_active_user
from smartcampus_chat.tickets import Credential, Redeemed, credential_alive, redeem

#: Most sockets set up by one trip to the database thread.
SET_UP_BATCH_MAX = 200


@dataclass(frozen=True)
class SetUpRequest:
    #: The user the session resolved (ignored when there is a ticket).
    user: Any
    #: ``?ticket=`` (:func:`smartcampus_chat.tickets.issue_ticket`): replaces ``user``.
    ticket: str | None
    #: The room of ``ws/chat/<slug>/``; None for ``ws/chat/`` (every room joined).
    slug: str | None


@dataclass(frozen=True)
class FollowedRoom:
    room_id: int
    slug: str
    room: ChatRoom | None = None
    access: RoomAccess | None = None
    #: The room's newest change when the socket followed it (see ``Followed.last``).
    last: int | None = None


@dataclass(frozen=True)
class SetUp:
    """A socket's user and the rooms it follows (None: the socket is not authenticated)."""

    user: Any
    rooms: list[FollowedRoom]
    #: What the socket's ticket was bound to (:mod:`smartcampus_chat.tickets`); the
    #: consumer keeps it in its scope for :func:`still_signed_in`.
    credential: Credential | None = None


def set_up_many(requests: list[SetUpRequest]) -> list[SetUp | Exception | None]:
    """Set up each socket: ``SetUp``, None (not authenticated), ``NotFound`` (no access) or
    ``ServiceUnavailable`` (a ticket could not be redeemed: the cache is down).

    Each ticket is redeemed (used up) here, once per request: the same ticket twice in a
    batch lets the first in only."""
    redeemed: list[Redeemed | Exception | None] = []
    for request in requests:
        if request.ticket is None:
            redeemed.append(None)
            continue
        try:
            redeemed.append(redeem(request.ticket))
        except ServiceUnavailable as exc:
            redeemed.append(exc)
    wanted = {r.user_id for r in redeemed if isinstance(r, Redeemed) and r.user_id is not None}
    users = (
        get_user_model()._default_manager.filter(is_active=True).in_bulk(list(wanted))
        if wanted
        else {}
    )
    people: list[Any] = []
    for request, ticket in zip(requests, redeemed, strict=True):
        if request.ticket is None:
            people.append(request.user if is_active_user(request.user) else None)
        elif isinstance(ticket, Redeemed):
            people.append(users.get(ticket.user_id))
        else:
            people.append(None)
    slugs = {
        request.slug
        for request, user in zip(requests, people, strict=True)
        if user is not None and request.slug is not None
    }
    rooms = (
        {
            room.slug: room
            for room in ChatRoom.objects.filter(slug__in=slugs).select_related("group")
        }
        if slugs
        else {}
    )
    participants = queries.participant_rows(
        (user.pk, rooms[request.slug].pk)
        for request, user in zip(requests, people, strict=True)
        if user is not None and request.slug in rooms
    )
    policy = get_policy()
    results: list[SetUp | Exception | None] = []
    for request, user, ticket in zip(requests, people, redeemed, strict=True):
        if isinstance(ticket, Exception):
            results.append(ticket)
            continue
        if user is None:
            results.append(None)
            continue
        try:
            if request.slug is None:
                followed = [
                    FollowedRoom(pk, slug, last=last)
                    for pk, slug, last in queries.followed_rooms(user)
                ]
            else:
                room = rooms.get(request.slug)
                if room is None:
                    raise NotFound()
                access = policy.access(user, room, participants.get((user.pk, room.pk)))
                if not access.can_see:
                    raise NotFound()
                followed = [
                    FollowedRoom(room.pk, room.slug, room, access, last=room.last_event_seq)
                ]
            credential = ticket.credential if isinstance(ticket, Redeemed) else None
            results.append(SetUp(user, followed, credential))
        except Exception as exc:
            results.append(exc)
    return results


def still_signed_in(user_id: Any, scope: dict[str, Any]) -> bool:
    """Whether an open socket's user is still active and, when the socket came with a
    session (not a ticket), that session still exists, and when it came with a bound
    ticket, the session or token the ticket was issued for still exists: checked when the
    socket may have missed the news of a logout or a deactivation
    (:data:`~.events.SESSION_ENDED_TYPE`)."""
    if not get_user_model()._default_manager.filter(pk=user_id, is_active=True).exists():
        return False
    if not credential_alive(user_id, scope):  # A ticket's session or token ended.
        return False
    session = scope.get("session")
    session_key = getattr(session, "session_key", None)
    return session is None or session_key is None or bool(session.exists(session_key))


class SetUpBatcher(Batcher[SetUpRequest, SetUp | None]):
    """Sets up the sockets of one event loop, a batch per trip to the database thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, set_up_many, lambda: SET_UP_BATCH_MAX, "connection set-ups")

    async def set_up(self, request: SetUpRequest) -> SetUp | None:
        """``request``'s set-up with whatever else is waiting; raises its own error."""
        return await self.submit(request)


_batcher: SetUpBatcher | None = None


def get_set_up_batcher() -> SetUpBatcher:
    """The set-up batcher of the running event loop (a new one when the loop changed)."""
    global _batcher
    loop = asyncio.get_running_loop()
    if _batcher is None or _batcher.loop is not loop:
        _batcher = SetUpBatcher(loop)
    return _batcher
