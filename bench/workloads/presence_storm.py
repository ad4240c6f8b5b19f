"""Presence storm: a lecture hall filling up (issue #23, part 3).

N sockets (1,000; quick: 200; ``--connections N``), one user each, all participants of
one room, open within ``WINDOW`` seconds (handshakes evenly spread, up to 200 in flight).
Each user coming online is announced to the room's other sockets: one ``presence`` frame
per arrival and per socket before presence was gathered (O(n²): ~n²/2 frames), one frame
per room, process and ``PRESENCE_BATCH_INTERVAL`` after. Measured: the presence frames
the clients received (``presence`` and ``presence.batch``) and every frame, and the
server's CPU seconds (``psutil`` ``cpu_times`` of the server process) from the first
handshake until the server is quiet again (its CPU under 10 % of a core for a second).

``BENCH_PRESENCE_BATCH_INTERVAL`` sets the app's interval for the run (0: one frame per
change, as before the setting).
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench import django_side
from bench.loadgen import LoadGenerator, Step
from bench.runner import RunContext, room_specs, serve, settle
from bench.targets import select

TITLE = "Presence storm (a room filling up)"
WINDOW = 10.0
IN_FLIGHT = 200
TARGETS = ["app-uvicorn-redis"]


def run(ctx: RunContext) -> list[dict[str, Any]]:
    count = ctx.connections or (200 if ctx.quick else 1000)
    interval = os.environ.get("BENCH_PRESENCE_BATCH_INTERVAL")
    env = {"BENCH_PRESENCE_BATCH_INTERVAL": interval} if interval else None
    rows = []
    for target in select(ctx.target_names, TARGETS):
        ctx.log(f"presence-storm {target.name}: {count} sockets into one room in {WINDOW} s")
        with serve(ctx, target, rooms=1, users=count, env=env) as served:
            django_side.call(served.database_url, django_side.join_rooms, served.user_ids, 1, 1)
            django_side.call(served.database_url, django_side.reset_presence)
            specs = room_specs(served, 1, count, senders_per_room=0)
            with LoadGenerator(target.protocol, served.port, specs, ctx.clients) as loadgen:
                cpu0 = served.sampler.cpu_seconds()
                started = time.monotonic()
                connected = loadgen.connect(concurrency=IN_FLIGHT, window=WINDOW)
                settled = settle(ctx, served)
                cpu = served.sampler.cpu_seconds() - cpu0
                seconds = time.monotonic() - started
                counts = loadgen.step(Step(1, 0.5, drain=0.0))
            sockets = max(connected.connected, 1)
            rows.append(
                {
                    "workload": "presence-storm",
                    "target": target.name,
                    "presence_batch_interval": interval or "default",
                    "sockets": connected.connected,
                    "connect_failed": connected.failed,
                    "connect_error": connected.first_error,
                    "connect_seconds": round(connected.seconds, 1),
                    "handshake_p50_ms": connected.handshake.summary_ms()["p50_ms"],
                    "handshake_p99_ms": connected.handshake.summary_ms()["p99_ms"],
                    "presence_frames": counts.presence_frames,
                    "presence_frames_per_socket": round(counts.presence_frames / sockets, 1),
                    "frames_total": counts.frames_total,
                    "closed_connections": counts.closed,
                    "server_cpu_seconds": round(cpu, 2),
                    "seconds_until_quiet": round(seconds, 1),
                    "settle_seconds": settled,
                    "load_average_1m": round(os.getloadavg()[0], 2),
                }
            )
    return rows
