"""Full-text search of messages (docs/search.md): on PostgreSQL a stored ``search_vector``
column (``SEARCH_CONFIG`` when this runs) with a GIN index, on SQLite an FTS5 table kept in
step by triggers; nothing on other databases
(:mod:`smartcampus_chat.infra.search_index`).

On PostgreSQL adding the column rewrites the message table: about 40 s per million
messages measured here (docs/performance.md), during which writes to messages wait.
"""

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from smartcampus_chat.conf import app_settings
    from smartcampus_chat.infra import search_index

    search_index.install(schema_editor.connection, app_settings.SEARCH_CONFIG)


def backwards(apps: Any, schema_editor: Any) -> None:
    from smartcampus_chat.infra import search_index

    search_index.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("smartcampus_chat", "0009_read_receipts"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
