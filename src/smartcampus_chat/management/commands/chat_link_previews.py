"""``manage.py chat_link_previews``: fetch the link previews still pending (docs/security.md,
"Link previews"): those a full in-process pool left waiting, or those of a process that
stopped before fetching them; and removes the images of the previews of messages deleted
longer than ``ATTACHMENT_PURGE_AFTER`` ago. Run it from cron when ``LINK_PREVIEWS`` is on, or as the
worker of a host without a task queue (``LINK_PREVIEW_ENQUEUE`` set to a no-op)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from smartcampus_chat import services


class Command(BaseCommand):
    help = "Fetch the pending link previews (each through the SSRF guard) and publish them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="At most this many.")

    def handle(self, *args: Any, **options: Any) -> None:
        pending = services.pending_previews()
        if options["limit"] is not None:
            pending = pending[: max(0, options["limit"])]
        published = sum(services.do_fetch_preview(message_id) for message_id in pending)
        purged = services.do_purge_preview_images()
        self.stdout.write(
            f"Link previews: {len(pending)} pending, {published} published, "
            f"{purged} images of deleted messages purged"
        )
