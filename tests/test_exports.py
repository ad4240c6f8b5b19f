"""Data exports (docs/data-export.md): a person's own data through the REST API and the
"Your data" page, built off the request path, downloaded once by them only; limits,
expiry, the job hook; a room's export for a legal hold (command and admin action), its
transcript checked against the XSS corpus; the audit entries."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.exceptions import ExportPending
from smartcampus_chat.infra import file_store
from smartcampus_chat.markup import render
from smartcampus_chat.models import (
    AuditAction,
    ChatAuditEntry,
    ChatExport,
    ChatMessage,
    ChatRoom,
    ExportStatus,
)
from smartcampus_chat.services import exports
from smartcampus_chat.services.exports import do_build_export
from tests.http import api, logged_in
from tests.markup_audit import TAGS, safe_url
from tests.xss_corpus import PAYLOADS

pytestmark = pytest.mark.django_db

#: What the enqueue hook test's host queue received.
QUEUED: list[int] = []


def record_export(export_id: int) -> None:
    """A host's ``EXPORT_ENQUEUE`` callable (its task queue), for the hook test."""
    QUEUED.append(export_id)


def served(client: Client, url: str, **headers: Any) -> tuple[Any, bytes]:
    response = client.get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def build() -> str:
    """Run the job hook's command; its output."""
    out = io.StringIO()
    call_command("chat_exports", stdout=out)
    return out.getvalue().strip()


def listed(user: Any) -> list[dict[str, Any]]:
    response = logged_in(user).get(api("export-list"))
    assert response.status_code == 200
    return list(response.json())


