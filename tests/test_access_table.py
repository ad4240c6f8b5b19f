"""One access table, checked through every door: WebSocket, REST API and HTML pages.

Rows: a room type and the actor's relation to the room. Columns: the actions. A cell is

- ``Y`` allowed (and the effect happened: stored, edited, deleted, joined, managed),
- ``N`` the actor sees the room but may not do this (``forbidden``, HTTP 403),
- ``R`` the room is archived and read-only (``room_archived``, HTTP 409),
- ``H`` hidden: the room does not exist for this actor (``not_found``, HTTP 404, close 4003),
- ``A`` not authenticated (close 4001, API 401, pages redirect to the login page).

Every door answers every action it offers (``WS_ACTIONS``, ``API_ACTIONS``,
``PAGE_ACTIONS``); the test compares whole rows, so one wrong cell fails with the row of
what each door did. A door that allows something the table refuses, or refuses something
the table allows, fails the same way: 0 unauthorised successes, 0 wrongful denials.

A second block of rows (``REVOKED``) is about access that ends while the actor is
connected: the actor's socket (signed in with a real session cookie), API client and page
client are set up while the actor may do what a member may, then the cause is applied
(``CAUSES``: the group cleared, a ban saved through the ORM as the admin does, staff status
revoked, the password changed, the session deleted on the server, the session expired, the
room archived), then
every action is tried on those same connections. A socket gets up to a second to be closed
(the documented revocation bound) before its actions are tried.

The last tests check that a private room the actor may not see answers exactly like a room
that does not exist (status, body, close code and reason).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.sessions.models import Session
from django.test import Client as PageClient
from django.urls import reverse
from django.utils import timezone

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role, RoomType
from smartcampus_chat.testing import ChatCommunicator as SocketClient
from smartcampus_chat.testing import Closed
from tests.access import Case, World, create_rooms, write_case

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")

ACTIONS = (
    "see",
    "join",
    "history",
    "post",
    "edit_own",
    "delete_own",
    "delete_other",
    "typing",
    "presence",
    "manage",
)
WS_ACTIONS = frozenset(ACTIONS) - {"join", "manage"}
API_ACTIONS = frozenset(ACTIONS) - {"typing"}
PAGE_ACTIONS = frozenset(ACTIONS) - {"typing", "presence"}

ROOM_TYPES = ("public", "group", "course", "private", "archived")
# anonymous: no session. outsider: logged in, no tie. member: joined (a participant row,
# nothing else: for group and course rooms a stale row that grants nothing). group_member: in
# the room's auth group. student / teacher: enrolled in the room's course. owner: created the
# room (in the group and enrolled as a student, so that the room is theirs to see; the
# opener of the private room). staff: is_staff. removed: removed by a moderator (a third
# person for the private room, where nobody can be removed). inactive: is_active=False.
RELATIONS = (
    "anonymous",
    "outsider",
    "member",
    "group_member",
    "student",
    "teacher",
    "owner",
    "staff",
    "removed",
    "inactive",
)

ALL_A = "AAAAAAAAAA"
ALL_H = "HHHHHHHHHH"
ALL_Y = "YYYYYYYYYY"
USER = "YYYYYYNYYN"  # May do everything but moderate.
PARTY = "YNYYYYNYYN"  # A party to a private room: nobody joins or moderates there.
READER = "YRYRRRRRYN"  # Archived: read, nothing else.
ARCHIVED_MODERATOR = "YRYRRRRRYY"  # Archived: read and manage (e.g. unarchive).

#            see join history post edit del-own del-other typing presence manage
TABLE: dict[tuple[str, str], str] = {
    **{(t, "anonymous"): ALL_A for t in ROOM_TYPES},
    **{(t, "inactive"): ALL_A for t in ROOM_TYPES},
    **{(t, "removed"): ALL_H for t in ROOM_TYPES},
    ("public", "outsider"): USER,
    ("public", "member"): USER,
    ("public", "group_member"): USER,
    ("public", "student"): USER,
    ("public", "teacher"): USER,
    ("public", "owner"): ALL_Y,
    ("public", "staff"): ALL_Y,
    ("group", "outsider"): ALL_H,
    ("group", "member"): ALL_H,
    ("group", "group_member"): USER,
    ("group", "student"): ALL_H,
    ("group", "teacher"): ALL_H,
    ("group", "owner"): ALL_Y,
    ("group", "staff"): ALL_Y,
    ("course", "outsider"): ALL_H,
    ("course", "member"): ALL_H,
    ("course", "group_member"): ALL_H,
    ("course", "student"): USER,
    ("course", "teacher"): ALL_Y,
    ("course", "owner"): ALL_Y,
    ("course", "staff"): ALL_Y,
    ("private", "outsider"): ALL_H,
    ("private", "member"): PARTY,
    ("private", "group_member"): ALL_H,
    ("private", "student"): ALL_H,
    ("private", "teacher"): ALL_H,
    ("private", "owner"): PARTY,
    ("private", "staff"): ALL_H,
    ("archived", "outsider"): READER,
    ("archived", "member"): READER,
    ("archived", "group_member"): READER,
    ("archived", "student"): READER,
    ("archived", "teacher"): READER,
    ("archived", "owner"): ARCHIVED_MODERATOR,
    ("archived", "staff"): ARCHIVED_MODERATOR,
}

# Revoked while connected (the second block): the actor had a member's access (in the
# group, enrolled as a student, joined every room but the private one; ``unstaffed``: staff
# instead, in no group or course) when their socket, API client and page client were set up.
# group_cleared: ``group.user_set.clear()``. admin_banned: every participant row of theirs
# saved with ``is_banned=True`` through the ORM (as ``ModelAdmin.save_model`` does).
# unstaffed: ``is_staff`` set to False. password_changed: ``set_password`` and ``save``.
# session_deleted: their session row deleted on the server. session_expired: its
# ``expire_date`` passed (no signal; see tests/test_revocation.py for the socket closing at
# the expiry itself). archived_after: the room archived.
REVOKED = (
    "group_cleared",
    "admin_banned",
    "unstaffed",
    "password_changed",
    "session_deleted",
    "session_expired",
    "archived_after",
)

TABLE.update(
    {
        **{(t, "admin_banned"): ALL_H for t in ROOM_TYPES},
        **{(t, "password_changed"): ALL_A for t in ROOM_TYPES},
        **{(t, "session_deleted"): ALL_A for t in ROOM_TYPES},
        **{(t, "session_expired"): ALL_A for t in ROOM_TYPES},
        ("public", "group_cleared"): USER,
        ("group", "group_cleared"): ALL_H,
        ("course", "group_cleared"): USER,
        ("private", "group_cleared"): ALL_H,
        ("archived", "group_cleared"): READER,
        ("public", "unstaffed"): USER,
        ("group", "unstaffed"): ALL_H,
        ("course", "unstaffed"): ALL_H,
        ("private", "unstaffed"): ALL_H,
        ("archived", "unstaffed"): READER,
        ("public", "archived_after"): READER,
        ("group", "archived_after"): READER,
        ("course", "archived_after"): READER,
        ("private", "archived_after"): ALL_H,
        ("archived", "archived_after"): READER,
    }
)


def test_the_table_is_complete() -> None:
    assert set(TABLE) == {(t, r) for t in ROOM_TYPES for r in (*RELATIONS, *REVOKED)}
    assert all(len(row) == len(ACTIONS) and set(row) <= set("YNRHA") for row in TABLE.values())


# --- The world ----------------------------------------------------------------------------


@pytest.fixture
def world(make_user: Callable[..., Any], group: Group, course: Course) -> World:
    users = {
        name: make_user(name)
        for name in ("owner", "outsider", "member", "group_member", "student", "teacher")
    }
    users["staff"] = make_user("staff", is_staff=True)
    users["removed"] = make_user("removed")
    users["inactive"] = make_user("inactive")
    users["writer"] = make_user("writer", is_staff=True)  # Author of "someone else's" messages.
    for name in REVOKED:
        users[name] = make_user(name, is_staff=name == "unstaffed")
    members = [name for name in REVOKED if name != "unstaffed"]
    for name in ("group_member", "owner", "removed", "inactive", *members):
        users[name].groups.add(group)
    for name in ("student", "owner", "removed", "inactive", *members):
        Enrolment.objects.create(course=course, user=users[name], role="student")
    Enrolment.objects.create(course=course, user=users["teacher"], role="teacher")
    owner = users["owner"]
    rooms = {
        **create_rooms(owner, group, course, course_room="Course"),
        "private": services.do_open_private(owner, users["member"])[0],
        "archived": services.do_create_room(owner, name="Old", room_type=RoomType.PUBLIC),
    }
    for room_type in ("public", "group", "course", "archived"):
        room = rooms[room_type]
        services.do_join_room(users["member"], room)
        services.do_join_room(users["inactive"], room)
        for name in REVOKED:
            services.do_join_room(users[name], room)
        removed = services.do_join_room(users["removed"], room)
        services.do_remove_member(owner, room, removed)
    services.do_update_room(rooms["archived"], is_archived=True)
    inactive = users["inactive"]
    inactive.is_active = False
    inactive.save()
    return World(users=users, rooms=rooms)


def new_case(world: World, room_type: str, relation: str) -> Case:
    """Fresh messages for one door: one of the actor's own and one of someone else's.

    The anonymous actor's "own" message is the owner's (they own nothing).
    """
    room = world.rooms[room_type]
    actor = AnonymousUser() if relation == "anonymous" else world.users[relation]
    author = world.users["owner"] if relation == "anonymous" else actor
    other_author = world.users["member"] if room.is_private else world.users["writer"]
    if other_author == actor:
        other_author = world.users["owner"]
    case = write_case(actor, room, author=author, other_author=other_author)
    room.refresh_from_db()
    return case


# --- WebSocket ----------------------------------------------------------------------------

_WS_CODES = {"forbidden": "N", "room_archived": "R", "not_found": "H"}
_WS_CLOSE = {4001: "A", 4003: "H"}


async def _ws_action(client: SocketClient, frame: dict[str, Any]) -> str:
    if client.closed_code is not None:
        return _WS_CLOSE[client.closed_code]
    await client.send_frame(**frame, id="matrix")
    try:
        answer = await client.receive_until(lambda f: f.get("id") == "matrix")
    except Closed as closed:
        return _WS_CLOSE[closed.code or 0]
    if answer["type"] == "ack":
        return "Y"
    assert answer["type"] == "error", answer
    return _WS_CODES[answer["code"]]


async def via_websocket(case: Case) -> dict[str, str]:
    user = case.actor if case.actor.is_authenticated else None
    client = SocketClient(f"/ws/chat/{case.room.slug}/?event_seq=0", user)
    await client.open(ready=False)
    try:
        await client.ready()
        if client.closed_code is not None:
            return dict.fromkeys(WS_ACTIONS, _WS_CLOSE[client.closed_code])
        outcome: dict[str, str] = {"see": "Y"}
        frames = list(client.pending)
        frames += [f async for f in _until_resumed(client, frames)]
        outcome["presence"] = "Y" if any(f["type"] == "participants" for f in frames) else "N"
        replayed = {f["message"]["id"] for f in frames if f["type"].startswith("message.")}
        outcome["history"] = "Y" if case.other.pk in replayed else "N"
        outcome["post"] = await _ws_action(client, {"type": "message.send", "content": "hello"})
        outcome["edit_own"] = await _ws_action(
            client, {"type": "message.edit", "message_id": case.own.pk, "content": "edited"}
        )
        outcome["delete_own"] = await _ws_action(
            client, {"type": "message.delete", "message_id": case.own.pk}
        )
        outcome["delete_other"] = await _ws_action(
            client, {"type": "message.delete", "message_id": case.other.pk}
        )
        outcome["typing"] = await _ws_action(client, {"type": "typing", "state": "started"})
        return outcome
    finally:
        await client.disconnect()


async def _until_resumed(client: SocketClient, seen: list[dict[str, Any]]) -> Any:
    if any(f["type"] == "resumed" for f in seen):
        return
    while True:
        try:
            frame = await client.receive_frame()
        except Closed:
            return
        yield frame
        if frame["type"] == "resumed":
            return


# --- REST API -----------------------------------------------------------------------------


def _api_outcome(response: Any) -> str:
    status = response.status_code
    if status in (200, 201, 204):
        return "Y"
    code = response.json()["error"]["code"]
    if code in ("not_authenticated", "authentication_failed"):
        return "A"
    return {403: "N", 404: "H", 409: "R"}[status]


def _checked(outcome: str, effect: bool) -> str:
    assert effect == (outcome == "Y"), f"outcome {outcome} but effect={effect}"
    return outcome


def via_api(case: Case, client: PageClient | None = None) -> dict[str, str]:
    """``client``: signed in before the case's access changed (else signed in now)."""
    if client is None:
        client = PageClient()
        if case.actor.is_authenticated:
            client.force_login(case.actor)
    slug, room = case.room.slug, case.room

    def url(name: str, **kwargs: Any) -> str:
        return reverse(f"smartcampus_chat:{name}", kwargs={"room_slug": slug, **kwargs})

    def call(method: str, path: str, data: Any = None) -> Any:
        body = json.dumps(data) if data is not None else ""
        return client.generic(method, path, body, content_type="application/json")

    outcome: dict[str, str] = {}
    outcome["see"] = _api_outcome(
        client.get(reverse("smartcampus_chat:api-room-detail", args=[slug]))
    )
    history = client.get(url("api-message-list"))
    outcome["history"] = _api_outcome(history)
    if outcome["history"] == "Y":
        assert case.other.pk in {m["id"] for m in history.json()["results"]}
    outcome["presence"] = _api_outcome(client.get(url("api-member-list")))
    joined = ChatParticipant.objects.filter(room=room, user_id=case.actor.pk, is_banned=False)
    if case.actor.is_authenticated and not room.is_private:
        # Join afresh (posting above may have joined); the owner's row is their role: kept.
        joined.filter(role=Role.MEMBER).delete()
    had_row = joined.exists()
    response = call("POST", reverse("smartcampus_chat:api-room-join", args=[slug]))
    result = _api_outcome(response)
    # The owner keeps their row: the join's effect only shows for those who had none.
    outcome["join"] = result if had_row else _checked(result, joined.exists())
    posted = ChatMessage.objects.filter(room=room, sender_id=case.actor.pk, content="hello")
    response = call("POST", url("api-message-list"), {"content": "hello"})
    outcome["post"] = _checked(_api_outcome(response), posted.exists())
    response = call("PATCH", url("api-message-detail", pk=case.own.pk), {"content": "edited"})
    case.own.refresh_from_db()
    outcome["edit_own"] = _checked(_api_outcome(response), case.own.content == "edited")
    for action, message in (("delete_own", case.own), ("delete_other", case.other)):
        response = call("DELETE", url("api-message-detail", pk=message.pk))
        message.refresh_from_db()
        outcome[action] = _checked(_api_outcome(response), message.is_deleted)
    response = call(
        "PATCH", reverse("smartcampus_chat:api-room-detail", args=[slug]), {"description": "m"}
    )
    room.refresh_from_db()
    outcome["manage"] = _checked(_api_outcome(response), room.description == "m")
    return outcome


