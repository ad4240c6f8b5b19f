"""Notifications (docs/notifications.md): who is notified of what, through which channel,
written once and delivered at most once.

The table test sends real messages through the send pipeline, then runs the real worker
(``notifications.deliver_due``) with a recording channel in place of Web Push and e-mail
(their own tests talk to real local servers): for each kind of notification and each
preference or state, the expected outcome in every channel is written out by hand.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.domain.notifications import MUTED_FOREVER, mute_end
from smartcampus_chat.models import (
    ChatConnection,
    ChatMessage,
    ChatNotification,
    ChatNotificationDelivery,
    ChatParticipant,
    ChatPreferences,
    ChatRoom,
    DeliveryState,
)
from smartcampus_chat.notifications import deliver_due, worker
from smartcampus_chat.notifications.channels import Outcome
from smartcampus_chat.services import deliveries
from smartcampus_chat.services.notifications import Notable, do_notify
from smartcampus_chat.testing import capture_events, open_user
from tests import notify_channels
from tests.http import api, logged_in

db = database_sync_to_async
pytestmark = pytest.mark.django_db


@pytest.fixture
def channels_on(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Web Push and e-mail on for the site, both handled by the recording channel."""
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "NOTIFY_PUSH": True,
        "NOTIFY_EMAIL": True,
    }
    monkeypatch.setattr(
        worker,
        "CHANNEL_MODULES",
        {"push": "tests.notify_channels", "email": "tests.notify_channels"},
    )
    notify_channels.reset()
    yield
    notify_channels.reset()


