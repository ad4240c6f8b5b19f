"""Message numbers stay gap-free and unique when many people post at once (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType

THREADS = 8
SENDS_PER_THREAD = 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posting_keeps_sequence_numbers_gap_free_and_unique(
    make_user: Callable[..., Any], settings: Any
) -> None:
    # This test is about numbering, not the per-user send limit.
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEND_RATE_BURST": 10_000}
    users = [make_user() for _ in range(THREADS)]
    room = services.do_create_room(users[0], name="Busy", room_type=RoomType.PUBLIC)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    duplicates: list[bool] = []

    def post(user: Any) -> None:
        try:
            start.wait()
            for i in range(SENDS_PER_THREAD):
                fresh = ChatRoom.objects.get(pk=room.pk)
                result = services.check_send_message(user, fresh, f"m{i}", client_id=f"c{i}")
                if i % 4 == 0:
                    access = services.room_access(user, fresh)
                    services.check_edit_message(user, result.message, f"m{i} (edited)", access)
                # A retry with the same client id returns the stored message.
                retry = services.check_send_message(user, fresh, f"m{i}", client_id=f"c{i}")
                duplicates.append(retry.created)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert not any(duplicates)
    total = THREADS * SENDS_PER_THREAD
    edits = THREADS * len(range(0, SENDS_PER_THREAD, 4))
    seqs = list(ChatMessage.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    event_seqs = list(ChatMessage.objects.filter(room=room).values_list("event_seq", flat=True))
    assert len(set(event_seqs)) == total
    room.refresh_from_db()
    assert (room.last_seq, room.last_event_seq) == (total, total + edits)
    assert max(event_seqs) <= room.last_event_seq
