"""The presence heartbeat (smartcampus_chat.realtime.presence.heartbeat): constant work per process
whatever its number of sockets, and its rows made to match the process's live sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.models import ChatConnection, ChatParticipant, ChatRoom
from smartcampus_chat.realtime import presence

pytestmark = pytest.mark.django_db

SERVER = "host:1:test"


def connect(users: list[Any], room: ChatRoom) -> dict[str, int]:
    """Rows of ``users``' sockets on SERVER, heartbeat long ago; the process's local map."""
    old = timezone.now() - timedelta(seconds=5)
    local = {f"sock-{user.pk}": user.pk for user in users}
    for user in users:
        services.do_join_room(user, room)
    ChatConnection.objects.bulk_create(
        ChatConnection(channel_name=name, user_id=uid, server=SERVER, last_heartbeat=old)
        for name, uid in local.items()
    )
    ChatParticipant.objects.filter(user__in=users).update(is_online=True)
    return local


def queries_of_a_heartbeat(local: dict[str, int]) -> tuple[int, int]:
    """How many statements a heartbeat runs, and their total length (SQL and parameters)."""
    with CaptureQueriesContext(connection) as captured:
        presence.heartbeat(local, server=SERVER)
    return len(captured), sum(len(query["sql"]) for query in captured.captured_queries)


def test_a_heartbeat_costs_the_same_statements_for_3_or_60_sockets(
    make_user: Callable[..., Any], public_room: ChatRoom
) -> None:
    few = connect([make_user(f"few{n}") for n in range(3)], public_room)
    statements, size = queries_of_a_heartbeat(few)
    assert statements <= 8
    ChatConnection.objects.all().delete()
    many = connect([make_user(f"many{n}") for n in range(60)], public_room)
    # Not only as many statements: no list of the sockets' names or users in them.
    more_statements, more_size = queries_of_a_heartbeat(many)
    assert more_statements == statements
    assert more_size < size * 1.05, "the heartbeat's statements grow with the sockets"
    fresh = timezone.now() - timedelta(seconds=2)
    assert ChatConnection.objects.filter(last_heartbeat__lt=fresh).count() == 0


def test_rows_the_process_lost_are_restored_and_rows_it_closed_are_removed(
    alice: Any, bob: Any, make_user: Callable[..., Any], public_room: ChatRoom
) -> None:
    carol = make_user("carol")
    local = connect([alice, bob, carol], public_room)
    # Alice's row was swept (the process stalled); bob's socket closed but the delete of
    # its row failed (the tracker keeps it as unclosed).
    ChatConnection.objects.filter(user=alice).delete()
    ChatParticipant.objects.filter(user=alice).update(is_online=False)
    bob_socket = local.pop(f"sock-{bob.pk}")
    presence.heartbeat(local, server=SERVER, unclosed={f"sock-{bob.pk}": bob_socket})
    rows = set(ChatConnection.objects.values_list("channel_name", flat=True))
    assert rows == {f"sock-{alice.pk}", f"sock-{carol.pk}"}
    online = dict(ChatParticipant.objects.values_list("user__username", "is_online"))
    assert online == {"alice": True, "bob": False, "carol": True}


def test_a_row_of_the_process_without_a_socket_is_removed(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    local = connect([alice, bob], public_room)
    del local[f"sock-{bob.pk}"]
    presence.heartbeat(local, server=SERVER)
    assert list(ChatConnection.objects.values_list("user__username", flat=True)) == ["alice"]
    online = dict(ChatParticipant.objects.values_list("user__username", "is_online"))
    assert online == {"alice": True, "bob": False}


async def test_a_close_whose_delete_failed_is_deleted_by_the_next_heartbeat(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    tracker = presence.Tracker()
    tracker.local = {"open": 1, "closing": 2}

    def outage(user_id: int, channel_name: str) -> None:
        raise OSError("database unreachable")

    monkeypatch.setattr(presence, "connection_closed", outage)
    with pytest.raises(OSError):
        await tracker.closed(2, "closing")
    assert tracker.unclosed == {"closing": 2}
    beats: list[tuple[dict[str, int], dict[str, int] | None]] = []
    monkeypatch.setattr(
        presence, "heartbeat", lambda local, unclosed=None: beats.append((local, unclosed))
    )
    monkeypatch.setattr(presence, "connection_closed", lambda user_id, channel_name: None)
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PRESENCE_HEARTBEAT": 0.01}
    tracker.task = asyncio.get_running_loop().create_task(tracker._beat())
    for _ in range(200):
        if beats:
            break
        await asyncio.sleep(0.01)
    await tracker.closed(1, "open")
    assert beats[0] == ({"open": 1}, {"closing": 2})
    assert tracker.unclosed == {}