# --- HTML pages ---------------------------------------------------------------------------


def _page_outcome(response: Any) -> str:
    status = response.status_code
    if status == 302 and response["Location"].startswith(reverse("login")):
        return "A"
    return {200: "Y", 302: "Y", 403: "N", 404: "H", 409: "R"}[status]


def via_pages(case: Case, client: PageClient | None = None) -> dict[str, str]:
    """``client``: as for :func:`via_api`."""
    if client is None:
        client = PageClient()
        if case.actor.is_authenticated:
            client.force_login(case.actor)
    slug, room = case.room.slug, case.room
    outcome: dict[str, str] = {}
    page = client.get(room.get_absolute_url())
    outcome["see"] = _page_outcome(page)
    outcome["history"] = outcome["see"]
    if outcome["see"] == "Y":
        assert "someone else&#x27;s" in page.content.decode()
    joined = ChatParticipant.objects.filter(room=room, user_id=case.actor.pk, is_banned=False)
    if case.actor.is_authenticated and not room.is_private:
        # Join afresh (posting above may have joined); the owner's row is their role: kept.
        joined.filter(role=Role.MEMBER).delete()
    had_row = joined.exists()
    response = client.post(reverse("smartcampus_chat:room_join", args=[slug]))
    result = _page_outcome(response)
    # The owner keeps their row: the join's effect only shows for those who had none.
    outcome["join"] = result if had_row else _checked(result, joined.exists())
    posted = ChatMessage.objects.filter(room=room, sender_id=case.actor.pk, content="hello")
    response = client.post(room.get_absolute_url(), {"content": "hello"})
    outcome["post"] = _checked(_page_outcome(response), posted.exists())
    url = reverse("smartcampus_chat:message_edit", args=[slug, case.own.pk])
    response = client.post(url, {"content": "edited"})
    case.own.refresh_from_db()
    outcome["edit_own"] = _checked(_page_outcome(response), case.own.content == "edited")
    for action, message in (("delete_own", case.own), ("delete_other", case.other)):
        url = reverse("smartcampus_chat:message_delete", args=[slug, message.pk])
        response = client.post(url)
        message.refresh_from_db()
        outcome[action] = _checked(_page_outcome(response), message.is_deleted)
    url = reverse("smartcampus_chat:room_settings", args=[slug])
    form = {"name": room.name, "description": "m"}
    if room.is_archived:
        form["is_archived"] = "on"
    response = client.post(url, form)
    room.refresh_from_db()
    outcome["manage"] = _checked(_page_outcome(response), room.description == "m")
    return outcome


