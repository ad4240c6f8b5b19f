"""``manage.py chat_purge_attachments``: remove from storage the files of deleted messages
and of uploads never sent, once ``ATTACHMENT_PURGE_AFTER`` has passed (docs/attachments.md;
run it daily from cron, a systemd timer or the host's task scheduler)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from smartcampus_chat import services


class Command(BaseCommand):
    help = "Remove the files of deleted messages and unsent uploads after the grace period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Attachments per transaction."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        removed = services.do_purge_attachments(batch_size=max(1, options["batch_size"]))
        self.stdout.write(f"Attachments purged: {removed}")