def unzip(body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The JSON documents and the other files of a zip."""
    with zipfile.ZipFile(io.BytesIO(body)) as zipped:
        names = zipped.namelist()
        documents = {n: json.loads(zipped.read(n)) for n in names if n.endswith(".json")}
        others = {n: zipped.read(n) for n in names if not n.endswith(".json")}
    return documents, others


def keys(value: Any) -> set[str]:
    """Every key of a JSON document, however deep."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(key)
            found |= keys(item)
    elif isinstance(value, list):
        for item in value:
            found |= keys(item)
    return found


@pytest.fixture
def carol(make_user: Any) -> Any:
    return make_user("carol", first_name="Carol", email="carol@campus.example.edu")


@pytest.fixture
def busy_alice(alice: Any, bob: Any, carol: Any, public_room: ChatRoom) -> dict[str, Any]:
    """Alice writes, reacts, sends a file, sets her preferences; Bob and Carol write too."""
    services.do_join_room(bob, public_room)
    services.do_join_room(carol, public_room)
    private, _created = services.do_open_private(alice, bob)
    client = logged_in(alice)
    from_bob = services.do_send_message(bob, public_room, "Bob's own words").message
    secret = services.do_send_message(bob, private, "Bob's private words").message
    services.do_send_message(carol, public_room, "Carol's words")
    upload = client.post(
        api("attachment-list", room_slug=public_room.slug),
        {"file": SimpleUploadedFile("notes.txt", b"my notes\n", "text/plain")},
    )
    assert upload.status_code == 201, upload.content
    sent = client.post(
        api("message-list", room_slug=public_room.slug),
        {"content": "Here are **my** notes", "attachments": [upload.json()["id"]]},
        content_type="application/json",
    )
    assert sent.status_code == 201, sent.content
    reply = services.do_send_message(alice, public_room, "@bob agreed", reply_to=from_bob).message
    edited = services.do_send_message(alice, private, "first").message
    services.do_edit_message(alice, edited, "first, edited")
    gone = services.do_send_message(alice, public_room, "I take it back").message
    services.do_delete_message(alice, gone)
    services.check_react(alice, from_bob, "👍", services.room_access(alice, public_room), add=True)
    services.check_react(bob, from_bob, "🎉", services.room_access(bob, public_room), add=True)
    services.check_set_preferences(
        alice, email_digests=False, quiet_hours_start=time(22), quiet_hours_end=time(7)
    )
    services.check_set_room_notifications(
        alice,
        public_room,
        services.room_access(alice, public_room),
        level="mentions",
        muted_until=None,
    )
    return {
        "private": private,
        "with_file": ChatMessage.objects.get(pk=sent.json()["id"]),
        "reply": reply,
        "edited": edited,
        "from_bob": from_bob,
        "secret": secret,
        "gone": gone,
    }


def test_the_round_trip_of_a_persons_own_data(
    alice: Any, bob: Any, public_room: ChatRoom, busy_alice: dict[str, Any]
) -> None:
    client = logged_in(alice)
    asked = client.post(api("export-list"))
    assert asked.status_code == 202
    assert asked.json()["status"] == "pending"
    assert asked.json()["download_url"] is None
    assert build() == "Exports: 1 built, 0 failed, 0 expired"
    [export] = listed(alice)
    assert export["status"] == "ready"
    assert export["kind"] == "user"
    link = export["download_url"]
    assert link.startswith("/chat/exports/")

    # Someone else, even with the link, gets the same answer as for no export at all.
    stolen, _body = served(logged_in(bob), link)
    assert stolen.status_code == 404
    assert ChatExport.objects.get().status == ExportStatus.READY

    response, body = served(client, link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    documents, others = unzip(body)
    attachment = busy_alice["with_file"].attachments.get()
    file_name = f"attachments/{attachment.pk}-notes.txt"
    assert set(documents) == {"profile.json", "rooms.json", "messages.json", "reactions.json"}
    assert others == {file_name: b"my notes\n"}

    profile = documents["profile.json"]
    assert profile["display_name"] == "Alice"
    assert profile["preferences"]["email_digests"] is False
    assert profile["preferences"]["quiet_hours_start"] == "22:00:00"
    assert profile["room_notifications"] == [
        {"room": public_room.slug, "notify_level": "mentions", "muted_until": None},
        {"room": busy_alice["private"].slug, "notify_level": "default", "muted_until": None},
    ] or profile["room_notifications"] == [
        {"room": busy_alice["private"].slug, "notify_level": "default", "muted_until": None},
        {"room": public_room.slug, "notify_level": "mentions", "muted_until": None},
    ]
    rooms = {row["room"]: row for row in documents["rooms.json"]}
    assert rooms[public_room.slug]["title"] == "General"
    assert rooms[public_room.slug]["role"] == "owner"
    # The private conversation is titled with the other person's display name only.
    assert rooms[busy_alice["private"].slug]["title"] == "Bob"
    assert rooms[busy_alice["private"].slug]["member"] is True

    messages = {row["id"]: row for row in documents["messages.json"]}
    assert set(messages) == {
        busy_alice["with_file"].pk,
        busy_alice["reply"].pk,
        busy_alice["edited"].pk,
    }  # Not the deleted one, not anyone else's.
    assert messages[busy_alice["with_file"].pk]["text"] == "Here are **my** notes"
    assert messages[busy_alice["with_file"].pk]["attachments"] == [file_name]
    assert messages[busy_alice["reply"].pk]["reply_to"] == busy_alice["from_bob"].pk
    edited = messages[busy_alice["edited"].pk]
    assert (edited["text"], edited["is_edited"]) == ("first, edited", True)
    assert edited["edited_at"] is not None
    assert documents["reactions.json"] == [
        {
            "message_id": busy_alice["from_bob"].pk,
            "room": public_room.slug,
            "emoji": "👍",
            "created_at": documents["reactions.json"][0]["created_at"],
        }
    ]
    # Nothing of others beyond a display name: no text, username, e-mail, id or reaction.
    text = json.dumps(documents, ensure_ascii=False)
    for leaked in ("Bob's own words", "Bob's private words", "Carol", "carol", '"bob"', "🎉"):
        assert leaked not in text, leaked
    assert "@campus.example.edu" not in text
    assert not keys(documents) & {"user_id", "username", "email", "sender", "content_html"}
    assert "I take it back" not in text

    # Once only: the file is gone, the link answers 410 (a page, or JSON when asked).
    stored = ChatExport.objects.get()
    assert stored.status == ExportStatus.DOWNLOADED
    assert stored.storage_name == ""
    again, page = served(client, link)
    assert again.status_code == 410
    assert b"already downloaded or has expired" in page
    as_json = client.get(link, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 410
    assert as_json.json()["error"]["code"] == "export_gone"
    assert listed(alice)[0]["status"] == "downloaded"

    entry = ChatAuditEntry.objects.get(action=AuditAction.USER_EXPORTED)
    assert (entry.actor, entry.target_user) == (alice, alice)
    assert entry.details["export_id"] == stored.pk


def test_the_file_leaves_storage_after_the_download(alice: Any, public_room: ChatRoom) -> None:
    services.check_request_export(alice)
    build()
    export = ChatExport.objects.get()
    assert file_store.storage().exists(export.storage_name)
    name = export.storage_name
    served(logged_in(alice), listed(alice)[0]["download_url"])
    assert not file_store.storage().exists(name)


def test_a_forged_or_altered_link_is_not_found(alice: Any, public_room: ChatRoom) -> None:
    services.check_request_export(alice)
    build()
    link = listed(alice)[0]["download_url"]
    client = logged_in(alice)
    for bad in (link[:-3] + "abc/", reverse("smartcampus_chat:export_download", args=["x"])):
        assert served(client, bad)[0].status_code == 404
    assert served(Client(), link)[0].status_code == 302  # signed out: to the login page
    assert ChatExport.objects.get().status == ExportStatus.READY


def test_an_export_expires_unread(alice: Any, public_room: ChatRoom) -> None:
    services.check_request_export(alice)
    build()
    export = ChatExport.objects.get()
    link = listed(alice)[0]["download_url"]
    assert export.expires_at is not None
    ChatExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert served(logged_in(alice), link)[0].status_code == 410
    assert build() == "Exports: 0 built, 0 failed, 1 expired"
    export.refresh_from_db()
    assert (export.status, export.storage_name) == (ExportStatus.EXPIRED, "")
    assert listed(alice)[0]["download_url"] is None


def test_one_pending_at_a_time_and_a_daily_limit(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "EXPORT_MAX_PER_DAY": 2}
    client = logged_in(alice)
    assert client.post(api("export-list")).status_code == 202
    pending = client.post(api("export-list"))
    assert pending.status_code == 409
    assert pending.json()["error"]["code"] == "export_pending"
    build()
    assert client.post(api("export-list")).status_code == 202
    build()
    limited = client.post(api("export-list"))
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "export_limit_reached"
    assert 0 < float(limited["Retry-After"]) <= 24 * 3600
    ChatExport.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert client.post(api("export-list")).status_code == 202


def test_two_requests_at_once_cannot_both_be_pending(alice: Any, public_room: ChatRoom) -> None:
    """Both passed the check before either wrote its row (two tabs, one click each): the
    database keeps one pending own-data export per person; room exports are not bound."""
    first = exports.do_request_export(alice)
    with pytest.raises(ExportPending):
        exports.do_request_export(alice)
    assert list(ChatExport.objects.filter(user=alice).values_list("pk", flat=True)) == [first.pk]
    exports.do_request_room_export(alice, public_room)
    exports.do_request_room_export(alice, public_room)
    assert ChatExport.objects.filter(user=alice, status=ExportStatus.PENDING).count() == 3


def test_the_your_data_page(alice: Any, public_room: ChatRoom) -> None:
    client = logged_in(alice)
    preferences = client.get(reverse("smartcampus_chat:preferences")).content.decode()
    page_url = reverse("smartcampus_chat:exports")
    assert f'href="{page_url}"' in preferences
    assert "No exports yet." in client.get(page_url).content.decode()
    asked = client.post(page_url, follow=True)
    assert asked.redirect_chain == [(page_url, 302)]
    assert "Your export is being prepared" in asked.content.decode()
    assert 'data-status="pending"' in asked.content.decode()
    again = client.post(page_url)
    assert again.status_code == 409
    assert "still being prepared" in again.content.decode()
    build()
    page = client.get(page_url).content.decode()
    assert 'data-status="ready"' in page
    assert f'href="{listed(alice)[0]["download_url"]}"' in page
    french = client.get(page_url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Vos données" in french


def test_the_enqueue_hook_gets_the_new_export(
    alice: Any, public_room: ChatRoom, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "EXPORT_ENQUEUE": "tests.test_exports.record_export",
    }
    QUEUED.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(alice).post(api("export-list"))
    assert [response.json()["id"]] == QUEUED
    assert do_build_export(QUEUED[0]) is True
    assert do_build_export(QUEUED[0]) is False  # built once
    assert ChatExport.objects.get().status == ExportStatus.READY


# --- A room's export (staff, legal hold) -----------------------------------------------


#: The transcript template's own elements and attributes; messages add the allow-list's.
TRANSCRIPT_ELEMENTS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2"}
TRANSCRIPT_ELEMENTS |= {"p", "ul", "li", "section", "main", "article", "strong", "div", "br"}
TRANSCRIPT_ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "name", "class", "id"}
TRANSCRIPT_ATTRIBUTES |= {"href", "title", "target", "rel", "start", "data-user-id"}
TRANSCRIPT_ATTRIBUTES |= {"data-mention", "display", "encoding", "mathvariant", "stretchy"}


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TRANSCRIPT_ELEMENTS | TAGS:
            self.problems.append(f"element <{tag}>")
        if tag == "style":
            self.styles += 1
        for name, value in attrs:
            if name.startswith("on") or name in ("src", "style", "srcdoc", "action", "formaction"):
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")
            elif name == "href" and not safe_url(value or ""):
                self.problems.append(f"link {value!r}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")


def test_a_rooms_export_holds_the_xss_corpus_escaped(
    alice: Any, bob: Any, public_room: ChatRoom, tmp_path: Path
) -> None:
    """Every payload of tests/xss_corpus.py as a message (rendered as the send pipeline
    renders it), a sample as the room's name and a sender's name: the transcript holds only
    its own markup and the allow-list's, and shows each name as text."""
    services.do_join_room(bob, public_room)
    ChatMessage.objects.bulk_create(
        ChatMessage(
            room=public_room,
            sender=bob,
            content=p.text,
            content_html=render(p.text),
            seq=n + 1,
            event_seq=n + 1,
        )
        for n, p in enumerate(PAYLOADS)
    )
    ChatRoom.objects.filter(pk=public_room.pk).update(
        last_seq=len(PAYLOADS), last_event_seq=len(PAYLOADS), name=PAYLOADS[3].text[:120]
    )
    public_room.refresh_from_db()
    deleted = services.do_send_message(alice, public_room, "my deleted secret").message
    services.do_delete_message(alice, deleted)
    for payload in PAYLOADS[::50]:
        bob.first_name = payload.text[:150]
        bob.save(update_fields=["first_name"])
        out = io.StringIO()
        call_command("chat_export_room", public_room.slug, "--output", str(tmp_path), stdout=out)
        [path] = tmp_path.iterdir()
        with zipfile.ZipFile(path) as zipped:
            assert sorted(zipped.namelist()) == ["room.json", "transcript.html"]
            transcript = zipped.read("transcript.html").decode()
            room = json.loads(zipped.read("room.json"))
        path.unlink()
        found = _Audit()
        found.feed(transcript)
        found.close()
        assert not found.problems, (payload.number, found.problems[:5])
        assert found.styles == 1
        shown = " ".join("".join(found.text).split())
        assert " ".join(bob.first_name.split()) in shown, payload.number
        assert " ".join(public_room.name.split()) in shown
    assert "my deleted secret" not in transcript
    assert "This message was deleted." in transcript
    assert [m["seq"] for m in room["messages"]] == list(range(1, len(PAYLOADS) + 2))
    last = room["messages"][-1]
    assert (last["is_deleted"], last["content"]) == (True, None)
    assert last["deleted_by"] == {"user_id": alice.pk, "display_name": "Alice"}
    assert room["messages"][0]["content"] == PAYLOADS[0].text
    assert {m["display_name"] for m in room["members"]} == {"Alice", bob.first_name}
    entries = ChatAuditEntry.objects.filter(action=AuditAction.ROOM_EXPORTED)
    assert entries.count() == len(PAYLOADS[::50])
    assert {(e.actor, e.room) for e in entries} == {(None, public_room)}


def test_the_room_export_command_refuses_an_unknown_room(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No room"):
        call_command("chat_export_room", "nowhere", "--output", str(tmp_path))


def test_staff_export_a_room_from_the_admin(
    alice: Any, public_room: ChatRoom, make_user: Any
) -> None:
    admin = make_user("root", is_staff=True, is_superuser=True)
    services.do_send_message(alice, public_room, "for the record")
    client = logged_in(admin)
    response = client.post(
        reverse("admin:smartcampus_chat_chatroom_changelist"),
        {"action": "export_rooms", "_selected_action": [public_room.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "being prepared" in response.content.decode()
    export = ChatExport.objects.get()
    assert (export.user, export.kind, export.room) == (admin, "room", public_room)
    build()
    [row] = listed(admin)
    assert (row["kind"], row["room"], row["status"]) == ("room", public_room.slug, "ready")
    assert served(logged_in(alice), row["download_url"])[0].status_code == 404
    _response, body = served(client, row["download_url"])
    documents, others = unzip(body)
    assert documents["room.json"]["messages"][0]["content"] == "for the record"
    assert "for the record" in others["transcript.html"].decode()
    entry = ChatAuditEntry.objects.get(action=AuditAction.ROOM_EXPORTED)
    assert (entry.actor, entry.room) == (admin, public_room)
