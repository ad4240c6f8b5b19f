"""``manage.py chat_announcement_reminders``: remind the members who have not acknowledged
an announcement due within ``ACK_REMINDER_BEFORE`` hours (docs/announcements.md,
"Reminders"). Once per announcement whatever the number of runs: run it from cron (say
every 15 minutes) on sites whose notification worker does not run (the worker's rounds
send them too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from smartcampus_chat.services import do_send_due_reminders


class Command(BaseCommand):
    help = "Remind the members who have not acknowledged an announcement due soon."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Announcements: {do_send_due_reminders()} people reminded")
