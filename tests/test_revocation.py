"""Revocation reaches a live socket within 1 s, on the in-memory layer and on Redis.

The user of a socket is resolved at the handshake; these tests change access in the
ways a campus does (removal from the room, from the group, from the course, deactivation,
logout, a group cleared or deleted, a ban or a staff status revoked in the admin, a password
change, a session deleted on the server, an archived room) while a room socket and a
``ws/chat/`` socket are open, both signed in with a real session cookie, and poll (no
fixed sleep) until the room socket is closed and the list socket told. The measured
latency is printed (``pytest -s``) and recorded in docs/reliability.md; then a message
sent to the room must reach neither socket, and a send on the old sockets is refused (no
``ack``) and not stored.

Then the backstop: a session deleted or expired behind Django's back (no signal at all)
ends the socket within ``REVALIDATE_INTERVAL``, or at its next state-changing frame; and a
session's expiry, known in advance, ends the sockets within 1 s of it with the interval
at its default, while a session whose (sliding) expiry moved keeps them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.contrib.auth import user_logged_out
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.forms.models import model_to_dict
from django.test import Client as PageClient
from django.urls import reverse
from django.utils import timezone

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, RoomType
from smartcampus_chat.realtime import events
from smartcampus_chat.testing import ChatCommunicator, Closed, new_client_id

ORIGIN = (b"origin", b"http://testserver")

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async
LIMIT = 1.0
AFTER = "after revocation"


def _setup(
    make_user: Callable[..., Any], group: Group, course: Course, *, staff: bool = False
) -> tuple[Any, Any, dict[str, ChatRoom]]:
    """The owner, alice and the rooms; alice stays staff with ``staff``."""
    owner = make_user("owner", is_staff=True)
    alice = make_user("alice")
    alice.groups.add(group)
    Enrolment.objects.create(user=alice, course=course, role="student")
    rooms = {
        "group": services.do_create_room(
            owner, name="Robots", room_type=RoomType.GROUP, group=group
        ),
        "course": services.do_create_room(
            owner, name="Course", room_type=RoomType.COURSE, course=course
        ),
        # Only staff see it: alice is not in its group; she joins it while staff.
        "staff": services.do_create_room(
            owner,
            name="Staff room",
            room_type=RoomType.GROUP,
            group=Group.objects.create(name="Staff"),
        ),
    }
    alice.is_staff = True
    alice.save()
    for room in rooms.values():
        services.do_join_room(alice, room)
    alice.is_staff = staff
    alice.save()
    return owner, alice, rooms


def session_cookie(user: Any) -> tuple[bytes, bytes]:
    """A real session (as a browser has after logging in), as a ``cookie`` header."""
    page = PageClient()
    page.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={page.cookies[name].value}".encode())


async def open_signed_in(path: str, cookie: tuple[bytes, bytes]) -> ChatCommunicator:
    client = ChatCommunicator(path, headers=[ORIGIN, cookie])
    await client.open(ready=False)
    await client.ready()
    assert client.closed_code is None
    return client


def _session_key(cookie: tuple[bytes, bytes]) -> str:
    return cookie[1].decode().partition("=")[2]


def _remove_member(owner: Any, alice: Any, room: ChatRoom, **_: Any) -> None:
    services.check_remove_member(owner, room, alice.pk)


def _ban_for_an_hour(owner: Any, alice: Any, room: ChatRoom, **_: Any) -> None:
    services.check_ban_member(owner, room, alice.pk, duration=3600, reason="spam")


def _ban_indefinitely(owner: Any, alice: Any, room: ChatRoom, **_: Any) -> None:
    services.check_ban_member(owner, room, alice.pk)


def _leave_group(alice: Any, group: Group, **_: Any) -> None:
    alice.groups.remove(group)


def _clear_group(group: Group, **_: Any) -> None:
    group.user_set.clear()  # m2m_changed post_clear with pk_set=None.


def _clear_groups(alice: Any, **_: Any) -> None:
    alice.groups.clear()


def _delete_group(group: Group, **_: Any) -> None:
    group.delete()  # Its group rooms go with it (on_delete=CASCADE).


def _unenrol(alice: Any, course: Course, **_: Any) -> None:
    Enrolment.objects.filter(user=alice, course=course).delete()


def _deactivate(alice: Any, **_: Any) -> None:
    alice.is_active = False
    alice.save()


def _delete_user(alice: Any, **_: Any) -> None:
    alice.delete()


def _logout(alice: Any, **_: Any) -> None:
    user_logged_out.send(sender=type(alice), request=None, user=alice)


def _open_admin_form(
    make_user: Callable[..., Any], alice: Any, room: ChatRoom
) -> tuple[PageClient, str]:
    """A staff member with the participant's change form open (before the clock starts:
    the change is the form's submission, not the login or the first page's rendering)."""
    root = make_user("root", is_staff=True, is_superuser=True)
    admin = PageClient()
    admin.force_login(root)
    row = ChatParticipant.objects.get(room=room, user=alice)
    url = reverse("admin:smartcampus_chat_chatparticipant_change", args=[row.pk])
    assert admin.get(url).status_code == 200
    return admin, url


def _ban_in_admin(alice: Any, room: ChatRoom, admin_form: tuple[PageClient, str], **_: Any) -> None:
    """The participant admin's change form, submitted."""
    admin, url = admin_form
    row = ChatParticipant.objects.get(room=room, user=alice)
    data = {k: v for k, v in model_to_dict(row).items() if v is not None}
    data["is_banned"] = "on"
    response = admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ChatParticipant.objects.get(pk=row.pk).is_banned


