"""Moderation (docs/moderation.md): mutes, bans, slow mode, a locked room, read-only members
and who gives which role, through every door (WebSocket, REST, the HTML form), each action
in the audit log, each sanction ending by itself at its end (no job)."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.domain.sanctions import FOREVER
from smartcampus_chat.models import (
    AuditAction,
    AuditEntryError,
    ChatAuditEntry,
    ChatMessage,
    ChatMessageEdit,
    ChatParticipant,
    ChatRoom,
    Role,
    RoomType,
)
from smartcampus_chat.testing import new_client_id, open_room, open_user
from tests.http import api, logged_in

db = database_sync_to_async


def rest_send(client: Client, room: ChatRoom, content: str) -> Any:
    return client.post(
        api("message-list", room_slug=room.slug),
        {"content": content, "client_id": new_client_id()},
        content_type="application/json",
    )


async def ws_send(socket: Any, content: str) -> dict[str, Any]:
    """Send ``content`` on a room's socket: its ``ack`` or ``error``."""
    frame_id = new_client_id()
    await socket.send_frame(
        type="message.send", content=content, client_id=new_client_id(), id=frame_id
    )
    answer: dict[str, Any] = await socket.receive_until(lambda f: f.get("id") == frame_id)
    return answer


def mute_url(room: ChatRoom, user: Any) -> str:
    return api("member-mute", room_slug=room.slug, user_id=user.pk)


def ban_url(room: ChatRoom, user: Any) -> str:
    return api("member-ban", room_slug=room.slug, user_id=user.pk)


def role_url(room: ChatRoom, user: Any) -> str:
    return api("member-role", room_slug=room.slug, user_id=user.pk)


def audit_trail(room: ChatRoom) -> list[tuple[str, str, str]]:
    return [
        (entry.action, entry.target_label, entry.reason)
        for entry in ChatAuditEntry.objects.filter(room=room).order_by("pk")
    ]


