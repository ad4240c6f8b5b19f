"""Chat mix: 10 rooms x 50 members, every member sending at 0.1 msg/s, messages stored.

The everyday load of a busy campus: 50 messages/s stored and 2,500 deliveries/s. Reports
delivery latency, reach, acknowledgement latency and the server's CPU and memory.
"""

from __future__ import annotations

from typing import Any

from bench.loadgen import LoadGenerator, Step
from bench.runner import RunContext, room_specs, serve, step_row
from bench.targets import select

TITLE = "Chat mix"
ROOMS, MEMBERS, RATE = 10, 50, 0.1
FULL_TARGETS = ["app-uvicorn-redis", "app-daphne-redis", "app-uvicorn-memory", "app-daphne-memory"]
QUICK_TARGETS = ["app-uvicorn-redis"]


def run(ctx: RunContext) -> list[dict[str, Any]]:
    duration = 10.0 if ctx.quick else 60.0
    rows = []
    for target in select(ctx.target_names, QUICK_TARGETS if ctx.quick else FULL_TARGETS):
        ctx.log(f"chat-mix {target.name} {ROOMS}x{MEMBERS} at {RATE} msg/s each, {duration}s")
        with serve(ctx, target, rooms=ROOMS, users=ROOMS * MEMBERS) as served:
            specs = room_specs(served, ROOMS, MEMBERS, senders_per_room=MEMBERS)
            with LoadGenerator(target.protocol, served.port, specs, ctx.clients) as loadgen:
                connected = loadgen.connect()
                served.sampler.mark()
                result = loadgen.step(Step(1, duration, rate=RATE, drain=3.0))
                row = {
                    "workload": "chat-mix",
                    "target": target.name,
                    "shape": f"{ROOMS}x{MEMBERS}",
                    "connected": connected.connected,
                    **step_row(loadgen, result, duration),
                    "ack_p99_ms": result.ack_latency.summary_ms()["p99_ms"],
                    **served.sampler.window(),
                }
        rows.append(row)
    return rows