def _unstaff(alice: Any, **_: Any) -> None:
    alice.is_staff = False
    alice.save()


def _change_password(alice: Any, **_: Any) -> None:
    alice.set_password("a new password")
    alice.save()


def _delete_session(cookie: tuple[bytes, bytes], **_: Any) -> None:
    Session.objects.filter(session_key=_session_key(cookie)).delete()


def _archive(room: ChatRoom, **_: Any) -> None:
    services.do_update_room(room, is_archived=True)


def _archive_quietly(room: ChatRoom, **_: Any) -> None:
    """As a script or raw SQL would: no ``room.updated`` frame, no signal."""
    ChatRoom.objects.filter(pk=room.pk).update(is_archived=True)


#: A room socket closed with 4003 is told ``room.removed`` on the list socket too.
REMOVED = "removed"
#: An archived room: both sockets stay open, read-only.
READ_ONLY = 0

CASES: dict[str, tuple[Callable[..., None], str, int]] = {
    # revocation, room ("group" / "course" / "staff"), expected close code of the room socket
    "removed from the room": (_remove_member, "group", 4003),
    "banned by a moderator for an hour": (_ban_for_an_hour, "course", 4003),
    "banned by a moderator until lifted": (_ban_indefinitely, "group", 4003),
    "removed from the group": (_leave_group, "group", 4003),
    "group cleared": (_clear_group, "group", 4003),
    "groups of the user cleared": (_clear_groups, "group", 4003),
    "group deleted": (_delete_group, "group", 4004),
    "enrolment deleted": (_unenrol, "course", 4003),
    "banned in the admin": (_ban_in_admin, "course", 4003),
    "staff status revoked": (_unstaff, "staff", 4003),
    "deactivated": (_deactivate, "course", 4001),
    "logged out": (_logout, "group", 4001),
    "user deleted": (_delete_user, "course", 4001),
    "password changed": (_change_password, "group", 4001),
    "session deleted": (_delete_session, "course", 4001),
    "room archived": (_archive, "group", READ_ONLY),
    "room archived without a signal": (_archive_quietly, "course", READ_ONLY),
}


async def _closed_within(client: ChatCommunicator, limit: float) -> int | None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            await client.receive_frame(timeout=max(0.01, deadline - time.monotonic()))
        except Closed:
            return client.closed_code
        except TimeoutError:
            break
    return client.closed_code


