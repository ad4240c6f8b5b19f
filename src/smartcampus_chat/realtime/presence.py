"""Who is online, across processes: one ``ChatConnection`` row per open WebSocket.

Why rows in the database rather than Redis keys with a TTL: the database is the one store
every deployment already shares (Redis is optional for a single process), the participant
rows (``ChatParticipant.is_online`` / ``last_seen``) that pages and the API show live next
to it and change in the same transaction, and the write load is small: one row per
connect/disconnect and one ``UPDATE`` per process per heartbeat, whatever the number of
sockets.

A user is online while they have at least one connection (tabs, devices, endpoints).
Transitions are decided with conditional ``UPDATE``\\s of the participant rows, so with
several processes racing only one of them announces a change. Each process refreshes the
heartbeat of its own rows every ``PRESENCE_HEARTBEAT`` seconds and sweeps rows older than
``PRESENCE_TIMEOUT``: the connections of a crashed process expire and their users go
offline for everyone. The heartbeat also re-asserts "online" for users with a live local
connection, which repairs the rare disconnect/connect race within one heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra.batching import Batcher
from smartcampus_chat.models import ChatConnection, ChatParticipant
from smartcampus_chat.protocol.frames import Presence
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.realtime import events

logger = logging.getLogger(__name__)

#: Identifies this process in ``ChatConnection.server``.
SERVER_ID = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _announce(user: Any, rows: Iterable[tuple[int, str]], *, online: bool, when: Any) -> None:
    ref = user_ref(user)
    for room_id, slug in rows:
        events.publish_to_room(
            room_id, Presence(room=slug, user=ref, online=online, last_seen=when)
        )


def _set_online(user_ids: Iterable[int] | QuerySet[Any, Any]) -> None:
    """Mark the participant rows of ``user_ids`` (ids, or a query of them) online where they
    are not; announce it."""
    from django.contrib.auth import get_user_model

    now = timezone.now()
    wanted = user_ids if isinstance(user_ids, QuerySet) else list(user_ids)
    rows = list(
        ChatParticipant.objects.filter(user_id__in=wanted, is_banned=False, is_online=False)
        .values_list("pk", "user_id", "room_id", "room__slug")
        .order_by()
    )
    if not rows:
        return
    changed = ChatParticipant.objects.filter(pk__in=[r[0] for r in rows], is_online=False).update(
        is_online=True, last_seen=now
    )
    if not changed:
        return
    users = get_user_model()._default_manager.in_bulk({r[1] for r in rows})
    for user_id, user in users.items():
        _announce(user, [(r[2], r[3]) for r in rows if r[1] == user_id], online=True, when=now)


def joined_while_connected(user_ids: Iterable[int]) -> None:
    """New participant rows of users who already have an open connection come online, and
    it is announced: their sockets opened before they joined (a public room read, then
    joined or posted in), so no "connection opened" will say it."""
    _set_online(ChatConnection.objects.filter(user_id__in=list(user_ids)).values("user_id"))


def _set_offline_if_gone(user_ids: Iterable[int]) -> None:
    """Mark users without any remaining connection offline; announce it."""
    from django.contrib.auth import get_user_model

    ids = set(user_ids)
    if not ids:
        return
    still_here = set(
        ChatConnection.objects.filter(user_id__in=ids).values_list("user_id", flat=True)
    )
    gone = ids - still_here
    if not gone:
        return
    now = timezone.now()
    rows = list(
        ChatParticipant.objects.filter(user_id__in=gone, is_online=True)
        .values_list("pk", "user_id", "room_id", "room__slug")
        .order_by()
    )
    if not rows:
        return
    ChatParticipant.objects.filter(pk__in=[r[0] for r in rows], is_online=True).update(
        is_online=False, last_seen=now
    )
    users = get_user_model()._default_manager.in_bulk({r[1] for r in rows})
    for user_id, user in users.items():
        _announce(user, [(r[2], r[3]) for r in rows if r[1] == user_id], online=False, when=now)


class TooManyConnections(Exception):
    """The user already has ``MAX_CONNECTIONS_PER_USER`` open connections."""


def _admit(opened: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], set[str]]:
    """Split new connections into those admitted and the names of those refused: a user
    may have ``MAX_CONNECTIONS_PER_USER`` connections, counted over every process.

    The count is the stored rows (every process's) plus the earlier ones of this batch.
    A process stores its new connections one batch at a time, so its own count is exact;
    batches committing at the same instant on other processes do not see each other, so
    a burst spread over N processes can exceed the cap by at most N - 1 batches' worth.
    Rows of a crashed process count until they expire (``PRESENCE_TIMEOUT``), not until
    a live process gets round to sweeping them: once expired they are dead connections, and
    the user's tabs reconnecting after the crash must not be refused because of them.
    """
    cap = app_settings.MAX_CONNECTIONS_PER_USER
    expired = timezone.now() - timedelta(seconds=app_settings.PRESENCE_TIMEOUT)
    counts: Counter[int] = Counter(
        dict(
            ChatConnection.objects.filter(
                user_id__in={user_id for user_id, _ in opened}, last_heartbeat__gte=expired
            )
            .exclude(channel_name__in=[name for _, name in opened])
            .values("user_id")
            .annotate(n=Count("pk"))
            .values_list("user_id", "n")
            .order_by()
        )
    )
    admitted: list[tuple[int, str]] = []
    refused: set[str] = set()
    for user_id, channel_name in opened:
        if counts[user_id] >= cap:
            refused.add(channel_name)
            continue
        counts[user_id] += 1
        admitted.append((user_id, channel_name))
    return admitted, refused


def connections_opened(opened: list[tuple[int, str]], server: str = SERVER_ID) -> set[str]:
    """Store new connections ``(user id, channel name)`` and announce their users online;
    the channel names refused because their user has too many (:func:`_admit`).

    One transaction (one commit) for all of them: sockets opening together share it.
    """
    now = timezone.now()
    with transaction.atomic():
        admitted, refused = _admit(opened)
        ChatConnection.objects.bulk_create(
            [
                ChatConnection(
                    channel_name=channel_name, user_id=user_id, server=server, last_heartbeat=now
                )
                for user_id, channel_name in admitted
            ],
            update_conflicts=True,
            unique_fields=["channel_name"],
            update_fields=["user", "server", "last_heartbeat"],
        )
        _set_online({user_id for user_id, _ in admitted})
    return refused


def connection_opened(user_id: int, channel_name: str, server: str = SERVER_ID) -> set[str]:
    return connections_opened([(user_id, channel_name)], server)


def connection_closed(user_id: int, channel_name: str) -> None:
    with transaction.atomic():
        ChatConnection.objects.filter(channel_name=channel_name).delete()
        _set_offline_if_gone([user_id])


def sweep(now: Any = None) -> int:
    """Expire connections silent for longer than ``PRESENCE_TIMEOUT``; returns how many."""
    limit = (now or timezone.now()) - timedelta(seconds=app_settings.PRESENCE_TIMEOUT)
    with transaction.atomic():
        stale = list(
            ChatConnection.objects.filter(last_heartbeat__lt=limit).values_list("pk", "user_id")
        )
        if not stale:
            return 0
        ChatConnection.objects.filter(pk__in=[pk for pk, _ in stale]).delete()
        _set_offline_if_gone({user_id for _, user_id in stale})
    return len(stale)


def heartbeat(
    local: dict[str, int], server: str = SERVER_ID, unclosed: dict[str, int] | None = None
) -> None:
    """Refresh this process's connections, then sweep stale ones.

    ``unclosed``: sockets that closed but whose row could not be deleted then; deleted now.
    The common case costs a few statements whatever the number of sockets: one ``UPDATE``
    of the process's rows (found by ``server``, not by a list of names), the "online"
    repair of its users (a subquery of the same rows) and the sweep. Only when the rows
    refreshed are not as many as the sockets (rows swept while the process stalled, rows of
    closed sockets) are they listed and reconciled. (A close whose delete failed is in
    ``unclosed``, so a missing row and a row left behind cannot cancel out.)
    """
    now = timezone.now()
    with transaction.atomic():
        mine = ChatConnection.objects.filter(server=server)
        if unclosed:
            mine.filter(channel_name__in=list(unclosed)).delete()
            _set_offline_if_gone(set(unclosed.values()))
        if mine.update(last_heartbeat=now) != len(local):
            _reconcile(mine, local, server, now)
        _set_online(mine.values("user_id"))
    sweep(now)


def _reconcile(mine: Any, local: dict[str, int], server: str, now: Any) -> None:
    """Make this process's rows those of ``local``: re-create the missing ones, delete the
    others (their users go offline if that was their last connection)."""
    stored = dict(mine.values_list("channel_name", "user_id"))
    extra = [name for name in stored if name not in local]
    if extra:
        mine.filter(channel_name__in=extra).delete()
        _set_offline_if_gone({stored[name] for name in extra})
    ChatConnection.objects.bulk_create(
        [
            ChatConnection(channel_name=name, user_id=uid, server=server, last_heartbeat=now)
            for name, uid in local.items()
            if name not in stored
        ],
        ignore_conflicts=True,
    )


def store_opened(opened: list[tuple[int, str]]) -> list[Exception | None]:
    """:func:`connections_opened` for a batch; if the batch fails as a whole, again one
    transaction per connection, so that each error stays with its own connection. A
    connection over the user's cap gets :class:`TooManyConnections`."""
    try:
        refused = connections_opened(opened) or set()
    except Exception as exc:
        if len(opened) == 1:
            return [exc]
        logger.warning("Storing %d connections failed; one by one", len(opened))
        return [_open_alone(user_id, channel_name) for user_id, channel_name in opened]
    return [TooManyConnections() if name in refused else None for _, name in opened]


def _open_alone(user_id: int, channel_name: str) -> Exception | None:
    try:
        refused = connection_opened(user_id, channel_name) or set()
    except Exception as exc:
        return exc
    return TooManyConnections() if channel_name in refused else None


#: Most connections stored by one transaction of :meth:`Tracker.opened`.
OPEN_BATCH_MAX = 500


class Tracker:
    """This process's live connections and the heartbeat task that keeps them fresh.

    The task runs only while the process has connections: it starts with the first one
    and is cancelled (and awaited) with the last one, so nothing outlives the sockets.

    New connections are stored in batches (:func:`store_opened`, group commit:
    :mod:`smartcampus_chat.infra.batching`): while one batch is being committed, the sockets that
    open meanwhile wait and share the next commit. With one commit per socket, commits
    (7-16 ms on a busy machine) capped handshakes at ~90/s on Channels' database thread.
    """

    def __init__(self) -> None:
        self.local: dict[str, int] = {}
        #: Closed sockets whose row could not be deleted (database outage): the next
        #: heartbeat deletes them.
        self.unclosed: dict[str, int] = {}
        self.task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.opener: Batcher[tuple[int, str], None] | None = None

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> Batcher[tuple[int, str], None]:
        """Start afresh on a new event loop: what the old loop tracked died with it.

        A server process has one loop; test runners start one per test, and a test that
        failed may have left sockets behind that must not leak into the next one.
        """
        old_task, old_loop = self.task, self.loop
        self.local, self.task, self.loop = {}, None, loop
        self.unclosed = {}
        self.opener = Batcher(loop, store_opened, lambda: OPEN_BATCH_MAX, "new connections")
        if old_task is not None and old_loop is not None and not old_loop.is_closed():
            old_loop.call_soon_threadsafe(old_task.cancel)
        return self.opener

    async def opened(self, user_id: int, channel_name: str) -> None:
        loop = asyncio.get_running_loop()
        opener = self.opener if self.loop is loop and self.opener else self._adopt(loop)
        self.local[channel_name] = user_id
        try:
            await opener.submit((user_id, channel_name))
        except TooManyConnections:
            self.local.pop(channel_name, None)
            raise
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._beat())

    async def closed(self, user_id: int, channel_name: str) -> None:
        self.local.pop(channel_name, None)
        if not self.local and self.task is not None:
            task, self.task = self.task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await database_sync_to_async(connection_closed)(user_id, channel_name)
        except Exception:
            self.unclosed[channel_name] = user_id
            raise

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(app_settings.PRESENCE_HEARTBEAT)
            try:
                unclosed = dict(self.unclosed)
                await database_sync_to_async(heartbeat)(dict(self.local), unclosed=unclosed)
                for name in unclosed:
                    self.unclosed.pop(name, None)
            except Exception:
                logger.exception("Presence heartbeat failed; retrying next period")


tracker = Tracker()