def later(minutes: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


# --- The table: kind x preference or state x channel -----------------------------------


def _prefs(user: Any, **values: Any) -> None:
    ChatPreferences.objects.update_or_create(user=user, defaults=values)


def _membership(user: Any, room: ChatRoom) -> Any:
    return ChatParticipant.objects.filter(user=user, room=room)


#: Conditions set before the message is sent.
BEFORE: dict[str, Callable[[Any, ChatRoom], None]] = {
    "default": lambda alice, room: None,
    "browser off": lambda alice, room: _prefs(alice, browser_notifications=False),
    "push off": lambda alice, room: _prefs(alice, push_notifications=False),
    "e-mail off": lambda alice, room: _prefs(alice, email_digests=False),
    "room muted": lambda alice, room: _membership(alice, room).update(muted_until=later(60)),
    "mute ended": lambda alice, room: _membership(alice, room).update(muted_until=later(-1)),
    "room nothing": lambda alice, room: _membership(alice, room).update(notify_level="nothing"),
    "quiet hours": lambda alice, room: _prefs(
        alice,
        quiet_hours_start=(timezone.now() - dt.timedelta(hours=1)).time(),
        quiet_hours_end=(timezone.now() + dt.timedelta(hours=1)).time(),
        time_zone="UTC",
    ),
    "online": lambda alice, room: None,
    "read meanwhile": lambda alice, room: None,
    "deleted meanwhile": lambda alice, room: None,
    "muted meanwhile": lambda alice, room: None,
    "push off meanwhile": lambda alice, room: None,
}

# Expected, per condition (the same for every kind): (a notification row, the frame's
# ``browser``, push delivered, e-mail delivered). None: no frame.
EXPECTED: dict[str, tuple[bool, bool | None, bool, bool]] = {
    "default": (True, True, True, True),
    "browser off": (True, False, True, True),
    "push off": (True, True, False, True),
    "e-mail off": (True, True, True, False),
    "room muted": (False, None, False, False),
    "mute ended": (True, True, True, True),
    "room nothing": (False, None, False, False),
    "quiet hours": (True, False, False, True),
    "online": (True, True, False, True),
    "read meanwhile": (True, True, False, False),
    "deleted meanwhile": (True, True, False, False),
    "muted meanwhile": (True, True, False, False),
    "push off meanwhile": (True, True, False, True),
}


def _send_of_kind(kind: str, alice: Any, bob: Any, room: ChatRoom) -> ChatMessage:
    if kind == "mention":
        return services.check_send_message(bob, room, "@alice look at this").message
    if kind == "reply":
        question = services.check_send_message(alice, room, "a question").message
        return services.check_send_message(bob, room, "an answer", reply_to=question.pk).message
    if kind == "message":
        return services.check_send_message(bob, room, "hello all").message
    return services.check_send_message(bob, room, "hello alice").message  # private


def _meanwhile(condition: str, alice: Any, bob: Any, room: ChatRoom, message: ChatMessage) -> None:
    if condition == "online":
        ChatConnection.objects.create(
            channel_name="test.alice", user=alice, server="test", last_heartbeat=timezone.now()
        )
    elif condition == "read meanwhile":
        services.check_mark_read(alice, room, message.seq, services.room_access(alice, room))
    elif condition == "deleted meanwhile":
        services.check_delete_message(bob, message, services.room_access(bob, room))
    elif condition == "muted meanwhile":
        _membership(alice, room).update(muted_until=later(60))
    elif condition == "push off meanwhile":
        _prefs(alice, push_notifications=False)


@pytest.mark.usefixtures("channels_on")
@pytest.mark.parametrize("condition", list(EXPECTED))
@pytest.mark.parametrize("kind", ["mention", "reply", "private", "message"])
def test_each_channel_obeys_each_preference_for_each_kind(
    kind: str,
    condition: str,
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    django_capture_on_commit_callbacks: Any,
) -> None:
    if kind == "private":
        room, _created = services.check_open_private(bob, alice.pk)
    else:
        room = public_room
        services.do_join_room(bob, room)
    if kind == "message":  # alice chose every message of the room
        _membership(alice, room).update(notify_level="all")
    BEFORE[condition](alice, room)
    with capture_events() as events, django_capture_on_commit_callbacks(execute=True):
        message = _send_of_kind(kind, alice, bob, room)
    row = ChatNotification.objects.filter(user=alice, message=message).first()
    frames = [f for f in events.user_frames(alice) if f["type"] == "notification"]
    with django_capture_on_commit_callbacks(execute=True):
        _meanwhile(condition, alice, bob, room, message)
    deliver_due(later(NOTIFY_DIGEST + 1))
    delivered = {channel for channel, user, pk in notify_channels.DELIVERED if pk == message.pk}
    has_row, browser, push, email = EXPECTED[condition]
    email = email and kind != "message"  # a room's every message is not e-mailed
    assert (row is not None, row.kind if row else None) == (has_row, kind if has_row else None)
    assert [f["browser"] for f in frames] == ([] if browser is None else [browser])
    assert ("push" in delivered, "email" in delivered) == (push, email)
    assert not {user for _channel, user, _pk in notify_channels.DELIVERED} - {alice.pk}


NOTIFY_DIGEST = 30


@pytest.mark.usefixtures("channels_on")
def test_nobody_is_notified_of_a_plain_message_or_of_their_own(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    services.do_join_room(bob, public_room)
    with django_capture_on_commit_callbacks(execute=True):
        services.check_send_message(bob, public_room, "hello, nobody in particular")
        services.check_send_message(bob, public_room, "@bob talking to myself")
    assert not ChatNotification.objects.exists()
    assert deliver_due(later(60)) == 0


@pytest.mark.usefixtures("channels_on")
def test_one_notification_per_message_of_the_strongest_kind(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    services.do_join_room(bob, public_room)
    with django_capture_on_commit_callbacks(execute=True):
        question = services.check_send_message(alice, public_room, "a question").message
        answer = services.check_send_message(
            bob, public_room, "@alice the answer", reply_to=question.pk
        ).message
    assert list(ChatNotification.objects.values_list("user_id", "kind", "message_id")) == [
        (alice.pk, "mention", answer.pk)
    ]


@pytest.mark.usefixtures("channels_on")
def test_an_edit_notifies_whom_it_newly_mentions_once(
    alice: Any,
    bob: Any,
    make_user: Any,
    public_room: ChatRoom,
    django_capture_on_commit_callbacks: Any,
) -> None:
    carol = make_user("carol", first_name="Carol")
    for person in (bob, carol):
        services.do_join_room(person, public_room)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.check_send_message(bob, public_room, "@alice hi").message
    access = services.room_access(bob, public_room)
    for text in ("@alice and @carol hi", "@carol hi", "@alice @carol hi"):
        with django_capture_on_commit_callbacks(execute=True):
            services.check_edit_message(bob, message, text, access)
    assert sorted(ChatNotification.objects.values_list("user_id", "kind")) == sorted(
        [(alice.pk, "mention"), (carol.pk, "mention")]
    )


# --- Cost of the notify step --------------------------------------------------------------


def _big_room(make_user: Any, size: int) -> tuple[ChatRoom, list[Any]]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.bulk_create([User(username=f"member{i}") for i in range(size)])
    people = list(User.objects.filter(username__startswith="member").order_by("pk"))
    author = make_user("lecturer")
    room = ChatRoom.objects.create(name="Lecture", slug="lecture", room_type="public")
    ChatParticipant.objects.bulk_create(
        [ChatParticipant(room=room, user=p) for p in [author, *people]]
    )
    return room, [author, *people]


@pytest.mark.parametrize("mentions", [0, 1, 20])
def test_the_notify_step_costs_the_same_queries_whatever_the_room_size(
    mentions: int, make_user: Any
) -> None:
    room, people = _big_room(make_user, 300)
    author, members = people[0], people[1:]
    message = ChatMessage.objects.create(room=room, sender=author, content="x", seq=1, event_seq=1)
    notable = Notable(message, room, author, frozenset(p.pk for p in members[:mentions]))
    with CaptureQueriesContext(connection) as queries:
        written = do_notify([notable])
    assert len(written) == mentions
    # A message that marks nobody: the one query that finds nobody chose "all". With
    # mentions: that query, the people (the policy: who still sees the room), the
    # preferences, the insert, the unread counts (in a
    # savepoint here: SAVEPOINT and RELEASE count too), whatever their number.
    assert len(queries) == (1 if mentions == 0 else 7), [q["sql"] for q in queries]


# --- Reading ------------------------------------------------------------------------------


def _mention(bob: Any, room: ChatRoom, callbacks: Any, text: str = "@alice hi") -> ChatMessage:
    with callbacks(execute=True):
        return services.check_send_message(bob, room, text).message


def test_reading_the_room_reads_its_notifications_and_tells_the_sockets(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    services.do_join_room(bob, public_room)
    first = _mention(bob, public_room, django_capture_on_commit_callbacks)
    second = _mention(bob, public_room, django_capture_on_commit_callbacks, "@alice again")
    with capture_events() as events, django_capture_on_commit_callbacks(execute=True):
        services.check_mark_read(
            alice, public_room, first.seq, services.room_access(alice, public_room)
        )
    reads = [f for f in events.user_frames(alice) if f["type"] == "notifications.read"]
    first_id = ChatNotification.objects.get(message=first).pk
    assert [(f["ids"], f["all"], f["unread"]) for f in reads] == [([first_id], False, 1)]
    assert ChatNotification.objects.get(message=second).read_at is None


def test_a_deleted_message_is_no_longer_counted(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    services.do_join_room(bob, public_room)
    message = _mention(bob, public_room, django_capture_on_commit_callbacks)
    with capture_events() as events, django_capture_on_commit_callbacks(execute=True):
        services.check_delete_message(bob, message, services.room_access(bob, public_room))
    assert [
        f["unread"] for f in events.user_frames(alice) if f["type"] == "notifications.read"
    ] == [0]
    page = logged_in(alice).get(api("notification-list")).json()
    assert (page["unread"], page["results"][0]["excerpt"], page["results"][0]["read"]) == (
        0,
        "",
        True,
    )


def test_the_rest_api_lists_pages_and_marks_read(
    alice: Any,
    bob: Any,
    make_user: Any,
    public_room: ChatRoom,
    django_capture_on_commit_callbacks: Any,
) -> None:
    services.do_join_room(bob, public_room)
    sent = [
        _mention(bob, public_room, django_capture_on_commit_callbacks, f"@alice number {i}")
        for i in range(5)
    ]
    client = logged_in(alice)
    page = client.get(api("notification-list"), {"limit": 2}).json()
    assert [item["message_id"] for item in page["results"]] == [sent[4].pk, sent[3].pk]
    assert page["unread"] == 5
    item = page["results"][0]
    assert (item["kind"], item["room"], item["room_name"], item["actor"]["name"]) == (
        "mention",
        public_room.slug,
        public_room.name,
        "Bob",
    )
    assert item["excerpt"] == "@Alice number 4"
    assert item["url"].endswith(f"?message={sent[4].pk}")
    following = client.get(page["next"]).json()
    assert [i["message_id"] for i in following["results"]] == [sent[2].pk, sent[1].pk]
    # Someone else's ids are ignored (and not revealed); mine are marked.
    carol = make_user("carol")
    others = logged_in(carol).post(
        api("notifications-read"), {"ids": [item["id"]]}, content_type="application/json"
    )
    assert (others.status_code, others.json()) == (200, {"unread": 0})
    answer = client.post(
        api("notifications-read"), {"ids": [item["id"]]}, content_type="application/json"
    )
    assert answer.json() == {"unread": 4}
    unread = client.get(api("notification-list"), {"unread": "true"}).json()
    assert len(unread["results"]) == 4
    assert client.post(
        api("notifications-read"), {"all": True}, content_type="application/json"
    ).json() == {"unread": 0}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "ids"),
        ({"ids": "1"}, "ids"),
        ({"ids": [0]}, "ids"),
        ({"ids": list(range(1, 502))}, "ids"),
        ({"all": "perhaps"}, "all"),
    ],
)
def test_marking_read_refuses_bad_input(alice: Any, body: dict[str, Any], field: str) -> None:
    answer = logged_in(alice).post(api("notifications-read"), body, content_type="application/json")
    assert answer.status_code == 400
    assert [name.split(".")[0] for name in answer.json()["error"]["fields"]] == [field]


def test_a_room_level_and_mute_through_the_api(alice: Any, public_room: ChatRoom) -> None:
    client = logged_in(alice)
    url = api("room-notifications", slug=public_room.slug)
    assert client.get(url).json() == {
        "level": "",
        "effective_level": "mentions",
        "muted_until": None,
    }
    until = (timezone.now() + dt.timedelta(hours=8)).replace(microsecond=0)
    answer = client.put(
        url, {"level": "all", "muted_until": until.isoformat()}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["effective_level"] == "all"
    assert dt.datetime.fromisoformat(answer.json()["muted_until"].replace("Z", "+00:00")) == until
    bad = client.put(url, {"level": "loud"}, content_type="application/json")
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["level"])
    unmuted = client.put(url, {"level": "", "muted_until": None}, content_type="application/json")
    assert unmuted.json() == {"level": "", "effective_level": "mentions", "muted_until": None}


def test_a_room_i_am_not_in_has_no_settings(
    alice: Any, make_user: Any, public_room: ChatRoom
) -> None:
    stranger = make_user("stranger")
    answer = logged_in(stranger).get(api("room-notifications", slug=public_room.slug))
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"language": "tlh"}, "language"),
        ({"digest_delay": 0}, "digest_delay"),
        ({"quiet_hours_start": "22:00"}, "quiet_hours_end"),
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}, "quiet_hours_start"),
        ({"push_notifications": "maybe"}, "push_notifications"),
    ],
)
def test_notification_preferences_are_checked(
    alice: Any, change: dict[str, Any], field: str
) -> None:
    answer = logged_in(alice).patch(api("preferences"), change, content_type="application/json")
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]