async def _told_within(client: ChatCommunicator, slug: str, limit: float) -> str:
    """``"removed"`` when the list socket was sent ``room.removed``, else how it ended."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            frame = await client.receive_frame(timeout=max(0.01, deadline - time.monotonic()))
        except Closed:
            return f"closed {client.closed_code}"
        except TimeoutError:
            break
        if frame["type"] == "room.removed" and frame["room"] == slug:
            return REMOVED
    return "nothing"


async def _archived_within(client: ChatCommunicator, slug: str, limit: float) -> bool:
    """Whether ``client`` was told the room is archived (``room.updated``) in time."""
    try:
        frame = await client.receive_until(
            lambda f: f["type"] == "room.updated" and f["room"]["slug"] == slug, timeout=limit
        )
    except (TimeoutError, Closed):
        return False
    return bool(frame["room"]["is_archived"])


async def _send_refused(client: ChatCommunicator, slug: str | None) -> str:
    """Send on an old socket: how it was refused (an error code, or ``closed``); fails
    the test when the send is acknowledged."""
    if client.closed_code is not None:
        frame: dict[str, Any] = {"type": "message.send", "content": AFTER, "id": "late"}
        if slug is not None:
            frame["room"] = slug
        await client.send_frame(**frame)  # The server ignores frames once it closed.
        return "closed"
    room = {"room": slug} if slug is not None else {}
    await client.send_frame(
        type="message.send", content=AFTER, client_id=new_client_id(), id="late", **room
    )
    try:
        answer = await client.receive_until(lambda f: f.get("id") == "late", timeout=2)
    except Closed:
        return "closed"
    assert answer["type"] == "error", answer
    return str(answer["code"])


def _stored_after() -> bool:
    return ChatMessage.objects.filter(content=AFTER).exists()


@pytest.mark.parametrize("case", sorted(CASES))
async def test_revocation_stops_a_live_socket_within_a_second(
    make_user: Callable[..., Any],
    group: Group,
    course: Course,
    case: str,
    channel_layer: str,
) -> None:
    revoke, room_kind, code = CASES[case]
    owner, alice, rooms = await db(_setup)(make_user, group, course, staff=room_kind == "staff")
    room = rooms[room_kind]
    cookie = await db(session_cookie)(alice)
    room_socket = await open_signed_in(f"/ws/chat/{room.slug}/", cookie)
    list_socket = await open_signed_in("/ws/chat/", cookie)
    admin_form = (
        await db(_open_admin_form)(make_user, alice, room) if revoke is _ban_in_admin else None
    )
    started = time.monotonic()
    await db(revoke)(
        owner=owner,
        alice=alice,
        room=room,
        group=group,
        course=course,
        cookie=cookie,
        make_user=make_user,
        admin_form=admin_form,
    )
    changed = time.monotonic()
    if code == READ_ONLY:
        await _read_only_within_a_second(
            case,
            channel_layer,
            room,
            room_socket,
            list_socket,
            started,
            quiet=revoke is _archive_quietly,
        )
        return
    assert await _closed_within(room_socket, LIMIT) == code
    room_latency = time.monotonic() - started
    told = REMOVED if code in (4003, 4004) else f"closed {code}"
    assert await _told_within(list_socket, room.slug, LIMIT - room_latency) == told
    done = time.monotonic()
    latency = done - started
    print(
        f"\n[revocation] {channel_layer} {case}: {latency * 1000:.1f} ms "
        f"({(done - changed) * 1000:.1f} ms after the change returned)"
    )
    assert latency < LIMIT
    if code != 4004:
        await db(services.do_send_message)(owner, room, "after revocation, by the owner")
    if list_socket.closed_code is None:
        # What the person is told of a ban or removal aside (moderation.notice), nothing
        # more of the room reaches them.
        await list_socket.assert_no_frame(
            timeout=0.3, ignore=frozenset({"presence", "participant.left", "moderation.notice"})
        )
    # The old sockets cannot post: closed, or the room is gone for them.
    assert await _send_refused(room_socket, None) == "closed"
    assert await _send_refused(list_socket, room.slug) in ("closed", "not_found")
    await room_socket.disconnect()
    await list_socket.disconnect()
    assert not await db(_stored_after)()


async def _read_only_within_a_second(
    case: str,
    channel_layer: str,
    room: ChatRoom,
    room_socket: ChatCommunicator,
    list_socket: ChatCommunicator,
    started: float,
    *,
    quiet: bool,
) -> None:
    """An archived room: sockets stay open and read, every send is refused at once."""
    if not quiet:
        assert await _archived_within(room_socket, room.slug, LIMIT)
        assert await _archived_within(list_socket, room.slug, LIMIT)
        latency = time.monotonic() - started
        print(f"\n[revocation] {channel_layer} {case}: {latency * 1000:.1f} ms")
        assert latency < LIMIT
    # Refused from the database at send time, whatever the sockets cached or were told.
    assert await _send_refused(room_socket, None) == "room_archived"
    assert await _send_refused(list_socket, room.slug) == "room_archived"
    if quiet:
        print(f"\n[revocation] {channel_layer} {case}: refused at send (0 ms)")
    assert room_socket.closed_code is None
    assert list_socket.closed_code is None
    await room_socket.disconnect()
    await list_socket.disconnect()
    assert not await db(_stored_after)()


# --- The backstop: no signal at all -----------------------------------------------------


def _raw_delete(key: str) -> None:
    """Delete the session row as raw SQL would: no ``post_delete``, nothing published."""
    rows = Session.objects.filter(session_key=key)
    rows._raw_delete(rows.db)


def _expire(key: str) -> None:
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))


@pytest.mark.parametrize("how", ["deleted by raw SQL", "expired"])
async def test_a_session_ended_without_a_signal_ends_the_sockets_within_the_interval(
    make_user: Callable[..., Any], group: Group, course: Course, settings: Any, how: str
) -> None:
    interval = 0.2
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "REVALIDATE_INTERVAL": interval}
    _owner, alice, rooms = await db(_setup)(make_user, group, course)
    cookie = await db(session_cookie)(alice)
    room_socket = await open_signed_in(f"/ws/chat/{rooms['group'].slug}/", cookie)
    list_socket = await open_signed_in("/ws/chat/", cookie)
    started = time.monotonic()
    with mock.patch.object(events, "notify_session_changed", create=True) as notified:
        await db(_raw_delete if how == "deleted by raw SQL" else _expire)(_session_key(cookie))
    assert not notified.called  # Nothing told the sockets: the re-check alone finds out.
    bound = interval * 1.25 + LIMIT  # A sweep every interval / 4, plus the check itself.
    assert await _closed_within(room_socket, bound) == 4001
    assert await _closed_within(list_socket, bound - (time.monotonic() - started)) == 4001
    latency = time.monotonic() - started
    print(f"\n[revocation] backstop, session {how}, interval {interval} s: {latency * 1000:.0f} ms")
    assert latency < bound
    await room_socket.disconnect()
    await list_socket.disconnect()


async def test_a_state_changing_frame_rechecks_a_socket_not_checked_recently(
    make_user: Callable[..., Any], group: Group, course: Course, settings: Any
) -> None:
    """With no sweep in sight (the default interval), a send on a socket whose last check
    is older than ``REVALIDATE_FRAME_AGE`` checks first: refused, not stored."""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "REVALIDATE_FRAME_AGE": 0.05}
    _owner, alice, rooms = await db(_setup)(make_user, group, course)
    cookie = await db(session_cookie)(alice)
    room_socket = await open_signed_in(f"/ws/chat/{rooms['group'].slug}/", cookie)
    await db(_raw_delete)(_session_key(cookie))
    checked = time.monotonic()
    while time.monotonic() - checked < 0.1:  # Let the socket's last check age.
        await room_socket.assert_no_frame(timeout=0.05, ignore=frozenset({"presence"}))
    await room_socket.send_frame(
        type="message.send", content=AFTER, client_id=new_client_id(), id="x"
    )
    assert await room_socket.wait_closed() == 4001
    assert all(frame["type"] != "ack" for frame in room_socket.frames)
    await room_socket.disconnect()
    assert not await db(_stored_after)()


async def test_recently_checked_sockets_do_not_recheck_per_frame(
    make_user: Callable[..., Any], group: Group, course: Course, settings: Any
) -> None:
    from smartcampus_chat.ws.setup import get_revalidate_batcher

    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "REVALIDATE_FRAME_AGE": 60,
        "SEND_RATE_BURST": 1000,
    }
    _owner, alice, rooms = await db(_setup)(make_user, group, course)
    cookie = await db(session_cookie)(alice)
    room_socket = await open_signed_in(f"/ws/chat/{rooms['group'].slug}/", cookie)
    batcher = get_revalidate_batcher()
    before = batcher.batches
    for number in range(20):
        await room_socket.send_frame(
            type="message.send", content=f"m{number}", client_id=new_client_id(), id=number
        )
        await room_socket.receive_until(lambda f, n=number: f.get("id") == n)
    assert batcher.batches == before
    await room_socket.disconnect()


# --- Who is told: as few as possible, as many as needed ----------------------------------


def test_user_saves_notify_only_when_a_watched_field_changed(
    make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    user = make_user("carol")
    with (
        mock.patch.object(events, "notify_access_changed") as access,
        mock.patch.object(events, "notify_session_changed", create=True) as session,
        mock.patch.object(events, "notify_session_ended") as ended,
    ):
        user.last_login = timezone.now()
        with django_assert_num_queries(1):  # The UPDATE alone: no look at the old values.
            user.save(update_fields=["last_login"])
        user.first_name = "Carol"
        user.save()
        assert (access.call_count, session.call_count, ended.call_count) == (0, 0, 0)
        user.is_superuser = True
        user.save()
        assert access.call_count == 1
        user.set_password("another")
        user.save(update_fields=["password"])
        assert session.call_count == 1
        user.is_active = False
        user.save()
        assert ended.call_count == 1


# --- Archived: decided from the database when the message is stored ----------------------


@pytest.mark.parametrize("path", ["alone", "group commit"])
def test_a_send_holding_a_stale_room_is_refused_when_stored(
    alice: Any, bob: Any, public_room: ChatRoom, path: str
) -> None:
    """A socket's cached room (and access) said "not archived"; the row says otherwise."""
    from smartcampus_chat.domain.policies import get_policy
    from smartcampus_chat.exceptions import RoomArchived
    from smartcampus_chat.services.batch import SendRequest, check_send_messages

    other = services.do_create_room(bob, name="Other", room_type=RoomType.PUBLIC)
    stale = ChatRoom.objects.get(pk=public_room.pk)
    access = get_policy().access(alice, stale)
    ChatRoom.objects.filter(pk=public_room.pk).update(is_archived=True)
    if path == "alone":
        with pytest.raises(RoomArchived):
            services.check_send_message(alice, stale, AFTER, access=access)
    else:
        refused, stored = check_send_messages(
            [
                SendRequest(alice, stale, AFTER, client_id="a", access=access),
                SendRequest(bob, other, "elsewhere", client_id="b"),
            ]
        )
        assert isinstance(refused, RoomArchived)
        assert not isinstance(stored, Exception)
        assert stored.message.room_id == other.pk  # The rest of the batch is stored.
    assert not _stored_after()
    assert ChatRoom.objects.get(pk=public_room.pk).last_seq == stale.last_seq


