"""Retention purge: throughput and the longest lock held, with sockets chatting (issue #21).

In process, on the bench database (PostgreSQL by default): a fresh room gets ``--messages``
messages (COPY; default 20,000, quick 2,000) sent 30 days ago, a reaction on one in ten
and a notification on one in fifty, and its own rule "7 days after each message". Then
``services.do_purge_expired`` runs in a thread while ``SOCKETS`` members chat in the room
over real WebSocket connections (the app's consumer, in-memory layer): each sends a
message every 100 ms and waits for its ack. Reported: messages purged per second, the
batches, the longest batch transaction (the longest any row lock of the purge was held),
on PostgreSQL the longest transaction and the most locks ``pg_stat_activity`` and
``pg_locks`` showed for the purge's connection (sampled every 20 ms), and the chatting
clients' send-to-ack latency and errors (there must be none).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from typing import Any

from bench import django_side
from bench.runner import RunContext

TITLE = "Retention purge: throughput and the longest batch, with sockets chatting"
PREFIX = "bench-retention"
SOCKETS = 8
BATCH = 1000
SEND_EVERY = 0.1


def _prepare(slug: str, messages: int, sockets: int) -> tuple[Any, list[Any]]:
    from bench.seed import ensure_users, seed_messages
    from smartcampus_chat import services
    from smartcampus_chat.models import (
        ChatMessage,
        ChatNotification,
        ChatParticipant,
        ChatReaction,
        ChatRoom,
        NotificationKind,
        RetentionKind,
    )

    # Rooms a failed run left behind are kept out of this run's purge.
    ChatRoom.objects.filter(slug__startswith=PREFIX).update(
        retention=RetentionKind.FOREVER, retention_days=None
    )
    seed_messages(slug, messages, age_days=30)
    room = ChatRoom.objects.get(slug=slug)
    services.do_set_retention(None, room, RetentionKind.DAYS, 7)
    people = ensure_users(max(sockets, 2))
    ChatParticipant.objects.bulk_create([ChatParticipant(room=room, user=p) for p in people])
    ids = list(ChatMessage.objects.filter(room=room).order_by("seq").values_list("pk", flat=True))
    ChatReaction.objects.bulk_create(
        [ChatReaction(message_id=pk, user=people[0], emoji="👍") for pk in ids[::10]],
        batch_size=5000,
    )
    ChatNotification.objects.bulk_create(
        [
            ChatNotification(
                user=people[1], kind=NotificationKind.MESSAGE, room=room, message_id=pk
            )
            for pk in ids[::50]
        ],
        batch_size=5000,
    )
    return room, people[:sockets]


class _LockSampler(threading.Thread):
    """On PostgreSQL: the longest transaction and the most locks of one backend, sampled."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.longest_xact_ms = 0.0
        self.most_locks = 0

    def run(self) -> None:
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                while not self.stop.wait(0.02):
                    cursor.execute(
                        "SELECT EXTRACT(EPOCH FROM now() - xact_start) * 1000,"
                        " (SELECT count(*) FROM pg_locks WHERE pid = %s AND granted)"
                        " FROM pg_stat_activity WHERE pid = %s AND state <> 'idle'",
                        [self.pid, self.pid],
                    )
                    row = cursor.fetchone()
                    if row and row[0] is not None:
                        self.longest_xact_ms = max(self.longest_xact_ms, float(row[0]))
                        self.most_locks = max(self.most_locks, int(row[1]))
        finally:
            connection.close()


def _purge(batch: int, result: dict[str, Any], started: threading.Event) -> None:
    from django.db import connection

    from smartcampus_chat import services

    try:
        sampler = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                sampler = _LockSampler(cursor.fetchone()[0])
                sampler.start()
        started.set()
        t0 = time.perf_counter()
        result["counts"] = services.do_purge_expired(batch_size=batch)
        result["seconds"] = time.perf_counter() - t0
        if sampler is not None:
            sampler.stop.set()
            sampler.join()
            result["pg_longest_xact_ms"] = round(sampler.longest_xact_ms, 1)
            result["pg_most_locks"] = sampler.most_locks
    except Exception as exc:  # reported in the row
        result["failed"] = f"{type(exc).__name__}: {exc}"
    finally:
        started.set()
        connection.close()


