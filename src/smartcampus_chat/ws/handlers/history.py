"""``resume``: replay a room's changes after an ``event_seq`` (also on connect and after a
layer outage). The cost is :mod:`smartcampus_chat.services.history`'s to charge."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from smartcampus_chat import queries
from smartcampus_chat.conf import app_settings
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.protocol.frames import (
    MessageDeleted,
    MessageEdited,
    MessageNew,
    Participants,
    PresenceBatch,
    Resumed,
    ResumeFrame,
)
from smartcampus_chat.protocol.payloads import ParticipantData, PresenceChange, Schema
from smartcampus_chat.protocol.render import message_data, user_ref
from smartcampus_chat.services.history import allow_resume_page, check_resume
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.socket import Followed, Socket

# --- Database work, run in a worker thread ------------------------------------------------


def _message_frame(message: ChatMessage, slug: str) -> Schema:
    data = message_data(message, room_slug=slug)
    if message.is_deleted:
        return MessageDeleted(message=data)
    if message.is_edited:
        return MessageEdited(message=data)
    return MessageNew(message=data)


def changes(room: ChatRoom, since: int, limit: int) -> list[tuple[int, str]]:
    """(event_seq, encoded frame) of the room's changes after ``since``, oldest first."""
    return [
        (message.event_seq, _message_frame(message, room.slug).model_dump_json())
        for message in queries.changes_since(room, since, limit=limit)
    ]


def _participants(room: ChatRoom) -> Participants:
    return Participants(
        room=room.slug,
        participants=[
            ParticipantData(
                user=user_ref(p.user), role=p.role, online=p.is_online, last_seen=p.last_seen
            )
            for p in queries.participants(room)
        ],
    )


def _presence_now(room_id: int, slug: str) -> str:
    """Every participant's presence now, as one encoded ``presence.batch``."""
    room = ChatRoom(pk=room_id, slug=slug)
    return PresenceBatch(
        room=slug,
        changes=[
            PresenceChange(user=user_ref(p.user), online=p.is_online, last_seen=p.last_seen)
            for p in queries.participants(room)
        ],
    ).model_dump_json()


#: Per event loop, the presence snapshots of the latest recovery by room id: read once
#: per room and process, however many of its sockets follow the room.
_snapshots: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[Any, dict[int, asyncio.Future[str]]]
] = weakref.WeakKeyDictionary()


async def _snapshot(recovery: Any, room_id: int, slug: str) -> str:
    loop = asyncio.get_running_loop()
    seen, futures = _snapshots.get(loop, (None, {}))
    if seen != recovery or recovery is None:
        futures = {}
        _snapshots[loop] = (recovery, futures)
    future = futures.get(room_id)
    if future is None or (future.done() and future.exception() is not None):
        future = futures[room_id] = asyncio.ensure_future(
            database_sync_to_async(_presence_now)(room_id, slug)
        )
    return await asyncio.shield(future)


async def send_presence(socket: Socket, recovery: Any) -> None:
    """After a layer outage: each followed room's presence as it is now, in one
    ``presence.batch`` (the ``presence`` frames published meanwhile were lost).

    Safe to share between the sockets of a process: the hub told them all (each holding
    its hub frames from then on) before the first one reads, so any change read after the
    snapshot reaches every socket after it. ``recovery``: the hub's recovery count, the
    key of the shared snapshots.
    """
    for followed in list(socket.rooms.values()):
        if socket.closing or socket.outbox.finished:
            return
        await socket.send(text_data=await _snapshot(recovery, followed.room_id, followed.slug))


# --- Replays ------------------------------------------------------------------------------


async def resume_frame(socket: Socket, frame: ResumeFrame) -> None:
    target = await socket.target(frame.room)
    # A resume re-decides access: it is the moment a client (re)joins a room.
    target.access = None
    await socket.room_access(target)
    await resume(socket, target, frame.event_seq, frame.id)


async def resume(
    socket: Socket, target: Followed, since: int, frame_id: Any, *, charge: bool = True
) -> None:
    """Replay the room's changes after ``since``, then mark the seam with ``resumed``.

    The connection follows the room's group before this runs, and hub frames are held
    while it runs; they are delivered after the replay, minus those the replay covered
    (``floor``).

    Each page costs a ``resume`` token: without one for the first page,
    :class:`RateLimited` and nothing is sent; without one for a later page, the replay
    ends there, ``truncated`` (the client resumes from there, and is then told how long
    to wait). ``charge=False``: the first page is free (a reconnect that was up to date
    when its socket was set up).
    """
    if charge:
        await sync_to_async(check_resume)(socket.user)
    socket.hold()
    try:
        await _replay(socket, target, since, frame_id)
    finally:
        socket.release()


async def _replay(socket: Socket, target: Followed, since: int, frame_id: Any) -> None:
    room, _access = await socket.room_access(target)
    # Every replay starts with who is in the room and online: a client opening a room on
    # the all-rooms socket (the shell switching rooms) needs that snapshot as much as a
    # room socket connecting does (presence changes before it looked were never sent).
    await socket.send_frame(await database_sync_to_async(_participants)(room))
    cursor, truncated = await send_changes(socket, target, since, charged=True)
    target.floor = max(target.floor, cursor)
    target.last = max(target.last or 0, cursor)
    # Read after the replay: a purge meanwhile is in the marks (docs/retention.md).
    marks = await database_sync_to_async(queries.purge_marks)(room.pk)
    await socket.send_frame(
        Resumed(
            room=target.slug,
            event_seq=cursor,
            truncated=truncated,
            purged_through_seq=marks.through_seq,
            gap=marks.gap_after(since),
            id=frame_id,
        )
    )


async def send_changes(
    socket: Socket, target: Followed, since: int, *, charged: bool = False
) -> tuple[int, bool]:
    """Send the room's changes after ``since`` as live frames, a page per query, at
    most ``RESUME_MAX_EVENTS``: the newest sent (or ``since``) and whether more wait.
    Live frames they cover are dropped from then on (``floor``). ``charged``: a
    client's replay, whose first page is paid for already; each later page takes a
    ``resume`` token, and without one the replay stops there (more wait)."""
    room, _access = await socket.room_access(target)
    page = app_settings.MAX_PAGE_SIZE
    budget = app_settings.RESUME_MAX_EVENTS
    cursor = since
    first = True
    while True:
        size = min(page, budget)
        if size <= 0:
            return cursor, True
        # A client's replay pays a token for each page after its first (paid up front).
        paying = charged and not first
        if paying and not await sync_to_async(allow_resume_page)(socket.user):
            return cursor, True
        first = False
        batch = await database_sync_to_async(socket.read_changes)(room, cursor, size)
        for event_seq, text in batch:
            await socket.send(text_data=text)
            cursor = event_seq
            target.floor = max(target.floor, event_seq)
            target.last = max(target.last or 0, event_seq)
        budget -= len(batch)
        if len(batch) < size:
            return cursor, False


async def catch_up(socket: Socket, newest: dict[int, int]) -> None:
    """Send each followed room's changes after the newest one the socket sent, up to
    ``newest`` (room id → newest ``event_seq`` now), as live frames would have."""
    for room_id, followed in list(socket.rooms.items()):
        if followed.last is None:
            continue
        since = max(followed.last, followed.floor)
        if newest.get(room_id, 0) > since:
            await send_changes(socket, followed, since)


HANDLERS: Handlers = {ResumeFrame: resume_frame}
