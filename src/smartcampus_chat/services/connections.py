"""Connections: setting up a socket and checking it again, in batches.

Why batches: a new socket needs its user (from its ticket), its rooms and its access to
them before it may receive anything, and Channels runs every database call of a process
on one thread. One socket at a time, that thread did three or four round trips per
handshake, and a burst of reconnecting clients queued behind them (~80 handshakes/s
measured). The WebSocket door (:mod:`smartcampus_chat.ws.setup`) batches the sockets
waiting while a batch is being set up (no timer, as for sends:
:mod:`smartcampus_chat.services.batcher`); a batch is set up here with one query for all
tickets' users, one for all rooms, one for all participant rows, one for the sessions
of the sockets that came with a cookie only and one for their users (the chat's routes need
no auth middleware: one hop to the database thread per socket, before its handshake
completes, was the main cost of a handshake under load), and one for the expiry of the
other sessions the sockets live by (:mod:`smartcampus_chat.realtime.revalidation` has them
check then), whatever the batch size. Access is decided by the policy for each socket
exactly as one by one, before the socket follows any room.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http.cookie import parse_cookie

from smartcampus_chat import queries
from smartcampus_chat.domain.credentials import (
    load_sessions,
    read_sessions,
    session_expiries,
    session_holds,
    token_alive,
    users_of_sessions,
)
from smartcampus_chat.domain.policies import RoomAccess, get_policy, is_active_user
from smartcampus_chat.exceptions import NotFound, ServiceUnavailable
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.realtime.tickets import (
    SCOPE_SESSION,
    SCOPE_TOKEN,
    Credential,
    Redeemed,
    redeem,
)


@dataclass(frozen=True)
class SetUpRequest:
    #: The user the host's middleware resolved (ignored when there is a ticket); None when
    #: the socket's scope has none (no ``AuthMiddlewareStack`` around the chat's routes):
    #: the set-up then finds the user of ``session_key`` itself, for the whole batch.
    user: Any
    #: ``?ticket=`` (:func:`smartcampus_chat.realtime.tickets.issue_ticket`): replaces ``user``.
    ticket: str | None
    #: The room of ``ws/chat/<slug>/``; None for ``ws/chat/`` (every room joined).
    slug: str | None
    #: The session the socket lives by when there is no ticket (its cookie's:
    #: :func:`socket_session_key`), whose expiry the set-up reads; None: none, or not wanted.
    session_key: str | None = None


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
    #: What the socket's ticket was bound to (:mod:`smartcampus_chat.realtime.tickets`); the
    #: consumer keeps it in its scope for :func:`still_signed_in`.
    credential: Credential | None = None
    #: When the session the socket lives by expires (:attr:`SetUpRequest.session_key`, or
    #: the one its ticket was bound to); None: no session, or the store cannot tell
    #: (:func:`~.credentials.session_expiries`). The socket re-checks then.
    expires: datetime | None = None


def set_up_many(requests: list[SetUpRequest]) -> list[SetUp | Exception | None]:
    """Set up each socket: ``SetUp``, None (not authenticated), ``NotFound`` (no access) or
    ``ServiceUnavailable`` (a ticket could not be redeemed: the cache is down). The
    expiry of the sessions the sockets live by is read with one query for the batch.

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
    cookies = read_sessions(
        request.session_key
        for request in requests
        if request.ticket is None and request.user is None and request.session_key
    )
    signed_in = users_of_sessions(cookies)
    people: list[Any] = []
    for request, ticket in zip(requests, redeemed, strict=True):
        if request.ticket is None:
            user = request.user
            if user is None and request.session_key:
                user = signed_in.get(request.session_key)
            people.append(user if is_active_user(user) else None)
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
    session_keys = [
        _session_of(request, ticket) for request, ticket in zip(requests, redeemed, strict=True)
    ]
    expiries = {key: stored.expires for key, stored in cookies.items()}
    expiries.update(
        session_expiries(
            key
            for key, user in zip(session_keys, people, strict=True)
            if key and user is not None and key not in cookies
        )
    )
    policy = get_policy()
    results: list[SetUp | Exception | None] = []
    for request, user, ticket, session_key in zip(
        requests, people, redeemed, session_keys, strict=True
    ):
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
            expires = expiries.get(session_key) if session_key else None
            results.append(SetUp(user, followed, credential, expires))
        except Exception as exc:
            results.append(exc)
    return results


