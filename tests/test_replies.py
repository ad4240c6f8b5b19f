"""Replies (docs/protocol.md, "Replies"): the quote of the parent in every payload and on
the page, as the parent is now (edited, deleted), through the WebSocket, the REST API and
the HTML page."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.testing import open_room
from tests.http import api, logged_in

db = database_sync_to_async


@pytest.mark.django_db(transaction=True)
async def test_a_reply_sent_on_the_socket_carries_its_parents_quote(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    parent = (
        await db(services.do_send_message)(alice, public_room, "Is it **open** book?")
    ).message
    socket = await open_room(bob, public_room.slug)
    try:
        stored = await socket.send_message(None, "no", reply_to=parent.pk)
    finally:
        await socket.disconnect()
    assert stored["reply_to"] == parent.pk
    assert stored["reply"] == {
        "id": parent.pk,
        "seq": parent.seq,
        "kind": "user",
        "sender": {"id": alice.pk, "username": None, "name": "Alice"},
        "excerpt": "Is it open book?",
        "is_deleted": False,
        "anonymous": False,
    }


@pytest.mark.django_db
def test_the_quote_is_the_parent_as_it_is_now(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    services.do_join_room(bob, public_room)
    parent = services.do_send_message(alice, public_room, "x" * 200).message
    services.do_send_message(bob, public_room, "reply", reply_to=parent)
    url = api("message-list", room_slug=public_room.slug)
    reply = logged_in(bob).get(url).json()["results"][-1]["reply"]
    assert reply["excerpt"] == "x" * 119 + "…"
    access = services.room_access(alice, public_room)
    services.check_edit_message(alice, parent, "*short*", access)
    assert logged_in(bob).get(url).json()["results"][-1]["reply"]["excerpt"] == "short"
    services.check_delete_message(alice, parent, access)
    reply = logged_in(bob).get(url).json()["results"][-1]["reply"]
    assert (reply["excerpt"], reply["is_deleted"]) == (None, True)


@pytest.mark.django_db
def test_a_reply_to_a_message_not_in_the_room_is_refused(
    alice: Any, staff: Any, public_room: ChatRoom, group_room: ChatRoom
) -> None:
    other = services.do_send_message(staff, group_room, "elsewhere").message
    for reply_to in (other.pk, other.pk + 1000):
        answer = logged_in(alice).post(
            api("message-list", room_slug=public_room.slug),
            {"content": "x", "reply_to": reply_to},
            content_type="application/json",
        )
        assert answer.status_code == 400
        assert "reply_to" in answer.json()["error"]["fields"]


@pytest.mark.django_db
def test_the_page_shows_the_quote_without_javascript(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    parent = services.do_send_message(alice, public_room, "Lab **4** moved").message
    services.do_send_message(bob, public_room, "thanks", reply_to=parent)
    page = logged_in(bob).get(public_room.get_absolute_url()).content.decode()
    quote = re.search(
        r'<a class="scc-reply" href="([^"]+)" data-reply-to="(\d+)"'
        r' data-reply-seq="(\d+)">(.*?)</a>',
        page,
    )
    assert quote is not None
    assert quote.group(3) == str(parent.seq)
    assert quote.group(1) == f"?after={parent.seq - 1}#message-{parent.pk}"
    assert quote.group(2) == str(parent.pk)
    assert '<span class="scc-reply-author">Alice</span>' in quote.group(4)
    assert '<span class="scc-reply-excerpt">Lab 4 moved</span>' in quote.group(4)
    french = logged_in(bob).get(public_room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")
    assert "En réponse à" in french.content.decode()


@pytest.mark.django_db
def test_a_message_link_opens_the_page_around_the_message(
    alice: Any, bob: Any, public_room: ChatRoom, group_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "PAGE_SIZE": 10}
    messages = [services.do_send_message(alice, public_room, f"m{n}").message for n in range(40)]
    target = messages[20]
    url = public_room.get_absolute_url()
    answer = logged_in(bob).get(url, {"message": str(target.pk)})
    assert answer.status_code == 302
    assert answer["Location"] == f"{url}?after={target.seq - 1 - 5}#message-{target.pk}"
    page = logged_in(bob).get(answer["Location"].split("#")[0]).content.decode()
    assert f'id="message-{target.pk}"' in page
    first = services.do_send_message(alice, public_room, "x").message
    assert (
        logged_in(bob)
        .get(url, {"message": str(messages[0].pk)})["Location"]
        .startswith(f"{url}?after=0#")
    )
    # Not in this room, no such message, or not a number: no page.
    other = services.do_send_message(group_room.created_by, group_room, "hidden").message
    for value in (str(other.pk), str(first.pk + 100)):
        assert logged_in(bob).get(url, {"message": value}).status_code == 404
    assert logged_in(bob).get(url, {"message": "x1"}).status_code == 400


@pytest.mark.django_db
def test_the_xss_corpus_in_quotes_is_text(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    from smartcampus_chat.protocol.render import excerpt
    from tests.xss_corpus import PAYLOADS

    services.do_join_room(bob, public_room)
    sample = PAYLOADS[:: max(1, len(PAYLOADS) // 40)]
    expected = []
    for payload in sample:
        parent = services.do_send_message(alice, public_room, payload.text).message
        services.do_send_message(bob, public_room, "re", reply_to=parent)
        expected.append(excerpt(parent.content_html))
    page = logged_in(bob).get(public_room.get_absolute_url() + "?after=0").content.decode()
    # The empty one is the client's template of a message (#scc-message-template).
    shown = [
        text
        for text in re.findall(r'<span class="scc-reply-excerpt">(.*?)</span></a>', page, re.S)
        if text
    ]
    assert all("<" not in text for text in shown)
    assert [html.unescape(text) for text in shown] == expected[: len(shown)]
    assert len(shown) >= 20
