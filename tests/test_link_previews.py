"""Link previews through the real path (docs/security.md, "Link previews"): a message with
a link sent over the WebSocket, the page fetched in the background from a local server
behind a fake DNS, the ``message.preview`` frame, the image served with the message's
access check, and removal by the author only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra import file_store, safe_fetch
from smartcampus_chat.models import ChatLinkPreview, ChatMessage, ChatRoom, PreviewStatus
from smartcampus_chat.testing import capture_events, open_room
from tests.fetch_servers import ENQUEUED, FakeNetwork, PageServer, news_site
from tests.http import api, logged_in

db = database_sync_to_async
RECORD = "tests.fetch_servers.record_enqueue"


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PageServer, FakeNetwork]]:
    """The fake news site, and every fetch of the process routed through its network."""
    with news_site() as (server, network):
        monkeypatch.setattr(safe_fetch, "default_network", network.network())
        yield server, network


@pytest.fixture
def previews_on(settings: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "LINK_PREVIEWS": True}


@pytest.fixture
def previews_queued(settings: Any) -> Iterator[list[int]]:
    """Previews on, handed to a recording LINK_PREVIEW_ENQUEUE: the test fetches them."""
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "LINK_PREVIEWS": True,
        "LINK_PREVIEW_ENQUEUE": RECORD,
    }
    ENQUEUED.clear()
    yield ENQUEUED
    ENQUEUED.clear()


@pytest.fixture
def member_room(alice: Any, bob: Any, group_room: ChatRoom, group: Any) -> ChatRoom:
    """A group room alice and bob are in (others do not see it)."""
    for user in (alice, bob):
        user.groups.add(group)
        services.do_join_room(user, group_room)
    return group_room


@pytest.fixture
def carol(make_user: Any) -> Any:
    return make_user("carol")


def fetch_file(user: Any, url: str) -> tuple[int, dict[str, str], bytes]:
    response = logged_in(user).get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return response.status_code, dict(response.headers), body


def delete(user: Any, url: str) -> Any:
    return logged_in(user).delete(url)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("previews_on")
async def test_a_link_sent_on_the_socket_gets_a_live_preview_that_only_its_author_removes(
    alice: Any, bob: Any, carol: Any, member_room: ChatRoom, site: Any
) -> None:
    server, network = site
    public_room = member_room
    reader = await open_room(bob, public_room.slug)
    writer = await open_room(alice, public_room.slug)
    try:
        sent = await writer.send_message(
            public_room.slug,
            "in code: `http://intranet.example/` then http://news.example/ and http://b.example/",
        )
        assert sent["preview"] is None  # fetched after the send, off the socket's path
        live = await reader.receive_until(lambda f: f["type"] == "message.preview", timeout=10)
        message = live["message"]
        assert message["id"] == sent["id"]
        assert message["event_seq"] > sent["event_seq"]
        preview = message["preview"]
        image_url = preview.pop("image_url")
        assert preview == {
            "url": "http://news.example/",
            "title": "Robotics lab open day",
            "description": "Come & see the robots.",
            "site_name": "Campus News",
            "image_width": 600,
            "image_height": 400,
        }
        # Only the first link, never the one in code; nothing but the fake site reached.
        assert network.lookups == ["news.example", "news.example"]
        assert [path for _, path in server.requests] == ["/", "/lab.png"]

        status, headers, body = await db(fetch_file)(bob, image_url)
        assert (status, headers["Content-Type"]) == (200, "image/jpeg")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert body.startswith(b"\xff\xd8")  # re-encoded: a JPEG, not the site's PNG
        assert (await db(fetch_file)(carol, image_url))[0] == 404  # not a member

        # Someone else may not remove it, on the socket or through the API.
        await reader.send_frame(
            type="preview.remove", room=public_room.slug, message_id=sent["id"], id="x1"
        )
        error = await reader.receive_until(lambda f: f["type"] == "error")
        assert (error["code"], error["id"]) == ("forbidden", "x1")
        url = api("message-preview", room_slug=public_room.slug, pk=sent["id"])
        assert (await db(delete)(bob, url)).status_code == 403

        await writer.send_frame(
            type="preview.remove", room=public_room.slug, message_id=sent["id"], id="r1"
        )
        ack = await writer.receive_until(lambda f: f["type"] == "ack")
        assert (ack["id"], ack["message"]["preview"]) == ("r1", None)
        removed = await reader.receive_until(lambda f: f["type"] == "message.preview")
        assert removed["message"]["preview"] is None
        assert removed["message"]["event_seq"] == ack["message"]["event_seq"]
        assert (await db(fetch_file)(bob, image_url))[0] == 404
        again = await db(delete)(alice, url)  # removing twice changes nothing
        assert (again.status_code, again.json()["preview"]) == (200, None)
    finally:
        await reader.disconnect()
        await writer.disconnect()


@pytest.mark.django_db
def test_no_preview_when_off_without_a_link_or_only_in_code(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    services.do_send_message(alice, public_room, "http://news.example/ while off")
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "LINK_PREVIEWS": True,
        "LINK_PREVIEW_ENQUEUE": RECORD,
    }
    services.do_send_message(alice, public_room, "no link at all")
    services.do_send_message(alice, public_room, "`http://news.example/`\n\n    http://x.example/")
    services.do_send_message(alice, public_room, "[a mail](mailto:a@b.example) ftp://x.example/")
    assert not ChatLinkPreview.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_private_target_fails_quietly(
    alice: Any, public_room: ChatRoom, site: Any, previews_queued: list[int]
) -> None:
    _server, network = site
    message = services.do_send_message(alice, public_room, "see http://intranet.example/").message
    assert previews_queued == [message.pk]  # handed over after commit
    with capture_events() as captured:
        assert services.do_fetch_preview(message.pk) is False
    assert not [e for e in captured.events if e.frame and e.frame["type"] == "message.preview"]
    row = ChatLinkPreview.objects.get(pk=message.pk)
    assert (row.status, row.title) == (PreviewStatus.FAILED, "")
    assert network.connections == []
    assert services.do_fetch_preview(message.pk) is False  # never tried again


@pytest.mark.django_db(transaction=True)
def test_pending_previews_are_fetched_by_the_command(
    alice: Any, bob: Any, public_room: ChatRoom, site: Any, previews_queued: list[int]
) -> None:
    services.do_join_room(bob, public_room)
    first = services.do_send_message(alice, public_room, "http://news.example/").message
    second = services.do_send_message(alice, public_room, "<http://news.example/>").message
    # A preview removed while pending never appears.
    access = services.room_access(alice, public_room)
    services.check_remove_preview(alice, second, access)
    out = _call("chat_link_previews")
    assert "1 pending, 1 published" in out
    history = logged_in(bob).get(api("message-list", room_slug=public_room.slug)).json()
    by_id = {m["id"]: m for m in history["results"]}
    assert by_id[first.pk]["preview"]["title"] == "Robotics lab open day"
    assert by_id[second.pk]["preview"] is None
    assert "0 pending" in _call("chat_link_previews")


def _call(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_deleted_message_shows_no_preview_and_serves_no_image(
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    site: Any,
    previews_queued: list[int],
) -> None:
    services.do_join_room(bob, public_room)
    message = services.do_send_message(alice, public_room, "http://news.example/").message
    assert services.do_fetch_preview(message.pk) is True
    url = api("message-detail", room_slug=public_room.slug, pk=message.pk)
    image_url = logged_in(bob).get(url).json()["preview"]["image_url"]
    assert fetch_file(bob, image_url)[0] == 200
    services.check_delete_message(alice, message, services.room_access(alice, public_room))
    assert logged_in(bob).get(url).json()["preview"] is None
    assert fetch_file(bob, image_url)[0] == 404
    assert fetch_file(alice, image_url)[0] == 404
    # The image leaves storage after the attachments' grace period, not before.
    stored = ChatLinkPreview.objects.get(pk=message.pk).image_storage_name
    assert file_store.storage().exists(stored)
    assert "0 images of deleted messages purged" in _call("chat_link_previews")
    later = timezone.now() + timedelta(seconds=app_settings.ATTACHMENT_PURGE_AFTER + 1)
    assert services.do_purge_preview_images(now=later) == 1
    assert not file_store.storage().exists(stored)
    assert ChatLinkPreview.objects.get(pk=message.pk).image_storage_name == ""


@pytest.mark.django_db(transaction=True)
def test_a_message_deleted_before_its_fetch_gets_no_card(
    alice: Any, public_room: ChatRoom, site: Any, previews_queued: list[int]
) -> None:
    message = services.do_send_message(alice, public_room, "http://news.example/").message
    services.check_delete_message(alice, message, services.room_access(alice, public_room))
    with capture_events() as captured:
        assert services.do_fetch_preview(message.pk) is False
    assert not [e for e in captured.events if e.frame and e.frame["type"] == "message.preview"]
    assert ChatMessage.objects.get(pk=message.pk).is_deleted
