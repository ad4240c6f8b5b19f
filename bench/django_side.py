"""Work that needs Django (fixtures, services, queries), run in a child process.

The harness process never imports Django: each call here runs in a fresh ``spawn`` child
configured with ``bench.app_settings`` for one database, so one run can measure PostgreSQL
and SQLite side by side. ``call(database_url, func, *args)`` runs ``func(*args)`` there.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from bench.harness import EXAMPLE_DIR, ROOT
from bench.protocol import app_room_slug
from bench.seed import ensure_users, seed_messages

T = TypeVar("T")

SESSION_COOKIE = "sessionid"


def _setup(database_url: str, layer: str) -> None:
    for path in (str(EXAMPLE_DIR), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.app_settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["BENCH_LAYER"] = layer
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def call(database_url: str, func: Callable[..., T], *args: Any, layer: str = "memory") -> T:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1, initializer=_setup, initargs=(database_url, layer)) as pool:
        return pool.apply(func, args)


def ensure_rooms(count: int) -> list[Any]:
    from smartcampus_chat.models import ChatRoom, RoomType

    rooms = []
    for index in range(count):
        slug = app_room_slug(index)
        room, _ = ChatRoom.objects.get_or_create(
            slug=slug, defaults={"name": slug, "room_type": RoomType.PUBLIC}
        )
        rooms.append(room)
    return rooms


def prepare_app(rooms: int, users: int) -> list[int]:
    """Public rooms ``bench-room-<n>`` and users; returns the users' ids.

    Sessions are also written, as Django's login view writes them, for workloads that want
    the cookie path. Connections authenticate with tickets (:func:`mint_tickets`).
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    ensure_rooms(rooms)
    people = ensure_users(users)
    Session.objects.all().delete()
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    sessions = []
    for user in people:
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
    Session.objects.bulk_create(sessions, batch_size=1000)
    return [user.pk for user in people]


def reset_presence() -> int:
    """Everyone offline, no connection rows: what a server stopped by an earlier run left
    behind would otherwise keep its users "online" (no announcement when they connect)."""
    from smartcampus_chat.models import ChatConnection, ChatParticipant

    ChatConnection.objects.all().delete()
    return ChatParticipant.objects.filter(is_online=True).update(is_online=False)


def join_rooms(user_ids: list[int], count: int, per_user: int) -> int:
    """Each user joins ``per_user`` of the rooms ``bench-room-0`` … ``count - 1`` (round
    robin), as participants: what a user's all-rooms socket (``ws/chat/``) follows."""
    from smartcampus_chat.models import ChatParticipant, ChatRoom

    slugs = [app_room_slug(index) for index in range(count)]
    rooms = sorted(ChatRoom.objects.filter(slug__in=slugs), key=lambda r: slugs.index(r.slug))
    rows = [
        ChatParticipant(room=rooms[(index + k) % len(rooms)], user_id=user_id)
        for index, user_id in enumerate(user_ids)
        for k in range(min(per_user, len(rooms)))
    ]
    ChatParticipant.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def mint_tickets(user_ids: list[int]) -> list[str]:
    """One WebSocket ticket per entry of ``user_ids`` (``?ticket=``, docs/protocol.md).

    Tickets are how non-browser clients authenticate; each opens one socket only, so every
    connection of every step gets its own. ``bench.app_settings`` makes them last the run.
    """
    from types import SimpleNamespace

    from smartcampus_chat.realtime.tickets import issue_ticket

    return [issue_ticket(SimpleNamespace(pk=pk)) for pk in user_ids]


def store_direct(seconds: float, rooms: int, senders: int) -> dict[str, Any]:
    """Messages stored per second through ``services.check_send_message``, one thread."""
    from smartcampus_chat import services

    room_objs = ensure_rooms(rooms)
    users = ensure_users(senders)
    latencies: list[float] = []
    end = time.monotonic() + seconds
    count = 0
    start = time.monotonic()
    while time.monotonic() < end:
        t0 = time.monotonic()
        services.check_send_message(
            users[count % senders],
            room_objs[count % rooms],
            f"direct message {count}",
            client_id=f"d-{start}-{count}",
        )
        latencies.append(time.monotonic() - t0)
        count += 1
    elapsed = time.monotonic() - start
    return {"stored": count, "seconds": round(elapsed, 2), "latencies_s": latencies}