# --- Session expiry: known in advance, checked at that moment ------------------------------

#: Seconds from the session's expiry being set to its coming: room for two handshakes on a
#: loaded machine (a socket opened after the expiry is refused at once, and fails the test).
EXPIRES_IN = 2.0


def _expire_row_in(key: str, seconds: float) -> datetime:
    """Write the session row's ``expire_date`` (as a host's own code or admin may)."""
    when = timezone.now() + timedelta(seconds=seconds)
    assert Session.objects.filter(session_key=key).update(expire_date=when) == 1
    return when


def _set_expiry_in(key: str, seconds: float | int) -> datetime:
    """``request.session.set_expiry(...)`` then saved, as a view does: a ``timedelta`` is a
    fixed date, an ``int`` an inactivity period that each save of the session moves."""
    store = import_module(django_settings.SESSION_ENGINE).SessionStore(key)
    store.set_expiry(timedelta(seconds=seconds) if isinstance(seconds, float) else seconds)
    store.save()
    expiry: datetime = store.get_expiry_date()  # What the db backends wrote in the row.
    return expiry


def _monotonic(when: datetime) -> float:
    return time.monotonic() + (when - timezone.now()).total_seconds()


async def _open_for(client: ChatCommunicator, seconds: float) -> bool:
    """Whether ``client`` stays open for ``seconds`` (frames read and dropped meanwhile;
    ``receive_nothing``: a timed-out ``receive_output`` would cancel the application)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if await client.receive_nothing(timeout=min(left, 0.05)):
            continue
        try:
            await client.receive_frame()
        except Closed:
            return False
    return True


@pytest.mark.parametrize("how", ["expire_date written", "set_expiry", "set_expiry, cache"])
async def test_a_session_expiring_ends_its_sockets_within_a_second_of_the_expiry(
    make_user: Callable[..., Any],
    group: Group,
    course: Course,
    channel_layer: str,
    how: str,
    settings: Any,
) -> None:
    """With ``REVALIDATE_INTERVAL`` at its default (60 s, up to 75 s before a sweep looks)
    and no frame sent: the sockets check at the expiry their set-up read, and close. With
    the cache backend the date comes from the session's data (``set_expiry``)."""
    from smartcampus_chat.conf import app_settings

    assert app_settings.REVALIDATE_INTERVAL == 60
    if how.endswith("cache"):
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    _owner, alice, rooms = await db(_setup)(make_user, group, course)
    cookie = await db(session_cookie)(alice)
    key = _session_key(cookie)
    expiry = await db(_expire_row_in if how == "expire_date written" else _set_expiry_in)(
        key, EXPIRES_IN
    )
    room_socket = await open_signed_in(f"/ws/chat/{rooms['group'].slug}/", cookie)
    list_socket = await open_signed_in("/ws/chat/", cookie)
    expires_at = _monotonic(expiry)
    assert expires_at > time.monotonic(), "the sockets opened after the expiry: too slow"
    with mock.patch.object(events, "notify_session_changed", create=True) as notified:
        assert await _open_for(room_socket, expires_at - time.monotonic() - 0.1)
        assert await _closed_within(room_socket, expires_at - time.monotonic() + LIMIT) == 4001
        room_latency = time.monotonic() - expires_at
        assert await _closed_within(list_socket, LIMIT - room_latency) == 4001
    assert not notified.called  # Nothing told them: the expiry alone.
    latency = time.monotonic() - expires_at
    print(f"\n[revocation] {channel_layer} session expired ({how}): {latency * 1000:.1f} ms")
    assert 0 <= room_latency <= latency < LIMIT
    await room_socket.disconnect()
    await list_socket.disconnect()


