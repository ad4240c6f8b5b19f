"""Idle connections: memory per connection, idle CPU, handshakes per second.

Opens N connections (5,000; quick: 500) spread over 100 rooms, 200 handshakes in flight
(``--in-flight``), then sits idle: CPU is measured over the first 10 s (``settling``: the
tail of the connections' set-up, such as "online" notices to room members) and over the
next 15 s (``idle``: keep-alive pings, presence heartbeats). Memory per connection is the server's
RSS growth divided by N, from a baseline taken with ``WARM_UP`` connections already open
(and kept open): what the first connections cost once (lazy imports, database and Redis
pools, caches) is not a cost per connection. ``kib_per_connection_cold`` is the growth from
the idle server instead, over all the connections, warm-up included (the method of runs
before 2026-11-25 06:00).
"""

from __future__ import annotations

from typing import Any

from bench.loadgen import LoadGenerator, Step
from bench.runner import RunContext, room_specs, serve
from bench.targets import select

TITLE = "Idle connections"
ROOMS = 100
WARM_UP = 50
IN_FLIGHT = 200
FULL_TARGETS = [
    "bare-websockets",
    "stock-uvicorn-redis",
    "stock-daphne-redis",
    "app-uvicorn-redis",
    "app-uvicorn-redis-deflate",
    "app-daphne-redis",
]
QUICK_TARGETS = ["app-uvicorn-redis"]


def run(ctx: RunContext) -> list[dict[str, Any]]:
    count, settle_seconds, idle_seconds = (500, 2.0, 3.0) if ctx.quick else (5000, 10.0, 15.0)
    count = ctx.connections or count
    in_flight = ctx.in_flight or IN_FLIGHT
    members = count // ROOMS
    rows = []
    for target in select(ctx.target_names, QUICK_TARGETS if ctx.quick else FULL_TARGETS):
        ctx.log(f"idle {target.name}: {count} connections")
        with serve(ctx, target, rooms=ROOMS, users=count) as served:
            specs = room_specs(served, ROOMS, members, senders_per_room=0)
            # Tickets open one socket each: the warm-up connections get their own.
            warm_specs = room_specs(served, ROOMS, members, senders_per_room=0)[:WARM_UP]
            rss_cold = served.sampler.rss()
            with (
                LoadGenerator(target.protocol, served.port, warm_specs, 1) as warm,
                LoadGenerator(target.protocol, served.port, specs, ctx.clients) as loadgen,
            ):
                warmed = warm.connect(concurrency=WARM_UP)
                rss_before = served.sampler.rss()
                connected = loadgen.connect(concurrency=in_flight)
                rss_after = served.sampler.rss()
                served.sampler.mark()
                loadgen.step(Step(1, settle_seconds, drain=0.0))
                settling = served.sampler.window()
                served.sampler.mark()
                loadgen.step(Step(2, idle_seconds, drain=0.0))
                window = served.sampler.window()
            per_conn = (rss_after - rss_before) / max(connected.connected, 1) / 1024
            everyone = max(connected.connected + warmed.connected, 1)
            per_conn_cold = (rss_after - rss_cold) / everyone / 1024
            rows.append(
                {
                    "workload": "idle",
                    "target": target.name,
                    "connections": connected.connected,
                    "in_flight": in_flight,
                    "connect_failed": connected.failed,
                    "connect_error": connected.first_error,
                    "handshakes_per_s": round(connected.connected / connected.seconds, 1),
                    "handshake_p50_ms": connected.handshake.summary_ms()["p50_ms"],
                    "handshake_p99_ms": connected.handshake.summary_ms()["p99_ms"],
                    "kib_per_connection": round(per_conn, 1),
                    "kib_per_connection_cold": round(per_conn_cold, 1),
                    "settling_server_cpu_pct": settling["server_cpu_pct"],
                    "idle_server_cpu_pct": window["server_cpu_pct"],
                    "server_rss_mib": window["server_rss_mib"],
                }
            )
    return rows
