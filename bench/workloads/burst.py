"""Burst fan-out: how fast a server empties a burst of messages into a big room.

Shapes: 1 room x 500 (``--shapes``; quick: 1 x 200). Ten members of the room send 20
messages each as fast as the open-loop schedule allows (200 messages within 0.5 s), then
the clients wait until every delivery arrived (or 15 s passed). The figure is
``received / (0.5 s + the slowest delivery's latency)``: deliveries per second over the
whole burst, a lower bound that a few slow deliveries cannot turn into a zero the way a
p99 limit does on a busy machine. Reach below 1.0 means messages were lost (stock
Channels: the layer's ``capacity``).

This is the measurement of DESIGN.md §6's feasibility test ("burst 1 room x 200"), and
the one the targets in docs/performance.md quote as ratios to the reference servers.
"""

from __future__ import annotations

import itertools
from typing import Any

from bench.loadgen import LoadGenerator, Step
from bench.runner import RunContext, room_specs, serve, step_row
from bench.targets import select

TITLE = "Burst fan-out"
SENDERS = 10
MESSAGES_PER_SENDER = 20
BURST_SECONDS = 0.5
DEFAULT_TARGETS = [
    "bare-websockets",
    "stock-uvicorn-redis",
    "stock-uvicorn-pubsub",
    "app-uvicorn-redis",
    "app-uvicorn-pubsub",
]
_steps = itertools.count(1000)


def run(ctx: RunContext) -> list[dict[str, Any]]:
    shapes = ctx.shapes or ([(1, 200)] if ctx.quick else [(1, 500)])
    repeats = 2 if ctx.quick else 3
    rows = []
    for target in select(ctx.target_names, DEFAULT_TARGETS):
        for rooms, members in shapes:
            ctx.log(f"burst {target.name} {rooms}x{members}")
            with serve(ctx, target, rooms=rooms, users=rooms * members) as served:
                specs = room_specs(served, rooms, members, senders_per_room=SENDERS)
                with LoadGenerator(target.protocol, served.port, specs, ctx.clients) as loadgen:
                    connected = loadgen.connect()
                    # Warm-up: first group joins, connections, code paths.
                    loadgen.step(Step(next(_steps), 1.0, rate=2.0, drain=2.0))
                    bursts = []
                    for _ in range(repeats):
                        served.sampler.mark()
                        rate = MESSAGES_PER_SENDER / BURST_SECONDS
                        result = loadgen.step(
                            Step(next(_steps), BURST_SECONDS, rate=rate, drain=15.0)
                        )
                        row = step_row(loadgen, result, BURST_SECONDS)
                        window = served.sampler.window()
                        slowest = (row["max_ms"] or 0.0) / 1000.0
                        per_s = row["received"] / (BURST_SECONDS + slowest)
                        bursts.append({**row, **window, "deliveries_per_s": round(per_s)})
                        ctx.log(
                            f"  {row['received']}/{row['expected']} in "
                            f"{BURST_SECONDS + slowest:.2f}s: {per_s:,.0f}/s, "
                            f"server cpu {window['server_cpu_pct']} client cpu "
                            f"{row['client_cpu_pct']} load {row['load_average_1m']}"
                        )
                        if row["received"] < row["expected"]:
                            ctx.log(
                                f"  sent {row['sent']}, acks {row['acks']}, errors "
                                f"{row['errors']} {row['first_error']}, closed "
                                f"{row['closed_connections']}"
                            )
            best = max(bursts, key=lambda b: b["deliveries_per_s"])
            rows.append(
                {
                    "workload": "burst",
                    "target": target.name,
                    "shape": f"{rooms}x{members}",
                    "connected": connected.connected,
                    "messages": best["sent"],
                    "deliveries_per_s": best["deliveries_per_s"],
                    "all_bursts_per_s": [b["deliveries_per_s"] for b in bursts],
                    "reach": best["reach"],
                    "p50_ms": best["p50_ms"],
                    "p99_ms": best["p99_ms"],
                    "max_ms": best["max_ms"],
                    "server_cpu_pct": best["server_cpu_pct"],
                    "client_cpu_pct": best["client_cpu_pct"],
                    "load_average_1m": best["load_average_1m"],
                }
            )
    return rows
