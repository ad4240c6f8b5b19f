"""History: page latency and queries per page deep in a big room (PostgreSQL).

The room ``bench-history`` is seeded up to 1,000,000 messages (quick: 20,000) with
``bench.seed`` (COPY), once: later runs reuse it. Pages of 50 via ``queries.history`` at the
newest page and at 50 % and 99 % of the depth.
"""

from __future__ import annotations

from typing import Any

from bench import django_side
from bench.metrics import nearest_rank_ms, percentiles_ms
from bench.runner import RunContext
from bench.seed import seed_messages

TITLE = "History at depth"
ROOM = "bench-history"
DEPTHS = [0.0, 0.5, 0.99]
PAGE = 50


def run(ctx: RunContext) -> list[dict[str, Any]]:
    wanted, samples = (20_000, 10) if ctx.quick else (1_000_000, 50)
    url = ctx.database_url
    ctx.ensure_migrated(url)
    present = django_side.call(url, django_side.room_size, ROOM)
    if present < wanted:
        ctx.log(f"history: seeding {wanted - present} messages into {ROOM}")
        seeded = django_side.call(url, seed_messages, ROOM, wanted - present)
        ctx.log(f"history: seeded in {seeded['seconds']}s")
    size = max(present, wanted)
    ctx.log(f"history: pages of {PAGE} in a room of {size} messages")
    pages = django_side.call(url, django_side.history_pages, ROOM, DEPTHS, samples, PAGE)
    return [
        {
            "workload": "history",
            "database": django_side.call(url, django_side.vendor),
            "room_messages": size,
            "depth": page["depth"],
            "before": page["before"],
            "page_messages": page["messages"],
            "queries_per_page": page["queries_per_page"],
            **percentiles_ms(page["timings_s"]),
            "p95_ms": nearest_rank_ms(page["timings_s"], 0.95),
        }
        for page in pages
    ]
