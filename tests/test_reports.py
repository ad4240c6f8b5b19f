"""Reports and the moderation queue (docs/moderation.md, "Reports and the moderation
queue"): a member reports a message over REST, the room's moderators see it in their queue
with its context and are told live, act from it (dismiss, delete, mute, ban); the reporter
is told the outcome and never who acted; the audit log records each; the report outlives
the message; refusals and the rate limit."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.models import (
    AuditAction,
    ChatAuditEntry,
    ChatMessage,
    ChatParticipant,
    ChatReport,
    ChatRoom,
    ReportStatus,
    Role,
)
from smartcampus_chat.testing import CapturedEvents, open_room
from tests.http import api, logged_in
from tests.xss_corpus import PAYLOADS

db = database_sync_to_async


def report(client: Client, message: ChatMessage, category: Any = "spam", note: Any = "") -> Any:
    return client.post(
        api("message-report", room_slug=message.room.slug, message_id=message.pk),
        {"category": category, "note": note},
        content_type="application/json",
    )


def queue(client: Client, room: ChatRoom) -> Any:
    return client.get(api("report-list", room_slug=room.slug))


def resolve(client: Client, room: ChatRoom, report_id: int, action: str, **body: Any) -> Any:
    return client.post(
        api("report-resolve", room_slug=room.slug, report_id=report_id),
        {"action": action, **body},
        content_type="application/json",
    )


def frames_to(captured: CapturedEvents, user: Any, kind: str) -> list[dict[str, Any]]:
    return [f for f in captured.frames(f"scchat.user.{user.pk}") if f["type"] == kind]


@pytest.fixture
def carol(make_user: Any) -> Any:
    return make_user("carol", first_name="Carol")


@pytest.fixture
def members(bob: Any, carol: Any, public_room: ChatRoom) -> ChatRoom:
    services.do_join_room(bob, public_room)
    services.do_join_room(carol, public_room)
    return public_room


@pytest.mark.django_db(transaction=True)
def test_report_queue_delete_and_the_reporter_told(
    alice: Any, bob: Any, carol: Any, members: ChatRoom, captured_events: CapturedEvents
) -> None:
    room = members
    before = [services.do_send_message(alice, room, f"before {n}").message for n in range(3)]
    bad = services.do_send_message(bob, room, "Buy cheap essays at spam.example").message
    after = [services.do_send_message(alice, room, f"after {n}").message for n in range(3)]
    answer = report(logged_in(carol), bad, "spam", "  Ads again  ")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["category"], body["note"], body["status"]) == ("spam", "Ads again", "open")
    # The room's moderator (its owner) is told live; the members are not.
    told = frames_to(captured_events, alice, "reports.changed")
    assert told == [{"type": "reports.changed", "room": room.slug, "open": 1, "report": body["id"]}]
    assert not frames_to(captured_events, bob, "reports.changed")
    assert not frames_to(captured_events, carol, "reports.changed")
    # The queue: moderators only.
    assert queue(logged_in(carol), room).status_code == 403
    assert queue(logged_in(bob), room).status_code == 403
    listed = queue(logged_in(alice), room)
    assert listed.status_code == 200
    (item,) = listed.json()
    assert (item["id"], item["held"], item["content"], item["author"]["id"]) == (
        body["id"],
        False,
        "Buy cheap essays at spam.example",
        bob.pk,
    )
    assert (item["reporter"]["id"], item["note"], item["message_id"]) == (
        carol.pk,
        "Ads again",
        bad.pk,
    )
    assert [m["id"] for m in item["around"]] == [
        *(m.pk for m in before[1:]),
        bad.pk,
        after[0].pk,
        after[1].pk,
    ]
    # Delete from the queue: the message goes, the reporter learns the outcome only.
    captured_events.events.clear()
    done = resolve(logged_in(alice), room, body["id"], "delete", reason="Advertising")
    assert done.status_code == 200, done.content
    assert done.json() == {"outcome": "message_deleted"}
    assert ChatMessage.objects.get(pk=bad.pk).is_deleted
    (resolved,) = frames_to(captured_events, carol, "report.resolved")
    assert resolved == {
        "type": "report.resolved",
        "room": room.slug,
        "report": body["id"],
        "outcome": "message_deleted",
    }
    assert "alice" not in str(captured_events.frames(f"scchat.user.{carol.pk}")).lower()
    for frame in captured_events.frames():
        assert "Buy cheap essays" not in str(frame)  # a deleted message's text in no frame
    assert frames_to(captured_events, alice, "reports.changed")[-1]["open"] == 0
    assert queue(logged_in(alice), room).json() == []
    entry = ChatAuditEntry.objects.get(action=AuditAction.REPORT_RESOLVED)
    assert (entry.actor, entry.target_user, entry.message_id, entry.reason) == (
        alice,
        bob,
        bad.pk,
        "Advertising",
    )
    assert entry.details == {"outcome": "message_deleted", "reports": [body["id"]]}
    assert ChatAuditEntry.objects.filter(action=AuditAction.MESSAGE_DELETED).count() == 1
    # Resolved: not again.
    assert resolve(logged_in(alice), room, body["id"], "dismiss").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_report_outlives_the_message_and_one_action_resolves_every_report(
    alice: Any,
    bob: Any,
    carol: Any,
    make_user: Any,
    members: ChatRoom,
    captured_events: CapturedEvents,
) -> None:
    room = members
    dave = make_user("dave")
    services.do_join_room(dave, room)
    message = services.do_send_message(bob, room, "something rude").message
    first = report(logged_in(carol), message, "harassment").json()["id"]
    second = report(logged_in(dave), message, "inappropriate", "please look").json()["id"]
    services.check_delete_message(bob, message, services.room_access(bob, room))  # the author
    items = queue(logged_in(alice), room).json()
    assert [i["id"] for i in items] == [first, second]
    assert items[0]["content"] == "something rude"  # the snapshot
    (shown,) = [m for m in items[0]["around"] if m["id"] == message.pk]
    assert (shown["content"], shown["content_html"], shown["is_deleted"]) == (None, None, True)
    # The reported message is deleted: a deletion from the queue changes nothing more.
    assert resolve(logged_in(alice), room, first, "dismiss").json() == {"outcome": "dismissed"}
    assert ChatReport.objects.filter(status=ReportStatus.DISMISSED).count() == 2
    assert [f["report"] for f in frames_to(captured_events, carol, "report.resolved")] == [first]
    assert [f["report"] for f in frames_to(captured_events, dave, "report.resolved")] == [second]
    assert queue(logged_in(alice), room).json() == []


@pytest.mark.django_db
def test_what_cannot_be_reported(
    alice: Any, bob: Any, carol: Any, members: ChatRoom, settings: Any, make_user: Any
) -> None:
    room = members
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "REPORT_RATE_BURST": 2}
    message = services.do_send_message(bob, room, "hello").message
    own = report(logged_in(bob), message)
    assert (own.status_code, own.json()["error"]["code"]) == (403, "forbidden")
    wrong = report(logged_in(carol), message, "boring")
    assert (wrong.status_code, list(wrong.json()["error"]["fields"])) == (400, ["category"])
    long_note = report(logged_in(carol), message, "other", "x" * 1001)
    assert (long_note.status_code, list(long_note.json()["error"]["fields"])) == (400, ["note"])
    assert report(logged_in(carol), message, "other", "x" * 1000).status_code == 201
    again = report(logged_in(carol), message, "spam")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_reported")
    other = services.do_send_message(alice, room, "another").message
    limited = report(logged_in(carol), other)
    assert (limited.status_code, limited.json()["error"]["code"]) == (429, "rate_limited")
    # A message in a room the reporter does not see, and one in another room's address.
    private, _ = services.check_open_private(alice, bob.pk)
    hidden = services.do_send_message(alice, private, "between us").message
    assert report(logged_in(carol), hidden).status_code == 404
    gone = services.do_send_message(alice, room, "bye").message
    services.check_delete_message(alice, gone, services.room_access(alice, room))
    assert report(logged_in(make_user("erin")), gone).json()["error"]["code"] == "message_deleted"
    assert ChatReport.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_mute_and_ban_from_the_queue(
    alice: Any, bob: Any, carol: Any, members: ChatRoom, captured_events: CapturedEvents
) -> None:
    room = members
    first = services.do_send_message(bob, room, "spam one").message
    second = services.do_send_message(bob, room, "spam two").message
    one = report(logged_in(carol), first).json()["id"]
    two = report(logged_in(carol), second).json()["id"]
    bad = resolve(logged_in(alice), room, one, "mute", duration=5)
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["duration"])
    assert ChatReport.objects.get(pk=one).status == ReportStatus.OPEN  # nothing changed
    muted = resolve(logged_in(alice), room, one, "mute", duration=600, reason="Spam")
    assert muted.json() == {"outcome": "author_muted"}
    assert ChatParticipant.objects.get(room=room, user=bob).silenced_until is not None
    notice = frames_to(captured_events, bob, "moderation.notice")
    assert [(n["action"], n["reason"]) for n in notice] == [("muted", "Spam")]
    banned = resolve(logged_in(alice), room, two, "ban", reason="Spam again")
    assert banned.json() == {"outcome": "author_banned"}
    assert ChatParticipant.objects.get(room=room, user=bob).is_banned
    outcomes = [f["outcome"] for f in frames_to(captured_events, carol, "report.resolved")]
    assert outcomes == ["author_muted", "author_banned"]
    actions = list(
        ChatAuditEntry.objects.filter(room=room).order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        AuditAction.MEMBER_MUTED,
        AuditAction.REPORT_RESOLVED,
        AuditAction.MEMBER_BANNED,
        AuditAction.REPORT_RESOLVED,
    ]
    # A member may not act from the queue; an unknown action is refused.
    third = report(logged_in(bob), services.do_send_message(alice, room, "x").message)
    assert third.status_code == 404  # bob is banned: he sees the room no more
    item = report(logged_in(carol), services.do_send_message(alice, room, "y").message).json()
    assert resolve(logged_in(carol), room, item["id"], "dismiss").status_code == 403
    assert resolve(logged_in(alice), room, item["id"], "approve").status_code == 400


@pytest.mark.django_db
def test_staff_review_a_private_conversation_without_its_context(
    alice: Any, bob: Any, staff: Any
) -> None:
    private, _ = services.check_open_private(alice, bob.pk)
    message = services.do_send_message(bob, private, "threatening words").message
    assert report(logged_in(alice), message, "harassment").status_code == 201
    assert queue(logged_in(bob), private).status_code == 403
    (item,) = queue(logged_in(staff), private).json()
    assert (item["content"], item["around"]) == ("threatening words", [])
    assert resolve(logged_in(staff), private, item["id"], "delete").json() == {
        "outcome": "message_deleted"
    }
    assert ChatMessage.objects.get(pk=message.pk).is_deleted


@pytest.mark.django_db
def test_the_queue_takes_a_fixed_number_of_queries(
    alice: Any, bob: Any, carol: Any, members: ChatRoom, django_assert_max_num_queries: Any
) -> None:
    room = members
    client = logged_in(alice)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert queue(client, room).status_code == 200
        return len(queries)

    report(logged_in(carol), services.do_send_message(bob, room, "one").message)
    few = count()
    for n in range(4):
        report(logged_in(carol), services.do_send_message(bob, room, f"more {n}").message)
    assert count() == few


@pytest.mark.django_db(transaction=True)
async def test_live_frames_on_the_sockets(
    alice: Any, bob: Any, carol: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    await db(services.do_join_room)(carol, public_room)
    message = (await db(services.do_send_message)(bob, public_room, "rude")).message
    moderator = await open_room(alice, public_room.slug)
    reporter = await open_room(carol, public_room.slug)
    try:
        answer = await db(report)(await db(logged_in)(carol), message, "harassment")
        report_id = answer.json()["id"]
        changed = await moderator.receive_frame("reports.changed")
        assert (changed["report"], changed["open"]) == (report_id, 1)
        await db(resolve)(await db(logged_in)(alice), public_room, report_id, "dismiss")
        told = await reporter.receive_frame("report.resolved")
        assert (told["report"], told["outcome"]) == (report_id, "dismissed")
    finally:
        await moderator.disconnect()
        await reporter.disconnect()


@pytest.mark.django_db
def test_the_role_of_a_room_moderator_is_enough(
    alice: Any, bob: Any, carol: Any, members: ChatRoom
) -> None:
    room = members
    ChatParticipant.objects.filter(room=room, user=carol).update(role=Role.MODERATOR)
    message = services.do_send_message(alice, room, "owner's words").message
    item = report(logged_in(bob), message, "other").json()
    assert [i["id"] for i in queue(logged_in(carol), room).json()] == [item["id"]]


# --- the pages without JavaScript -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_report_and_act_from_the_pages(
    alice: Any, bob: Any, carol: Any, members: ChatRoom, captured_events: CapturedEvents
) -> None:
    room = members
    message = services.do_send_message(bob, room, "rude words").message
    form_url = reverse("smartcampus_chat:message_report", args=[room.slug, message.pk])
    reporter = logged_in(carol)
    page = reporter.get(form_url)
    assert page.status_code == 200
    assert 'value="harassment"' in page.content.decode()
    refused = reporter.post(form_url, {"category": "boring"})
    assert refused.status_code == 400
    sent = reporter.post(form_url, {"category": "harassment", "note": "again"})
    assert sent.status_code == 302
    (report_row,) = ChatReport.objects.all()
    queue_url = reverse("smartcampus_chat:room_moderation", args=[room.slug])
    assert reporter.get(queue_url).status_code == 403
    moderator = logged_in(alice)
    listed = moderator.get(queue_url).content.decode()
    assert f'id="report-{report_row.pk}"' in listed
    assert "rude words" in listed
    assert "Reported as Harassment" in listed
    done = moderator.post(
        queue_url, {"report": report_row.pk, "action": "delete", "reason": "Rude"}, follow=True
    )
    assert "The message is deleted." in done.content.decode()
    assert "Nothing waits for a moderator." in done.content.decode()
    assert [f["outcome"] for f in frames_to(captured_events, carol, "report.resolved")] == [
        "message_deleted"
    ]
    # The report is kept with its text, resolved.
    report_row.refresh_from_db()
    assert (report_row.status, report_row.content) == (ReportStatus.ACTIONED, "rude words")


class _Page(HTMLParser):
    """The elements, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.django_db
