"""Group commit of sends (services.batch, batcher): numbering, idempotency, isolation, cost."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from smartcampus_chat import services
from smartcampus_chat.exceptions import NotFound, RateLimited, RoomArchived, ValidationFailed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, RoomType
from smartcampus_chat.protocol.frames import MessageData
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services import batch
from smartcampus_chat.services.batch import SendRequest, check_send_messages
from smartcampus_chat.services.batcher import SendBatcher
from smartcampus_chat.services.messages import SendResult
from tests.conftest import REDIS_URL, SESSION_PREFIX

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


def test_the_rendered_messages_are_what_a_fresh_read_renders(
    alice: Any, bob: Any, public_room: ChatRoom, published: list[dict[str, Any]]
) -> None:
    """Group commit renders each new message once (event and ack) without reading it back:
    the rendering must be exactly the stored row's."""
    other = services.do_create_room(bob, name="Other", room_type=RoomType.PUBLIC)
    parent = services.do_send_message(bob, public_room, "parent").message
    results = check_send_messages(
        [
            SendRequest(alice, public_room, "  reply  ", client_id="r1", reply_to=parent.pk),
            SendRequest(bob, other, "plain"),
            SendRequest(alice, public_room, "again", client_id="r2"),
        ]
    )
    for result in results:
        assert isinstance(result, SendResult)
        assert result.data is not None
        stored = ChatMessage.objects.select_related("room", "sender").get(pk=result.message.pk)
        assert result.data == message_data(stored)
    first = results[0]
    assert isinstance(first, SendResult)
    assert (first.message.content, first.message.reply_to_id) == ("reply", parent.pk)
    frames = [m["frame"] for m in published if m["event_seq"] > 1 or m["room_id"] == other.pk]
    assert len(frames) == 3


def test_a_batch_of_retries_answers_with_the_stored_rendering(
    alice: Any, public_room: ChatRoom, published: list[dict[str, Any]]
) -> None:
    (first,) = check_send_messages([SendRequest(alice, public_room, "once", client_id="k")])
    assert isinstance(first, SendResult)
    published.clear()
    (again,) = check_send_messages([SendRequest(alice, public_room, "once", client_id="k")])
    assert isinstance(again, SendResult)
    assert (again.message.pk, again.created) == (first.message.pk, False)
    assert published == []
    assert ChatMessage.objects.filter(room=public_room).count() == 1


@pytest.mark.postgres
def test_an_error_in_the_middle_of_a_batch_stays_with_its_request(
    alice: Any, bob: Any, public_room: ChatRoom, published: list[dict[str, Any]]
) -> None:
    """PostgreSQL refuses NUL characters in text: the batch's single INSERT fails as a whole,
    and the sends are stored one by one, numbered without a gap, the bad one refused."""
    results = check_send_messages(
        [
            SendRequest(alice, public_room, "first", client_id="n1"),
            SendRequest(bob, public_room, "nul \x00 inside", client_id="n2"),
            SendRequest(alice, public_room, "third", client_id="n3"),
        ]
    )
    assert isinstance(results[0], SendResult)
    assert isinstance(results[1], Exception)
    assert isinstance(results[2], SendResult)
    assert contents(public_room) == [(1, 1, "first"), (2, 2, "third")]
    assert [m["event_seq"] for m in published] == [1, 2]
    # Retrying the whole batch stores nothing twice.
    again = check_send_messages(
        [
            SendRequest(alice, public_room, "first", client_id="n1"),
            SendRequest(alice, public_room, "third", client_id="n3"),
        ]
    )
    assert [r.created for r in again if isinstance(r, SendResult)] == [False, False]
    assert len(contents(public_room)) == 2


def test_rate_limits_are_taken_per_sender_for_the_whole_batch(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any, published: list[dict[str, Any]]
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "SEND_RATE_BURST": 3,
        "SEND_RATE_PER_SECOND": 0.5,
    }
    requests = [SendRequest(alice, public_room, f"a{n}") for n in range(5)]
    requests.insert(2, SendRequest(bob, public_room, "b"))
    results = check_send_messages(requests)
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["SendResult"] * 4 + ["RateLimited"] * 2
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert all(r.retry_after and 0 < r.retry_after <= 2 for r in refused)
    # Alice's bucket is empty: her next single send is refused too; bob still has tokens.
    with pytest.raises(RateLimited):
        services.check_send_message(alice, public_room, "more")
    services.check_send_message(bob, public_room, "more")


