"""Fan-out sweep: the most deliveries per second a server sustains.

Shapes: 1 room x 1000, 10 x 100, 100 x 10 connections (quick: 1 x 200). One connection
per room sends, open loop, at the rate that makes the step's target of deliveries/s
(messages/s x room size); the target climbs a ladder until p99 > 100 ms or any delivery is
missing, once the server has settled after the connections opened (``runner.settle``).
The figure is the last passing rung; a failing rung with a saturated client is
flagged ``client-bound`` (the ceiling measured is the client's). With ``--rates`` the
rungs are those rates, each measured whatever the one before gave (latency at a fixed
load: issue #23 part 5 asks p99 at 10,000 deliveries/s).
"""

from __future__ import annotations

import itertools
from typing import Any

from bench.loadgen import LoadGenerator, Step
from bench.runner import RunContext, Served, room_specs, serve, settle, step_row
from bench.targets import ALL_TARGETS, select

TITLE = "Fan-out sweep"
P99_LIMIT_MS = 100.0
LADDER = [1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 400_000]
FULL_SHAPES = [(1, 1000), (10, 100), (100, 10)]
QUICK_SHAPES = [(1, 200)]
QUICK_TARGETS = ["bare-websockets", "stock-uvicorn-redis", "app-uvicorn-redis"]

_step_ids = itertools.count(1)


def passed(row: dict[str, Any]) -> bool:
    p99 = row["p99_ms"]
    return (
        row["expected"] > 0
        and row["received"] == row["expected"]
        and row["errors"] == 0
        and p99 is not None
        and p99 <= P99_LIMIT_MS
    )


def sweep(
    ctx: RunContext, served: Served, loadgen: LoadGenerator, rooms: int, members: int
) -> dict[str, Any]:
    duration, drain = (3.0, 1.5) if ctx.quick else (5.0, 2.0)
    # Warm-up, not counted: first group joins, Redis connections, code paths.
    loadgen.step(Step(next(_step_ids), 1.0, rate=LADDER[0] / (rooms * members), drain=1.0))
    steps: list[dict[str, Any]] = []
    best = 0
    best_row: dict[str, Any] = {}
    verdict = "ladder exhausted"
    # ``--rates``: each rung measured, whatever the one before gave (a latency figure at a
    # fixed load); the ladder stops at its first failing rung.
    fixed = ctx.rates is not None
    for target_rate in ctx.rates or LADDER:
        per_room = target_rate / (rooms * members)
        served.sampler.mark()
        result = loadgen.step(Step(next(_step_ids), duration, rate=per_room, drain=drain))
        row = {
            "target_deliveries_per_s": target_rate,
            **step_row(loadgen, result, duration),
            **served.sampler.window(),
        }
        steps.append(row)
        ctx.log(
            f"  {target_rate:>7}/s: reach {row['reach']} p99 {row['p99_ms']} ms "
            f"client cpu {row['client_cpu_pct']} server cpu {row['server_cpu_pct']} "
            f"load {row['load_average_1m']}"
        )
        if not passed(row):
            verdict = "client-bound" if row["client_saturated"] else "server-bound"
            if fixed:
                continue
            break
        best = max(best, target_rate)
        best_row = row
    return {
        "max_sustained_deliveries_per_s": best,
        "limit": verdict,
        "server_cpu_pct_at_max": best_row.get("server_cpu_pct"),
        "client_cpu_pct_at_max": best_row.get("client_cpu_pct"),
        "steps": steps,
    }


def run(ctx: RunContext) -> list[dict[str, Any]]:
    default = QUICK_TARGETS if ctx.quick else [t.name for t in ALL_TARGETS]
    shapes = ctx.shapes or (QUICK_SHAPES if ctx.quick else FULL_SHAPES)
    rows = []
    for target in select(ctx.target_names, default):
        for rooms, members in shapes:
            ctx.log(f"fanout {target.name} {rooms}x{members}")
            with serve(ctx, target, rooms=rooms, users=rooms * members) as served:
                specs = room_specs(served, rooms, members)
                with LoadGenerator(target.protocol, served.port, specs, ctx.clients) as loadgen:
                    connected = loadgen.connect()
                    row: dict[str, Any] = {
                        "workload": "fanout",
                        "target": target.name,
                        "shape": f"{rooms}x{members}",
                        "connected": connected.connected,
                        "connect_failed": connected.failed,
                    }
                    if connected.failed:
                        row["connect_error"] = connected.first_error
                    row["settle_seconds"] = settle(ctx, served)
                    row.update(sweep(ctx, served, loadgen, rooms, members))
                    row["server_rss_mib"] = round(served.sampler.rss() / 2**20, 1)
            rows.append(row)
    return rows