def test_the_xss_corpus_through_the_queue_page(
    alice: Any, bob: Any, carol: Any, members: ChatRoom
) -> None:
    """Reported snapshots, notes and context come back as text: no element, attribute or
    script of theirs on the page (a sample of the corpus: every 9th payload)."""
    room = members
    sample = [payload.text for payload in PAYLOADS[::9]]
    reports = []
    for text in sample:
        message = services.do_send_message(bob, room, text).message
        reports.append(
            ChatReport(
                room=room,
                message=message,
                content=text,
                author=bob,
                author_label=text[:150],
                reporter=carol,
                category="other",
                note=text[:1000],
            )
        )
    ChatReport.objects.bulk_create(reports)
    html = logged_in(alice).get(reverse("smartcampus_chat:room_moderation", args=[room.slug]))
    queue_html = html.content.decode().split('<ol class="list-unstyled scc-queue">', 1)[1]
    page = _Page()
    page.feed(queue_html)
    template_tags = {"li", "p", "time", "blockquote", "span", "strong", "details", "summary"}
    template_tags |= {"ol", "em", "form", "input", "label", "select", "option", "button", "div"}
    assert page.tags <= template_tags
    assert not [name for name, _value in page.attributes if name.startswith("on")]
    assert not [value for _name, value in page.attributes if "xss" in value.lower()]
    shown = "".join(page.text)
    for text in sample:
        assert text in shown