def store_direct_batched(seconds: float, rooms: int, senders: int, batch: int) -> dict[str, Any]:
    """Messages stored per second through ``check_send_messages``, ``batch`` per call.

    Latencies are per batch (what each message of it waited for its commit).
    """
    from smartcampus_chat.services.batch import SendRequest, check_send_messages

    room_objs = ensure_rooms(rooms)
    users = ensure_users(senders)
    latencies: list[float] = []
    count = 0
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end:
        requests = [
            SendRequest(
                users[n % senders],
                room_objs[n % rooms],
                f"batched message {n}",
                client_id=f"b-{start}-{n}",
            )
            for n in range(count, count + batch)
        ]
        t0 = time.monotonic()
        check_send_messages(requests)
        latencies.extend([time.monotonic() - t0] * batch)
        count += batch
    elapsed = time.monotonic() - start
    return {"stored": count, "seconds": round(elapsed, 2), "latencies_s": latencies}


def catch_up_by_query(missed: int, page: int) -> dict[str, Any]:
    """A client that missed ``missed`` messages pulls them with ``queries.changes_since``.

    Each page is serialised as the WebSocket would (``message_data`` → JSON), so the time
    covers what a resume costs the server apart from the socket writes.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smartcampus_chat import queries
    from smartcampus_chat.models import ChatRoom
    from smartcampus_chat.protocol.render import message_data

    slug = "bench-catchup"
    ChatRoom.objects.filter(slug=slug).delete()
    room = ChatRoom.objects.create(slug=slug, name=slug)
    seed_messages(slug, missed)
    room.refresh_from_db()
    cursor = 0
    pages = 0
    received = 0
    t0 = time.monotonic()
    with CaptureQueriesContext(connection) as captured:
        while True:
            batch = queries.changes_since(room, cursor, limit=page)
            if not batch:
                break
            frames = [message_data(m, room_slug=slug).model_dump_json() for m in batch]
            received += len(frames)
            cursor = batch[-1].event_seq
            pages += 1
    elapsed = time.monotonic() - t0
    return {
        "missed": missed,
        "received": received,
        "page_size": page,
        "pages": pages,
        "seconds": round(elapsed, 3),
        "queries": len(captured),
    }


def history_pages(slug: str, depths: list[float], samples: int, limit: int) -> list[dict[str, Any]]:
    """Latency and query count of ``queries.history`` pages at fractions of a room's depth.

    Depth 0 is the latest page (no cursor); depth ``d`` asks for the page before message
    ``last_seq * (1 - d)``.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smartcampus_chat import queries
    from smartcampus_chat.models import ChatRoom

    room = ChatRoom.objects.get(slug=slug)
    rows = []
    for depth in depths:
        before = None if depth == 0 else max(int(room.last_seq * (1 - depth)), limit + 1)
        timings = []
        query_counts = set()
        for _ in range(samples):
            with CaptureQueriesContext(connection) as captured:
                t0 = time.monotonic()
                page = queries.history(room, before=before, limit=limit)
                [m.sender.username if m.sender else "" for m in page.messages]
                timings.append(time.monotonic() - t0)
            query_counts.add(len(captured))
        rows.append(
            {
                "depth": depth,
                "before": before,
                "messages": len(page.messages),
                "timings_s": timings,
                "queries_per_page": sorted(query_counts),
            }
        )
    return rows


def room_size(slug: str) -> int:
    from smartcampus_chat.models import ChatRoom

    room = ChatRoom.objects.filter(slug=slug).first()
    return 0 if room is None else int(room.last_seq)


def vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


def prepare_page(rooms: int, member_count: int = 4) -> dict[str, Any]:
    """Public rooms ``bench-page-<n>`` joined by ``member_count`` users; a session for the
    first user, as Django's login view writes it.

    Returns the session key, each room's slug, page path (``reverse()``d: wherever the
    example site mounts the chat) and message count (``bench.seed`` adds the missing ones).
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.urls import reverse

    from smartcampus_chat.models import ChatRoom, RoomType
    from smartcampus_chat.services import do_join_room

    people = ensure_users(member_count)
    found = []
    for index in range(rooms):
        slug = f"bench-page-{index}"
        room, _ = ChatRoom.objects.get_or_create(
            slug=slug, defaults={"name": f"Bench page {index}", "room_type": RoomType.PUBLIC}
        )
        for user in people:
            do_join_room(user, room)
        room.refresh_from_db()
        path = reverse("smartcampus_chat:room", args=[slug])
        found.append({"slug": slug, "path": path, "messages": room.last_seq})
    reader = people[0]
    store = SessionStore()
    store[SESSION_KEY] = str(reader.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = reader.get_session_auth_hash()
    store.create()
    return {"session": store.session_key, "rooms": found, "user_id": reader.pk}