def _page_request(page: PageClient) -> datetime:
    """A page of the site, signed in: with ``SESSION_SAVE_EVERY_REQUEST`` the session is
    saved again and its inactivity expiry slides. The new expiry."""
    response = page.get(reverse("smartcampus_chat:room_list"))
    assert response.status_code == 200
    name = django_settings.SESSION_COOKIE_NAME
    return Session.objects.get(session_key=page.cookies[name].value).expire_date


async def test_a_session_extended_before_its_expiry_keeps_its_sockets(
    make_user: Callable[..., Any],
    group: Group,
    course: Course,
    channel_layer: str,
    settings: Any,
) -> None:
    """A sliding expiry: each request moves it. The check at the old expiry finds the new
    one and keeps the sockets (no wrongful close); they end at the new expiry."""
    from smartcampus_chat.ws.setup import get_revalidate_batcher

    settings.SESSION_SAVE_EVERY_REQUEST = True
    inactivity = 6  # seconds: set_expiry(int), moved by every request.
    _owner, alice, rooms = await db(_setup)(make_user, group, course)
    page = PageClient()
    await db(page.force_login)(alice)
    name = django_settings.SESSION_COOKIE_NAME
    cookie = (b"cookie", f"{name}={page.cookies[name].value}".encode())
    first = _monotonic(await db(_set_expiry_in)(_session_key(cookie), inactivity))
    room_socket = await open_signed_in(f"/ws/chat/{rooms['group'].slug}/", cookie)
    list_socket = await open_signed_in("/ws/chat/", cookie)
    assert await _open_for(room_socket, first - 3 - time.monotonic())
    second = _monotonic(await db(_page_request)(page))  # About 3 s in: slid by as much.
    assert time.monotonic() < first - 0.5, "the page request came too late"
    assert second > first + 2
    checks = get_revalidate_batcher().batches
    # The check at the old expiry finds the session valid: the sockets stay open. Waited
    # for, up to a second before the new expiry (a busy machine may run it late).
    assert await _open_for(room_socket, first - time.monotonic() + 0.1)
    while get_revalidate_batcher().batches == checks and time.monotonic() < second - 1:
        assert await _open_for(room_socket, 0.05)
    assert get_revalidate_batcher().batches > checks, "no check at the old expiry"
    assert await _open_for(room_socket, 0.05)
    assert await _open_for(list_socket, 0.05)
    assert await _closed_within(room_socket, second - time.monotonic() + LIMIT) == 4001
    assert await _closed_within(list_socket, second - time.monotonic() + LIMIT) == 4001
    latency = time.monotonic() - second
    print(f"\n[revocation] {channel_layer} slid session expired: {latency * 1000:.1f} ms")
    assert latency < LIMIT
    await room_socket.disconnect()
    await list_socket.disconnect()


