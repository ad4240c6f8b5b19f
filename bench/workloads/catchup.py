"""Catch-up: a client resuming after missing 10,000 messages.

Two sources (:data:`SOURCES`): ``queries.changes_since`` (what the engine's resume calls),
each page serialised as the socket would send it; and the WebSocket itself: a client
connects to ``ws/chat/<slug>/?v=1&event_seq=0`` on ``app-uvicorn-memory`` and reads every
replayed frame until a ``resumed`` that is not truncated, sending ``resume`` again after
each truncated one (``RESUME_MAX_EVENTS`` per round). Its time runs from the connect to the
last ``resumed``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Origin

from bench import django_side
from bench.harness import sqlite_url
from bench.protocol import AppProtocol, FrameKind, app_room_slug
from bench.runner import RunContext, serve
from bench.targets import BY_NAME

TITLE = "Catch-up"
MISSED = 10_000


def by_query(ctx: RunContext, database_url: str, page: int) -> dict[str, Any]:
    ctx.ensure_migrated(database_url)
    return django_side.call(database_url, django_side.catch_up_by_query, MISSED, page)


def _seed_room(slug: str, count: int) -> dict[str, Any]:
    from bench.seed import seed_messages
    from smartcampus_chat.models import ChatMessage, ChatRoom

    room = ChatRoom.objects.get(slug=slug)
    ChatMessage.objects.filter(room=room).delete()
    ChatRoom.objects.filter(pk=room.pk).update(last_seq=0, last_event_seq=0)
    return seed_messages(slug, count)


async def _resume_over_socket(port: int, ticket: str) -> dict[str, Any]:
    protocol = AppProtocol()
    url = f"ws://127.0.0.1:{port}" + protocol.path(0, ticket, resume_from=0)
    received = rounds = 0
    t0 = time.monotonic()
    origin = Origin(f"http://127.0.0.1:{port}")
    async with connect(url, origin=origin, compression=None, max_size=2**20) as ws:
        while True:
            frame = str(await ws.recv())
            kind = protocol.kind(frame)
            if kind is FrameKind.DELIVERY or '"message.' in frame[:30]:
                received += 1
            elif kind is FrameKind.RESUMED:
                rounds += 1
                event_seq, truncated = protocol.resumed_event_seq(frame)
                if not truncated:
                    break
                await ws.send(protocol.resume_frame(0, event_seq, rounds))
    return {"received": received, "seconds": round(time.monotonic() - t0, 3), "rounds": rounds}


def by_socket(ctx: RunContext, database_url: str, page: int) -> dict[str, Any]:
    target = BY_NAME["app-uvicorn-memory"]
    ctx.ensure_migrated(database_url)
    with serve(ctx, target, rooms=1, users=1, database_url=database_url) as served:
        django_side.call(database_url, _seed_room, app_room_slug(0), MISSED)
        (ticket,) = django_side.call(database_url, django_side.mint_tickets, served.user_ids[:1])
        figures = asyncio.run(_resume_over_socket(served.port, ticket))
    return {"missed": MISSED, "page_size": page, **figures}


#: How a client catches up: name → function(ctx, database url, page size) → figures.
SOURCES: dict[str, Callable[[RunContext, str, int], dict[str, Any]]] = {
    "queries.changes_since": by_query,
    "websocket ?event_seq=0": by_socket,
}


def run(ctx: RunContext) -> list[dict[str, Any]]:
    pages = [200] if ctx.quick else [200, 1000]
    dbs = [("postgresql", ctx.database_url)]
    if not ctx.quick:
        dbs.append(("sqlite", sqlite_url("bench.sqlite3")))
    rows = []
    for source, fetch in SOURCES.items():
        for vendor, url in dbs:
            for page in pages[:1] if fetch is by_socket else pages:
                ctx.log(f"catch-up {source} {vendor}: {MISSED} missed, pages of {page}")
                figures = fetch(ctx, url, page)
                rows.append(
                    {
                        "workload": "catch-up",
                        "source": source,
                        "database": vendor,
                        **figures,
                        "messages_per_s": round(figures["received"] / figures["seconds"], 1),
                    }
                )
    return rows