def _row(outcome: dict[str, str]) -> str:
    return "".join(outcome.get(action, ".") for action in ACTIONS)


def _expected(room_type: str, relation: str, offered: frozenset[str]) -> str:
    cells = TABLE[room_type, relation]
    return "".join(c if a in offered else "." for a, c in zip(ACTIONS, cells, strict=True))


@pytest.mark.parametrize(("room_type", "relation"), [(t, r) for t in ROOM_TYPES for r in RELATIONS])
def test_every_door_follows_the_table(world: World, room_type: str, relation: str) -> None:
    ws = _row(async_to_sync(via_websocket)(new_case(world, room_type, relation)))
    api = _row(via_api(new_case(world, room_type, relation)))
    pages = _row(via_pages(new_case(world, room_type, relation)))
    expected = {
        "ws": _expected(room_type, relation, WS_ACTIONS),
        "api": _expected(room_type, relation, API_ACTIONS),
        "pages": _expected(room_type, relation, PAGE_ACTIONS),
    }
    assert {"ws": ws, "api": api, "pages": pages} == expected


# --- Revoked while connected ---------------------------------------------------------------

#: The revocation bound: an open socket is closed (or told) within it.
LIMIT = 1.0


def _fresh(user: Any) -> Any:
    return type(user)._default_manager.get(pk=user.pk)


