"""``manage.py chat_purge_messages``: delete for good the messages whose room's retention
rule says they expired, and deleted messages past ``DELETED_MESSAGE_GRACE_DAYS``, with
everything that hangs off them (docs/retention.md; run it daily from cron, a systemd
timer or the host's task scheduler, or call ``services.do_purge_expired`` from a task)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smartcampus_chat import services
from smartcampus_chat.conf import app_settings

#: The counts printed, in this order.
KINDS = (
    "messages",
    "reactions",
    "mentions",
    "notifications",
    "deliveries",
    "link_previews",
    "attachments",
    "reports",
    "files",
)


class Command(BaseCommand):
    help = "Delete expired messages (retention) and deleted messages past their grace period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Messages per transaction (default: RETENTION_BATCH_SIZE).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size = options["batch_size"]
        if size is not None and size < 1:
            raise CommandError("--batch-size must be a positive integer.")
        dry_run = options["dry_run"]
        counts = services.do_purge_expired(
            batch_size=size or app_settings.RETENTION_BATCH_SIZE, dry_run=dry_run
        )
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} in {counts.rooms} room(s), {counts.batches} batch(es):")
        for kind in KINDS:
            self.stdout.write(f"  {kind}: {getattr(counts, kind)}")
        for label, rows in sorted(counts.other.items()):
            self.stdout.write(f"  {label}: {rows}")
        self.stdout.write(f"Longest batch: {counts.longest_batch_ms:.1f} ms")
