"""Office hours: claim latency with 50 students queued and 5 teachers claiming "next" at
once (docs/performance.md, "Office hours"), through the services on PostgreSQL (the
``--database-url`` database), one thread and one database connection per teacher. Each
claim is ``SELECT ... FOR UPDATE SKIP LOCKED``, a conditional update, the private
conversation opened for the pair (created in the first round, reused after) and the
frames published after commit (in-memory layer: no socket reads them).

Not through the WebSocket path: the claim's cost is the database's; the frames it
publishes are the same as any other change's (fan-out is measured by ``fanout``).
"""

from __future__ import annotations

from typing import Any

from bench import django_side, office_hours_side
from bench.metrics import percentiles_ms
from bench.runner import RunContext

TITLE = "Office hours: concurrent claims"
STUDENTS = 50
TEACHERS = 5


def run(ctx: RunContext) -> list[dict[str, Any]]:
    rounds = 2 if ctx.quick else 20
    ctx.ensure_migrated(ctx.database_url)
    ctx.log(f"office hours: {rounds} rounds of {STUDENTS} students, {TEACHERS} teachers")
    result = django_side.call(
        ctx.database_url, office_hours_side.claim_rounds, STUDENTS, TEACHERS, rounds
    )
    return [
        {
            "workload": "office-hours",
            "database": "postgresql",
            "students": STUDENTS,
            "teachers": TEACHERS,
            "rounds": rounds,
            "claims": result["claims"],
            "double_claims": result["double_claims"],
            "left_unclaimed": result["left_unclaimed"],
            "errors": result["error_count"],
            "teachers_used": result["teachers_used"],
            "claims_per_s": round(result["claims"] / result["wall_s"], 1)
            if result["wall_s"]
            else None,
            **percentiles_ms(result["timings_s"]),
        }
    ]
