"""What every workload shares: the run context, serving a target, building connections."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench import django_side
from bench.harness import DATABASE_URL, Service, flush_redis, migrate
from bench.loadgen import CLIENT_SATURATED_PCT, ConnSpec, LoadGenerator, StepResult
from bench.metrics import ResourceSampler
from bench.targets import Target


def default_clients() -> int:
    """Load-generator processes: half the cores (the server needs the rest), at least one."""
    return max(1, (os.cpu_count() or 2) // 2)


@dataclass
class RunContext:
    quick: bool
    target_names: list[str] | None = None
    clients: int = field(default_factory=default_clients)
    database_url: str = DATABASE_URL
    migrated: set[str] = field(default_factory=set)
    #: ``--shapes 1x500``: fan-out shapes (rooms x members) instead of the workload's own.
    shapes: list[tuple[int, int]] | None = None
    #: ``--connections N``: idle connections instead of the workload's own count.
    connections: int | None = None
    #: ``--in-flight 50``: handshakes in flight while the idle workload connects.
    in_flight: int | None = None
    #: ``--rates 10000``: the fan-out rungs (deliveries/s), each measured, instead of the ladder.
    rates: list[int] | None = None
    #: ``--vendors postgresql``: the databases of the persistence workload.
    vendors: list[str] | None = None
    #: ``--doors back-to-back``: the persistence workload's doors (default: every door).
    doors: list[str] | None = None
    #: ``--messages N``: the retention workload's expired messages (default: its own).
    messages: int | None = None
    #: ``--courses N`` / ``--students N``: the course-sync workload's size.
    courses: int | None = None
    students: int | None = None

    def door(self, name: str) -> bool:
        return self.doors is None or name in self.doors

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def ensure_migrated(self, database_url: str) -> None:
        if database_url not in self.migrated:
            self.log(f"migrating {database_url}")
            migrate(database_url)
            self.migrated.add(database_url)


@dataclass
class Served:
    target: Target
    service: Service
    sampler: ResourceSampler
    #: Ids of the prepared users (app targets); connections get a fresh ticket each.
    user_ids: list[int]
    database_url: str = ""

    @property
    def port(self) -> int:
        return self.service.port


@contextlib.contextmanager
def serve(
    ctx: RunContext,
    target: Target,
    *,
    rooms: int = 1,
    users: int = 1,
    database_url: str = "",
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """Start ``target`` (a fresh process, an empty Redis) with its resources sampled.

    For the app, the database is migrated and ``users`` logged-in users and ``rooms`` public
    rooms are prepared first.
    """
    database_url = database_url or ctx.database_url
    user_ids: list[int] = []
    if target.uses_database:
        ctx.ensure_migrated(database_url)
        user_ids = django_side.call(database_url, django_side.prepare_app, rooms, users)
    if target.uses_redis:
        flush_redis()
    with target.service(database_url, env) as service:
        sampler = ResourceSampler(service.pid).start()
        try:
            yield Served(target, service, sampler, user_ids, database_url)
        finally:
            sampler.stop()


def room_specs(
    served: Served, rooms: int, members: int, senders_per_room: int = 1
) -> list[ConnSpec]:
    """``rooms`` x ``members`` connections; the first ``senders_per_room`` of a room send.

    App connections carry a ticket each (``?ticket=``), one user per connection when there
    are enough users; tickets are single-use, so each call mints fresh ones.
    """
    tickets: list[str] = []
    if served.user_ids:
        wanted = [served.user_ids[i % len(served.user_ids)] for i in range(rooms * members)]
        tickets = django_side.call(served.database_url, django_side.mint_tickets, wanted)
    specs = []
    for room in range(rooms):
        for member in range(members):
            index = room * members + member
            credential = tickets[index] if tickets else ""
            sender = index if member < senders_per_room else -1
            specs.append(
                ConnSpec(
                    room=room,
                    sender=sender,
                    credential=credential,
                    compress=served.target.deflate,
                )
            )
    return specs


def step_row(loadgen: LoadGenerator, result: StepResult, duration: float) -> dict[str, Any]:
    """The figures of one load step, as stored in the JSON results."""
    expected = loadgen.expected(result)
    cpu = result.client_cpu_pct
    return {
        "sent": result.sent,
        "expected": expected,
        "received": result.received,
        "reach": round(result.received / expected, 4) if expected else None,
        "deliveries_per_s": round(result.received / duration, 1),
        **result.latency.summary_ms(),
        "acks": result.acks,
        # Send to ack (stored, committed): what of the delivery latency comes before the
        # fan-out.
        **{f"ack_{key}": value for key, value in result.ack_latency.summary_ms().items()},
        "errors": result.errors,
        "first_error": result.first_error,
        "late_from_earlier_steps": result.late,
        "closed_connections": result.closed,
        "send_lag_max_ms": round(result.send_lag_max_ms, 1),
        "client_cpu_pct": cpu,
        "client_saturated": bool(cpu) and max(cpu) >= CLIENT_SATURATED_PCT,
        # Other work on the machine shows here: latency with low CPU on both sides means
        # the processes were waiting for a core.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


#: The server is settled once a second of its CPU stays under this (% of one core).
SETTLED_CPU_PCT = 10.0


def settle(ctx: RunContext, served: Served, max_seconds: float = 60.0) -> float:
    """Wait until the server's work caused by the connections opening is done; seconds.

    The app announces each user "online" to their rooms (up to ~1,000,000 presence frames
    while a 1,000-member room fills up) and stores presence rows in batches; some of it may
    still run when the last handshake completes. Sustained-rate sweeps measure the steady
    state after it.
    """
    started = time.monotonic()
    while time.monotonic() - started < max_seconds:
        served.sampler.mark()
        time.sleep(1.0)
        if served.sampler.window()["server_cpu_pct"] < SETTLED_CPU_PCT:
            break
    waited = round(time.monotonic() - started, 1)
    ctx.log(f"  settled after {waited} s")
    return waited
