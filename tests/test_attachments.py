"""Attachments (docs/attachments.md): upload through the REST API, send over the WebSocket
and the API, serve with an access check and safe headers, delete, purge."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from smartcampus_chat import services
from smartcampus_chat.domain.attachments import clean_name
from smartcampus_chat.infra import file_store
from smartcampus_chat.models import ChatAttachment, ChatMessage, ChatRoom
from smartcampus_chat.testing import open_room
from tests import attachment_files as files
from tests.http import api, logged_in

db = database_sync_to_async


def upload(
    client: Client, room: ChatRoom, data: bytes, name: str = "photo.jpg", **extra: Any
) -> Any:
    content_type = extra.pop("content_type", "application/octet-stream")
    url = api("attachment-list", room_slug=room.slug)
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type)}, **extra)


def uploaded(client: Client, room: ChatRoom, data: bytes, name: str = "photo.jpg") -> dict:
    response = upload(client, room, data, name)
    assert response.status_code == 201, response.content
    return dict(response.json())


def send(client: Client, room: ChatRoom, content: str, ids: list[int], **more: Any) -> Any:
    body = {"content": content, "attachments": ids, **more}
    url = api("message-list", room_slug=room.slug)
    return client.post(url, body, content_type="application/json")


def served(client: Client, url: str, **headers: Any) -> Any:
    response = client.get(url, **headers)
    # Read whole: the test client closes a file response once its content is consumed
    # (closing it again would end the test's database connection).
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def status_of(client: Client, url: str) -> int:
    """The status of GET ``url`` (its body read: a file response holds a file open)."""
    return int(served(client, url)[0].status_code)


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


@pytest.fixture
def member_room(alice: Any, bob: Any, group_room: ChatRoom, group: Any) -> ChatRoom:
    """A group room alice and bob are in (so one can be removed from it)."""
    for user in (alice, bob):
        user.groups.add(group)
        services.do_join_room(user, group_room)
    return group_room


@pytest.mark.django_db
def test_a_photo_is_stored_upright_without_its_metadata(alice: Any, public_room: ChatRoom) -> None:
    client = logged_in(alice)
    # Orientation 6: the camera held sideways; the pixels are 1600x1200, the photo 1200x1600.
    data = uploaded(client, public_room, files.photo(1600, 1200, orientation=6), "IMG_0001.jpg")
    assert (data["kind"], data["content_type"], data["name"]) == (
        "image",
        "image/jpeg",
        "IMG_0001.jpg",
    )
    assert (data["width"], data["height"]) == (1200, 1600)
    assert data["thumbnail_url"]
    assert data["preview_url"]
    response, body = served(client, data["url"])
    assert response.status_code == 200
    image = Image.open(io.BytesIO(body))
    assert image.size == (1200, 1600)
    exif = image.getexif()
    assert not exif, "EXIF must not be served"
    assert not exif.get_ifd(0x8825), "GPS must not be served"
    assert b"PhoneMaker" not in body
    assert b"Exif" not in body
    for url, side in ((data["thumbnail_url"], 320), (data["preview_url"], 1280)):
        response, body = served(client, url)
        assert response["Content-Type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(body)).size) == side
    small = uploaded(client, public_room, files.png(64, 48), "dot.png")
    assert small["thumbnail_url"] is None
    assert small["preview_url"] is None


@pytest.mark.django_db
def test_every_file_response_is_safe(alice: Any, public_room: ChatRoom) -> None:
    client = logged_in(alice)
    photo = uploaded(client, public_room, files.png(), "café ☕.png")
    pdf = uploaded(client, public_room, files.PDF, "slides.pdf")
    text = uploaded(client, public_room, b"notes\n", "../../etc/passwd")
    assert text["name"] == "passwd"
    assert text["content_type"] == "text/plain"
    stored = ChatAttachment.objects.get(pk=text["id"])
    assert "passwd" not in stored.storage_name
    assert ".." not in stored.storage_name
    cases = [
        (photo["url"], "inline", "image/png"),
        (photo["download_url"], "attachment", "image/png"),
        (pdf["url"], "inline", "application/pdf"),
        (text["url"], "attachment", "text/plain"),
    ]
    for url, disposition, content_type in cases:
        response, _body = served(client, url)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith(disposition)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert "private" in response["Cache-Control"]
    response, _body = served(client, photo["download_url"])
    assert (
        response["Content-Disposition"] == "attachment; filename*=utf-8''caf%C3%A9%20%E2%98%95.png"
    )
    again, _body = served(client, photo["url"], HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    # A name cannot inject a header, nor reverse how it reads (a bidi override).
    assert clean_name("a\r\nSet-Cookie: evil=1") == "aSet-Cookie: evil=1"
    tricky = uploaded(client, public_room, b"x\n", "Set-Cookie: evil=1;\u202egpj.exe")
    assert tricky["name"] == "Set-Cookie: evil=1;gpj.exe"
    response, _body = served(client, tricky["url"])
    assert "evil" not in response.cookies
    assert response["Content-Disposition"] == 'attachment; filename="Set-Cookie: evil=1;gpj.exe"'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (files.SVG, "logo.svg", 415, "unsupported_file_type"),
        (files.SVG_WITH_XML_HEADER, "logo.png", 415, "unsupported_file_type"),
        (files.HTML, "page.html", 415, "unsupported_file_type"),
        (files.HTML_AS_TEXT, "notes.txt", 415, "unsupported_file_type"),
        (files.PNG_HEADER_THEN_HTML, "image.png", 422, "invalid_image"),
        (b"MZ\x90\x00" + bytes(200), "setup.exe", 415, "unsupported_file_type"),
    ],
)
def test_hostile_files_are_refused(
    alice: Any, public_room: ChatRoom, data: bytes, name: str, status: int, code: str
) -> None:
    response = upload(logged_in(alice), public_room, data, name, content_type="image/png")
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert not ChatAttachment.objects.exists()


@pytest.mark.django_db
def test_a_polyglot_loses_what_follows_the_image(alice: Any, public_room: ChatRoom) -> None:
    client = logged_in(alice)
    data = uploaded(client, public_room, files.png_then_html(), "both.png")
    _response, body = served(client, data["url"])
    assert b"<script" not in body
    assert body.startswith(b"\x89PNG")


@pytest.mark.django_db
def test_a_decompression_bomb_is_refused(alice: Any, public_room: ChatRoom) -> None:
    response = upload(logged_in(alice), public_room, files.bomb(), "bomb.png")
    assert (response.status_code, error_code(response)) == (422, "image_too_large")
    assert not ChatAttachment.objects.exists()


@pytest.mark.django_db
def test_the_limits(alice: Any, public_room: ChatRoom, settings: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "ATTACHMENT_MAX_BYTES": 1000,
        "ATTACHMENTS_PER_MESSAGE": 2,
        "ATTACHMENT_BYTES_PER_DAY": 1500,
    }
    client = logged_in(alice)
    big = upload(client, public_room, b"x" * 1001, "big.txt")
    assert (big.status_code, error_code(big)) == (413, "file_too_large")
    ids = [uploaded(client, public_room, b"y" * 600, f"{n}.txt")["id"] for n in range(2)]
    over = upload(client, public_room, b"z" * 400, "third.txt")
    assert (over.status_code, error_code(over)) == (413, "upload_quota_exceeded")
    three = send(client, public_room, "", [*ids, ids[0] + 100])
    assert (three.status_code, error_code(three)) == (400, "too_many_attachments")
    assert ChatAttachment.objects.count() == 2
    assert not ChatMessage.objects.exists()
    sent = send(client, public_room, "", ids)
    assert sent.status_code == 201, sent.content
    assert [item["name"] for item in sent.json()["attachments"]] == ["0.txt", "1.txt"]


@pytest.mark.django_db
def test_an_upload_cut_off_at_the_limit_stores_nothing(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    """A body within the Content-Length check (a multipart overhead allowed) is counted as
    it arrives and the upload stops at the limit."""
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "ATTACHMENT_MAX_BYTES": 5000}
    client = logged_in(alice)
    url = api("attachment-list", room_slug=public_room.slug)
    boundary = "BoUnDaRy"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n"
        ).encode()
        + b"a" * 20000
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.generic(
        "POST",
        url,
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert (response.status_code, error_code(response)) == (413, "file_too_large")
    assert not ChatAttachment.objects.exists()


@pytest.mark.django_db
def test_only_the_uploader_sends_an_upload_and_only_once(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    mine = uploaded(logged_in(alice), public_room, files.png(), "a.png")
    stolen = send(logged_in(bob), public_room, "mine now", [mine["id"]])
    assert (stolen.status_code, error_code(stolen)) == (400, "attachment_not_found")
    # Not sent yet: nobody else may read it either.
    assert status_of(logged_in(bob), mine["url"]) == 404
    first = send(logged_in(alice), public_room, "", [mine["id"]], client_id="c1")
    assert first.status_code == 201
    retry = send(logged_in(alice), public_room, "", [mine["id"]], client_id="c1")
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    twice = send(logged_in(alice), public_room, "again", [mine["id"]])
    assert (twice.status_code, error_code(twice)) == (400, "attachment_not_found")
    empty = send(logged_in(alice), public_room, "  ", [])
    assert empty.status_code == 400
    assert status_of(logged_in(bob), mine["url"]) == 200


@pytest.mark.django_db
def test_a_removed_member_loses_the_files(
    alice: Any, bob: Any, staff: Any, member_room: ChatRoom, group: Any
) -> None:
    data = uploaded(logged_in(alice), member_room, files.photo(800, 600), "lab.jpg")
    assert send(logged_in(alice), member_room, "the lab", [data["id"]]).status_code == 201
    for url in (data["url"], data["thumbnail_url"], data["download_url"]):
        assert status_of(logged_in(bob), url) == 200
    bob.groups.remove(group)
    services.notify_access_changed(bob)
    for url in (data["url"], data["thumbnail_url"], data["download_url"]):
        assert status_of(logged_in(bob), url) == 404
    assert status_of(Client(), data["url"]) == 302  # Signed out: to the login page.


@pytest.mark.django_db
def test_a_deleted_message_hides_its_files_but_from_moderators(
    alice: Any, bob: Any, staff: Any, member_room: ChatRoom
) -> None:
    data = uploaded(logged_in(alice), member_room, files.PDF, "exam.pdf")
    sent = send(logged_in(alice), member_room, "answers", [data["id"]]).json()
    message = ChatMessage.objects.get(pk=sent["id"])
    services.check_delete_message(alice, message, services.room_access(alice, member_room))
    assert status_of(logged_in(bob), data["url"]) == 404
    assert status_of(logged_in(alice), data["url"]) == 404
    assert served(logged_in(staff), data["url"])[0].status_code == 200  # The room's owner.
    detail = api("message-detail", room_slug=member_room.slug, pk=message.pk)
    assert logged_in(bob).get(detail).json()["attachments"] == []
    assert len(logged_in(staff).get(detail).json()["attachments"]) == 1


@pytest.mark.django_db
def test_withdrawing_an_upload_removes_its_files(
    alice: Any, bob: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    data = uploaded(logged_in(alice), public_room, files.photo(900, 700), "oops.jpg")
    stored = ChatAttachment.objects.get(pk=data["id"])
    names = services.attachments.stored_names([stored])
    assert len(names) == 2
    assert all(file_store.storage().exists(name) for name in names)
    url = api("attachment-detail", pk=data["id"])
    assert logged_in(bob).delete(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert logged_in(alice).delete(url).status_code == 204
    assert not ChatAttachment.objects.exists()
    assert not any(file_store.storage().exists(name) for name in names)


@pytest.mark.django_db(transaction=True)
def test_the_purge_removes_files_after_the_grace_period(alice: Any, public_room: ChatRoom) -> None:
    client = logged_in(alice)
    kept = uploaded(client, public_room, files.png(), "kept.png")
    gone = uploaded(client, public_room, files.png(), "gone.png")
    pending = uploaded(client, public_room, files.png(), "never-sent.png")
    send(client, public_room, "", [kept["id"]])
    message = ChatMessage.objects.get(pk=send(client, public_room, "", [gone["id"]]).json()["id"])
    services.check_delete_message(alice, message, services.room_access(alice, public_room))
    rows = {
        row.pk: services.attachments.stored_names([row]) for row in ChatAttachment.objects.all()
    }
    call_command("chat_purge_attachments", stdout=io.StringIO())
    assert ChatAttachment.objects.count() == 3  # Within the grace period: nothing goes.
    later = timezone.now() + timedelta(days=8)
    out = io.StringIO()
    assert services.do_purge_attachments(now=later) == 2
    assert set(ChatAttachment.objects.values_list("pk", flat=True)) == {kept["id"]}
    for pk in (gone["id"], pending["id"]):
        assert not any(file_store.storage().exists(name) for name in rows[pk])
    assert all(file_store.storage().exists(name) for name in rows[kept["id"]])
    call_command("chat_purge_attachments", stdout=out)
    assert "0" in out.getvalue()


@pytest.mark.django_db
def test_history_reads_attachments_in_one_query(alice: Any, public_room: ChatRoom) -> None:
    client = logged_in(alice)
    url = api("message-list", room_slug=public_room.slug)

    def queries_for_history() -> int:
        with CaptureQueriesContext(connection) as counted:
            assert client.get(url).status_code == 200
        return len(counted)

    ids = [uploaded(client, public_room, files.png(), f"{n}.png")["id"] for n in range(2)]
    send(client, public_room, "one", ids[:1])
    before = queries_for_history()
    send(client, public_room, "two", ids[1:])
    send(client, public_room, "text only", [])
    assert queries_for_history() == before
    page = client.get(url).json()["results"]
    assert [len(item["attachments"]) for item in page] == [1, 1, 0]


@pytest.mark.django_db
def test_a_rooms_files_page(
    alice: Any, bob: Any, public_room: ChatRoom, group_room: ChatRoom
) -> None:
    client = logged_in(alice)
    image = uploaded(client, public_room, files.png(), "a.png")
    doc = uploaded(client, public_room, files.PDF, "b.pdf")
    uploaded(client, public_room, files.png(), "pending.png")
    send(client, public_room, "", [image["id"], doc["id"]])
    url = api("attachment-list", room_slug=public_room.slug)
    everything = client.get(url).json()
    assert [item["attachment"]["name"] for item in everything["results"]] == ["b.pdf", "a.png"]
    assert everything["results"][0]["sender"]["id"] == alice.pk
    images = client.get(url, {"kind": "image", "limit": 1}).json()
    assert [item["attachment"]["id"] for item in images["results"]] == [image["id"]]
    hidden = logged_in(bob).get(api("attachment-list", room_slug=group_room.slug))
    assert hidden.status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_a_file_sent_over_the_socket_is_live_for_the_room(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    data = await db(lambda: uploaded(logged_in(alice), public_room, files.photo(800, 600)))()
    reader = await open_room(bob, public_room.slug)
    sender = await open_room(alice, public_room.slug)
    try:
        await sender.send_frame(
            type="message.send",
            room=public_room.slug,
            content="",
            attachments=[data["id"]],
            id="s1",
        )
        ack = await sender.receive_until(lambda f: f["type"] == "ack")
        assert [item["id"] for item in ack["message"]["attachments"]] == [data["id"]]
        live = await reader.receive_frame("message.new")
        assert live["message"]["attachments"] == ack["message"]["attachments"]
        assert live["message"]["attachments"][0]["thumbnail_url"] == data["thumbnail_url"]
        await sender.send_frame(
            type="message.send",
            room=public_room.slug,
            content="x",
            attachments=[data["id"]],
            id="s2",
        )
        error = await sender.receive_until(lambda f: f["type"] == "error")
        assert (error["code"], error["id"]) == ("attachment_not_found", "s2")
        await sender.send_frame(
            type="message.send", room=public_room.slug, content="x", attachments=[10**9], id="s3"
        )
        error = await sender.receive_until(lambda f: f["type"] == "error")
        assert (error["code"], error["id"]) == ("attachment_not_found", "s3")
    finally:
        await sender.disconnect()
        await reader.disconnect()


@pytest.mark.django_db
def test_the_page_without_javascript_sends_a_message_with_its_files(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    client = logged_in(alice)
    url = public_room.get_absolute_url()
    files_sent = [
        SimpleUploadedFile("a.png", files.png()),
        SimpleUploadedFile("notes.txt", b"see you\n"),
    ]
    response = client.post(url, {"content": "", "files": files_sent})
    assert response.status_code == 302
    message = ChatMessage.objects.get()
    assert [row.name for row in message.attachments.order_by("position")] == ["a.png", "notes.txt"]
    # A refused file: the form says why, and neither the message nor the good file stays.
    refused = client.post(
        url,
        {
            "content": "two",
            "files": [
                SimpleUploadedFile("ok.png", files.png()),
                SimpleUploadedFile("x.svg", files.SVG),
            ],
        },
    )
    assert refused.status_code == 400
    assert "cannot be shared here" in refused.content.decode()
    assert ChatMessage.objects.count() == 1
    assert ChatAttachment.objects.count() == 2


@pytest.mark.django_db
def test_staff_remove_a_file_in_the_admin(
    alice: Any, public_room: ChatRoom, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    root = make_user("root", is_staff=True, is_superuser=True)
    client = logged_in(alice)
    first = uploaded(client, public_room, files.png(), "keep.png")
    second = uploaded(client, public_room, files.PDF, "wrong.pdf")
    send(client, public_room, "files", [first["id"], second["id"]])
    admin = logged_in(root)
    changelist = reverse("admin:smartcampus_chat_chatattachment_changelist")
    listed = admin.get(changelist, {"state": "sent", "q": "wrong"}).content.decode()
    assert "wrong.pdf" in listed
    assert "keep.png" not in listed
    stored = services.attachments.stored_names([ChatAttachment.objects.get(pk=second["id"])])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            changelist,
            {"action": "delete_selected", "_selected_action": [second["id"]], "post": "yes"},
            follow=True,
        )
    assert response.status_code == 200
    assert list(ChatAttachment.objects.values_list("pk", flat=True)) == [first["id"]]
    assert not file_store.storage().exists(stored[0])
    detail = api("message-detail", room_slug=public_room.slug, pk=ChatMessage.objects.get().pk)
    assert [item["name"] for item in client.get(detail).json()["attachments"]] == ["keep.png"]


@pytest.mark.django_db
def test_a_phone_photo_in_heic_is_stored_as_jpeg(alice: Any, public_room: ChatRoom) -> None:
    """With the ``heif`` extra (pillow-heif), HEIC photos are accepted and become JPEG."""
    client = logged_in(alice)
    data = uploaded(client, public_room, files.heic(1200, 900), "IMG_0042.HEIC")
    assert (data["content_type"], data["name"], data["kind"]) == (
        "image/jpeg",
        "IMG_0042.jpg",
        "image",
    )
    _response, body = served(client, data["url"])
    image = Image.open(io.BytesIO(body))
    assert (image.format, image.size) == ("JPEG", (1200, 900))
    assert not image.getexif()


@pytest.mark.django_db
def test_the_room_list_names_the_files_of_a_message_without_text(
    alice: Any, public_room: ChatRoom
) -> None:
    client = logged_in(alice)
    ids = [uploaded(client, public_room, files.png(), name)["id"] for name in ("a.png", "b.png")]
    send(client, public_room, "", ids)
    page = client.get(reverse("smartcampus_chat:room_list")).content.decode()
    assert "Alice: \U0001f4ce a.png, b.png" in page


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_a_file_is_streamed_in_blocks_not_read_whole(
    alice: Any, public_room: ChatRoom, async_client: Any
) -> None:
    """Django serves a synchronous iterator under ASGI by reading it into a list first:
    files go out through an asynchronous one, a block at a time."""
    big = b"%PDF-1.7\n" + bytes(3 * 65536)
    data = await db(lambda: uploaded(logged_in(alice), public_room, big, "big.pdf"))()
    await async_client.aforce_login(alice)
    response = await async_client.get(data["download_url"])
    assert response.status_code == 200
    assert response.is_async
    assert response["Content-Length"] == str(len(big))
    blocks = [block async for block in response.streaming_content]
    assert len(blocks) > 1
    assert b"".join(blocks) == big
