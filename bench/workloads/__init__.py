"""Workloads: each module has ``TITLE`` and ``run(ctx) -> list[dict]`` (one row per result)."""

from __future__ import annotations

from types import ModuleType

from bench.workloads import (
    burst,
    catchup,
    chat_mix,
    course_sync,
    db_connections,
    fanout,
    history,
    idle,
    notify,
    office_hours,
    page,
    persistence,
    presence_storm,
    render,
    retention,
    search,
    shell_memory,
    switch,
    uploads,
)

WORKLOADS: dict[str, ModuleType] = {
    "fanout": fanout,
    "burst": burst,
    "chat-mix": chat_mix,
    "course-sync": course_sync,
    "db-connections": db_connections,
    "idle": idle,
    "notify": notify,
    "office-hours": office_hours,
    "persistence": persistence,
    "presence-storm": presence_storm,
    "catch-up": catchup,
    "history": history,
    "page": page,
    "render": render,
    "retention": retention,
    "search": search,
    "shell-memory": shell_memory,
    "switch": switch,
    "uploads": uploads,
}
#: The order of a run without workload names, quickest first.
DEFAULT_ORDER = [
    "render",
    "notify",
    "persistence",
    "catch-up",
    "history",
    "retention",
    "office-hours",
    "course-sync",
    "search",
    "switch",
    "shell-memory",
    "idle",
    "presence-storm",
    "chat-mix",
    "db-connections",
    "burst",
    "fanout",
    "page",
    "uploads",
]
