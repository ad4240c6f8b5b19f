"""Connection set-up in batches (smartcampus_chat.ws.setup): each socket gets exactly what
it would get alone, in a number of queries that does not grow with the batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartcampus_chat import services
from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.models import ChatRoom, RoomType
from smartcampus_chat.realtime.tickets import issue_ticket
from smartcampus_chat.ws.setup import SetUp, SetUpRequest, set_up_many

pytestmark = pytest.mark.django_db


def test_each_socket_gets_its_own_user_rooms_and_access(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    group_room: ChatRoom,
    make_user: Callable[..., Any],
) -> None:
    gone = make_user("gone")
    gone_ticket = issue_ticket(gone)
    gone.is_active = False
    gone.save()
    services.do_join_room(bob, public_room)
    results = set_up_many(
        [
            SetUpRequest(AnonymousUser(), issue_ticket(alice), public_room.slug),
            SetUpRequest(AnonymousUser(), "not-a-ticket", public_room.slug),
            SetUpRequest(AnonymousUser(), gone_ticket, public_room.slug),
            SetUpRequest(bob, None, public_room.slug),
            SetUpRequest(bob, None, group_room.slug),  # Not in the group: hidden.
            SetUpRequest(bob, None, "no-such-room"),
            SetUpRequest(AnonymousUser(), None, public_room.slug),
            SetUpRequest(bob, None, None),  # ws/chat/: the rooms bob joined.
        ]
    )
    first = results[0]
    assert isinstance(first, SetUp)
    assert first.user == alice
    (followed,) = first.rooms
    assert (followed.room_id, followed.slug) == (public_room.pk, public_room.slug)
    assert followed.access is not None
    assert followed.access == services.room_access(alice, public_room)
    assert results[1] is None
    assert results[2] is None
    fourth = results[3]
    assert isinstance(fourth, SetUp)
    assert fourth.user == bob
    assert isinstance(results[4], NotFound)
    assert isinstance(results[5], NotFound)
    assert results[6] is None
    last = results[7]
    assert isinstance(last, SetUp)
    assert [(f.room_id, f.room) for f in last.rooms] == [(public_room.pk, None)]


def test_a_batch_costs_the_same_queries_whatever_its_size(
    make_user: Callable[..., Any], alice: Any
) -> None:
    rooms = [
        services.do_create_room(alice, name=f"Room {n}", room_type=RoomType.PUBLIC)
        for n in range(4)
    ]
    users = [make_user() for _ in range(12)]

    def cost(count: int) -> int:
        requests = [
            SetUpRequest(AnonymousUser(), issue_ticket(users[n]), rooms[n % 4].slug)
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            results = set_up_many(requests)
        assert all(isinstance(result, SetUp) for result in results)
        return len(captured)

    assert cost(2) == cost(12) == 3
