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

Neither is in the models (they are one database's): migration 0010 installs them and
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

#: What else a message is, as words of the FTS5 table's ``flags`` column (SQLite): its room
#: ``r<id>``, its sender ``u<id>``, ``haslink``, ``hascode``. ``from:``, ``in:`` and
#: ``has:`` are then index look-ups intersected with the words, not a scan of every match.
#: Words a user types only search ``content``.
FLAGS = (
    "'r' || {row}.room_id || ' u' || COALESCE({row}.sender_id, 0)"
    " || CASE WHEN instr({row}.content_html, '<a ') THEN ' haslink' ELSE '' END"
    " || CASE WHEN instr({row}.content_html, '<code') THEN ' hascode' ELSE '' END"
)
_NEW, _OLD, _ROW = FLAGS.format(row="new"), FLAGS.format(row="old"), FLAGS.format(row=MESSAGES)
# Fixed names only (no input) in these statements: S608 does not apply.
_SQLITE_CREATE = [
    # unicode61 with remove_diacritics 2: "ete" finds "été" (mixed French and English).
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(content, flags, content='{MESSAGES}', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"INSERT INTO {FTS_TABLE}(rowid, content, flags) SELECT id, content, {_ROW} "
    f"FROM {MESSAGES} WHERE is_deleted = 0",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON {MESSAGES} WHEN new.is_deleted = 0 "
    f"BEGIN INSERT INTO {FTS_TABLE}(rowid, content, flags) "
    f"VALUES (new.id, new.content, {_NEW}); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON {MESSAGES} WHEN old.is_deleted = 0 "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content, flags) "
    f"VALUES ('delete', old.id, old.content, {_OLD}); END",
    # An external-content table forgets a row by being told what it indexed: the old.
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF content, content_html, is_deleted, "
    f"room_id, sender_id ON {MESSAGES} "
    "WHEN old.content IS NOT new.content OR old.content_html IS NOT new.content_html "
    "OR old.is_deleted IS NOT new.is_deleted OR old.room_id IS NOT new.room_id "
    "OR old.sender_id IS NOT new.sender_id "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content, flags) "
    f"SELECT 'delete', old.id, old.content, {_OLD} WHERE old.is_deleted = 0; "
    f"INSERT INTO {FTS_TABLE}(rowid, content, flags) SELECT new.id, new.content, {_NEW} "
    "WHERE new.is_deleted = 0; END",
]
_SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
#: PostgreSQL: ``has:`` as lexemes of the vector (a user's words never hold "_": the
#: search's parser and PostgreSQL's both cut at it), so ``has:link`` is a GIN look-up.
HAS_LINK, HAS_CODE = "has_link", "has_code"
_PG_HAS = (
    "array_to_tsvector(array_remove(ARRAY["
    f"CASE WHEN content_html LIKE '%<a %' THEN '{HAS_LINK}' END, "
    f"CASE WHEN content_html LIKE '%<code%' THEN '{HAS_CODE}' END], NULL))"
)


def _postgresql_create(config: str) -> list[str]:
    if not CONFIG_NAME.match(config):
        raise ValueError(f"SEARCH_CONFIG {config!r} is not a configuration name")
    return [
        f"ALTER TABLE {MESSAGES} ADD COLUMN {COLUMN} tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('{config}'::regconfig, COALESCE(content, '')) || {_PG_HAS}) STORED",
        f"CREATE INDEX {PG_INDEX} ON {MESSAGES} USING gin ({COLUMN}) WHERE NOT is_deleted",
        f"ANALYZE {MESSAGES}",
    ]


_POSTGRESQL_DROP = [
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE {MESSAGES} DROP COLUMN IF EXISTS {COLUMN}",
]


def install(connection: Any, config: str) -> None:
    """Create the index of ``connection``'s database, replacing one already there (a
    database that ran an earlier version of the migration); nothing on other databases."""
    if connection.vendor == "postgresql":
        statements = _POSTGRESQL_DROP + _postgresql_create(config)
    elif connection.vendor == "sqlite":
        statements = _SQLITE_DROP + _SQLITE_CREATE
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
