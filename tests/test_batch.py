"""Group commit of sends (services.batch, batcher): numbering, idempotency, isolation, cost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError
from django.test.utils import CaptureQueriesContext

from smartcampus_chat import events, services
from smartcampus_chat.batcher import SendBatcher
from smartcampus_chat.exceptions import NotFound, RoomArchived, ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, RoomType
from smartcampus_chat.schema import MessageData
from smartcampus_chat.services import batch
from smartcampus_chat.services.batch import SendRequest, check_send_messages
from smartcampus_chat.services.messages import SendResult

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Message events sent after commit (the doorbell), in order.

    Membership announcements (a first message makes the sender a participant) are left out:
    these tests are about messages.
    """
    sent: list[dict[str, Any]] = []

    def record(message: dict[str, Any]) -> None:
        if str(message.get("frame_type", "")).startswith("message."):
            sent.append(message)

    monkeypatch.setattr(events, "_send", lambda group, message: record(message))
    monkeypatch.setattr(events, "_send_many", lambda messages: [record(m) for _, m in messages])
    return sent


def contents(room: ChatRoom) -> list[tuple[int, int, str]]:
    return list(
        ChatMessage.objects.filter(room=room)
        .order_by("seq")
        .values_list("seq", "event_seq", "content")
    )


def test_a_batch_numbers_each_room_in_order_and_publishes_after_commit(
    alice: Any, bob: Any, public_room: ChatRoom, published: list[dict[str, Any]]
) -> None:
    other = services.do_create_room(bob, name="Other", room_type=RoomType.PUBLIC)
    services.do_send_message(alice, public_room, "before")
    published.clear()
    results = check_send_messages(
        [
            SendRequest(alice, public_room, "one"),
            SendRequest(bob, other, "elsewhere"),
            SendRequest(bob, public_room, "two"),
            SendRequest(alice, public_room, "three"),
        ]
    )
    assert all(isinstance(r, SendResult) and r.created for r in results)
    assert contents(public_room) == [
        (1, 1, "before"),
        (2, 2, "one"),
        (3, 3, "two"),
        (4, 4, "three"),
    ]
    assert contents(other) == [(1, 1, "elsewhere")]
    public_room.refresh_from_db()
    assert (public_room.last_seq, public_room.last_event_seq) == (4, 4)
    assert [m["event_seq"] for m in published if m["room_id"] == public_room.pk] == [2, 3, 4]
    # Sending reads the room up to one's own message; bob became a participant.
    markers = dict(
        ChatParticipant.objects.filter(room=public_room).values_list(
            "user__username", "last_read_seq"
        )
    )
    assert markers == {"alice": 4, "bob": 3}


def test_retries_return_the_stored_message(
    alice: Any, public_room: ChatRoom, published: list[dict[str, Any]]
) -> None:
    stored = services.check_send_message(alice, public_room, "hi", client_id="c1").message
    published.clear()
    results = check_send_messages(
        [
            SendRequest(alice, public_room, "hi", client_id="c1"),  # stored before
            SendRequest(alice, public_room, "new", client_id="c2"),
            SendRequest(alice, public_room, "new", client_id="c2"),  # twice in the batch
        ]
    )
    assert isinstance(results[0], SendResult)
    assert isinstance(results[1], SendResult)
    assert isinstance(results[2], SendResult)
    assert (results[0].message.pk, results[0].created) == (stored.pk, False)
    assert results[1].created
    assert not results[2].created
    assert results[2].message.pk == results[1].message.pk
    assert ChatMessage.objects.filter(room=public_room).count() == 2
    assert len(published) == 1  # Only the new message is announced.
    # A batch of retries only stores nothing (and numbers no room).
    (again,) = check_send_messages([SendRequest(alice, public_room, "new", client_id="c2")])
    assert isinstance(again, SendResult)
    assert (again.message.pk, again.created) == (results[1].message.pk, False)
    public_room.refresh_from_db()
    assert public_room.last_seq == 2


def test_one_bad_request_does_not_fail_or_ack_the_others(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    make_user: Callable[..., Any],
    published: list[dict[str, Any]],
) -> None:
    hidden = services.do_create_room(
        alice, name="Hidden", room_type=RoomType.GROUP, group=Group.objects.create(name="g")
    )
    archived = services.do_create_room(alice, name="Old", room_type=RoomType.PUBLIC)
    ChatRoom.objects.filter(pk=archived.pk).update(is_archived=True)
    archived.refresh_from_db()
    published.clear()
    results = check_send_messages(
        [
            SendRequest(alice, public_room, "fine"),
            SendRequest(alice, public_room, "   "),
            SendRequest(bob, hidden, "sneaky"),
            SendRequest(alice, archived, "late"),
            SendRequest(alice, public_room, "reply", reply_to=999_999),
            SendRequest(bob, public_room, "also fine"),
        ]
    )
    kinds = [type(r) for r in results]
    assert kinds == [
        SendResult,
        ValidationFailed,
        NotFound,
        RoomArchived,
        ValidationFailed,
        SendResult,
    ]
    assert contents(public_room) == [(1, 1, "fine"), (2, 2, "also fine")]
    assert not ChatMessage.objects.filter(room__in=[hidden, archived]).exists()
    assert len(published) == 2


