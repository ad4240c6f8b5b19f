"""``manage.py chat_search_index``: build the message search index again (docs/search.md),
after a change of ``SEARCH_CONFIG`` (PostgreSQL) or to repair it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra import search_index


class Command(BaseCommand):
    help = "Build the message search index again (with the current SEARCH_CONFIG)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            search_index.install(connection, app_settings.SEARCH_CONFIG)
        self.stdout.write(f"Search index rebuilt ({connection.vendor}).")
