"""Fast seeding of chat history straight into the app's tables (runs inside Django).

PostgreSQL gets one ``COPY``; SQLite gets multi-row ``INSERT``\\ s in one transaction. Rows
continue the room's numbering: ``seq`` and ``event_seq`` follow ``last_seq`` and
``last_event_seq``, which are then moved past them with ``last_message_at``, exactly as
``services.do_send_message`` leaves them. Senders are ``bench-u<n>`` users in turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

SQLITE_BATCH = 500
USER_PREFIX = "bench-u"


def ensure_users(count: int) -> list[Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    user_model = get_user_model()
    names = [f"{USER_PREFIX}{i}" for i in range(count)]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    user_model.objects.bulk_create(
        [user_model(username=name, password=unusable) for name in names if name not in existing],
        batch_size=1000,
    )
    by_name = {u.username: u for u in user_model.objects.filter(username__in=names)}
    return [by_name[name] for name in names]


def _rows(
    room_id: int, senders: list[int], first_seq: int, first_event: int, count: int, start: Any
) -> Iterator[tuple[Any, ...]]:
    from smartcampus_chat.markup import render

    for i in range(count):
        content = f"Seeded message {first_seq + i}: lorem ipsum dolor sit amet, campus edition."
        yield (
            room_id,
            senders[i % len(senders)],
            content,
            render(content),
            start + timedelta(milliseconds=i),
            first_seq + i,
            first_event + i,
            "",
            False,
            False,
        )


def seed_messages(
    slug: str, count: int, senders: int = 50, *, age_days: float = 0
) -> dict[str, Any]:
    """Append ``count`` messages to room ``slug`` (created public when missing), one a
    millisecond, the last one ``age_days`` ago (the retention workload's expired ones)."""
    import time

    from django.db import connection, transaction
    from django.utils import timezone

    from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType

    sender_ids = [user.pk for user in ensure_users(senders)]
    t0 = time.monotonic()
    with transaction.atomic():
        room, _ = ChatRoom.objects.get_or_create(
            slug=slug, defaults={"name": slug, "room_type": RoomType.PUBLIC}
        )
        room = ChatRoom.objects.select_for_update().get(pk=room.pk)
        first_seq, first_event = room.last_seq + 1, room.last_event_seq + 1
        start = timezone.now() - timedelta(days=age_days, milliseconds=count)
        fields = ["room", "sender", "content", "content_html", "created_at", "seq", "event_seq"]
        fields += ["client_id"]
        fields += ["is_edited", "is_deleted"]
        meta = ChatMessage._meta
        columns = ", ".join(connection.ops.quote_name(_column(meta, f)) for f in fields)
        table = connection.ops.quote_name(meta.db_table)
        rows = _rows(room.pk, sender_ids, first_seq, first_event, count, start)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                _insert_batches(cursor, table, columns, len(fields), rows)
        ChatRoom.objects.filter(pk=room.pk).update(
            last_seq=first_seq + count - 1,
            last_event_seq=first_event + count - 1,
            last_message_at=start + timedelta(milliseconds=count - 1),
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    return {"room": slug, "added": count, "seconds": round(time.monotonic() - t0, 2)}


def _column(meta: Any, name: str) -> str:
    return str(meta.get_field(name).column)


def _insert_batches(
    cursor: Any, table: str, columns: str, width: int, rows: Iterator[tuple[Any, ...]]
) -> None:
    row_sql = "(" + ", ".join(["%s"] * width) + ")"
    insert = f"INSERT INTO {table} ({columns}) VALUES "
    batch: list[Any] = []
    size = 0
    for row in rows:
        batch.extend(row)
        size += 1
        if size == SQLITE_BATCH:
            cursor.execute(insert + ", ".join([row_sql] * size), batch)
            batch, size = [], 0
    if size:
        cursor.execute(insert + ", ".join([row_sql] * size), batch)
