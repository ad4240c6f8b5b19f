"""Notifications: the cost of the notify step per message (docs/notifications.md).

In process, on the bench database (PostgreSQL by default), no server: a public room of
1,000 members (``bench-notify``, made once), a message marking 0, 1 or 50 of them, or
``@everyone``; ``services.notifications.do_notify`` timed alone (µs and queries per
message), with Web Push and e-mail on, so that the delivery rows are written too. Then the
whole send (``services.check_send_message``, the notify step after its commit included)
with notifications on and off: what a message that marks nobody pays for them.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import django_side
from bench.runner import RunContext

TITLE = "Notifications: the notify step per message, 1,000-member room"
ROOM = "bench-notify"
MEMBERS = 1000
CASES: list[tuple[str, int, bool]] = [
    ("0 mentions", 0, False),
    ("1 mention", 1, False),
    ("50 mentions", 50, False),
    ("@everyone", 0, True),
]


def _room() -> tuple[Any, list[Any]]:
    from django.contrib.auth import get_user_model

    from smartcampus_chat.models import ChatParticipant, ChatRoom, RoomType

    User = get_user_model()
    names = [f"notify-member-{i}" for i in range(MEMBERS)]
    have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create([User(username=n) for n in names if n not in have])
    people = list(User.objects.filter(username__in=names).order_by("pk"))
    room, _ = ChatRoom.objects.get_or_create(
        slug=ROOM, defaults={"name": ROOM, "room_type": RoomType.PUBLIC}
    )
    joined = set(ChatParticipant.objects.filter(room=room).values_list("user_id", flat=True))
    ChatParticipant.objects.bulk_create(
        [ChatParticipant(room=room, user=p) for p in people if p.pk not in joined]
    )
    return room, people


def measure(rounds: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from smartcampus_chat import services
    from smartcampus_chat.models import ChatMessage, ChatNotification
    from smartcampus_chat.services.notifications import Notable, do_notify

    room, people = _room()
    author, members = people[0], people[1:]
    ChatNotification.objects.filter(room=room).delete()
    chat = {
        "NOTIFY_PUSH": True,
        "NOTIFY_EMAIL": True,
        "NOTIFY_WORKER": None,
        "SEND_RATE_BURST": 1_000_000,
        "SEND_RATE_PER_SECOND": 1_000_000,
    }
    rows: list[dict[str, Any]] = []
    with override_settings(SMARTCAMPUS_CHAT=chat):
        sample = services.check_send_message(author, room, "warm up").message
        for name, mentions, everyone in CASES:
            marked = frozenset(p.pk for p in members[:mentions])
            timings: list[float] = []
            queries: list[int] = []
            written = 0
            for index in range(rounds + 1):
                message = ChatMessage.objects.get(pk=sample.pk)
                ChatNotification.objects.filter(message=message).delete()
                notable = Notable(message, room, author, marked, everyone)
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    made = do_notify([notable])
                    elapsed = time.perf_counter() - started
                if index:  # the first round warms up
                    timings.append(elapsed)
                    queries.append(len(captured))
                    written = len(made)
            ChatNotification.objects.filter(message=sample).delete()
            rows.append(_row("notify step", name, written, timings, queries))
        sends = (("send, notifications on", True), ("send, notifications off", False))
        for label, enabled in sends:
            with override_settings(SMARTCAMPUS_CHAT={**chat, "NOTIFICATIONS": enabled}):
                timings = []
                queries = []
                for index in range(rounds + 1):
                    with CaptureQueriesContext(connection) as captured:
                        started = time.perf_counter()
                        services.check_send_message(author, room, f"plain line {index}")
                        elapsed = time.perf_counter() - started
                    if index:
                        timings.append(elapsed)
                        queries.append(len(captured))
            rows.append(_row(label, "0 mentions", 0, timings, queries))
    ChatNotification.objects.filter(room=room).delete()
    return rows


def _row(
    step: str, case: str, written: int, timings: list[float], queries: list[int]
) -> dict[str, Any]:
    ordered = sorted(timings)
    return {
        "workload": "notify",
        "step": step,
        "case": case,
        "members": MEMBERS,
        "notifications": written,
        "queries": max(queries),
        "p50_us": round(ordered[len(ordered) // 2] * 1e6, 1),
        "p95_us": round(ordered[int(len(ordered) * 0.95)] * 1e6, 1),
        "mean_us": round(statistics.fmean(ordered) * 1e6, 1),
    }


def run(ctx: RunContext) -> list[dict[str, Any]]:
    url = ctx.database_url
    ctx.ensure_migrated(url)
    rows = django_side.call(url, measure, 5 if ctx.quick else 50)
    for row in rows:
        ctx.log(
            f"notify: {row['step']} {row['case']}: {row['queries']} queries, "
            f"p50 {row['p50_us']} µs ({row['notifications']} notifications)"
        )
    return rows