def grant(world: World, relation: str, room: ChatRoom) -> None:
    """Give back what the cause of ``relation`` takes (an earlier door applied it)."""
    actor = _fresh(world.users[relation])
    if relation == "group_cleared":
        actor.groups.add(world.rooms["group"].group)
    elif relation == "admin_banned":
        ChatParticipant.objects.filter(user=actor).update(is_banned=False)
    elif relation == "unstaffed":
        actor.is_staff = True
        actor.save()
    elif relation == "archived_after" and room != world.rooms["archived"]:
        ChatRoom.objects.filter(pk=room.pk).update(is_archived=False)


def revoke(world: World, relation: str, room: ChatRoom, session_key: str) -> None:
    """Apply the cause of ``relation`` the way a host site does, bypassing the services."""
    actor = _fresh(world.users[relation])
    if relation == "group_cleared":
        world.rooms["group"].group.user_set.clear()
    elif relation == "admin_banned":
        for row in ChatParticipant.objects.filter(user=actor):
            row.is_banned = True
            row.save()
    elif relation == "unstaffed":
        actor.is_staff = False
        actor.save()
    elif relation == "password_changed":
        actor.set_password("a new password")
        actor.save()
    elif relation == "session_deleted":
        Session.objects.filter(session_key=session_key).delete()
    elif relation == "session_expired":
        past = timezone.now() - timedelta(seconds=1)
        Session.objects.filter(session_key=session_key).update(expire_date=past)
    elif relation == "archived_after":
        services.do_update_room(ChatRoom.objects.get(pk=room.pk), is_archived=True)


