"""``manage.py chat_notifications``: deliver the notifications due through Web Push and
e-mail (docs/notifications.md, "Running the worker"). ``--once`` delivers what is due now
and stops (cron, a task queue's periodic task); without it the command runs the worker's
loop in its own process, for sites that set ``NOTIFY_WORKER = None`` (WSGI, or a
dedicated worker)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from smartcampus_chat.conf import app_settings
from smartcampus_chat.notifications import deliver_due, remind_due


class Command(BaseCommand):
    help = "Deliver the due notifications (Web Push, e-mail digests)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then stop.")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between rounds (default: NOTIFY_POLL_INTERVAL).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            remind_due()
            self.stdout.write(f"Notifications: {deliver_due()} deliveries handled")
            return
        interval = options["interval"] or app_settings.NOTIFY_POLL_INTERVAL
        while True:
            remind_due()
            handled = deliver_due()
            if handled:
                self.stdout.write(f"Notifications: {handled} deliveries handled")
            close_old_connections()
            time.sleep(interval)
