"""``manage.py chat_export_room <slug> --output DIR``: a room's messages, members and a
readable transcript as a zip in ``DIR``, for a legal hold (docs/data-export.md). The
export is recorded in the audit log as the site's own action."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smartcampus_chat.models import ChatRoom
from smartcampus_chat.services.exports import write_room_export


class Command(BaseCommand):
    help = "Export a room (room.json and transcript.html in a zip) into a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The room's slug.")
        parser.add_argument(
            "--output", required=True, help="The folder to write the zip into (made if need be)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        room = ChatRoom.objects.filter(slug=options["slug"]).first()
        if room is None:
            raise CommandError(f"No room with the slug {options['slug']!r}.")
        try:
            path = write_room_export(room, Path(options["output"]))
        except OSError as exc:
            raise CommandError(f"Cannot write the export: {exc}") from exc
        self.stdout.write(f"Room {room.slug} exported to {path}")
