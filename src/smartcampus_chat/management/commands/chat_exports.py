"""``manage.py chat_exports``: build the data exports still pending and delete the ones
nobody downloaded in time (docs/data-export.md). Run it every few minutes from cron or a
systemd timer, or call ``smartcampus_chat.services.exports.run_export_jobs`` from your
task scheduler instead; needed when ``EXPORT_ENQUEUE`` hands exports to a queue that may
lose them, and for the expiry in any case."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from smartcampus_chat.services.exports import run_export_jobs


class Command(BaseCommand):
    help = "Build the pending data exports and delete the expired ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Build at most this many.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = run_export_jobs(limit=options["limit"])
        self.stdout.write(
            f"Exports: {counts.built} built, {counts.failed} failed, {counts.expired} expired"
        )
