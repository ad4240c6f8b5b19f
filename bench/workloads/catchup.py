"""Catch-up: a client resuming after missing 10,000 messages.

Today through ``queries.changes_since`` (what the engine's resume will call), each page
serialised as the socket would send it. Once the WebSocket ``resume`` frame exists, add a
source here that opens a socket and times the frames instead: :data:`SOURCES` is the
adapter the workload iterates over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import django_side
from bench.harness import sqlite_url
from bench.runner import RunContext

TITLE = "Catch-up"
MISSED = 10_000


def by_query(ctx: RunContext, database_url: str, page: int) -> dict[str, Any]:
    ctx.ensure_migrated(database_url)
    return django_side.call(database_url, django_side.catch_up_by_query, MISSED, page)


#: How a client catches up: name → function(ctx, database url, page size) → figures.
SOURCES: dict[str, Callable[[RunContext, str, int], dict[str, Any]]] = {
    "queries.changes_since": by_query,
}


def run(ctx: RunContext) -> list[dict[str, Any]]:
    pages = [200] if ctx.quick else [200, 1000]
    dbs = [("postgresql", ctx.database_url)]
    if not ctx.quick:
        dbs.append(("sqlite", sqlite_url("bench.sqlite3")))
    rows = []
    for source, fetch in SOURCES.items():
        for vendor, url in dbs:
            for page in pages:
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
