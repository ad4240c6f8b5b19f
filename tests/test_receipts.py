"""Read receipts (docs/protocol.md, "Read receipts"): derived from read markers, shown in
small rooms that keep them on, among the members who share theirs; the receipt frame, the
API, the page's "Seen by" and the preferences page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from smartcampus_chat import queries, services
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async
pytestmark = pytest.mark.django_db


def receipts(user: Any, room: ChatRoom) -> dict[str, Any]:
    answer = logged_in(user).get(api("room-receipts", slug=room.slug))
    assert answer.status_code == 200, answer.content
    return {
        "enabled": answer.json()["enabled"],
        "readers": {row["user"]["id"]: row["last_read_seq"] for row in answer.json()["readers"]},
    }


@pytest.fixture
def chat(alice: Any, bob: Any, public_room: ChatRoom) -> list[ChatMessage]:
    services.do_join_room(bob, public_room)
    return [services.do_send_message(alice, public_room, f"m{n}").message for n in range(3)]


def test_receipts_follow_reads_and_sends(
    alice: Any, bob: Any, public_room: ChatRoom, chat: list[ChatMessage]
) -> None:
    assert receipts(alice, public_room) == {"enabled": True, "readers": {bob.pk: 0}}
    services.do_mark_read(bob, public_room, 2)
    assert receipts(alice, public_room)["readers"] == {bob.pk: 2}
    services.do_send_message(bob, public_room, "mine")
    assert receipts(alice, public_room)["readers"] == {bob.pk: 4}  # sending reads the room
    assert receipts(bob, public_room)["readers"] == {alice.pk: 3}  # never oneself


def test_who_does_not_share_is_not_shown_and_sees_none(
    alice: Any, bob: Any, public_room: ChatRoom, chat: list[ChatMessage]
) -> None:
    turned = logged_in(bob).patch(
        api("preferences"), {"read_receipts": False}, content_type="application/json"
    )
    assert turned.json()["read_receipts"] is False
    assert receipts(alice, public_room) == {"enabled": True, "readers": {}}
    assert receipts(bob, public_room) == {"enabled": False, "readers": {}}
    bad = logged_in(bob).patch(
        api("preferences"), {"read_receipts": "maybe"}, content_type="application/json"
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid")


def test_not_in_rooms_turned_off_or_too_big(
    alice: Any,
    bob: Any,
    make_user: Any,
    public_room: ChatRoom,
    chat: list[ChatMessage],
    settings: Any,
) -> None:
    services.check_update_room(alice, public_room, read_receipts=False)
    assert receipts(alice, public_room) == {"enabled": False, "readers": {}}
    services.check_update_room(alice, public_room, read_receipts=True)
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "READ_RECEIPTS_MAX_MEMBERS": 2}
    assert receipts(alice, public_room)["enabled"] is True
    services.do_join_room(make_user("carol"), public_room)
    assert receipts(alice, public_room) == {"enabled": False, "readers": {}}
    refused = logged_in(bob).patch(
        api("room-detail", slug=public_room.slug),
        {"read_receipts": False},
        content_type="application/json",
    )
    assert refused.status_code == 403  # moderators decide


def test_the_page_places_each_reader_under_the_newest_message_they_read(
    alice: Any, bob: Any, make_user: Any, public_room: ChatRoom, chat: list[ChatMessage]
) -> None:
    carol = make_user("carol", first_name="Carol")
    services.do_join_room(carol, public_room)
    services.do_mark_read(bob, public_room, 2)
    services.do_send_message(carol, public_room, "carol's")  # carol read up to 4
    whole = logged_in(alice).get(public_room.get_absolute_url()).content.decode()
    page = whole[whole.index('id="message-list"') :]
    config = json.loads(re.search(r'id="scc-config"[^>]*>(.*?)</script>', whole, re.S).group(1))  # type: ignore[union-attr]
    assert {(r["name"], r["seq"]) for r in config["receipts"]} == {("Bob", 2), ("Carol", 4)}
    assert page.count('class="scc-receipts">Seen by') == 2
    assert page.index("m1") < page.index("Seen by Bob") < page.index("m2")
    # Carol's own message is not "seen" by her: her receipt goes under m2.
    assert page.index("m2") < page.index("Seen by Carol") < page.index("<p>carol's</p>")
    with CaptureQueriesContext(connection) as first:
        logged_in(alice).get(public_room.get_absolute_url())
    services.do_join_room(make_user("dave"), public_room)
    with CaptureQueriesContext(connection) as more:
        logged_in(alice).get(public_room.get_absolute_url())
    assert len(more) == len(first)  # one query whatever the readers


def test_placement_rule() -> None:
    class Reader:
        def __init__(self, pk: int) -> None:
            self.pk = pk

    messages = [ChatMessage(pk=n, seq=n, sender_id=1 if n % 2 else 2) for n in range(1, 6)]
    bob, carol, dave = Reader(2), Reader(3), Reader(1)
    placed = queries.receipts.place_receipts(
        messages,
        [
            queries.Receipt(bob, 5),  # 5 is not bob's (sender 1): under 5
            queries.Receipt(carol, 0),  # nothing read: not shown
            queries.Receipt(dave, 5),  # 5 is dave's own: under 4
        ],
    )
    assert {pk: [r.pk for r in readers] for pk, readers in placed.items()} == {5: [2], 4: [1]}


@pytest.mark.django_db(transaction=True)
async def test_a_read_sends_a_receipt_to_the_others_only(
    alice: Any, bob: Any, public_room: ChatRoom, chat: list[ChatMessage]
) -> None:
    watcher = await open_room(alice, public_room.slug)
    reader = await open_room(bob, public_room.slug)
    try:
        await reader.send_frame(type="read", seq=3, id=1)
        receipt = await watcher.receive_until(lambda f: f["type"] == "receipt")
        assert (receipt["user"]["id"], receipt["last_read_seq"]) == (bob.pk, 3)
        await reader.receive_until(lambda f: f["type"] == "unread")
        await db(services.check_set_preferences)(alice, read_receipts=False)
        await reader.send_frame(type="message.send", content="x", client_id="x", id=2)
        await reader.receive_until(lambda f: f["type"] == "ack")
        await watcher.send_frame(type="read", seq=4, id=2)
        await watcher.receive_until(lambda f: f["type"] == "unread")
        await reader.send_frame(type="ping", id=3)
        nothing = await reader.receive_until(lambda f: f["type"] in ("pong", "receipt"))
        assert nothing["type"] == "pong"  # alice does not share: bob is not told
    finally:
        await watcher.disconnect()
        await reader.disconnect()


def test_the_preferences_page(bob: Any) -> None:
    client = logged_in(bob)
    url = reverse("smartcampus_chat:preferences")
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="read_receipts"' in page.content.decode()
    assert "checked" in page.content.decode()
    saved = client.post(url, {})  # an unticked box
    assert saved.status_code == 302
    assert services.get_preferences(bob).read_receipts is False