def test_take_many_is_take_called_that_many_times(monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = ratelimit.Bucket("test", burst=4, per_second=2.0)
    clock = [1_000_000]
    monkeypatch.setattr(ratelimit, "_now_ms", lambda: clock[0])
    for count, advance in [(3, 0), (3, 0), (2, 700), (6, 5_000), (1, 0)]:
        clock[0] += advance
        ratelimit.cache.delete_many([f"{ratelimit._PREFIX}:test:one", "x"])
        one_by_one = [ratelimit.take(bucket, "one") for _ in range(count)]
        ratelimit.cache.delete(f"{ratelimit._PREFIX}:test:one")
        together = ratelimit.take_many(bucket, "one", count)
        assert [bool(w) for w in together] == [bool(w) for w in one_by_one]
    # Running totals: a bucket used in batches refuses exactly when single takes would.
    ratelimit.cache.clear()
    singles = [ratelimit.take(bucket, "a") for _ in range(7)]
    batched = ratelimit.take_many(bucket, "b", 2) + ratelimit.take_many(bucket, "b", 5)
    assert [bool(w) for w in batched] == [bool(w) for w in singles]
    assert batched[-1] == singles[-1]


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[list[int]]:
    """Django's ``RedisCache`` as the default cache, the real Redis of the suite; the
    list counts the rate limiter's round trips through its batch path."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": SESSION_PREFIX,
        }
    }
    ratelimit.cache.clear()
    trips: list[int] = []
    real = ratelimit._redis_client

    def counted() -> Any:
        client = real()
        assert client is not None, "the default cache should be Django's RedisCache"
        trips.append(1)
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ratelimit, "_redis_client", counted)
        yield trips
    ratelimit.cache.clear()


@pytest.mark.redis
def test_take_each_on_redis_is_take_called_for_each_key(
    redis_cache: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = ratelimit.Bucket("test", burst=4, per_second=2.0)
    clock = [1_000_000]
    monkeypatch.setattr(ratelimit, "_now_ms", lambda: clock[0])
    steps = [{"a": 3, "b": 1}, {"a": 3, "b": 4}, {"a": 2, "b": 2}, {"a": 6, "b": 1}, {"a": 1}]
    for counts, advance in zip(steps, [0, 0, 700, 5_000, 0], strict=True):
        clock[0] += advance
        one_by_one = {
            key: [ratelimit.take(bucket, f"single-{key}") for _ in range(count)]
            for key, count in counts.items()
        }
        together = ratelimit.take_each(bucket, counts)
        assert together == {key: one_by_one[key] for key in counts}, (counts, clock[0])
    # The batch path and take() share the cells: after a batch drained "a", take refuses.
    clock[0] += 10_000
    assert ratelimit.take_each(bucket, {"a": 4, "c": 1}) == {"a": [0.0] * 4, "c": [0.0]}
    assert ratelimit.take(bucket, "a") == 0.5
    # One trip per call with several keys (a single key goes through take_many).
    assert len(redis_cache) == 5


@pytest.mark.redis
def test_a_batch_takes_every_senders_tokens_in_one_redis_round_trip(
    redis_cache: list[int], make_user: Callable[..., Any], public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "SEND_RATE_BURST": 2,
        "SEND_RATE_PER_SECOND": 0.5,
    }
    senders = [make_user(f"sender{n}") for n in range(30)]
    requests = [
        SendRequest(user, public_room, f"{user.username} {n}") for user in senders for n in range(3)
    ]
    results = check_send_messages(requests)
    assert len(redis_cache) == 1
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["SendResult", "SendResult", "RateLimited"] * len(senders)
    assert ChatMessage.objects.filter(room=public_room).count() == 2 * len(senders)
    # The buckets are the ones single sends use: every sender is out of tokens.
    for user in senders[:3]:
        with pytest.raises(RateLimited):
            services.check_send_message(user, public_room, "one more")


def test_batch_queries_do_not_grow_with_senders_without_a_known_access(
    make_user: Callable[..., Any], public_room: ChatRoom, published: list[dict[str, Any]]
) -> None:
    users = [make_user() for _ in range(12)]
    other = services.do_create_room(users[0], name="Other", room_type=RoomType.PUBLIC)

    def cost(count: int, tag: str) -> int:
        requests = [
            SendRequest(users[n], (public_room, other)[n % 2], f"{tag}{n}", client_id=f"{tag}{n}")
            for n in range(count)
        ]
        # Everyone sent before: the cost of steady state (no new participants).
        check_send_messages(
            [
                SendRequest(r.user, r.room, "warm", client_id=f"w{tag}{i}")
                for i, r in enumerate(requests)
            ]
        )
        with CaptureQueriesContext(connection) as captured:
            results = check_send_messages(requests)
        assert all(isinstance(r, SendResult) and r.created for r in results)
        return len(captured)

    assert cost(2, "s") == cost(12, "b")


async def test_batch_events_go_out_in_commit_order_without_holding_the_database_thread(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's publishes are queued (the thread goes on); a later single send's publish
    waits behind them, so the room's events reach the layer in event_seq order."""
    layer = get_channel_layer()
    sent: list[int] = []
    gate = asyncio.Event()

    async def slow_group_send(group: str, message: dict[str, Any]) -> None:
        await gate.wait()
        if str(message.get("frame_type", "")).startswith("message."):
            sent.append(message["event_seq"])

    monkeypatch.setattr(layer, "group_send", slow_group_send)

    def batch_then_return() -> list[int]:
        with events.publish_without_waiting():
            results = check_send_messages(
                [SendRequest(alice, public_room, f"m{n}", client_id=f"o{n}") for n in range(3)]
            )
        return [r.message.event_seq for r in results if isinstance(r, SendResult)]

    numbers = await database_sync_to_async(batch_then_return)()
    assert numbers == [1, 2, 3]
    assert sent == []  # Returned before the layer took anything.
    single = asyncio.ensure_future(
        database_sync_to_async(services.do_send_message)(alice, public_room, "after")
    )
    await asyncio.sleep(0.05)
    assert not single.done()  # Waits for its own publish, queued behind the batch's.
    gate.set()
    await single
    assert sent == [1, 2, 3, 4]