def test_notification_preferences_are_saved(alice: Any) -> None:
    change = {
        "push_notifications": False,
        "digest_delay": 90,
        "quiet_hours_start": "22:30",
        "quiet_hours_end": "07:00",
        "time_zone": "Europe/Paris",
        "language": "fr",
    }
    answer = logged_in(alice).patch(api("preferences"), change, content_type="application/json")
    assert answer.status_code == 200, answer.json()
    assert {key: answer.json()[key] for key in change} == change
    stored = ChatPreferences.objects.get(user=alice)
    assert (stored.quiet_hours_start, stored.quiet_hours_end) == (dt.time(22, 30), dt.time(7))


# --- Delivery: at most once, retries, the lease ---------------------------------------------


@pytest.mark.usefixtures("channels_on")
def test_a_delivery_is_handed_over_once_whatever_the_rounds(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    services.do_join_room(bob, public_room)
    _mention(bob, public_room, django_capture_on_commit_callbacks)
    assert deliver_due() == 1  # push: due now; the digest waits for its delay
    assert deliver_due() == 0
    assert deliver_due(later(31)) == 1
    assert deliver_due(later(120)) == 0
    assert [channel for channel, _u, _m in notify_channels.DELIVERED] == ["push", "email"]
    assert set(ChatNotificationDelivery.objects.values_list("state", flat=True)) == {"sent"}


@pytest.mark.usefixtures("channels_on")
def test_a_claimed_delivery_is_never_claimed_again(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    services.do_join_room(bob, public_room)
    _mention(bob, public_room, django_capture_on_commit_callbacks)
    now = timezone.now()
    first = deliveries.do_claim_due(now, 10)
    assert len(first) == 1
    assert deliveries.do_claim_due(now, 10) == []
    # Its worker died while sending: after the lease it fails, it is not sent again.
    assert deliver_due(now + dt.timedelta(seconds=301)) == 0
    row = ChatNotificationDelivery.objects.get(pk=first[0])
    assert (row.state, notify_channels.DELIVERED) == (DeliveryState.FAILED, [])


@pytest.mark.usefixtures("channels_on")
def test_a_passing_failure_is_retried_with_backoff_then_given_up(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    _prefs(alice, email_digests=False)
    services.do_join_room(bob, public_room)
    _mention(bob, public_room, django_capture_on_commit_callbacks)
    notify_channels.OUTCOME[:] = [Outcome("retry", "push service 503")]
    now = timezone.now()
    waits = []
    for _attempt in range(5):
        assert deliver_due(now) == 1
        row = ChatNotificationDelivery.objects.get()
        if row.state == DeliveryState.PENDING:
            waits.append(round((row.due_at - now).total_seconds() / 30))
            now = row.due_at
    assert waits == [1, 4, 16, 64]
    assert (row.state, row.attempts, row.detail) == ("failed", 5, "push service 503")
    assert deliver_due(now + dt.timedelta(days=1)) == 0


@pytest.mark.usefixtures("channels_on")
def test_a_channel_that_raises_loses_nothing(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services.do_join_room(bob, public_room)
    message = _mention(bob, public_room, django_capture_on_commit_callbacks)

    def broken(batch: Any) -> Any:
        raise ConnectionError("push service unreachable")

    monkeypatch.setattr(notify_channels, "deliver", broken)
    assert deliver_due() == 1
    row = ChatNotificationDelivery.objects.get(channel="push")
    assert (row.state, row.attempts) == ("pending", 1)
    assert "unreachable" in row.detail
    assert ChatMessage.objects.filter(pk=message.pk, is_deleted=False).exists()


def test_a_failing_notify_step_never_fails_the_send(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smartcampus_chat.services import notifications

    def broken(notables: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(notifications, "do_notify", broken)
    services.do_join_room(bob, public_room)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.check_send_message(bob, public_room, "@alice still sent")
    assert result.created
    assert ChatMessage.objects.filter(pk=result.message.pk).exists()


# --- Over the socket ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_notifications_arrive_live_and_are_read_over_the_socket(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    socket = await open_user(alice)
    try:
        await db(services.check_send_message)(bob, public_room, "@alice ping")
        frame = await socket.receive_until(lambda f: f["type"] == "notification")
        item = frame["notification"]
        assert (frame["unread"], frame["browser"], item["kind"], item["room"]) == (
            1,
            True,
            "mention",
            public_room.slug,
        )
        await socket.send_frame(type="notifications.read", ids=[item["id"]], id="r1")
        seen: dict[str, Any] = {}
        while len(seen) < 2:
            got = await socket.receive_until(lambda f: f["type"] in ("ack", "notifications.read"))
            seen[got["type"]] = got
        assert seen["ack"]["id"] == "r1"
        assert {k: seen["notifications.read"][k] for k in ("ids", "all", "unread")} == {
            "ids": [item["id"]],
            "all": False,
            "unread": 0,
        }
        await socket.send_frame(type="notifications.read", id="r2")
        error = await socket.receive_until(lambda f: f["type"] == "error")
        assert (error["code"], error["id"], list(error["fields"])) == ("invalid", "r2", ["ids"])
    finally:
        await socket.disconnect()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_claiming_at_once_never_share_a_delivery(
    alice: Any, bob: Any, public_room: ChatRoom, no_rate_limits: Any
) -> None:
    services.do_join_room(bob, public_room)
    message = services.check_send_message(bob, public_room, "@alice hi").message
    notification = ChatNotification.objects.get(message=message)
    ChatNotificationDelivery.objects.filter(notification=notification).delete()
    others = [
        ChatNotification.objects.create(
            user=alice, kind="mention", room=public_room, message=m, actor=bob
        )
        for m in [
            services.check_send_message(bob, public_room, f"n{i}").message for i in range(119)
        ]
    ]
    ChatNotificationDelivery.objects.bulk_create(
        [ChatNotificationDelivery(notification=n, channel="push") for n in [notification, *others]]
    )
    workers = 6
    start = threading.Barrier(workers)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def claim() -> None:
        try:
            start.wait()
            mine: list[int] = []
            while batch := deliveries.do_claim_due(timezone.now(), 7):
                mine.extend(batch)
            claimed.append(mine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    every = [pk for mine in claimed for pk in mine]
    assert len(every) == len(set(every)) == 120
    assert sum(1 for mine in claimed if mine) > 1  # they really ran side by side


@pytest.mark.usefixtures("channels_on")
def test_the_admin_shows_the_notification_log_read_only(
    admin_client: Any,
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    django_capture_on_commit_callbacks: Any,
) -> None:
    services.do_join_room(bob, public_room)
    _mention(bob, public_room, django_capture_on_commit_callbacks)
    notify_channels.OUTCOME[:] = [Outcome("failed", "410 Gone")]
    deliver_due()
    log = admin_client.get(reverse("admin:smartcampus_chat_chatnotification_changelist"))
    assert log.status_code == 200
    assert "alice" in log.content.decode()
    failed = admin_client.get(
        reverse("admin:smartcampus_chat_chatnotificationdelivery_changelist"), {"state": "failed"}
    )
    assert "410 Gone" in failed.content.decode()
    notification = ChatNotification.objects.get()
    change = admin_client.get(
        reverse("admin:smartcampus_chat_chatnotification_change", args=[notification.pk])
    )
    assert change.status_code == 200
    assert 'name="kind"' not in change.content.decode()  # read-only
    assert (
        admin_client.get(reverse("admin:smartcampus_chat_chatnotification_add")).status_code == 403
    )


def test_a_muted_room_is_marked_and_left_out_of_the_unread_total(
    alice: Any, bob: Any, public_room: ChatRoom, make_user: Any
) -> None:
    from smartcampus_chat.queries.sidebar import sidebar

    other = services.do_create_room(bob, name="Other", room_type="public")
    for room in (public_room, other):
        services.do_join_room(bob, room)
        services.do_join_room(alice, room)
        services.check_send_message(bob, room, "news")
    _membership(alice, other).update(muted_until=later(60))
    rooms = {r["slug"]: r for r in logged_in(alice).get(api("room-list")).json()["results"]}
    assert (rooms[other.slug]["muted"], rooms[public_room.slug]["muted"]) == (True, False)
    assert (rooms[other.slug]["unread"], sidebar(alice).unread) == (1, 1)
    _membership(alice, other).update(muted_until=later(-1))  # the mute ran out
    assert sidebar(alice).unread == 2


@pytest.mark.usefixtures("channels_on")
def test_a_reader_of_a_public_room_who_never_joined_is_notified_of_a_mention(
    alice: Any,
    bob: Any,
    make_user: Any,
    public_room: ChatRoom,
    django_capture_on_commit_callbacks: Any,
) -> None:
    carol = make_user("carol", first_name="Carol")
    services.do_join_room(bob, public_room)
    message = _mention(bob, public_room, django_capture_on_commit_callbacks, "@carol have a look")
    assert list(ChatNotification.objects.values_list("user_id", "kind")) == [(carol.pk, "mention")]
    deliver_due(later(31))
    assert sorted(notify_channels.DELIVERED) == [
        ("email", carol.pk, message.pk),
        ("push", carol.pk, message.pk),
    ]


@pytest.mark.usefixtures("channels_on")
def test_someone_removed_from_the_room_is_not_notified(
    alice: Any, bob: Any, staff: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    services.do_join_room(bob, public_room)
    first = _mention(bob, public_room, django_capture_on_commit_callbacks)
    membership = ChatParticipant.objects.get(user=alice, room=public_room)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_remove_member(staff, public_room, membership)
    assert ChatParticipant.objects.get(user=alice, room=public_room).is_banned
    _mention(bob, public_room, django_capture_on_commit_callbacks, "@alice are you there?")
    # The first notification was written while she was a member; its deliveries no longer go.
    assert list(ChatNotification.objects.values_list("message_id", flat=True)) == [first.pk]
    deliver_due(later(31))
    assert notify_channels.DELIVERED == []
    assert set(ChatNotificationDelivery.objects.values_list("detail", flat=True)) == {"no access"}
    # Her bell no longer counts it, her list no longer shows its text.
    assert logged_in(alice).get(api("notification-list")).json() == {
        "results": [],
        "unread": 0,
        "next": None,
    }


@pytest.mark.usefixtures("channels_on")
def test_a_member_who_lost_the_group_is_not_sent_what_was_written_before(
    alice: Any, bob: Any, group: Any, group_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    for person in (alice, bob):
        person.groups.add(group)
        services.do_join_room(person, group_room)
    _mention(bob, group_room, django_capture_on_commit_callbacks)
    # Out of the group by a raw change no receiver hears: her membership row stays, and
    # the policy alone stands between the room's text and her inbox.
    type(alice).groups.through.objects.filter(user=alice, group=group).delete()
    assert ChatParticipant.objects.filter(user=alice, room=group_room, is_banned=False).exists()
    deliver_due(later(31))
    assert notify_channels.DELIVERED == []
    assert set(ChatNotificationDelivery.objects.values_list("detail", flat=True)) == {"no access"}
    page = logged_in(alice).get(api("notification-list")).json()
    assert (page["results"], page["unread"]) == ([], 0)


def test_a_page_of_notifications_costs_the_same_queries_whatever_its_length(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    from smartcampus_chat import queries

    services.do_join_room(bob, public_room)
    counts = []
    for batch in (2, 12):
        for i in range(batch):
            _mention(bob, public_room, django_capture_on_commit_callbacks, f"@alice {i}")
        with CaptureQueriesContext(connection) as captured:
            page = queries.notifications_of(alice, limit=50)
        assert len(page.items) == len(ChatNotification.objects.filter(user=alice))
        counts.append(len(captured))
    assert counts[0] == counts[1] <= 4, counts


@pytest.mark.usefixtures("channels_on")
def test_a_member_out_of_the_group_is_not_told_what_the_room_says(
    alice: Any, bob: Any, group: Any, group_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    for person in (alice, bob):
        person.groups.add(group)
        services.do_join_room(person, group_room)
    alice.groups.remove(group)  # her membership row stays; the policy refuses her the room
    with capture_events() as events:
        _mention(bob, group_room, django_capture_on_commit_callbacks, "@alice the secret plan")
    assert not ChatNotification.objects.exists()
    assert [f for f in events.user_frames(alice) if f["type"] == "notification"] == []


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("1h", dt.timedelta(hours=1)),
        ("8h", dt.timedelta(hours=8)),
        ("1d", dt.timedelta(days=1)),
        ("1w", dt.timedelta(weeks=1)),
        ("forever", "forever"),
        ("off", None),
        ("", "kept"),
        ("2h", "kept"),
    ],
)
def test_a_mute_choice_ends_the_mute_when_the_rule_says(choice: str, expected: Any) -> None:
    """The one rule behind the room menu's "Mute for…" (HTML form and browser client)."""
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)
    current = now + dt.timedelta(minutes=5)
    end = mute_end(choice, current, now)
    if isinstance(expected, dt.timedelta):
        assert end == now + expected
    else:
        assert end == {"forever": MUTED_FOREVER, None: None, "kept": current}[expected]