class _Socket:
    """What the sweeper sees of a consumer (``revalidation.Checked``): each ask records the
    sweeper's clock (it sets ``validated_at`` to it before asking) and the real one."""

    def __init__(self) -> None:
        self.validated_at = float("inf")  # Never due by the interval: expiries alone.
        self.expires_at = float("inf")
        self.asked: list[float] = []
        self.asked_really: list[float] = []
        self.was_asked = asyncio.Event()

    def deliver(self, message: dict[str, Any]) -> None:
        self.asked.append(self.validated_at)
        self.asked_really.append(time.monotonic())
        self.was_asked.set()


def test_the_sweeper_asks_at_each_expiry_with_one_heap(settings: Any) -> None:
    """On the sweeper's own clock: expiries before the next sweep are in the heap at once,
    later ones enter it at that sweep; a moved expiry leaves a stale entry that asks
    nobody; ``inf`` is never asked; nothing is asked early and the task wakes at each
    expiry (``next_wake``)."""
    from smartcampus_chat.realtime import revalidation

    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "REVALIDATE_INTERVAL": 0.8}
    sweeper = revalidation.Sweeper(asyncio.new_event_loop())  # Its task is never started.
    soon, later, moved, never = sockets = [_Socket() for _ in range(4)]
    start = 1000.0
    sweeper.horizon = start + revalidation.period()  # 0.2 s: the first sweep.
    for socket in sockets:
        sweeper.sockets.add(socket)
    sweeper.expire_at(soon, start + 0.1)
    sweeper.expire_at(later, start + 0.5)  # After the first sweep: not in the heap yet.
    sweeper.expire_at(moved, start + 0.15)
    sweeper.expire_at(moved, start + 0.7)  # Moved: the 0.15 s entry is stale.
    sweeper.expire_at(never, float("inf"))
    assert len(sweeper.expiries) == 2
    wakes = []
    while len(wakes) < 8:
        now = sweeper.next_wake()
        wakes.append(round(now - start, 3))
        assert sweeper.expire(now - 0.001) == 0, "asked before the expiry"
        sweeper.expire(now)
        if now >= sweeper.horizon:
            sweeper.sweep(now)
    assert wakes == [0.1, 0.15, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert [[round(t - start, 3) for t in s.asked] for s in sockets] == [
        [0.1],
        [0.5],
        [0.7],
        [],
    ]
    sweeper.loop.close()


async def test_the_sweepers_task_asks_when_an_expiry_is_due(settings: Any) -> None:
    """The running task: each socket is asked once, never before its expiry, even when the
    expiry arrives while the task sleeps until a later sweep (it is woken)."""
    from smartcampus_chat.realtime import revalidation

    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "REVALIDATE_INTERVAL": 60}
    sweeper = revalidation.Sweeper(asyncio.get_running_loop())
    first, second = _Socket(), _Socket()
    sweeper.add(first)
    sweeper.add(second)
    await asyncio.sleep(0)  # The task sleeps until the first sweep, 5 s away.
    first_sweep = sweeper.horizon
    start = time.monotonic()
    sweeper.expire_at(first, start + 0.2)
    sweeper.expire_at(second, start + 0.1)
    both = asyncio.gather(first.was_asked.wait(), second.was_asked.wait())
    await asyncio.wait_for(both, 30)  # Only a hang guard: the expiries are well before it.
    await asyncio.sleep(0.3)  # Time to be asked a second time, wrongly.
    await sweeper.aclose()
    assert (len(first.asked_really), len(second.asked_really)) == (1, 1)
    assert first.asked_really[0] >= start + 0.2
    assert second.asked_really[0] >= start + 0.1
    assert max(first.asked_really + second.asked_really) < first_sweep, "not woken"
