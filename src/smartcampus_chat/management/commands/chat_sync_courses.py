"""``manage.py chat_sync_courses [--dry-run]``: a chat room for every course.

Idempotent (existing course rooms are kept); the rooms it creates belong to nobody.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smartcampus_chat import services
from smartcampus_chat.conf import app_settings


class Command(BaseCommand):
    help = "Create the chat room of every course that has none (COURSE_MODEL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be created; change nothing."
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        if app_settings.COURSE_MODEL is None:
            raise CommandError("SMARTCAMPUS_CHAT['COURSE_MODEL'] is not set.")
        counts = services.sync_course_rooms(dry_run=dry_run)
        verb = "would be created" if dry_run else "created"
        self.stdout.write(
            f"{counts.courses} courses: {counts.created} rooms {verb}, "
            f"{counts.existing} already had one."
        )
