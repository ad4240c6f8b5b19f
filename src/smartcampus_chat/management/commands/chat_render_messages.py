"""``manage.py chat_render_messages [--missing] [--room SLUG]``: render stored messages again.

After an upgrade that changes formatting, a change of ``MATHS``, or a bulk import that
wrote messages without their HTML (docs/formatting.md).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage


class Command(BaseCommand):
    help = "Render the Markdown of stored messages again (their content_html)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--missing", action="store_true", help="Only messages that have no HTML."
        )
        parser.add_argument("--room", help="Only the messages of the room with this slug.")

    def handle(
        self, *args: Any, missing: bool = False, room: str | None = None, **options: Any
    ) -> None:
        messages = ChatMessage.objects.all()
        if room is not None:
            messages = messages.filter(room__slug=room)
        written = services.do_render_messages(messages, only_missing=missing)
        self.stdout.write(f"{written} messages rendered.")
