"""Search: p50/p95 of message search over 1,000,000 messages (quick: 50,000), on
PostgreSQL (GIN index) and SQLite (FTS5), for a reader in 20 of 200 rooms, per query
shape (docs/performance.md, "Search"). The goal: p50 < 50 ms, p95 < 200 ms.

Seeded once per database by ``bench.search_side.seed_search`` (later runs reuse it); the
PostgreSQL database is ``--database-url`` (use a database of its own, e.g.
``.../bench_search``: a million rows), SQLite ``bench/results/bench_search.sqlite3``.
"""

from __future__ import annotations

from typing import Any

from bench import django_side, search_side
from bench.harness import sqlite_url
from bench.metrics import nearest_rank_ms, percentiles_ms
from bench.runner import RunContext

TITLE = "Message search"


def databases(ctx: RunContext) -> list[tuple[str, str]]:
    every = [("postgresql", ctx.database_url), ("sqlite", sqlite_url("bench_search.sqlite3"))]
    return [(vendor, url) for vendor, url in every if vendor in (ctx.vendors or [vendor])]


def run(ctx: RunContext) -> list[dict[str, Any]]:
    wanted, samples = (50_000, 10) if ctx.quick else (1_000_000, 60)
    rows: list[dict[str, Any]] = []
    for vendor, url in databases(ctx):
        ctx.ensure_migrated(url)
        have = django_side.call(url, search_side.present)
        if have < wanted:
            ctx.log(f"search {vendor}: seeding {wanted - have} messages")
            seeded = django_side.call(url, search_side.seed_search, wanted - have)
            ctx.log(f"search {vendor}: seeded {seeded}")
        ctx.log(f"search {vendor}: {samples} searches per shape over {max(have, wanted)}")
        for shape in django_side.call(url, search_side.time_searches, samples):
            rows.append(
                {
                    "workload": "search",
                    "database": vendor,
                    "messages": max(have, wanted),
                    "shape": shape["shape"],
                    "hits_per_page": shape["hits"],
                    "queries_per_page": shape["queries"],
                    **percentiles_ms(shape["timings_s"]),
                    "p95_ms": nearest_rank_ms(shape["timings_s"], 0.95),
                }
            )
    return rows
