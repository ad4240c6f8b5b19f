"""Retention (docs/retention.md): each rule kind, a room's own rule, the grace period of
deleted messages, what a purge deletes (files included), its counts, batches and audit
entries, the command, and what clients see: the ``messages.purged`` frame, the purge marks
of ``resumed`` and of the REST history (the gap)."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from smartcampus_chat import checks, services
from smartcampus_chat.exceptions import PermissionDenied, ValidationFailed
from smartcampus_chat.infra import file_store
from smartcampus_chat.models import (
    AuditAction,
    ChatAttachment,
    ChatAuditEntry,
    ChatMention,
    ChatMessage,
    ChatMessageEdit,
    ChatNotification,
    ChatParticipant,
    ChatReaction,
    ChatReport,
    ChatRoom,
    RetentionKind,
    Role,
    RoomType,
)
from smartcampus_chat.services.batch import check_send_messages
from smartcampus_chat.services.send_checks import SendRequest
from smartcampus_chat.testing import open_room
from tests import attachment_files as files
from tests.http import api, logged_in

db = database_sync_to_async


def retain(settings: Any, **more: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, **more}


def say(user: Any, room: ChatRoom, content: str, *, days_ago: float = 0, **more: Any) -> Any:
    message = services.do_send_message(user, room, content, **more).message
    if days_ago:
        when = timezone.now() - timedelta(days=days_ago)
        ChatMessage.objects.filter(pk=message.pk).update(created_at=when)
    return message


def remaining(room: ChatRoom) -> list[str]:
    return list(
        ChatMessage.objects.filter(room=room).order_by("seq").values_list("content", flat=True)
    )


def history(client: Client, room: ChatRoom, **query: Any) -> Any:
    response = client.get(api("message-list", room_slug=room.slug), query)
    assert response.status_code == 200, response.content
    return response.json()


# --- The rules ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_n_days_after_each_message(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    retain(settings, RETENTION={"public": {"days": 30}})
    services.do_join_room(bob, public_room)
    for n in range(3):
        say(alice, public_room, f"old {n}", days_ago=40)
    say(alice, public_room, "recent", days_ago=10)
    say(alice, public_room, "today")
    services.do_mark_read(bob, public_room, 2)  # bob read two of the old ones
    room = ChatRoom.objects.get(pk=public_room.pk)
    before = (room.last_seq, room.last_event_seq)

    counts = services.do_purge_expired()

    assert remaining(public_room) == ["recent", "today"]
    assert (counts.messages, counts.rooms) == (3, 1)
    room.refresh_from_db()
    assert (room.last_seq, room.last_event_seq) == before  # numbers are never reused
    assert room.purged_through_seq == 3
    # bob's marker stays where he read; his unread count is what exists unread: 2.
    assert ChatParticipant.objects.get(room=room, user=bob).last_read_seq == 2
    unread = logged_in(bob).get(api("unread")).json()
    assert unread["rooms"] == [{"room": room.slug, "unread": 2, "mentions": 0, "last_read_seq": 2}]
    # The next message takes the next number.
    assert say(alice, public_room, "after").seq == before[0] + 1
    # Idempotent: a second run finds nothing, and writes no audit entry.
    again = services.do_purge_expired()
    assert (again.messages, again.rooms, again.batches) == (0, 0, 0)
    entries = ChatAuditEntry.objects.filter(action=AuditAction.RETENTION_PURGED)
    assert [(e.room_id, e.actor_id, e.details["messages"]) for e in entries] == [(room.pk, None, 3)]


@pytest.mark.django_db
def test_a_message_waits_for_its_older_neighbours(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    """The purge deletes a prefix of the room's numbering: a message whose clock ran
    ahead of a later one is kept until they have both expired (never deleted early)."""
    retain(settings, RETENTION={"public": {"days": 30}})
    say(alice, public_room, "one", days_ago=40)
    say(alice, public_room, "two", days_ago=20)  # not expired
    say(alice, public_room, "three", days_ago=40)  # expired, but after "two"
    assert services.do_purge_expired().messages == 1
    assert remaining(public_room) == ["two", "three"]


@pytest.mark.django_db
def test_n_days_after_the_room_is_archived(staff: Any, group_room: ChatRoom, settings: Any) -> None:
    retain(settings, RETENTION={"group": {"days_after_archive": 90}})
    say(staff, group_room, "minutes", days_ago=400)
    say(staff, group_room, "last words")
    assert services.do_purge_expired().messages == 0  # not archived: kept
    room = services.check_update_room(staff, group_room, is_archived=True)
    assert room.archived_at is not None
    assert services.do_purge_expired(now=timezone.now() + timedelta(days=89)).messages == 0
    counts = services.do_purge_expired(now=timezone.now() + timedelta(days=91))
    assert counts.messages == 2
    assert remaining(group_room) == []
    room.refresh_from_db()
    assert room.purged_through_seq == room.last_seq == 2
    # Unarchived, the clock stops; archived again, it starts again.
    room = services.check_update_room(staff, room, is_archived=False)
    assert room.archived_at is None


@pytest.mark.django_db
def test_a_room_archived_before_the_upgrade_starts_its_clock_at_the_first_purge(
    staff: Any, group_room: ChatRoom, settings: Any
) -> None:
    retain(settings, RETENTION={"group": {"days_after_archive": 30}})
    say(staff, group_room, "old", days_ago=400)
    ChatRoom.objects.filter(pk=group_room.pk).update(is_archived=True, archived_at=None)
    assert services.do_purge_expired().messages == 0
    group_room.refresh_from_db()
    assert group_room.archived_at is not None
    assert services.do_purge_expired(now=timezone.now() + timedelta(days=31)).messages == 1


@pytest.mark.django_db
def test_types_without_a_rule_keep_everything(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    retain(settings, RETENTION={"course": {"days": 1}, "group": None})
    say(alice, public_room, "ancient", days_ago=4000)
    assert services.do_purge_expired().messages == 0
    assert remaining(public_room) == ["ancient"]


@pytest.mark.django_db
def test_a_rooms_own_rule_wins_and_only_staff_set_it(
    alice: Any, bob: Any, staff: Any, public_room: ChatRoom, make_user: Any, settings: Any
) -> None:
    retain(settings, RETENTION={"public": {"days": 30}})
    services.do_join_room(bob, public_room)
    services.do_set_role(ChatParticipant.objects.get(room=public_room, user=bob), Role.MODERATOR)
    kept = services.do_create_room(alice, name="Kept", room_type="public")
    say(alice, public_room, "old here", days_ago=40)
    say(alice, kept, "old there", days_ago=40)
    # Neither the room's owner nor its moderators may change what the site decided.
    for user in (alice, bob):
        with pytest.raises(PermissionDenied):
            services.check_set_retention(user, kept, RetentionKind.FOREVER, None)
    with pytest.raises(ValidationFailed):
        services.check_set_retention(staff, kept, RetentionKind.DAYS, None)
    with pytest.raises(ValidationFailed):
        services.check_set_retention(staff, kept, RetentionKind.FOREVER, 3)
    with pytest.raises(ValidationFailed):
        services.check_set_retention(staff, kept, "weekly", 3)
    services.check_set_retention(staff, kept, RetentionKind.FOREVER, None)
    # A room of a type without a rule gets one of its own.
    retain(settings, RETENTION={"public": {"days": 30}, "group": None})
    short = services.do_create_room(alice, name="Short", room_type="public")
    services.check_set_retention(staff, short, RetentionKind.DAYS, 1)
    say(alice, short, "yesterday", days_ago=2)

    assert services.do_purge_expired().messages == 2
    assert remaining(public_room) == []
    assert remaining(kept) == ["old there"]
    assert remaining(short) == []
    changed = ChatAuditEntry.objects.filter(action=AuditAction.RETENTION_CHANGED, room=kept).get()
    assert changed.actor_id == staff.pk
    assert changed.details == {
        "retention": "forever",
        "retention_days": None,
        "previous": {"retention": "", "retention_days": None},
    }


@pytest.mark.django_db
def test_staff_set_a_rooms_rule_in_the_admin(
    alice: Any, public_room: ChatRoom, make_user: Any
) -> None:
    root = make_user("root", is_staff=True, is_superuser=True)
    client = logged_in(root)
    owner = public_room.participants.get()
    url = reverse("admin:smartcampus_chat_chatroom_change", args=[public_room.pk])
    data = {
        "name": public_room.name,
        "description": "",
        "retention": "days",
        "retention_days": "",
        "participants-TOTAL_FORMS": "1",
        "participants-INITIAL_FORMS": "1",
        "participants-0-id": str(owner.pk),
        "participants-0-room": str(public_room.pk),
        "participants-0-user": str(alice.pk),
        "participants-0-role": owner.role,
    }
    refused = client.post(url, data)
    assert refused.status_code == 200  # shown again, with the error
    assert "This rule needs a positive number of days." in refused.content.decode()
    assert ChatRoom.objects.get(pk=public_room.pk).retention == ""
    data["retention_days"] = "365"
    assert client.post(url, data).status_code == 302
    room = ChatRoom.objects.get(pk=public_room.pk)
    assert (room.retention, room.retention_days) == ("days", 365)
    entry = ChatAuditEntry.objects.get(action=AuditAction.RETENTION_CHANGED, room=room)
    assert entry.actor_id == root.pk


@pytest.mark.django_db
def test_deleted_messages_go_after_their_grace_period(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    kept, gone, _live = (say(alice, public_room, text) for text in ("kept", "gone", "live"))
    access = services.room_access(alice, public_room)
    for message, days in ((kept, 20), (gone, 40)):
        services.check_delete_message(alice, message, access)
        ChatMessage.objects.filter(pk=message.pk).update(
            deleted_at=timezone.now() - timedelta(days=days)
        )
    counts = services.do_purge_expired()  # DELETED_MESSAGE_GRACE_DAYS: 30 by default
    assert counts.messages == 1
    assert remaining(public_room) == ["kept", "live"]
    room = ChatRoom.objects.get(pk=public_room.pk)
    gone_event = 5  # sent 1, 2, 3; deleted 4 (kept), 5 (gone)
    assert (room.purged_through_seq, room.purged_event_seq) == (0, gone_event)
    retain(settings, DELETED_MESSAGE_GRACE_DAYS=None)
    ChatMessage.objects.filter(pk=kept.pk).update(deleted_at=timezone.now() - timedelta(days=900))
    assert services.do_purge_expired().messages == 0


@pytest.mark.django_db
def test_everything_hanging_off_a_message_goes_with_it(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    retain(settings, RETENTION={"private": {"days": 30}})
    private, _created = services.do_open_private(alice, bob)
    client = logged_in(alice)
    photo = client.post(
        api("attachment-list", room_slug=private.slug),
        {"file": _upload("photo.jpg", files.photo(900, 700))},
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            api("message-list", room_slug=private.slug),
            {"content": "look @bob", "attachments": [photo["id"]]},
            content_type="application/json",
        ).json()
    message = ChatMessage.objects.get(pk=sent["id"])
    services.do_react(bob, message, "👍", add=True)
    reply = say(bob, private, "nice", reply_to=message)
    services.do_edit_message(alice, message, "look @bob, edited")  # its edit history
    services.check_report_message(
        bob, message, services.room_access(bob, private), "other", "a report keeps the text"
    )
    stored = services.attachments.stored_names(ChatAttachment.objects.filter(message=message))
    assert len(stored) >= 2
    assert all(file_store.storage().exists(n) for n in stored)
    assert ChatNotification.objects.filter(message=message).count() == 1
    assert ChatMention.objects.filter(message=message).count() == 1
    ChatMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(days=31))

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.do_purge_expired()

    assert (counts.messages, counts.reactions, counts.mentions, counts.notifications) == (
        1,
        1,
        1,
        1,
    )
    assert (counts.attachments, counts.files) == (1, len(stored))
    assert not any(file_store.storage().exists(n) for n in stored)
    assert not ChatAttachment.objects.exists()
    assert not ChatReaction.objects.exists()
    assert counts.reports == 1  # the report's copy of the text goes too
    assert not ChatReport.objects.exists()
    assert not ChatMessageEdit.objects.exists()
    # The reply stays; it quotes nothing any more (as a reply whose parent is gone).
    reply.refresh_from_db()
    assert reply.reply_to_id is None
    shown = logged_in(bob).get(api("message-detail", room_slug=private.slug, pk=reply.pk)).json()
    assert (shown["reply_to"], shown["reply"]) == (None, None)
    entry = ChatAuditEntry.objects.get(action=AuditAction.RETENTION_PURGED)
    assert entry.details["attachments"] == 1
    assert entry.details["files"] == len(stored)


def _upload(name: str, data: bytes) -> Any:
    return SimpleUploadedFile(name, data, "application/octet-stream")


@pytest.mark.django_db
def test_batches_dry_run_and_the_command(alice: Any, public_room: ChatRoom, settings: Any) -> None:
    retain(settings, RETENTION={"public": {"days": 1}})
    for n in range(5):
        say(alice, public_room, f"m{n}", days_ago=2)
    out = io.StringIO()
    call_command("chat_purge_messages", "--dry-run", "--batch-size", "2", stdout=out)
    assert "Would delete in 1 room(s), 3 batch(es):" in out.getvalue()
    assert "  messages: 5" in out.getvalue()
    assert len(remaining(public_room)) == 5
    assert ChatRoom.objects.get(pk=public_room.pk).purged_through_seq == 0
    assert not ChatAuditEntry.objects.exists()
    out = io.StringIO()
    call_command("chat_purge_messages", "--batch-size", "2", stdout=out)
    assert "Deleted in 1 room(s), 3 batch(es):" in out.getvalue()
    assert "  messages: 5" in out.getvalue()
    assert remaining(public_room) == []
    assert ChatAuditEntry.objects.get().details["messages"] == 5  # one entry per room
    out = io.StringIO()
    call_command("chat_purge_messages", stdout=out)
    assert "  messages: 0" in out.getvalue()


@pytest.mark.django_db
def test_a_dry_run_counts_what_the_run_deletes(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    """A message both expired and deleted long ago is counted once, as it is deleted once."""
    retain(settings, RETENTION={"public": {"days": 30}})
    both = say(alice, public_room, "expired and deleted", days_ago=40)
    deleted = say(alice, public_room, "deleted only")
    say(alice, public_room, "kept")
    access = services.room_access(alice, public_room)
    for message in (both, deleted):
        services.check_delete_message(alice, message, access)
    ChatMessage.objects.filter(is_deleted=True).update(
        deleted_at=timezone.now() - timedelta(days=40)
    )
    planned = services.do_purge_expired(dry_run=True, batch_size=1)
    done = services.do_purge_expired(batch_size=1)
    assert (planned.messages, planned.batches) == (done.messages, done.batches) == (2, 2)
    assert remaining(public_room) == ["kept"]
    room = ChatRoom.objects.get(pk=public_room.pk)
    assert (room.purged_through_seq, room.purged_event_seq) == (1, deleted.event_seq)
    assert deleted.event_seq == 5  # sent 1, 2, 3; deleted 4 (both), 5


@pytest.mark.django_db
def test_the_settings_are_checked(settings: Any) -> None:
    def problems(**value: Any) -> list[str]:
        retain(settings, **value)
        return [e.id for e in checks.check_settings()]

    assert problems(RETENTION={"public": {"days": 30}, "course": {"days_after_archive": 1}}) == []
    for bad in (
        {"lecture": {"days": 3}},
        {"public": {"days": 0}},
        {"public": {"weeks": 3}},
        {"public": {"days": 3, "days_after_archive": 3}},
        {"public": 30},
        [("public", 3)],
    ):
        assert problems(RETENTION=bad) == ["smartcampus_chat.E002"], bad
    assert problems(RETENTION={}, DELETED_MESSAGE_GRACE_DAYS=0) == ["smartcampus_chat.E002"]
    assert problems(DELETED_MESSAGE_GRACE_DAYS=None, RETENTION_BATCH_SIZE=0) == [
        "smartcampus_chat.E002"
    ]


# --- What clients see ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_rest_history_shows_the_watermark(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    retain(settings, RETENTION={"public": {"days": 30}}, PAGE_SIZE=2)
    for n in range(3):
        say(alice, public_room, f"old {n}", days_ago=40)
    say(alice, public_room, "new 3")
    say(alice, public_room, "new 4")
    client = logged_in(alice)
    assert history(client, public_room)["purged_through_seq"] == 0
    services.do_purge_expired()
    latest = history(client, public_room)
    assert [m["seq"] for m in latest["results"]] == [4, 5]
    assert latest["purged_through_seq"] == 3
    assert not latest["has_before"]
    older = history(client, public_room, after=1)
    assert [m["seq"] for m in older["results"]] == [4, 5]
    assert not older["has_before"]
    assert history(client, public_room, before=4)["results"] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("channel_layer")
async def test_open_rooms_drop_purged_messages_and_resumes_learn_the_watermark(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    retain(settings, RETENTION={"public": {"days": 30}})
    await db(services.do_join_room)(bob, public_room)
    for n in range(3):
        await db(say)(alice, public_room, f"old {n}", days_ago=40)
    await db(say)(alice, public_room, "new")
    reader = await open_room(bob, public_room.slug, event_seq=4)
    await reader.receive_frame("resumed", skip=frozenset({"participants", "presence"}))
    counts = await db(services.do_purge_expired)(batch_size=2)
    assert counts.batches == 2
    first = await reader.receive_frame("messages.purged", skip=frozenset({"presence"}))
    second = await reader.receive_frame("messages.purged", skip=frozenset({"presence"}))
    assert first == {
        "type": "messages.purged",
        "room": public_room.slug,
        "through_seq": 2,
        "seqs": [],
    }
    assert second["through_seq"] == 3
    # The socket stays up: a send still works.
    await reader.send_frame(type="message.send", content="still here", client_id="c1", id="s1")
    ack = await reader.receive_until(lambda f: f["type"] in ("ack", "error"))
    assert ack["type"] == "ack"
    await reader.disconnect()
    # A client that was away since the start resumes over the purged range: no error, the
    # replay holds what exists, and resumed says what no longer does.
    late = await open_room(alice, public_room.slug, event_seq=0)
    frames = []
    while (frame := await late.receive_frame())["type"] != "resumed":
        frames.append(frame)
    assert [f["message"]["seq"] for f in frames if f["type"] == "message.new"] == [4, 5]
    assert (frame["purged_through_seq"], frame["gap"]) == (3, False)
    await late.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("channel_layer")
async def test_a_resume_over_a_purged_deletion_is_a_gap(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    message = await db(say)(alice, public_room, "regrettable")
    await db(say)(alice, public_room, "fine")
    seen = 2  # bob saw both messages, then went away
    access = await db(services.room_access)(alice, public_room)
    await db(services.check_delete_message)(alice, message, access)  # event 3
    reader = await open_room(alice, public_room.slug, event_seq=3)
    await reader.receive_frame("resumed", skip=frozenset({"participants", "presence"}))
    await db(ChatMessage.objects.filter(pk=message.pk).update)(
        deleted_at=timezone.now() - timedelta(days=31)
    )
    await db(services.do_purge_expired)()
    purged = await reader.receive_frame("messages.purged", skip=frozenset({"presence"}))
    assert (purged["through_seq"], purged["seqs"]) == (0, [1])
    await reader.disconnect()
    # bob never saw the deletion, and the message is gone: no replay can tell him, so
    # resumed says there is a gap (refetch what you show).
    away = await open_room(bob, public_room.slug, event_seq=seen)
    frame = await away.receive_frame("resumed", skip=frozenset({"participants", "presence"}))
    assert (frame["purged_through_seq"], frame["gap"]) == (0, True)
    await away.disconnect()
    # A client that had seen the deletion has no gap.
    current = await open_room(bob, public_room.slug, event_seq=3)
    frame = await current.receive_frame("resumed", skip=frozenset({"participants", "presence"}))
    assert frame["gap"] is False
    await current.disconnect()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reply_racing_the_purge_of_its_message_is_refused_alone(
    make_user: Any, settings: Any
) -> None:
    """The purge deletes a message while a batch holding a reply to it is being stored:
    the reply waits for the purge and is refused as a reply to a message that is not
    there; the rest of its batch is stored. (Before, the reply's deferred foreign key
    failed the batch at commit, and the reply alone got ``internal_error``.)"""
    user = make_user()
    room = services.do_create_room(user, name="Purged", room_type=RoomType.PUBLIC)
    parent = services.check_send_message(user, room, "old news", client_id="p").message
    locked, deleted = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def purge() -> None:
        """As the purge's batch: the message locked, then deleted once the send waits."""
        try:
            with transaction.atomic():
                list(ChatMessage.objects.select_for_update().filter(pk=parent.pk))
                locked.set()
                with connection.cursor() as cursor:
                    for _ in range(500):
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        )
                        if cursor.fetchone()[0]:
                            break
                        threading.Event().wait(0.01)
                    else:
                        raise AssertionError("the send never waited for the purge")
                ChatMessage.objects.filter(pk=parent.pk).delete()
            deleted.set()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    purger = threading.Thread(target=purge)
    purger.start()
    assert locked.wait(10)
    fresh = ChatRoom.objects.get(pk=room.pk)
    results = check_send_messages(
        [
            SendRequest(user, fresh, "a reply", client_id="r", reply_to=parent.pk),
            SendRequest(user, fresh, "unrelated", client_id="u"),
        ]
    )
    purger.join(10)
    assert failures == []
    assert deleted.is_set()
    refused, stored = results
    assert isinstance(refused, ValidationFailed)
    assert "reply_to" in refused.fields
    assert not isinstance(stored, Exception)
    assert stored.message.content == "unrelated"
    assert list(ChatMessage.objects.filter(room=room).values_list("client_id", flat=True)) == ["u"]
