"""Command line of the benchmark suite.

    python -m bench [workload ...] [--quick] [--targets NAME ...] [--clients N]
    python -m bench seed --messages 1000000 [--room bench-history]
    python -m bench retention --messages 1000000
    python -m bench course-sync --courses 1000 --students 300
    python -m bench list

Without workload names every workload runs. Results go to ``bench/results/<stamp>.json``
and ``.md``; the markdown is printed too. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bench import django_side
from bench.harness import DATABASE_URL, ensure_postgres_database, migrate, own_redis, raise_nofile
from bench.report import add_ratios, git_commit, machine, markdown, write
from bench.runner import RunContext, default_clients
from bench.seed import seed_messages
from bench.targets import ALL_TARGETS
from bench.workloads import DEFAULT_ORDER, WORKLOADS


def _shape(text: str) -> tuple[int, int]:
    rooms, _, members = text.partition("x")
    if not (rooms.isdigit() and members.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not ROOMSxMEMBERS")
    return int(rooms), int(members)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "workloads",
        nargs="*",
        metavar="workload",
        help=f"any of {', '.join(DEFAULT_ORDER)}; or 'seed', or 'list'",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run, under ~2 minutes")
    parser.add_argument("--targets", nargs="+", help="restrict server targets (see 'list')")
    parser.add_argument("--clients", type=int, default=default_clients(), help="load processes")
    parser.add_argument("--database-url", default=DATABASE_URL, help="PostgreSQL database")
    parser.add_argument("--connections", type=int, help="idle: how many connections")
    parser.add_argument(
        "--in-flight", type=int, help="idle: handshakes in flight (default: the workload's)"
    )
    parser.add_argument(
        "--rates",
        nargs="+",
        type=int,
        help="fan-out: these deliveries/s only (every rung measured), instead of the ladder",
    )
    parser.add_argument(
        "--vendors",
        nargs="+",
        choices=["postgresql", "sqlite"],
        help="persistence, search: databases",
    )
    parser.add_argument(
        "--doors",
        nargs="+",
        choices=["services", "closed-loop", "back-to-back"],
        help="persistence: which doors (default: all)",
    )
    parser.add_argument(
        "--shapes", nargs="+", type=_shape, help="fan-out shapes, e.g. 1x500 10x100"
    )
    parser.add_argument(
        "--messages",
        type=int,
        help="seed: how many (default 1,000,000); retention: expired messages (default 20,000)",
    )
    parser.add_argument("--room", default="bench-history", help="seed: room slug")
    parser.add_argument("--courses", type=int, help="course-sync: courses (default 1,000)")
    parser.add_argument(
        "--students", type=int, help="course-sync: students per course (default 300)"
    )
    return parser.parse_args(argv)


def seed(args: argparse.Namespace) -> int:
    ensure_postgres_database(args.database_url)
    migrate(args.database_url)
    count = args.messages or 1_000_000
    result = django_side.call(args.database_url, seed_messages, args.room, count)
    print(f"added {result['added']} messages to {result['room']} in {result['seconds']}s")
    return 0


def run(args: argparse.Namespace) -> int:
    names = args.workloads or DEFAULT_ORDER
    unknown = [name for name in names if name not in WORKLOADS]
    if unknown:
        print(f"unknown workload(s) {unknown}; known: {DEFAULT_ORDER}", file=sys.stderr)
        return 2
    raise_nofile()
    ensure_postgres_database(args.database_url)
    ctx = RunContext(
        quick=args.quick,
        target_names=args.targets,
        clients=args.clients,
        database_url=args.database_url,
        shapes=args.shapes,
        connections=args.connections,
        in_flight=args.in_flight,
        rates=args.rates,
        vendors=args.vendors,
        doors=args.doors,
        messages=args.messages,
        courses=args.courses,
        students=args.students,
    )
    started = time.time()
    meta: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "started_epoch": started,
        "quick": args.quick,
        "workloads": names,
        "targets": args.targets,
        "shapes": args.shapes,
        "clients": args.clients,
        "commit": git_commit(),
        "machine": machine(),
    }
    rows: list[dict[str, Any]] = []
    with own_redis():
        for name in names:
            try:
                rows.extend(WORKLOADS[name].run(ctx))
            except Exception as exc:
                ctx.log(f"{name} failed: {type(exc).__name__}: {exc}")
                rows.append({"workload": name, "failed": f"{type(exc).__name__}: {exc}"})
    meta["seconds"] = round(time.time() - started, 1)
    add_ratios(rows)
    json_path, md_path = write(rows, meta)
    print(markdown(rows, meta))
    print(f"results: {json_path.relative_to(json_path.parents[2])}, {md_path.name}")
    return 1 if any("failed" in row for row in rows) else 0


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.workloads[:1] == ["list"]:
        print("workloads:", ", ".join(DEFAULT_ORDER))
        print("targets:", ", ".join(target.name for target in ALL_TARGETS))
        return 0
    if args.workloads[:1] == ["seed"]:
        return seed(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