def _session_of(request: SetUpRequest, ticket: Redeemed | Exception | None) -> str | None:
    """The session whose expiry a socket's set-up reads: its ticket's, else its cookie's."""
    if request.ticket is None:
        return request.session_key
    if isinstance(ticket, Redeemed) and ticket.credential is not None:
        return ticket.credential.session_key
    return None


def socket_session_key(scope: dict[str, Any]) -> str | None:
    """The session a socket lives by: the one its ticket was issued for, else (no ticket)
    its cookie's; None for a socket without one (an unbound ticket, a token's ticket)."""
    bound = scope.get(SCOPE_SESSION)
    if isinstance(bound, str):
        return bound
    if _came_with_ticket(scope):
        return None
    session = scope.get("session")
    if session is None:
        return cookie_session_key(scope)
    key = getattr(session, "session_key", None)
    return key if isinstance(key, str) else None


def cookie_session_key(scope: dict[str, Any]) -> str | None:
    """The session key in the handshake's cookie (``SESSION_COOKIE_NAME``), for sockets
    whose scope has no session: the chat's routes need no session or auth middleware
    (:func:`set_up_many` finds the user)."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            key = parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
            return key or None
    return None


def _came_with_ticket(scope: dict[str, Any]) -> bool:
    raw = scope.get("query_string", b"")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    return "ticket" in parse_qs(text)


def credential_holds(user: Any, scope: dict[str, Any], sessions: dict[str, Any]) -> bool:
    """Whether ``user`` (fresh from the database) may still use the socket of ``scope``.

    The user must be active. A socket opened with a ticket bound to an API token needs
    that token to still exist; one that lives by a session (its cookie's, or the one its
    ticket was issued for: :func:`socket_session_key`) needs that session to still sign
    the user in (``sessions``: :func:`~.credentials.load_sessions`;
    :func:`~.credentials.session_holds`): a logout, an expiry or a password change ends
    the socket as it ends the session's pages. An unbound ticket's socket is judged by its
    user alone.
    """
    if not is_active_user(user):
        return False
    token = scope.get(SCOPE_TOKEN)
    if token is not None:
        return token_alive(user.pk, token)
    key = socket_session_key(scope)
    if key is None:
        return True
    return session_holds(user, sessions.get(key))


def still_signed_in(user_id: Any, scope: dict[str, Any]) -> bool:
    """Whether an open socket's credential is still valid: its user exists and is active
    and, when the socket came with a session, that session still exists, has not expired
    and matches the user's password (:func:`credential_holds`). The one rule for it:
    :func:`revalidate_many` applies the same to sockets in batches."""
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None:
        return False
    key = socket_session_key(scope)
    return credential_holds(user, scope, load_sessions([key] if key else []))


@dataclass(frozen=True)
class RevalidateRequest:
    user_id: Any
    scope: dict[str, Any]
    #: As :attr:`SetUpRequest.slug`.
    slug: str | None


def revalidate_many(requests: list[RevalidateRequest]) -> list[SetUp | Exception | None]:
    """Check open sockets again as if they connected now: ``SetUp`` with the fresh user and
    rooms, None (the credential no longer holds: :func:`credential_holds`) or ``NotFound``.

    One query for the users, one for the sessions (database backends), then the same
    set-up as a handshake (:func:`set_up_many`) for the sockets still signed in. Each
    ``SetUp`` carries the session's expiry as read now (a sliding expiry moves it).
    """
    users = get_user_model()._default_manager.in_bulk(
        list({request.user_id for request in requests})
    )
    keys = [socket_session_key(request.scope) for request in requests]
    stored = read_sessions(key for key in keys if key)
    sessions = {key: session.data for key, session in stored.items()}
    signed_in: list[tuple[int, SetUpRequest]] = []
    results: list[SetUp | Exception | None] = [None] * len(requests)
    for index, request in enumerate(requests):
        user = users.get(request.user_id)
        if user is not None and credential_holds(user, request.scope, sessions):
            signed_in.append((index, SetUpRequest(user, None, request.slug)))
    if signed_in:
        for (index, _request), result in zip(
            signed_in, set_up_many([request for _, request in signed_in]), strict=True
        ):
            key = keys[index]
            if isinstance(result, SetUp) and key in stored:
                result = replace(result, expires=stored[key].expires)
            results[index] = result
    return results
