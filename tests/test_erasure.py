"""Erasure (docs/data-export.md, "Erasure"): a person's data leaves the chat through the
command, their messages kept as a former member's or deleted; the others' view of the room
keeps its shape; idempotent; audit labels pseudonymised; their sockets closed; an export
afterwards holds nothing."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services
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
    ChatPreferences,
    ChatPushSubscription,
    ChatReaction,
    ChatReport,
    ChatRoom,
    NotificationKind,
)
from smartcampus_chat.services import audit
from smartcampus_chat.services.erasure import pseudonym
from smartcampus_chat.services.held import do_hold_message
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async


def erase(user: Any, *args: str) -> str:
    out = io.StringIO()
    call_command("chat_erase_user", str(user.pk), *args, "--yes", stdout=out)
    return out.getvalue()


def history(reader: Any, room: ChatRoom) -> list[dict[str, Any]]:
    response = logged_in(reader).get(api("message-list", room_slug=room.slug), {"limit": 100})
    assert response.status_code == 200
    return sorted(response.json()["results"], key=lambda m: m["seq"])


def members(reader: Any, room: ChatRoom) -> set[str]:
    response = logged_in(reader).get(api("member-list", room_slug=room.slug))
    return {row["user"]["name"] for row in response.json()["results"]}


@pytest.fixture
def scene(alice: Any, bob: Any, staff: Any, public_room: ChatRoom) -> dict[str, Any]:
    """Alice writes (a file too), reacts, is replied to and mentioned, has preferences, a
    push subscription, a notification, an unsent upload and audit entries."""
    services.do_join_room(bob, public_room)
    client = logged_in(alice)
    url = api("attachment-list", room_slug=public_room.slug)
    sent_file = client.post(url, {"file": SimpleUploadedFile("a.txt", b"alice's file")}).json()
    unsent = client.post(url, {"file": SimpleUploadedFile("b.txt", b"never sent")}).json()
    first = client.post(
        api("message-list", room_slug=public_room.slug),
        {"content": "Alice says hello", "attachments": [sent_file["id"]]},
        content_type="application/json",
    ).json()
    first_message = ChatMessage.objects.get(pk=first["id"])
    reply = services.do_send_message(bob, public_room, "@alice hi!", reply_to=first_message)
    second = services.do_send_message(alice, public_room, "Alice again").message
    services.check_react(
        alice, reply.message, "👍", services.room_access(alice, public_room), add=True
    )
    services.check_react(bob, reply.message, "🎉", services.room_access(bob, public_room), add=True)
    services.check_set_preferences(alice, email_digests=True)
    ChatPushSubscription.objects.create(
        user=alice, endpoint="https://fcm.googleapis.com/x", endpoint_hash="h", p256dh="k", auth="a"
    )
    ChatNotification.objects.create(
        user=alice,
        kind=NotificationKind.MENTION,
        room=public_room,
        message=reply.message,
        actor=bob,
    )
    ChatNotification.objects.create(
        user=bob, kind=NotificationKind.REPLY, room=public_room, message=second, actor=alice
    )
    audit.record(staff, AuditAction.MEMBER_MUTED, room=public_room, target_user=alice)
    audit.record(alice, AuditAction.SLOW_MODE, room=public_room, details={"seconds": 5})
    return {
        "first": first_message,
        "second": second,
        "reply": reply.message,
        "file": ChatAttachment.objects.get(pk=sent_file["id"]),
        "unsent": ChatAttachment.objects.get(pk=unsent["id"]),
    }


@pytest.mark.django_db
def test_erasure_keeping_the_messages_as_a_former_members(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    scene: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    before = history(bob, public_room)
    assert "Alice" in members(bob, public_room)
    unsent_name = scene["unsent"].storage_name

    with django_capture_on_commit_callbacks(execute=True):  # files go after commit
        output = erase(alice, "--messages", "keep")
    assert f"Erased user {alice.pk}:" in output
    assert "messages kept: 2" in output

    after = history(bob, public_room)
    # The same messages, numbers and texts; Alice's now without a sender.
    assert [m["seq"] for m in after] == [m["seq"] for m in before]
    assert [m["content"] for m in after] == [m["content"] for m in before]
    first, reply, second = after
    assert (first["sender"], second["sender"]) == (None, None)
    assert reply["sender"]["name"] == "Bob"
    assert reply["reply"]["sender"] is None  # the quote of Alice's message
    assert [a["name"] for a in first["attachments"]] == ["a.txt"]  # the room keeps it
    assert [r["emoji"] for r in reply["reactions"]] == ["🎉"]
    page = logged_in(bob).get(public_room.get_absolute_url()).content.decode()
    assert "Former member" in page
    assert "Alice" not in members(bob, public_room)

    assert not ChatParticipant.objects.filter(user=alice).exists()
    assert not ChatReaction.objects.filter(user=alice).exists()
    assert not ChatPreferences.objects.filter(user=alice).exists()
    assert not ChatPushSubscription.objects.filter(user=alice).exists()
    assert not ChatNotification.objects.filter(user=alice).exists()
    assert not ChatMention.objects.filter(user=alice).exists()
    assert ChatNotification.objects.get(user=bob).actor is None
    assert not ChatAttachment.objects.filter(pk=scene["unsent"].pk).exists()
    assert not file_store.storage().exists(unsent_name)
    assert ChatAttachment.objects.get(pk=scene["file"].pk).uploader is None
    assert ChatRoom.objects.get(pk=public_room.pk).created_by is None

    label = pseudonym(alice.pk)
    assert label.startswith("erased-")
    muted = ChatAuditEntry.objects.get(action=AuditAction.MEMBER_MUTED)
    assert (muted.target_label, muted.actor_label) == (label, "staff")
    assert ChatAuditEntry.objects.get(action=AuditAction.SLOW_MODE).actor_label == label
    erased = ChatAuditEntry.objects.get(action=AuditAction.USER_ERASED)
    assert erased.target_label == label
    assert erased.actor is None  # the command: the site itself
    assert erased.details["messages"] == "keep"
    assert erased.details["messages_kept"] == 2
    assert erased.details["reactions"] == 1
    assert erased.details["unsent_uploads"] == 1
    assert "Alice" not in json.dumps(list(ChatAuditEntry.objects.values()), default=str)

    # Idempotent: nothing more to erase, the room unchanged.
    again = erase(alice)
    assert "messages kept: 0" in again
    assert "reactions: 0" in again
    assert "memberships: 0" in again
    assert history(bob, public_room) == after


@pytest.mark.django_db
def test_an_export_after_erasure_holds_nothing(
    alice: Any, public_room: ChatRoom, scene: dict[str, Any]
) -> None:
    services.check_request_export(alice)
    services.run_export_jobs()
    erase(alice)
    assert not alice.chat_exports.exists()  # the export made before is gone too
    services.check_request_export(alice)
    services.run_export_jobs()
    link = logged_in(alice).get(api("export-list")).json()[0]["download_url"]
    response = logged_in(alice).get(link)
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zipped:
        assert sorted(zipped.namelist()) == [
            "messages.json",
            "profile.json",
            "reactions.json",
            "rooms.json",
        ]
        for name in ("messages.json", "reactions.json", "rooms.json"):
            assert json.loads(zipped.read(name)) == [], name
        profile = json.loads(zipped.read("profile.json"))
    assert profile["room_notifications"] == []
    assert profile["preferences"]["stored"] is False


@pytest.mark.django_db
def test_erasure_deleting_the_messages_and_the_account(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    scene: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    file_names = [scene["file"].storage_name]
    services.do_edit_message(alice, scene["first"], "an afterthought")  # an earlier text kept
    assert ChatMessageEdit.objects.filter(message=scene["first"]).exists()
    with django_capture_on_commit_callbacks(execute=True):  # files go after commit
        output = erase(alice, "--messages", "delete", "--delete-account")
    assert "messages deleted: 2" in output
    assert "The account was deleted." in output
    assert not get_user_model().objects.filter(username="alice").exists()

    first, reply, second = history(bob, public_room)
    assert [m["seq"] for m in (first, reply, second)] == [1, 2, 3]
    for gone in (first, second):
        assert (gone["is_deleted"], gone["content"], gone["sender"]) == (True, None, None)
        assert gone["attachments"] == []
    assert reply["content"] == "@alice hi!"
    stored = ChatMessage.objects.get(pk=scene["first"].pk)
    assert (stored.content, stored.content_html) == ("", "")
    assert not ChatMessageEdit.objects.filter(message=scene["first"]).exists()
    assert not ChatAttachment.objects.filter(pk=scene["file"].pk).exists()
    assert not any(file_store.storage().exists(name) for name in file_names)
    entry = ChatAuditEntry.objects.get(action=AuditAction.USER_ERASED)
    assert entry.target_user is None
    assert entry.target_label == pseudonym(alice.pk)
    assert entry.details["messages_deleted"] == 2
    assert entry.details["account_deleted"] is True


@pytest.mark.django_db
def test_the_command_needs_yes_and_a_known_user(alice: Any, public_room: ChatRoom) -> None:
    services.do_send_message(alice, public_room, "still here")
    with pytest.raises(CommandError, match="--yes"):
        call_command("chat_erase_user", "alice")
    assert ChatMessage.objects.get().sender == alice
    with pytest.raises(CommandError, match="No user"):
        call_command("chat_erase_user", "nobody", "--yes")
    with pytest.raises(CommandError):
        call_command("chat_erase_user", "alice", "--messages", "shred", "--yes")
    out = io.StringIO()
    call_command("chat_erase_user", "alice", "--yes", stdout=out)  # by username
    assert ChatMessage.objects.get().sender is None


@pytest.mark.django_db
def test_the_default_mode_is_a_setting(alice: Any, public_room: ChatRoom, settings: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "ERASURE_MESSAGES": "delete"}
    services.do_send_message(alice, public_room, "bye")
    counts = services.check_erase_user(alice)
    assert (counts.messages_deleted, counts.messages_kept) == (1, 0)
    assert ChatMessage.objects.get().is_deleted


@pytest.mark.django_db(transaction=True)
async def test_erasure_closes_their_sockets_and_tells_the_room(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    message = (await db(services.do_send_message)(alice, public_room, "hello")).message
    theirs = await open_room(alice, public_room.slug)
    reader = await open_room(bob, public_room.slug)
    try:
        started = time.monotonic()
        await db(services.check_erase_user)(alice)
        edited = await reader.receive_until(lambda f: f["type"] == "message.edited", timeout=2)
        assert edited["message"]["id"] == message.pk
        assert edited["message"]["sender"] is None
        assert edited["message"]["content"] == "hello"
        await theirs.wait_closed(timeout=2)
        assert theirs.closed_code is not None
        assert time.monotonic() - started < 2
    finally:
        await reader.disconnect()
        await theirs.disconnect()


@pytest.mark.django_db
def test_erasure_reaches_the_moderation_queue(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    """Reports stay for the moderators without the erased person; their held messages go."""
    services.do_join_room(bob, public_room)
    by_bob = services.do_send_message(bob, public_room, "bob's words").message
    by_alice = services.do_send_message(alice, public_room, "alice's words").message
    mine = services.check_report_message(
        alice, by_bob, services.room_access(alice, public_room), "spam", "it is spam"
    )
    about_me = services.check_report_message(
        bob, by_alice, services.room_access(bob, public_room), "other", ""
    )
    held = do_hold_message(alice, public_room, "held words")
    services.do_erase_user(alice, messages="delete")
    mine.refresh_from_db()
    assert (mine.reporter_id, mine.note, mine.content) == (None, "", "bob's words")
    about_me.refresh_from_db()
    assert (about_me.author_id, about_me.author_label, about_me.content) == (
        None,
        pseudonym(alice.pk),
        "",
    )
    assert not ChatReport.objects.filter(pk=held.pk).exists()
    entry = ChatAuditEntry.objects.get(action=AuditAction.USER_ERASED)
    assert (entry.details["reports"], entry.details["held"]) == (1, 1)


def test_the_admin_action_asks_then_erases(
    alice: Any, bob: Any, make_user: Any, public_room: ChatRoom
) -> None:
    """The host's user admin (the example site's) erases from the list: a page asks what
    happens to the messages first; the staff member's own account is left out; a staff
    member who may not delete users does not get the action."""
    services.do_join_room(bob, public_room)
    services.do_send_message(bob, public_room, "bob's words")
    root = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    users = reverse("admin:auth_user_changelist")
    chosen = {"action": "erase_chat_data", "_selected_action": [bob.pk, root.pk]}
    asked = client.post(users, chosen)
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Erase chat data" in page
    assert "you were left out" in page
    assert ChatMessage.objects.filter(sender=bob).exists()  # nothing done yet
    done = client.post(users, {**chosen, "confirmed": "yes", "messages": "delete"}, follow=True)
    assert "The chat data of 1 person was erased." in done.content.decode()
    assert not ChatMessage.objects.filter(sender=bob).exists()
    assert ChatMessage.objects.get(content="").is_deleted
    assert not ChatParticipant.objects.filter(user=bob).exists()
    entry = ChatAuditEntry.objects.get(action=AuditAction.USER_ERASED)
    assert entry.actor_id == root.pk
    wrong = client.post(users, {**chosen, "confirmed": "yes", "messages": "burn"}, follow=True)
    assert "Choose what happens to the messages" in wrong.content.decode()
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    assert "erase_chat_data" not in client.get(users).content.decode()
