"""``manage.py chat_sync_courses [--dry-run]``: every course's rooms kept in step with the
host (docs/terms.md): rooms and section rooms created, course ends stored, rooms archived
after the grace period, participants following the roster (``COURSE_ROSTER``).

Idempotent (a second run changes nothing); streamed course by course (bounded memory); the
rooms it creates belong to nobody.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smartcampus_chat import services
from smartcampus_chat.conf import app_settings


class Command(BaseCommand):
    help = (
        "Keep every course's chat rooms in step with the host (COURSE_MODEL): rooms, "
        "sections, course ends, archiving, rosters."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; change nothing."
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        if app_settings.COURSE_MODEL is None:
            raise CommandError("SMARTCAMPUS_CHAT['COURSE_MODEL'] is not set.")
        counts = services.sync_courses(dry_run=dry_run)
        would = "would be " if dry_run else ""
        self.stdout.write(
            f"{counts.courses} courses: {counts.rooms_created} rooms {would}created, "
            f"{counts.sections_created} section rooms {would}created, "
            f"{counts.ends_changed} ends {would}updated, {counts.archived} rooms {would}archived; "
            f"{counts.joined} members {would}added, {counts.removed} {would}removed, "
            f"{counts.roles_changed} roles {would}changed."
        )
        if counts.failed:
            self.stderr.write(
                f"{counts.failed} courses lost a race with another change: run again."
            )