def test_a_failing_batch_falls_back_to_one_transaction_per_send(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    monkeypatch: pytest.MonkeyPatch,
    published: list[dict[str, Any]],
) -> None:
    def lost_race(*args: Any, **kwargs: Any) -> None:
        raise IntegrityError("a concurrent retry stored this client id first")

    real_single = batch.do_send_message

    def single(user: Any, room: ChatRoom, content: str, **kwargs: Any) -> Any:
        if content == "poison":
            raise ValueError("the database refused this one")
        return real_single(user, room, content, **kwargs)

    monkeypatch.setattr(batch, "_insert", lost_race)
    monkeypatch.setattr(batch, "do_send_message", single)
    results = check_send_messages(
        [
            SendRequest(alice, public_room, "a", client_id="x1"),
            SendRequest(bob, public_room, "poison"),
            SendRequest(bob, public_room, "b"),
        ]
    )
    assert isinstance(results[0], SendResult)
    assert isinstance(results[2], SendResult)
    assert isinstance(results[1], ValueError)
    # Nothing of the rolled-back batch was announced; each stored send was, once.
    assert contents(public_room) == [(1, 1, "a"), (2, 2, "b")]
    assert [m["event_seq"] for m in published] == [1, 2]


def test_posting_costs_the_same_queries_whatever_the_room_size(
    alice: Any, make_user: Callable[..., Any], published: list[dict[str, Any]]
) -> None:
    from django.db import connection

    users = [make_user() for _ in range(199)]

    def room_of(members: int) -> ChatRoom:
        room = services.do_create_room(alice, name=f"Room {members}", room_type=RoomType.PUBLIC)
        for user in users[: members - 1]:
            services.do_join_room(user, room)
        assert ChatParticipant.objects.filter(room=room).count() == members
        return room

    def cost(room: ChatRoom) -> tuple[int, int]:
        room = ChatRoom.objects.get(pk=room.pk)
        with CaptureQueriesContext(connection) as single:
            services.check_send_message(alice, room, "one", client_id="q1")
        with CaptureQueriesContext(connection) as batched:
            results = check_send_messages(
                [
                    SendRequest(alice, room, "two", client_id="q2"),
                    SendRequest(users[0], room, "three"),
                ]
            )
        assert all(isinstance(r, SendResult) and r.created for r in results)
        return len(single), len(batched)

    small_room, big_room = room_of(2), room_of(200)
    published.clear()
    small, big = cost(small_room), cost(big_room)
    assert small == big
    assert len(published) == 6  # Every message announced once, to the room's group.


@pytest.mark.postgres
def test_concurrent_batches_keep_numbers_gap_free_ordered_and_unique(
    make_user: Callable[..., Any], settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEND_RATE_BURST": 10_000}
    threads, batches, size = 6, 8, 10
    users = [make_user() for _ in range(threads)]
    rooms = [
        services.do_create_room(users[0], name=f"Busy {n}", room_type=RoomType.PUBLIC)
        for n in range(2)
    ]
    start = threading.Barrier(threads)
    failures: list[Any] = []

    def post(index: int) -> None:
        user = users[index]
        try:
            start.wait()
            for b in range(batches):
                requests = [
                    SendRequest(user, rooms[n % 2], f"{index}:{b * size + n}", client_id=f"{b}-{n}")
                    for n in range(size)
                ]
                # Every other batch repeats its first request: a retry inside the batch.
                if b % 2:
                    requests.append(requests[0])
                failures.extend(
                    r for r in check_send_messages(requests) if not isinstance(r, SendResult)
                )
        except BaseException as exc:
            failures.append(exc)
        finally:
            from django.db import connection

            connection.close()

    workers = [threading.Thread(target=post, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    for room in rooms:
        rows = contents(room)
        total = threads * batches * size // 2
        assert [seq for seq, _, _ in rows] == list(range(1, total + 1))
        assert [event_seq for _, event_seq, _ in rows] == list(range(1, total + 1))
        # Each sender's messages keep the order they were sent in.
        for index in range(threads):
            mine = [int(c.split(":")[1]) for _, _, c in rows if c.startswith(f"{index}:")]
            assert mine == sorted(mine)


async def test_the_batcher_answers_each_caller_with_its_own_result(
    alice: Any, bob: Any, public_room: ChatRoom, published: list[dict[str, Any]]
) -> None:
    import asyncio

    batcher = SendBatcher(asyncio.get_running_loop())
    sends = [
        batcher.send(SendRequest(alice, public_room, f"m{n}", client_id=f"k{n}")) for n in range(20)
    ]
    sends.append(batcher.send(SendRequest(bob, public_room, "")))
    results = await asyncio.gather(*sends, return_exceptions=True)
    assert isinstance(results[-1], ValidationFailed)
    stored = [r for r in results[:-1] if isinstance(r, MessageData)]
    assert [r.content for r in stored] == [f"m{n}" for n in range(20)]
    assert sorted(r.seq for r in stored) == list(range(1, 21))
    assert batcher.stored == 20
    assert batcher.batches < 21  # Concurrent sends shared transactions.
