"""The full-text index of messages, one per database (docs/search.md):

- PostgreSQL: a stored generated column ``search_vector`` =
  ``to_tsvector(SEARCH_CONFIG, content)`` and a GIN index on it for the messages not
  deleted. A column rather than an index on the expression: ANALYZE keeps statistics of a
  column's words, so the planner knows "the" is in most messages and "B12" in few and
  picks the plan for each (measured: docs/performance.md, "Search"); ranking reads the
  stored vector instead of parsing the text again.
- SQLite: an FTS5 table over ``content`` (external content: the text stays in the message
  table), kept in step by triggers: an edit replaces the indexed text, a deletion removes
  it.

Neither is in the models (they are one database's): migration 0008 installs them and
``manage.py chat_search_index`` rebuilds them (after a change of ``SEARCH_CONFIG``).
Other databases get none; the search then matches with ``icontains``.
"""

# ruff: noqa: S608 - the SQL below is built from this module's constant names only
from __future__ import annotations

import re
from typing import Any

COLUMN = "search_vector"
PG_INDEX = "scchat_msg_search_idx"
FTS_TABLE = "smartcampus_chat_message_fts"
MESSAGES = "smartcampus_chat_chatmessage"
#: A text search configuration's name (``SEARCH_CONFIG``): written into DDL, so checked.
CONFIG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")

# Fixed names only (no input) in these statements: S608 does not apply.
_SQLITE_CREATE = [
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
    # An external-content table forgets a row by being told the text it indexed: the old.
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF content, is_deleted ON {MESSAGES} "
    "WHEN old.content IS NOT new.content OR old.is_deleted IS NOT new.is_deleted "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "SELECT 'delete', old.id, old.content WHERE old.is_deleted = 0; "
    f"INSERT INTO {FTS_TABLE}(rowid, content) SELECT new.id, new.content "
    "WHERE new.is_deleted = 0; END",
]
_SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def _postgresql_create(config: str) -> list[str]:
    if not CONFIG_NAME.match(config):
        raise ValueError(f"SEARCH_CONFIG {config!r} is not a configuration name")
    return [
        f"ALTER TABLE {MESSAGES} ADD COLUMN {COLUMN} tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('{config}'::regconfig, COALESCE(content, ''))) STORED",
        f"CREATE INDEX {PG_INDEX} ON {MESSAGES} USING gin ({COLUMN}) WHERE NOT is_deleted",
        f"ANALYZE {MESSAGES}",
    ]


_POSTGRESQL_DROP = [
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE {MESSAGES} DROP COLUMN IF EXISTS {COLUMN}",
]


def install(connection: Any, config: str) -> None:
    """Create the index of ``connection``'s database (nothing on other databases)."""
    if connection.vendor == "postgresql":
        statements = _postgresql_create(config)
    elif connection.vendor == "sqlite":
        statements = _SQLITE_CREATE
    else:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def uninstall(connection: Any) -> None:
    statements = {"postgresql": _POSTGRESQL_DROP, "sqlite": _SQLITE_DROP}
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)