def signed_in(actor: Any) -> PageClient:
    client = PageClient()
    client.force_login(actor)
    return client


def _session_key(client: PageClient) -> str:
    return str(client.cookies[django_settings.SESSION_COOKIE_NAME].value)


async def _settle(client: SocketClient) -> None:
    """Read for up to ``LIMIT`` seconds or until the server closes the socket."""
    deadline = time.monotonic() + LIMIT
    while client.closed_code is None and (left := deadline - time.monotonic()) > 0:
        # receive_nothing: a timed-out receive_output would cancel the application.
        if await client.receive_nothing(timeout=min(left, 0.05)):
            continue
        try:
            await client.receive_frame()
        except Closed:
            return


async def _ws_resume(client: SocketClient, case: Case) -> dict[str, str]:
    """``see``, ``history`` and ``presence`` of a socket that is already open: a
    ``resume`` from the start, as a client that reconnects its view does."""
    if client.closed_code is not None:
        return dict.fromkeys(("see", "history", "presence"), _WS_CLOSE[client.closed_code])
    await client.send_frame(type="resume", event_seq=0, id="matrix-resume")
    frames: list[dict[str, Any]] = []
    while True:
        try:
            frame = await client.receive_frame()
        except Closed as closed:
            return dict.fromkeys(("see", "history", "presence"), _WS_CLOSE[closed.code or 0])
        if frame.get("id") == "matrix-resume" and frame["type"] == "error":
            return dict.fromkeys(("see", "history", "presence"), _WS_CODES[frame["code"]])
        frames.append(frame)
        if frame["type"] == "resumed" and frame.get("id") == "matrix-resume":
            break
    replayed = {f["message"]["id"] for f in frames if f["type"].startswith("message.")}
    return {
        "see": "Y",
        "history": "Y" if case.other.pk in replayed else "N",
        "presence": "Y" if any(f["type"] == "participants" for f in frames) else "N",
    }