async def _chat(slug: str, people: list[Any], batch: int) -> dict[str, Any]:
    from smartcampus_chat.testing import ChatCommunicator
    from smartcampus_chat.testing.wire import room_path

    sockets = []
    for person in people:
        # A ticket and no Origin: a script's connection, as the site's origin check wants.
        socket = ChatCommunicator(room_path(slug), person, headers=[])
        await socket.open()
        sockets.append(socket)
    from asgiref.sync import sync_to_async

    result: dict[str, Any] = {}
    started = threading.Event()
    # A worker thread of this loop's (not a bare thread): the purge's frames are published
    # through this loop, where the in-memory layer's queues live.
    purge = asyncio.ensure_future(
        sync_to_async(_purge, thread_sensitive=False)(batch, result, started)
    )
    latencies: list[float] = []
    errors: list[str] = []
    purged_frames = [0] * len(sockets)

    async def member(index: int) -> None:
        socket = sockets[index]
        number = 0

        def answer(frame: dict[str, Any]) -> bool:
            if frame["type"] == "messages.purged":
                purged_frames[index] += 1
            return frame["type"] in ("ack", "error") and frame.get("id") == f"s{number}"

        while not purge.done():
            number += 1
            sent = time.perf_counter()
            await socket.send_frame(
                type="message.send",
                content=f"chatting during the purge {number}",
                client_id=uuid.uuid4().hex,
                id=f"s{number}",
            )
            frame = await socket.receive_until(answer, timeout=30)
            if frame["type"] == "error":
                errors.append(str(frame.get("code")))
            else:
                latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(SEND_EVERY)
        # The last batch's frame may still be on its way.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                await socket.receive_until(answer, timeout=0.2)
            except asyncio.TimeoutError:
                break

    await asyncio.get_running_loop().run_in_executor(None, started.wait)
    await asyncio.gather(*(member(i) for i in range(len(sockets))))
    await purge
    closed_by_server = [s.closed_code for s in sockets if s.closed_code is not None]
    for socket in sockets:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await socket.disconnect()
    ordered = sorted(latencies)
    return {
        **result,
        "sends": len(latencies) + len(errors),
        "errors": errors,
        "closed_by_server": closed_by_server,
        "purged_frames_min": min(purged_frames) if purged_frames else 0,
        "ack_p50_ms": round(ordered[len(ordered) // 2] * 1000, 1) if ordered else None,
        "ack_p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1) if ordered else None,
        "ack_max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
    }


def measure(messages: int, batch: int = BATCH, sockets: int = SOCKETS) -> dict[str, Any]:
    """Seed, purge with sockets chatting, clean up; the figures (runs in the child)."""
    from django.db import connection
    from django.test.utils import override_settings

    from smartcampus_chat.models import ChatRoom

    slug = f"{PREFIX}-{int(time.time() * 1000)}"
    t0 = time.perf_counter()
    room, people = _prepare(slug, messages, sockets)
    seeded = time.perf_counter() - t0
    # Only this room's rule applies: no site rule, deleted messages of other bench rooms
    # left alone.
    with override_settings(
        SMARTCAMPUS_CHAT={
            **_site_settings(),
            "RETENTION": {},
            "DELETED_MESSAGE_GRACE_DAYS": None,
        }
    ):
        outcome = asyncio.run(_chat(slug, people, batch))
    counts = outcome.pop("counts", None)
    ChatRoom.objects.filter(pk=room.pk).delete()
    seconds = outcome.pop("seconds", 0.0)
    return {
        "database": connection.vendor,
        "seed_s": round(seeded, 1),
        "purged": counts.messages if counts else 0,
        "reactions": counts.reactions if counts else 0,
        "notifications": counts.notifications if counts else 0,
        "batches": counts.batches if counts else 0,
        "purge_s": round(seconds, 2),
        "messages_per_s": round(counts.messages / seconds) if counts and seconds else None,
        "longest_batch_ms": round(counts.longest_batch_ms, 1) if counts else None,
        "mean_batch_ms": round(seconds * 1000 / counts.batches, 1)
        if counts and counts.batches
        else None,
        **outcome,
    }


def _site_settings() -> dict[str, Any]:
    from django.conf import settings

    return dict(getattr(settings, "SMARTCAMPUS_CHAT", {}))


def run(ctx: RunContext) -> list[dict[str, Any]]:
    messages = ctx.messages or (2_000 if ctx.quick else 20_000)
    url = ctx.database_url
    ctx.ensure_migrated(url)
    ctx.log(f"retention: {messages} expired messages, {SOCKETS} sockets chatting")
    row = django_side.call(url, measure, messages, BATCH, SOCKETS)
    ctx.log(
        f"retention: {row['purged']} purged in {row['purge_s']} s "
        f"({row['messages_per_s']} msg/s), longest batch {row['longest_batch_ms']} ms, "
        f"{row['sends']} sends during it, errors {row['errors']}"
    )
    result: dict[str, Any] = {"workload": "retention", "messages": messages, "sockets": SOCKETS}
    result.update(row)
    result["errors"] = len(row["errors"])
    result["closed_by_server"] = len(row["closed_by_server"])
    trouble = row["errors"] or row["closed_by_server"]
    if row.get("failed") or trouble:
        result["failed"] = (
            row.get("failed") or f"clients: {row['errors']} {row['closed_by_server']}"
        )
    return [result]