# --- mute ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_muted_member_is_refused_on_every_door_and_told_why(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    message = (await db(services.do_send_message)(alice, public_room, "Welcome")).message
    socket = await open_room(bob, public_room.slug)
    try:
        owner = await db(logged_in)(alice)
        answer = await db(owner.post)(
            mute_url(public_room, bob),
            {"duration": 600, "reason": "Off topic"},
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert (body["user"]["id"], body["reason"]) == (bob.pk, "Off topic")
        assert body["until"] is not None
        notice = await socket.receive_until(lambda f: f["type"] == "moderation.notice")
        assert (notice["room"], notice["action"], notice["reason"]) == (
            public_room.slug,
            "muted",
            "Off topic",
        )
        # The WebSocket: refused with its own code and when trying again may succeed.
        await socket.send_frame(
            type="message.send", content="still here", client_id=new_client_id(), id="s1"
        )
        refused = await socket.receive_until(lambda f: f.get("id") == "s1")
        assert (refused["type"], refused["code"]) == ("error", "muted")
        assert 500 < refused["retry_after"] <= 600
        # REST: a send and a reaction.
        client = await db(logged_in)(bob)
        sent = await db(rest_send)(client, public_room, "and here")
        assert (sent.status_code, sent.json()["error"]["code"]) == (403, "muted")
        reacted = await db(client.post)(
            api("message-reactions", room_slug=public_room.slug, pk=message.pk),
            {"emoji": "👍"},
            content_type="application/json",
        )
        assert (reacted.status_code, reacted.json()["error"]["code"]) == (403, "muted")
        # The HTML form: refused, the page saying why (the composer hidden meanwhile).
        page = await db(client.post)(public_room.get_absolute_url(), {"content": "form"})
        assert page.status_code == 403
        html = page.content.decode()
        assert "A moderator muted you in this room" in html
        assert 'id="composer"' in html
        assert " hidden" in html.split('id="composer"')[1][:400]
        detail = await db(client.get)(api("room-detail", slug=public_room.slug))
        assert detail.json()["access"]["can_post"] is False
        assert detail.json()["access"]["muted_until"] is not None
        assert not await db(ChatMessage.objects.filter(sender=bob).exists)()
        # Reading goes on.
        history = await db(client.get)(api("message-list", room_slug=public_room.slug))
        assert history.status_code == 200
    finally:
        await socket.disconnect()
    trail = await db(audit_trail)(public_room)
    assert trail == [(AuditAction.MEMBER_MUTED, "Bob", "Off topic")]


@pytest.mark.django_db(transaction=True)
async def test_a_mute_ends_by_itself_on_an_open_socket(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    """No job lifts it: the socket's access says until when, and the clock does the rest."""
    participant = await db(services.do_join_room)(bob, public_room)
    socket = await open_room(bob, public_room.slug)
    try:
        until = timezone.now() + timedelta(seconds=1.5)
        await db(services.do_mute_member)(alice, public_room, participant, until, "")
        await socket.receive_until(lambda f: f["type"] == "moderation.notice")
        assert (await ws_send(socket, "too soon"))["code"] == "muted"
        await asyncio.sleep(max(0.0, (until - timezone.now()).total_seconds()) + 0.1)
        assert (await ws_send(socket, "back again"))["type"] == "ack"
    finally:
        await socket.disconnect()
    assert await db(ChatMessage.objects.filter(sender=bob, content="back again").exists)()


@pytest.mark.django_db
def test_unmute_and_who_may_mute_whom(
    alice: Any, bob: Any, make_user: Any, staff: Any, public_room: ChatRoom
) -> None:
    carol = make_user("carol")
    for user in (bob, carol, staff):
        services.do_join_room(user, public_room)
    owner = logged_in(alice)
    assert (
        owner.put(
            role_url(public_room, carol), {"role": "moderator"}, content_type="application/json"
        ).status_code
        == 200
    )
    moderator = logged_in(carol)
    # A moderator mutes a member, not the owner, not staff, not themselves.
    assert (
        moderator.post(mute_url(public_room, bob), {}, content_type="application/json").json()[
            "until"
        ]
        is None
    )  # indefinitely
    for target in (alice, staff, carol):
        refused = moderator.post(mute_url(public_room, target), {}, content_type="application/json")
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    # A member mutes nobody.
    refused = logged_in(bob).post(mute_url(public_room, carol), {}, content_type="application/json")
    assert refused.status_code == 403
    # Bad input: a clear error, nothing changed.
    for bad in (
        {"duration": 5},
        {"duration": "600"},
        {"duration": True},
        {"reason": "x" * 501},
        {"reason": 7},
    ):
        answer = owner.post(mute_url(public_room, carol), bad, content_type="application/json")
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid"), bad
    assert not ChatParticipant.objects.get(room=public_room, user=carol).silenced_until
    # Unmuted: posts again.
    assert moderator.delete(mute_url(public_room, bob)).status_code == 204
    assert rest_send(logged_in(bob), public_room, "thanks").status_code == 201
    again = moderator.delete(mute_url(public_room, bob))
    assert (again.status_code, again.json()["error"]["code"]) == (400, "invalid")
    assert [a for a, _, _ in audit_trail(public_room)] == [
        AuditAction.ROLE_CHANGED,
        AuditAction.MEMBER_MUTED,
        AuditAction.MEMBER_UNMUTED,
    ]


# --- ban ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_ban_keeps_them_out_until_it_ends_or_is_lifted(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    owner, banned = logged_in(alice), logged_in(bob)
    answer = owner.post(
        ban_url(public_room, bob),
        {"duration": 3600, "reason": "Spam"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    # Out of the room, on every door, and told why on the page.
    assert banned.get(api("room-detail", slug=public_room.slug)).status_code == 404
    joined = banned.post(api("room-join", slug=public_room.slug))
    assert (joined.status_code, joined.json()["error"]["code"]) == (404, "not_found")
    rooms = banned.get(api("room-list"), {"scope": "joinable"}).json()
    assert public_room.slug not in [room["slug"] for room in rooms["results"]]
    page = banned.get(public_room.get_absolute_url())
    assert page.status_code == 404
    assert "You are banned from this room until" in page.content.decode()
    assert rest_send(banned, public_room, "let me in").status_code == 404
    # The moderators' list of bans; members may not read it.
    bans = owner.get(api("room-bans", room_slug=public_room.slug)).json()
    assert [(b["user"]["id"], b["reason"]) for b in bans] == [(bob.pk, "Spam")]
    assert banned.get(api("room-bans", room_slug=public_room.slug)).status_code == 404
    # Banning again while banned: there is no such member to ban.
    assert (
        owner.post(ban_url(public_room, bob), {}, content_type="application/json").status_code
        == 404
    )
    # The hour passes (the row's end, as the clock will see it): no job, they may rejoin.
    ChatParticipant.objects.filter(room=public_room, user=bob).update(
        banned_until=timezone.now() - timedelta(seconds=1)
    )
    assert banned.post(api("room-join", slug=public_room.slug)).status_code == 200
    row = ChatParticipant.objects.get(room=public_room, user=bob)
    assert (row.is_banned, row.banned_until) == (False, None)
    assert owner.get(api("room-bans", room_slug=public_room.slug)).json() == []
    # Banned until lifted, then lifted by a moderator.
    owner.post(ban_url(public_room, bob), {"reason": "Again"}, content_type="application/json")
    assert ChatParticipant.objects.get(room=public_room, user=bob).banned_until == FOREVER
    assert banned.post(api("room-join", slug=public_room.slug)).status_code == 404
    assert owner.delete(ban_url(public_room, bob)).status_code == 204
    assert banned.post(api("room-join", slug=public_room.slug)).status_code == 200
    assert owner.delete(ban_url(public_room, bob)).status_code == 404
    assert [(a, r) for a, _, r in audit_trail(public_room)] == [
        (AuditAction.MEMBER_BANNED, "Spam"),
        (AuditAction.MEMBER_BANNED, "Again"),
        (AuditAction.MEMBER_UNBANNED, ""),
    ]


@pytest.mark.django_db
def test_someone_who_left_can_still_be_banned(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    services.do_join_room(bob, public_room)
    services.check_leave_room(bob, public_room)
    answer = logged_in(alice).post(
        ban_url(public_room, bob), {"duration": 86400}, content_type="application/json"
    )
    assert answer.status_code == 200
    assert logged_in(bob).post(api("room-join", slug=public_room.slug)).status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_the_banned_person_is_told_on_their_other_sockets(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    everywhere = await open_user(bob)
    try:
        await db(services.check_ban_member)(
            alice, public_room, bob.pk, duration=3600, reason="Spam"
        )
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 2:
            frame = await everywhere.receive_until(
                lambda f: f["type"] in ("moderation.notice", "room.removed")
            )
            seen[frame["type"]] = frame
        notice = seen["moderation.notice"]
        assert (notice["action"], notice["reason"]) == ("banned", "Spam")
        assert notice["until"] is not None
        assert seen["room.removed"]["room"] == public_room.slug
    finally:
        await everywhere.disconnect()


# --- slow mode and lock -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_slow_mode_boundaries_on_rest_and_websocket(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    owner = await db(logged_in)(alice)
    for bad in (-1, 3601, True, "5s", 2.5):
        answer = await db(owner.patch)(
            api("room-detail", slug=public_room.slug),
            {"slow_mode_seconds": bad},
            content_type="application/json",
        )
        assert answer.status_code == 400, bad
    changed = await db(owner.patch)(
        api("room-detail", slug=public_room.slug),
        {"slow_mode_seconds": 2},
        content_type="application/json",
    )
    assert changed.json()["slow_mode_seconds"] == 2
    member = await db(logged_in)(bob)
    first = await db(rest_send)(member, public_room, "one")
    started = time.monotonic()
    assert first.status_code == 201
    second = await db(rest_send)(member, public_room, "two")
    assert (second.status_code, second.json()["error"]["code"]) == (429, "slow_mode")
    assert 0 < float(second.headers["Retry-After"]) <= 2
    # The moderator is exempt.
    for n in range(3):
        assert (await db(rest_send)(owner, public_room, f"mod {n}")).status_code == 201
    socket = await open_room(bob, public_room.slug)
    try:
        refused = await ws_send(socket, "three")
        assert (refused["type"], refused["code"]) == ("error", "slow_mode")
        assert 0 < refused["retry_after"] <= 2
        await asyncio.sleep(max(0.0, 2.05 - (time.monotonic() - started)))
        assert (await ws_send(socket, "four"))["type"] == "ack"
    finally:
        await socket.disconnect()
    contents = await db(list)(
        ChatMessage.objects.filter(sender=bob).order_by("seq").values_list("content", flat=True)
    )
    assert contents == ["one", "four"]
    assert [a for a, _, _ in await db(audit_trail)(public_room)] == [AuditAction.SLOW_MODE]


@pytest.mark.django_db
def test_a_locked_room_lets_only_moderators_post(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    owner, member = logged_in(alice), logged_in(bob)
    locked = owner.patch(
        api("room-detail", slug=public_room.slug),
        {"is_locked": True},
        content_type="application/json",
    )
    assert locked.json()["is_locked"] is True
    assert rest_send(owner, public_room, "Exam on Friday").status_code == 201
    refused = rest_send(member, public_room, "which room?")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "room_locked")
    message = ChatMessage.objects.get(content="Exam on Friday")
    reacted = member.post(
        api("message-reactions", room_slug=public_room.slug, pk=message.pk),
        {"emoji": "👍"},
        content_type="application/json",
    )
    assert reacted.status_code == 200  # members still react to announcements
    page = member.get(public_room.get_absolute_url()).content.decode()
    assert "This room is locked: only its moderators post." in page
    owner.patch(
        api("room-detail", slug=public_room.slug),
        {"is_locked": False},
        content_type="application/json",
    )
    assert rest_send(member, public_room, "which room?").status_code == 201
    assert [a for a, _, _ in audit_trail(public_room)] == [
        AuditAction.ROOM_LOCKED,
        AuditAction.ROOM_UNLOCKED,
    ]


# --- roles --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_who_gives_which_role(
    alice: Any,
    bob: Any,
    make_user: Any,
    public_room: ChatRoom,
    course_room: ChatRoom,
    enrol: Any,
    course: Any,
    staff: Any,
) -> None:
    carol = make_user("carol")
    for user in (bob, carol):
        services.do_join_room(user, public_room)
    owner = logged_in(alice)
    made = owner.put(
        role_url(public_room, carol), {"role": "moderator"}, content_type="application/json"
    )
    assert made.json()["role"] == Role.MODERATOR
    moderator = logged_in(carol)
    # A moderator makes a member read-only and back, not a moderator; never the owner.
    assert (
        moderator.put(
            role_url(public_room, bob), {"role": "read_only"}, content_type="application/json"
        ).status_code
        == 200
    )
    refused = rest_send(logged_in(bob), public_room, "can I?")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert logged_in(bob).get(api("message-list", room_slug=public_room.slug)).status_code == 200
    for target, role in ((bob, "moderator"), (alice, "member"), (carol, "member"), (bob, "owner")):
        answer = moderator.put(
            role_url(public_room, target), {"role": role}, content_type="application/json"
        )
        assert answer.status_code == 403, (target, role)
    bad = owner.put(role_url(public_room, bob), {"role": "king"}, content_type="application/json")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid")
    assert (
        moderator.put(
            role_url(public_room, bob), {"role": "member"}, content_type="application/json"
        ).status_code
        == 200
    )
    assert rest_send(logged_in(bob), public_room, "thanks").status_code == 201
    # In a course room the roster decides who moderates; the read-only mark stays on sync.
    enrol(bob, course)
    services.do_join_room(bob, course_room)
    teacher = logged_in(staff)
    assert (
        teacher.put(
            role_url(course_room, bob), {"role": "moderator"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        teacher.put(
            role_url(course_room, bob), {"role": "read_only"}, content_type="application/json"
        ).status_code
        == 200
    )
    services.enrolment_changed(bob, course)
    assert ChatParticipant.objects.get(room=course_room, user=bob).role == Role.READ_ONLY
    assert ChatAuditEntry.objects.filter(action=AuditAction.ROLE_CHANGED).count() == 4


# --- the HTML door ------------------------------------------------------------------------


def carol_member(room: ChatRoom) -> Any:
    from django.contrib.auth import get_user_model

    carol = get_user_model().objects.create_user("carol", password="x")
    services.do_join_room(carol, room)
    return carol


@pytest.mark.django_db
def test_the_settings_page_mutes_bans_and_lifts(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    owner = logged_in(alice)
    settings_url = reverse("smartcampus_chat:room_settings", args=[public_room.slug])
    moderate = reverse("smartcampus_chat:member_moderate", args=[public_room.slug, bob.pk])
    page = owner.get(settings_url).content.decode()
    assert f'action="{moderate}"' in page
    assert "Moderate" in page
    done = owner.post(
        moderate, {"action": "mute", "duration": "3600", "reason": "Calm down"}, follow=True
    )
    assert "Bob is muted." in done.content.decode()
    assert "scc-muted-badge" in done.content.decode()
    owner.post(moderate, {"action": "unmute"})
    owner.post(moderate, {"action": "ban", "duration": "", "reason": "Spam"})
    listed = owner.get(settings_url).content.decode()
    assert 'id="scc-bans"' in listed
    assert "until lifted" in listed
    assert "Spam" in listed
    owner.post(moderate, {"action": "lift_ban"})
    assert "Nobody is banned from this room." in owner.get(settings_url).content.decode()
    refused = owner.post(moderate, {"action": "mute", "duration": "5"}, follow=True)
    assert "The form was not understood" in refused.content.decode()
    alice_url = reverse("smartcampus_chat:member_moderate", args=[public_room.slug, alice.pk])
    assert (
        logged_in(carol_member(public_room)).post(alice_url, {"action": "mute"}).status_code == 403
    )
    assert [a for a, _, _ in audit_trail(public_room)] == [
        AuditAction.MEMBER_MUTED,
        AuditAction.MEMBER_UNMUTED,
        AuditAction.MEMBER_BANNED,
        AuditAction.MEMBER_UNBANNED,
    ]
    assert ChatRoom.objects.get(pk=public_room.pk).room_type == RoomType.PUBLIC


# --- the audit log ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_moderator_deleting_a_message_leaves_an_entry_without_its_text(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    own = services.do_send_message(bob, public_room, "my own words").message
    other = services.do_send_message(bob, public_room, "something rude").message
    member = logged_in(bob)
    assert (
        member.delete(
            api("message-detail", room_slug=public_room.slug, pk=own.pk),
        ).status_code
        == 200
    )  # one's own: no entry
    answer = logged_in(alice).delete(
        api("message-detail", room_slug=public_room.slug, pk=other.pk),
        {"reason": "Insults"},
        content_type="application/json",
    )
    assert answer.status_code == 200
    entry = ChatAuditEntry.objects.get()
    assert (
        entry.action,
        entry.actor_label,
        entry.target_label,
        entry.message_id,
        entry.reason,
    ) == (AuditAction.MESSAGE_DELETED, "Alice", "Bob", other.pk, "Insults")
    assert "rude" not in str(entry.details)


@pytest.mark.django_db
def test_the_audit_log_is_append_only_and_staff_export_it(
    alice: Any, bob: Any, public_room: ChatRoom, make_user: Any
) -> None:
    services.do_join_room(bob, public_room)
    services.check_mute_member(
        alice, public_room, bob.pk, duration=600, reason='=HYPERLINK("http://evil.example")'
    )
    entry = ChatAuditEntry.objects.get()
    entry.reason = "rewritten"
    with pytest.raises(AuditEntryError):
        entry.save()
    with pytest.raises(AuditEntryError):
        entry.delete()
    assert ChatAuditEntry.objects.get().reason.startswith("=HYPERLINK")
    root = make_user("root", is_staff=True, is_superuser=True)
    admin = logged_in(root)
    changelist = reverse("admin:smartcampus_chat_chatauditentry_changelist")
    assert admin.get(changelist).status_code == 200
    assert admin.get(reverse("admin:smartcampus_chat_chatauditentry_add")).status_code == 403
    change = reverse("admin:smartcampus_chat_chatauditentry_change", args=[entry.pk])
    assert 'name="_save"' not in admin.get(change).content.decode()  # view only
    exported = admin.post(changelist, {"action": "export_csv", "_selected_action": [entry.pk]})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0][:3] == ["when", "action", "by"]
    assert rows[1][1:3] == [AuditAction.MEMBER_MUTED, "Alice"]
    assert rows[1][9] == '\'=HYPERLINK("http://evil.example")'  # never a formula
    assert logged_in(bob).get(changelist).status_code == 302  # not staff: the login page


@pytest.mark.django_db
def test_staff_reading_a_private_conversation_is_logged_once_an_hour(
    alice: Any, bob: Any, staff: Any, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PRIVATE_AUDIT_BY_STAFF": True}
    room, _created = services.check_open_private(alice, bob.pk)
    services.do_send_message(alice, room, "just between us")
    logged_in(alice).get(room.get_absolute_url())  # a member reads: nothing to log
    auditor = logged_in(staff)
    assert auditor.get(room.get_absolute_url()).status_code == 200
    assert auditor.get(api("message-list", room_slug=room.slug)).status_code == 200
    entries = list(ChatAuditEntry.objects.all())
    assert [(e.action, e.actor_id, e.room_id) for e in entries] == [
        (AuditAction.PRIVATE_ROOM_READ, staff.pk, room.pk)
    ]


# --- edit history -------------------------------------------------------------------------


@pytest.mark.django_db
def test_moderators_read_a_messages_earlier_texts_and_they_go_with_it(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = services.do_send_message(bob, public_room, "first draft").message
    author = logged_in(bob)
    detail = api("message-detail", room_slug=public_room.slug, pk=message.pk)
    for text in ("second draft", "second draft", "final"):  # the same text twice: one edit
        assert (
            author.patch(detail, {"content": text}, content_type="application/json").status_code
            == 200
        )
    edits_url = api("message-edits", room_slug=public_room.slug, pk=message.pk)
    history = logged_in(alice).get(edits_url).json()
    assert [e["content"] for e in history] == ["first draft", "second draft"]
    assert all(e["replaced_at"].endswith("Z") for e in history)
    assert author.get(edits_url).status_code == 403  # members, the author included
    logged_in(alice).delete(detail)
    assert logged_in(alice).get(edits_url).json() == []  # deleted: nobody reads it here
    ChatMessage.objects.filter(pk=message.pk).delete()  # a purge takes the history too
    assert not ChatMessageEdit.objects.exists()


@pytest.mark.django_db
def test_moderation_routes_neither_list_nor_reveal_private_conversations(
    alice: Any, bob: Any, make_user: Any, staff: Any, public_room: ChatRoom, settings: Any
) -> None:
    """As Mattermost 11.2.3's advisory: a moderator elsewhere learns nothing of others'
    private conversations, and even staff allowed to read them cannot moderate them."""
    carol = make_user("carol")
    services.do_join_room(carol, public_room)
    services.check_set_role(alice, public_room, carol.pk, "moderator")
    private, _created = services.check_open_private(alice, bob.pk)
    moderator = logged_in(carol)
    for method, url in (
        (moderator.post, mute_url(private, bob)),
        (moderator.post, ban_url(private, bob)),
        (moderator.put, role_url(private, bob)),
        (moderator.get, api("room-bans", room_slug=private.slug)),
    ):
        answer = method(url, {"role": "read_only"}, content_type="application/json")
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found"), url
    assert moderator.get(api("room-bans", room_slug=private.slug)).status_code == 404
    settings_page = reverse("smartcampus_chat:room_settings", args=[private.slug])
    assert moderator.get(settings_page).status_code == 404
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PRIVATE_AUDIT_BY_STAFF": True}
    auditor = logged_in(staff)
    for url in (mute_url(private, bob), ban_url(private, bob)):
        answer = auditor.post(url, {}, content_type="application/json")
        assert answer.status_code == 403, url
    locked = auditor.patch(
        api("room-detail", slug=private.slug), {"is_locked": True}, content_type="application/json"
    )
    assert locked.status_code == 403
    assert not ChatParticipant.objects.filter(room=private, silenced_until__isnull=False).exists()
