"""PostgreSQL statements of the send pipeline (:mod:`.batch`): one round trip each.

Django's ORM would send one statement per room, or one placeholder per value of every
message; these send one array per column, the same statement whatever the batch size.
Identifiers and types come from the models' meta, values are parameters. Other databases
take the ORM path of :mod:`.batch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom

#: A message to insert: room id, sender id, content, its HTML, seq, event_seq, client id,
#: reply-to id.
Row = tuple[int, Any, str, str, int, int, str, int | None, bool]


def db_types(model: Any, *names: str) -> list[str]:
    """The database types of ``names`` (for array casts: ``%s::bigint[]``)."""
    return [str(model._meta.get_field(name).db_type(connection)) for name in names]


def columns(model: Any, *names: str) -> list[str]:
    meta = model._meta
    return [connection.ops.quote_name(meta.get_field(name).column) for name in names]


def number_rooms(
    counts: dict[int, int], now: Any, *, refuse_archived: bool
) -> dict[int, tuple[int, int]]:
    """Lock the rooms in id order, then take ``counts[room_id]`` numbers of each: the last
    (seq, event_seq) of each room. With ``refuse_archived``, archived rooms are left alone
    and absent from the result.

    The ``locked`` query yields (and locks) rows in id order, and a room is only updated
    once joined with its locked row, so every batch takes its rooms' locks in the same
    order (no deadlock between batches) without a round trip of its own.
    """
    table = connection.ops.quote_name(ChatRoom._meta.db_table)
    pk, seq, event_seq, at, archived = columns(
        ChatRoom, "id", "last_seq", "last_event_seq", "last_message_at", "is_archived"
    )
    (pk_type,) = db_types(ChatRoom, "id")
    writable = f" AND NOT r.{archived}" if refuse_archived else ""
    ids = sorted(counts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH locked AS MATERIALIZED (SELECT {pk} FROM {table} "  # noqa: S608
            f"WHERE {pk} = ANY(%s::{pk_type}[]) ORDER BY {pk} FOR UPDATE) "
            f"UPDATE {table} AS r SET {seq} = r.{seq} + v.n, {event_seq} = r.{event_seq} + v.n, "
            f"{at} = %s FROM unnest(%s::{pk_type}[], %s::integer[]) AS v(id, n), locked AS l "
            f"WHERE r.{pk} = v.id AND l.{pk} = r.{pk}{writable} "
            f"RETURNING r.{pk}, r.{seq}, r.{event_seq}",
            [ids, now, ids, [counts[room_id] for room_id in ids]],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def insert_messages(
    rows: Sequence[Row], now: Any
) -> tuple[dict[tuple[int, int], int], set[tuple[int, Any]]]:
    """One statement: insert the messages and move the senders' read markers.

    The insert is ``INSERT ... SELECT FROM unnest(...)`` of plain column arrays. The markers
    move in a second data-modifying ``WITH`` query of the same statement (one round trip
    fewer per batch). The rooms are locked already (:func:`number_rooms`), so concurrent
    batches touching the same participant rows are serialised by their rooms' locks.
    Returns the new ids by (room, seq) and the (room, sender) pairs whose participant row
    was found.
    """
    table = connection.ops.quote_name(ChatMessage._meta.db_table)
    names = (
        "room",
        "sender",
        "content",
        "content_html",
        "seq",
        "event_seq",
        "client_id",
        "reply_to",
        "anonymous",
    )
    types = db_types(ChatMessage, *names)
    created_at, is_edited, is_deleted, pk, room, seq = columns(
        ChatMessage, "created_at", "is_edited", "is_deleted", "id", "room", "seq"
    )
    arrays = [list(column) for column in zip(*rows, strict=True)]
    last: dict[tuple[int, Any], int] = {}
    for row in rows:
        if row[8]:  # anonymous: its author's marker stays (services/batch.py, _store)
            continue
        key = (row[0], row[1])
        last[key] = max(row[4], last.get(key, 0))
    participants = connection.ops.quote_name(ChatParticipant._meta.db_table)
    p_room, p_user, marker = columns(ChatParticipant, "room", "user", "last_read_seq")
    room_type, user_type = db_types(ChatParticipant, "room", "user")
    unnest = ", ".join(f"%s::{column_type}[]" for column_type in types)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ins AS (INSERT INTO {table} ({', '.join(columns(ChatMessage, *names))}, "  # noqa: S608
            f"{created_at}, {is_edited}, {is_deleted}) SELECT *, %s, false, false "
            f"FROM unnest({unnest}) RETURNING {room}, {seq}, {pk}), "
            f"mk AS (UPDATE {participants} AS p SET {marker} = GREATEST(p.{marker}, v.seq) "
            f"FROM unnest(%s::{room_type}[], %s::{user_type}[], %s::bigint[]) "
            f"AS v(room_id, user_id, seq) WHERE p.{p_room} = v.room_id "
            f"AND p.{p_user} = v.user_id RETURNING p.{p_room}, p.{p_user}) "
            f"SELECT {room}, {seq}, {pk}, NULL::{user_type} FROM ins "
            f"UNION ALL SELECT {p_room}, NULL, NULL, {p_user} FROM mk",
            [
                now,
                *arrays,
                [room_id for room_id, _ in last],
                [user_id for _, user_id in last],
                list(last.values()),
            ],
        )
        ids: dict[tuple[int, int], int] = {}
        present: set[tuple[int, Any]] = set()
        for row_room, row_seq, row_id, row_user in cursor.fetchall():
            if row_id is None:
                present.add((row_room, row_user))
            else:
                ids[(row_room, row_seq)] = row_id
        return ids, present


def known_message_ids(keys: Sequence[tuple[int, Any, str]]) -> RawSQL:
    """A subquery (``pk__in=``): the ids of stored messages matching the (room, sender,
    client id) ``keys``.

    Driven by the keys: for each, one probe of the unique (room, sender, client id) index,
    through a ``LATERAL`` subquery with ``LIMIT 1`` that the planner cannot flatten into a
    join it could reorder. Written as a plain join, the planner trusted the statistics of
    ``client_id <> ''`` (near zero rows while most stored messages had no client id, until
    the next ``ANALYZE``) and scanned every message of the table for each message, once per
    key: 200 s for a batch of 200 sends over 2,700 messages (``tests/test_send_plan.py``).
    Three ``IN`` lists would make it scan every message of the rooms.
    """
    table = connection.ops.quote_name(ChatMessage._meta.db_table)
    pk, room, sender, client_id = columns(ChatMessage, "id", "room", "sender", "client_id")
    types = db_types(ChatMessage, "room", "sender", "client_id")
    arrays = [list(column) for column in zip(*keys, strict=True)]
    return RawSQL(  # noqa: S611 (identifiers from the models' meta, values are parameters)
        f"SELECT known.id FROM unnest(%s::{types[0]}[], %s::{types[1]}[], "  # noqa: S608
        f"%s::{types[2]}[]) AS v(room_id, sender_id, client_id) CROSS JOIN LATERAL "
        f"(SELECT m.{pk} AS id FROM {table} AS m WHERE m.{room} = v.room_id "
        f"AND m.{sender} = v.sender_id AND m.{client_id} = v.client_id "
        f"AND m.{client_id} <> '' LIMIT 1) AS known",
        arrays,
    )


def lock_messages_key_share(ids: list[int]) -> set[int]:
    """Which of messages ``ids`` still exist, each locked ``FOR KEY SHARE`` until commit.

    A reply's foreign key takes that lock only when the transaction commits (Django's
    keys are deferred); taking it first makes a concurrent hard delete (the retention
    purge) wait for the reply, or the reply see its parent gone: never a reply stored to
    a parent deleted meanwhile (a foreign-key error failing the whole batch). The lock
    does not block edits, soft deletes or other replies (``FOR NO KEY UPDATE``, ``FOR
    KEY SHARE``)."""
    table = connection.ops.quote_name(ChatMessage._meta.db_table)
    (pk,) = columns(ChatMessage, "id")
    (pk_type,) = db_types(ChatMessage, "id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk} FROM {table} WHERE {pk} = ANY(%s::{pk_type}[]) "  # noqa: S608
            f"ORDER BY {pk} FOR KEY SHARE",
            [sorted(ids)],
        )
        return {row[0] for row in cursor.fetchall()}