async def _open(case: Case, cookie: tuple[bytes, bytes]) -> SocketClient:
    client = SocketClient(f"/ws/chat/{case.room.slug}/?event_seq=0", headers=[ORIGIN, cookie])
    await client.open(ready=False)
    await client.ready()
    if client.closed_code is None:
        async for _frame in _until_resumed(client, list(client.pending)):
            pass
    return client


async def via_websocket_revoked(world: World, relation: str, case: Case) -> dict[str, str]:
    """The socket opens (signed in with a session cookie) before the cause is applied; one
    refused from the start (no access before either) connects again after it."""
    page = await database_sync_to_async(signed_in)(case.actor)
    name = django_settings.SESSION_COOKIE_NAME
    cookie = (b"cookie", f"{name}={_session_key(page)}".encode())
    client = await _open(case, cookie)
    try:
        await database_sync_to_async(revoke)(world, relation, case.room, _session_key(page))
        if client.closed_code is not None:
            await client.disconnect()
            client = await _open(case, cookie)
        await _settle(client)
        # State-changing frames first, on whatever the socket holds since it opened; then a
        # resume (which decides access afresh) for see, history and presence.
        outcome: dict[str, str] = {}
        outcome["post"] = await _ws_action(client, {"type": "message.send", "content": "hello"})
        outcome["edit_own"] = await _ws_action(
            client, {"type": "message.edit", "message_id": case.own.pk, "content": "edited"}
        )
        outcome["delete_own"] = await _ws_action(
            client, {"type": "message.delete", "message_id": case.own.pk}
        )
        outcome["delete_other"] = await _ws_action(
            client, {"type": "message.delete", "message_id": case.other.pk}
        )
        outcome["typing"] = await _ws_action(client, {"type": "typing", "state": "started"})
        return {**outcome, **await _ws_resume(client, case)}
    finally:
        await client.disconnect()


def _revoked_case(world: World, room_type: str, relation: str) -> Case:
    grant(world, relation, world.rooms[room_type])
    return new_case(world, room_type, relation)


def _via_door_revoked(
    world: World, relation: str, case: Case, door: Callable[[Case, PageClient], dict[str, str]]
) -> dict[str, str]:
    """The API or page client signs in before the cause is applied."""
    client = signed_in(case.actor)
    revoke(world, relation, case.room, _session_key(client))
    case.room.refresh_from_db()
    return door(case, client)


