"""Persistence: stored messages per second on PostgreSQL and SQLite.

Two doors: ``services.check_send_message`` called directly in one thread (the cost of the
domain code and one commit per message), and the WebSocket path, closed loop: each sender
waits for its ``ack`` before sending again (``app-uvicorn-memory``, so that the channel
layer does not take part).
"""

from __future__ import annotations

from typing import Any

from bench import django_side
from bench.harness import sqlite_url
from bench.loadgen import LoadGenerator, Step
from bench.metrics import percentiles_ms
from bench.runner import RunContext, room_specs, serve, step_row
from bench.targets import BY_NAME

TITLE = "Persistence"
ROOMS = 10


def databases(ctx: RunContext) -> list[tuple[str, str]]:
    return [("postgresql", ctx.database_url), ("sqlite", sqlite_url("bench.sqlite3"))]


def run(ctx: RunContext) -> list[dict[str, Any]]:
    seconds = 4.0 if ctx.quick else 15.0
    senders = 10 if ctx.quick else 20
    rows: list[dict[str, Any]] = []
    for vendor, url in databases(ctx):
        ctx.ensure_migrated(url)
        ctx.log(f"persistence {vendor}: services directly, {seconds}s")
        direct = django_side.call(url, django_side.store_direct, seconds, ROOMS, senders)
        rows.append(
            {
                "workload": "persistence",
                "door": "services",
                "database": vendor,
                "stored": direct["stored"],
                "stored_per_s": round(direct["stored"] / direct["seconds"], 1),
                **percentiles_ms(direct["latencies_s"]),
            }
        )
        target = BY_NAME["app-uvicorn-memory"]
        ctx.log(f"persistence {vendor}: WebSocket, {senders} senders closed loop, {seconds}s")
        with serve(ctx, target, rooms=ROOMS, users=senders, database_url=url) as served:
            specs = room_specs(served, ROOMS, senders // ROOMS, senders_per_room=senders)
            with LoadGenerator(target.protocol, served.port, specs, ctx.clients) as loadgen:
                loadgen.connect()
                served.sampler.mark()
                result = loadgen.step(Step(1, seconds, closed_loop=True, drain=1.0))
                window = served.sampler.window()
                step = step_row(loadgen, result, seconds)
        rows.append(
            {
                "workload": "persistence",
                "door": f"websocket ({target.name}, {senders} senders)",
                "database": vendor,
                "stored": result.acks,
                "stored_per_s": round(result.acks / seconds, 1),
                **result.ack_latency.summary_ms(),
                "errors": result.errors,
                "client_cpu_pct": step["client_cpu_pct"],
                **window,
            }
        )
    return rows
