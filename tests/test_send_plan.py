"""The send pipeline's look-up of retried client ids stays an index probe per key on
PostgreSQL, whatever the table's statistics say (found by the burst benchmark).

Most messages of a site may have no client id (the HTML form, the REST API without one,
fixtures); statistics gathered then say that ``client_id <> ''`` matches almost nothing.
Written as a join the planner could reorder, the look-up then scanned every message of
the table for each message, for each batch of WebSocket sends: 200 s for a batch of 200
over 2,700 messages, and the server's sends stalled behind it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, RoomType
from smartcampus_chat.services.batch import known_messages

KEYS = 200
#: Messages without a client id when the statistics are gathered, then with one.
PLAIN, KEYED = 600, 600


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.postgres
@pytest.mark.django_db
def test_known_client_ids_are_probed_by_key_with_stale_statistics(
    make_user: Callable[..., Any],
) -> None:
    owner = make_user()
    room = services.do_create_room(owner, name="Plan", room_type=RoomType.PUBLIC)
    table = ChatMessage._meta.db_table
    now = timezone.now()

    def add(count: int, first_seq: int, client_ids: bool) -> None:
        ChatMessage.objects.bulk_create(
            ChatMessage(
                room=room,
                sender=owner,
                content="x",
                created_at=now,
                seq=seq,
                event_seq=seq,
                client_id=f"c{seq}" if client_ids else "",
            )
            for seq in range(first_seq, first_seq + count)
        )

    with connection.cursor() as cursor:
        # Rolled back with the test's transaction: the statistics stay those of ANALYZE.
        cursor.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
        add(PLAIN, 1, client_ids=False)
        cursor.execute(f'ANALYZE "{table}"')
        add(KEYED, PLAIN + 1, client_ids=True)
    wanted = [f"c{seq}" for seq in range(PLAIN + KEYED - KEYS + 1, PLAIN + KEYED + 1)]
    keys = [(room.pk, owner.pk, client_id) for client_id in [*wanted, "never-stored"]]

    query = known_messages(keys)
    assert sorted(message.client_id for message in query) == sorted(wanted)
    plan = json.loads(query.explain(format="json", analyze=True))[0]["Plan"]
    touched = 0
    for node in _nodes(plan):
        if node.get("Relation Name") == table:
            rows = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            touched += rows * node["Actual Loops"]
        touched += node.get("Rows Removed by Join Filter", 0)
    # One probe of the unique index per key, and one primary-key read per message found.
    assert touched <= 2 * len(keys), (touched, plan)