@pytest.mark.parametrize(("room_type", "relation"), [(t, r) for t in ROOM_TYPES for r in REVOKED])
def test_every_door_follows_the_table_after_access_ended_while_connected(
    world: World, room_type: str, relation: str
) -> None:
    ws = _row(
        async_to_sync(via_websocket_revoked)(
            world, relation, _revoked_case(world, room_type, relation)
        )
    )
    api = _row(
        _via_door_revoked(world, relation, _revoked_case(world, room_type, relation), via_api)
    )
    pages = _row(
        _via_door_revoked(world, relation, _revoked_case(world, room_type, relation), via_pages)
    )
    expected = {
        "ws": _expected(room_type, relation, WS_ACTIONS),
        "api": _expected(room_type, relation, API_ACTIONS),
        "pages": _expected(room_type, relation, PAGE_ACTIONS),
    }
    assert {"ws": ws, "api": api, "pages": pages} == expected


# --- A hidden private room looks exactly like a missing one -------------------------------

MISSING = "no-such-room"


def _api_answers(client: PageClient, slug: str, message_id: int) -> list[tuple[int, bytes]]:
    def call(method: str, name: str, data: Any = None, **kwargs: Any) -> tuple[int, bytes]:
        path = reverse(f"smartcampus_chat:{name}", kwargs=kwargs)
        body = json.dumps(data) if data is not None else ""
        response = client.generic(method, path, body, content_type="application/json")
        return response.status_code, response.content

    return [
        call("GET", "api-room-detail", slug=slug),
        call("PATCH", "api-room-detail", {"description": "x"}, slug=slug),
        call("POST", "api-room-join", slug=slug),
        call("POST", "api-room-read", {"seq": 1}, slug=slug),
        call("GET", "api-member-list", room_slug=slug),
        call("GET", "api-message-list", room_slug=slug),
        call("POST", "api-message-list", {"content": "x"}, room_slug=slug),
        call("GET", "api-message-detail", room_slug=slug, pk=message_id),
        call("PATCH", "api-message-detail", {"content": "x"}, room_slug=slug, pk=message_id),
        call("DELETE", "api-message-detail", room_slug=slug, pk=message_id),
    ]


def _page_answers(client: PageClient, slug: str, message_id: int) -> list[tuple[int, bytes]]:
    def answer(response: Any) -> tuple[int, bytes]:
        return response.status_code, response.content

    return [
        answer(client.get(reverse("smartcampus_chat:room", args=[slug]))),
        answer(client.post(reverse("smartcampus_chat:room", args=[slug]), {"content": "x"})),
        answer(client.post(reverse("smartcampus_chat:room_join", args=[slug]))),
        answer(client.get(reverse("smartcampus_chat:room_settings", args=[slug]))),
        answer(client.get(reverse("smartcampus_chat:message_edit", args=[slug, message_id]))),
        answer(client.post(reverse("smartcampus_chat:message_delete", args=[slug, message_id]))),
    ]


@pytest.mark.parametrize("relation", ["outsider", "staff", "removed", "group_member"])
def test_hidden_private_room_answers_like_a_missing_one(world: World, relation: str) -> None:
    room = world.rooms["private"]
    secret = services.do_send_message(world.users["owner"], room, "secret").message
    missing_id = secret.pk + 10_000
    client = PageClient()
    client.force_login(world.users[relation])
    hidden = _api_answers(client, room.slug, secret.pk)
    missing = _api_answers(client, MISSING, missing_id)
    assert all(status == 404 for status, _ in hidden)
    assert hidden == missing
    # The message alone (in a room the actor sees) is hidden the same way.
    public = world.rooms["public"].slug
    assert (
        _api_answers(client, public, secret.pk)[7:] == _api_answers(client, public, missing_id)[7:]
    )
    hidden_pages = _page_answers(client, room.slug, secret.pk)
    assert all(status == 404 for status, _ in hidden_pages)
    assert hidden_pages == _page_answers(client, MISSING, missing_id)


async def _ws_close(user: Any, slug: str) -> dict[str, Any]:
    client = SocketClient(f"/ws/chat/{slug}/?event_seq=0", user)
    await client.open(ready=False)
    output = await client.receive_output(2)
    await client.disconnect()
    return dict(output)


@pytest.mark.parametrize("relation", ["outsider", "staff", "removed"])
def test_hidden_private_room_closes_like_a_missing_one(world: World, relation: str) -> None:
    user = world.users[relation]
    hidden = async_to_sync(_ws_close)(user, world.rooms["private"].slug)
    missing = async_to_sync(_ws_close)(user, MISSING)
    assert hidden == missing
    assert hidden["type"] == "websocket.close"
    assert hidden["code"] == 4003
