"""Full-text search of messages (docs/search.md), one index per database:

- PostgreSQL: a GIN index on ``to_tsvector(SEARCH_CONFIG, content)`` of the messages not
  deleted (the expression the search filters on, so the planner uses it);
- SQLite: an FTS5 table over ``content`` (external content: the text stays in the message
  table), kept in step by triggers; a deleted message leaves it.

Other databases get neither (the search then refuses to run with ``unavailable``).
The PostgreSQL index is built with the ``SEARCH_CONFIG`` in force when this migration runs:
after changing the setting, run ``manage.py chat_search_index`` to build it again.
On a large existing table the index build blocks writes to the messages for its duration
(about 10 s per million messages measured here, docs/performance.md).
"""

from typing import Any

from django.db import migrations
from django.db.models import Q

INDEX_NAME = "scchat_msg_search_idx"
FTS_TABLE = "smartcampus_chat_message_fts"
MESSAGES = "smartcampus_chat_chatmessage"

SQLITE_CREATE = [
    # unicode61 with remove_diacritics 2: "ete" finds "été" (mixed French and English).
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(content, content='{MESSAGES}', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"INSERT INTO {FTS_TABLE}(rowid, content) SELECT id, content FROM {MESSAGES} "
    "WHERE is_deleted = 0",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON {MESSAGES} WHEN new.is_deleted = 0 "
    f"BEGIN INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON {MESSAGES} WHEN old.is_deleted = 0 "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.id, old.content); END",
    # An edit replaces the indexed text; a deletion removes it (an external-content table
    # forgets a row by being told the text it indexed: the old one).
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF content, is_deleted ON {MESSAGES} "
    "WHEN old.content IS NOT new.content OR old.is_deleted IS NOT new.is_deleted "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "SELECT 'delete', old.id, old.content WHERE old.is_deleted = 0; "
    f"INSERT INTO {FTS_TABLE}(rowid, content) SELECT new.id, new.content "
    "WHERE new.is_deleted = 0; END",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def search_index(config: str) -> Any:
    """The PostgreSQL index: the same expression as the search's filter. (Imported here:
    ``django.contrib.postgres`` needs psycopg, which a SQLite site may not have.)"""
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    return GinIndex(
        SearchVector("content", config=config), name=INDEX_NAME, condition=Q(is_deleted=False)
    )


def _config() -> str:
    from smartcampus_chat.conf import app_settings

    return app_settings.SEARCH_CONFIG


def forwards(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        model = apps.get_model("smartcampus_chat", "ChatMessage")
        schema_editor.add_index(model, search_index(_config()))
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def backwards(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("smartcampus_chat", "0007_message_pinned_at"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
