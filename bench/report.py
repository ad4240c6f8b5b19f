"""Results: one JSON file per run and a markdown summary with targets side by side."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psutil

from bench.harness import RESULTS_DIR, ROOT

#: Columns of each workload's markdown table: (header, row key).
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "fanout": [
        ("target", "target"),
        ("shape", "shape"),
        ("max deliveries/s", "max_sustained_deliveries_per_s"),
        ("vs bare", "vs_bare"),
        ("limit", "limit"),
        ("server CPU % at max", "server_cpu_pct_at_max"),
        ("client CPU % at max", "client_cpu_pct_at_max"),
        ("server RSS MiB", "server_rss_mib"),
    ],
    "burst": [
        ("target", "target"),
        ("shape", "shape"),
        ("deliveries/s", "deliveries_per_s"),
        ("each burst", "all_bursts_per_s"),
        ("vs bare", "vs_bare"),
        ("vs stock", "vs_stock"),
        ("reach", "reach"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("server CPU %", "server_cpu_pct"),
        ("client CPU %", "client_cpu_pct"),
        ("load", "load_average_1m"),
    ],
    "chat-mix": [
        ("target", "target"),
        ("reach", "reach"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("max ms", "max_ms"),
        ("ack p99 ms", "ack_p99_ms"),
        ("errors", "errors"),
        ("server CPU %", "server_cpu_pct"),
        ("client CPU %", "client_cpu_pct"),
    ],
    "switch": [
        ("target", "target"),
        ("switches", "switches"),
        ("rooms", "rooms"),
        ("p50 ms", "p50_ms"),
        ("p95 ms", "p95_ms"),
        ("max ms", "max_ms"),
        ("fetch p50 ms", "fetch_p50_ms"),
        ("fetch p95 ms", "fetch_p95_ms"),
    ],
    "shell-memory": [
        ("target", "target"),
        ("users", "users"),
        ("rooms/user", "rooms_per_user"),
        ("KiB/user, one socket", "kib_per_user_one_socket"),
        ("KiB/user, two sockets", "kib_per_user_two_sockets"),
        ("saved %", "saved_pct"),
    ],
    "idle": [
        ("target", "target"),
        ("connections", "connections"),
        ("failed", "connect_failed"),
        ("in flight", "in_flight"),
        ("handshakes/s", "handshakes_per_s"),
        ("handshake p50 ms", "handshake_p50_ms"),
        ("handshake p99 ms", "handshake_p99_ms"),
        ("KiB/connection", "kib_per_connection"),
        ("KiB/conn. cold", "kib_per_connection_cold"),
        ("settling CPU %", "settling_server_cpu_pct"),
        ("idle CPU %", "idle_server_cpu_pct"),
    ],
    "presence-storm": [
        ("target", "target"),
        ("interval s", "presence_batch_interval"),
        ("sockets", "sockets"),
        ("failed", "connect_failed"),
        ("handshake p99 ms", "handshake_p99_ms"),
        ("presence frames", "presence_frames"),
        ("per socket", "presence_frames_per_socket"),
        ("all frames", "frames_total"),
        ("server CPU s", "server_cpu_seconds"),
        ("s until quiet", "seconds_until_quiet"),
        ("load 1m", "load_average_1m"),
    ],
    "db-connections": [
        ("target", "target"),
        ("users", "users"),
        ("HTTP requests", "http_requests"),
        ("req/s", "http_requests_per_s"),
        ("503", "http_503"),
        ("peak DB conns HTTP", "peak_db_connections_http"),
        ("busy", "peak_db_busy_http"),
        ("peak threads HTTP", "peak_server_threads_http"),
        ("sockets", "sockets"),
        ("acks", "acks"),
        ("send errors", "send_errors"),
        ("peak DB conns WS", "peak_db_connections_ws"),
        ("busy", "peak_db_busy_ws"),
        ("peak threads WS", "peak_server_threads_ws"),
        ("load 1m", "load_average_1m"),
    ],
    "persistence": [
        ("database", "database"),
        ("door", "door"),
        ("stored msgs/s", "stored_per_s"),
        ("each run", "all_runs_per_s"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("server CPU %", "server_cpu_pct"),
    ],
    "catch-up": [
        ("source", "source"),
        ("database", "database"),
        ("missed", "missed"),
        ("page size", "page_size"),
        ("pages", "pages"),
        ("queries", "queries"),
        ("seconds", "seconds"),
        ("msgs/s", "messages_per_s"),
    ],
    "history": [
        ("database", "database"),
        ("room messages", "room_messages"),
        ("depth", "depth"),
        ("queries/page", "queries_per_page"),
        ("p50 ms", "p50_ms"),
        ("p95 ms", "p95_ms"),
        ("p99 ms", "p99_ms"),
        ("max ms", "max_ms"),
    ],
    "notify": [
        ("step", "step"),
        ("case", "case"),
        ("members", "members"),
        ("notifications", "notifications"),
        ("queries", "queries"),
        ("p50 µs", "p50_us"),
        ("p95 µs", "p95_us"),
    ],
    "uploads": [
        ("case", "case"),
        ("target", "target"),
        ("uploads", "uploads"),
        ("MiB each", "file_mib"),
        ("upload p50 ms", "upload_p50_ms"),
        ("upload p95 ms", "upload_p95_ms"),
        ("image work p50 ms", "image_work_p50_ms"),
        ("image work p95 ms", "image_work_p95_ms"),
        ("upload MB/s", "mb_per_s"),
        ("RSS before MiB", "server_rss_before_mib"),
        ("RSS peak MiB", "server_rss_peak_mib"),
        ("download MB/s", "download_mb_per_s"),
        ("RSS peak download MiB", "download_rss_peak_mib"),
    ],
    "office-hours": [
        ("database", "database"),
        ("students", "students"),
        ("teachers", "teachers"),
        ("rounds", "rounds"),
        ("claims", "claims"),
        ("double claims", "double_claims"),
        ("left unclaimed", "left_unclaimed"),
        ("errors", "errors"),
        ("teachers used", "teachers_used"),
        ("claims/s", "claims_per_s"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("max ms", "max_ms"),
    ],
    "search": [
        ("database", "database"),
        ("messages", "messages"),
        ("shape", "shape"),
        ("results/page", "hits_per_page"),
        ("queries/page", "queries_per_page"),
        ("p50 ms", "p50_ms"),
        ("p95 ms", "p95_ms"),
        ("p99 ms", "p99_ms"),
        ("max ms", "max_ms"),
    ],
    "page": [
        ("target", "target"),
        ("messages", "messages"),
        ("JS files", "js_files"),
        ("JS KiB (gzip)", "js_gzip_kib"),
        ("CSS files", "css_files"),
        ("CSS KiB (gzip)", "css_gzip_kib"),
        ("JS+CSS KiB (gzip)", "js_css_gzip_kib"),
        ("HTML KiB (gzip)", "html_gzip_kib"),
        ("first paint ms", "fcp_ms"),
        ("first paint max ms", "fcp_max_ms"),
        ("DOMContentLoaded ms", "dcl_ms"),
        ("live ms", "live_ms"),
        ("live max ms", "live_max_ms"),
    ],
}


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return ""
    return out.stdout.strip()


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Fan-out rows get ``vs_bare``: their figure over the bare server's for the same shape."""
    bare = {
        row["shape"]: row["max_sustained_deliveries_per_s"]
        for row in rows
        if row.get("workload") == "fanout" and row["target"] == "bare-websockets"
    }
    for row in rows:
        if row.get("workload") == "fanout" and bare.get(row["shape"]):
            row["vs_bare"] = round(row["max_sustained_deliveries_per_s"] / bare[row["shape"]], 3)
    # Burst rows: over the bare server, and the app over stock Channels on the same server
    # and layer (``app-uvicorn-redis`` / ``stock-uvicorn-redis``).
    burst = {
        (row["target"], row["shape"]): row["deliveries_per_s"]
        for row in rows
        if row.get("workload") == "burst" and "deliveries_per_s" in row
    }
    for row in rows:
        if row.get("workload") != "burst" or "deliveries_per_s" not in row:
            continue
        figure, shape = row["deliveries_per_s"], row["shape"]
        if burst.get(("bare-websockets", shape)):
            row["vs_bare"] = round(figure / burst[("bare-websockets", shape)], 3)
        name = str(row["target"])
        if name.startswith("app-"):
            stock = burst.get(("stock-" + name.removeprefix("app-").removesuffix("-w2"), shape))
            if stock:
                row["vs_stock"] = round(figure / stock, 2)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) < 10:
            return f"{value:.2f}"
        return f"{value:.1f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def markdown(rows: Iterable[dict[str, Any]], meta: dict[str, Any]) -> str:
    rows = list(rows)
    lines = [
        f"# Benchmark run {meta['started']} ({'quick' if meta['quick'] else 'full'})",
        "",
        f"commit `{meta['commit']}`, {meta['machine']['cpus']} CPUs, "
        f"{meta['machine']['memory_gib']} GiB, load average at start "
        f"{meta['machine']['load_average_at_start']}, {meta['seconds']:.0f} s.",
    ]
    for workload, columns in COLUMNS.items():
        mine = [row for row in rows if row.get("workload") == workload]
        if not mine:
            continue
        lines += ["", f"## {workload}", ""]
        lines.append("| " + " | ".join(header for header, _ in columns) + " |")
        lines.append("|" + "|".join("---" for _ in columns) + "|")
        for row in mine:
            lines.append("| " + " | ".join(_cell(row.get(key)) for _, key in columns) + " |")
    return "\n".join(lines) + "\n"


def write(rows: list[dict[str, Any]], meta: dict[str, Any]) -> tuple[Path, Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(meta["started_epoch"]))
    json_path = RESULTS_DIR / f"{stamp}.json"
    md_path = RESULTS_DIR / f"{stamp}.md"
    json_path.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    md_path.write_text(markdown(rows, meta))
    return json_path, md_path
