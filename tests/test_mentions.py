"""@mentions (docs/formatting.md, "Mentions"; docs/protocol.md): resolved when a message is
written, stored as rows, counted apart from unread, limited, told by a signal; the composer's
autocomplete; the socket's and the API's errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartcampus_chat import markup, services, signals
from smartcampus_chat.exceptions import MentionNotAllowed, TooManyMentions
from smartcampus_chat.models import ChatMention, ChatMessage, ChatRoom
from smartcampus_chat.services.batch import SendRequest, check_send_messages
from smartcampus_chat.services.formatting import do_render_messages
from smartcampus_chat.testing import open_room
from tests import markup_audit
from tests.http import api, logged_in
from tests.xss_corpus import PAYLOADS

db = database_sync_to_async
pytestmark = pytest.mark.django_db


def send(user: Any, room: ChatRoom, content: str) -> ChatMessage:
    return services.check_send_message(user, room, content).message


def mentioned(message: ChatMessage) -> set[int | None]:
    return set(ChatMention.objects.filter(message=message).values_list("user_id", flat=True))


@pytest.fixture
def carol(make_user: Any) -> Any:
    return make_user("carol", first_name="Carol")


def test_a_mention_is_marked_stored_and_counted(
    alice: Any, bob: Any, carol: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = send(
        alice, public_room, "@bob and @Carol, see `@bob` and @nobody (alice@example.com)"
    )
    assert re.findall(r'data-user-id="(\d+)">@(\w+)<', message.content_html) == [
        (str(bob.pk), "Bob"),
        (str(carol.pk), "Carol"),  # a public room: carol can see it without joining
    ]
    assert "<code>@bob</code>" in message.content_html  # code mentions nobody
    assert "@nobody" in message.content_html
    assert 'mailto:alice@example.com"' in message.content_html
    assert mentioned(message) == {bob.pk, carol.pk}
    send(alice, public_room, "no mention")
    rooms = logged_in(bob).get(api("room-list")).json()["results"]
    assert [(r["unread"], r["mentions"]) for r in rooms] == [(2, 1)]
    summary = logged_in(bob).get(api("unread")).json()
    assert (summary["total"], summary["mentions"]) == (2, 1)
    services.check_delete_message(alice, message, services.room_access(alice, public_room))
    assert logged_in(bob).get(api("unread")).json()["mentions"] == 0  # deleted: not counted


def test_people_who_cannot_see_the_room_are_not_marked(
    alice: Any, bob: Any, carol: Any, make_user: Any
) -> None:
    private, _created = services.do_open_private(alice, bob)
    inactive = make_user("dave", is_active=False)
    message = send(alice, private, f"@bob @carol @dave @**Carol|{carol.pk}**")
    assert mentioned(message) == {bob.pk}
    assert "@carol @dave" in message.content_html
    assert f'data-user-id="{carol.pk}"' not in message.content_html
    assert inactive.pk not in mentioned(message)


def test_the_id_form_and_the_author_mentioning_themselves(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    message = send(alice, public_room, f"@**whatever|{bob.pk}** @alice")
    assert f'data-user-id="{bob.pk}">@Bob</span>' in message.content_html
    assert mentioned(message) == {bob.pk, alice.pk}
    assert logged_in(alice).get(api("unread")).json()["mentions"] == 0  # one's own message


def test_everyone_is_for_moderators_unless_the_setting_says_otherwise(
    alice: Any, bob: Any, public_room: ChatRoom, settings: Any
) -> None:
    services.do_join_room(bob, public_room)
    with pytest.raises(MentionNotAllowed):
        send(bob, public_room, "hey @everyone")
    refused = logged_in(bob).post(
        api("message-list", room_slug=public_room.slug),
        {"content": "@room"},
        content_type="application/json",
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "mention_not_allowed")
    message = send(alice, public_room, "@room exam moved")  # the owner moderates
    assert mentioned(message) == {None}
    assert 'data-mention="everyone">@room</span>' in message.content_html
    assert logged_in(bob).get(api("unread")).json()["mentions"] == 1
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MENTION_EVERYONE": "members"}
    assert mentioned(send(bob, public_room, "@everyone")) == {None}
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MENTION_EVERYONE": "nobody"}
    with pytest.raises(MentionNotAllowed):
        send(alice, public_room, "@everyone")
    # In code, @everyone is text: nothing to refuse.
    assert mentioned(send(bob, public_room, "`@everyone`")) == set()


def test_the_mention_limit(alice: Any, public_room: ChatRoom, settings: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MAX_MENTIONS": 3}
    send(alice, public_room, "@a @b @c")
    with pytest.raises(TooManyMentions):
        send(alice, public_room, "@a @b @c @d")
    answer = logged_in(alice).post(
        api("message-list", room_slug=public_room.slug),
        {"content": "@a @b @c @d"},
        content_type="application/json",
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "too_many_mentions")
    assert ChatMessage.objects.filter(room=public_room).count() == 1


def test_the_signal_names_the_people_newly_mentioned(
    alice: Any, bob: Any, carol: Any, public_room: ChatRoom, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[dict[str, Any]] = []

    def listener(**kwargs: Any) -> None:
        received.append(kwargs)

    signals.users_mentioned.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = send(alice, public_room, "@bob @alice")
        with django_capture_on_commit_callbacks(execute=True):
            services.check_edit_message(
                alice, message, "@bob @carol", services.room_access(alice, public_room)
            )
        with django_capture_on_commit_callbacks(execute=True):
            send(alice, public_room, "nobody here")
    finally:
        signals.users_mentioned.disconnect(listener)
    assert [(k["message"].pk, k["mentioned"], k["everyone"]) for k in received] == [
        (message.pk, [bob.pk], False),  # never the author
        (message.pk, [carol.pk], False),  # bob was mentioned already
    ]
    assert received[0]["user"] == alice
    assert received[0]["room"] == public_room


def test_an_edit_replaces_the_mentions(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    message = send(alice, public_room, "@bob @everyone")
    access = services.room_access(alice, public_room)
    services.check_edit_message(alice, message, "just @alice", access)
    assert mentioned(message) == {alice.pk}
    with pytest.raises(TooManyMentions):
        services.check_edit_message(alice, message, " ".join(f"@u{n}" for n in range(21)), access)
    message.refresh_from_db()
    assert message.content == "just @alice"


def test_rendering_again_keeps_the_mentions(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    message = send(alice, public_room, "@bob @everyone")
    html = message.content_html
    ChatMessage.objects.filter(pk=message.pk).update(content_html="")
    do_render_messages(ChatMessage.objects.filter(pk=message.pk))
    message.refresh_from_db()
    assert message.content_html == html


def test_autocomplete_lists_members_and_everyone_for_moderators(
    alice: Any, bob: Any, make_user: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    services.do_join_room(make_user("bobby", first_name="Roberta"), public_room)
    make_user("boris")  # not a member
    url = api("member-mentionable", room_slug=public_room.slug)
    found = logged_in(bob).get(url, {"q": "bo"}).json()
    assert [(c["name"], c["insert"]) for c in found] == [("Bob", "@bob"), ("Roberta", "@bobby")]
    assert [c["insert"] for c in logged_in(alice).get(url, {"q": "e"}).json()] == ["@everyone"]
    assert [c["insert"] for c in logged_in(bob).get(url, {"q": "e"}).json()] == []
    # A NUL in the search (the API's fuzzing sends one) is dropped, on PostgreSQL too.
    nul = logged_in(bob).get(url, {"q": "b\x00o"})
    assert [c["insert"] for c in nul.json()] == ["@bob", "@bobby"]
    hidden, _created = services.do_open_private(alice, bob)
    outsider = make_user("eve")
    missing = logged_in(outsider).get(api("member-mentionable", room_slug=hidden.slug))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


def test_private_usernames_are_mentioned_by_id(
    alice: Any, make_user: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "EXPOSE_USERNAME": False}
    login = make_user("zoe@uni.example", first_name="Zoé")
    services.do_join_room(login, public_room)
    # The example user model logs in with a username: an e-mail-looking one stays private.
    found = logged_in(alice).get(api("member-mentionable", room_slug=public_room.slug), {"q": "zo"})
    assert [c["insert"] for c in found.json()] == [f"@**Zoé|{login.pk}**"]
    message = send(alice, public_room, found.json()[0]["insert"] + " hi")
    assert mentioned(message) == {login.pk}


def test_a_group_commit_resolves_mentions_in_two_queries(
    alice: Any, bob: Any, carol: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    requests = [
        SendRequest(alice, public_room, f"@bob @carol n{n}", client_id=f"c{n}") for n in range(10)
    ]
    check_send_messages(requests[:1])
    with CaptureQueriesContext(connection) as one:
        check_send_messages(requests[1:2])
    with CaptureQueriesContext(connection) as nine:
        results = check_send_messages(requests[2:])
    assert len(nine) == len(one)  # the same statements for one message or eight
    assert all(mentioned(r.message) == {bob.pk, carol.pk} for r in results)  # type: ignore[union-attr]


def test_the_xss_corpus_as_display_names_and_around_mentions() -> None:
    failures = []
    for payload in PAYLOADS:
        marked = markup.Mentionable({"victim": (7, payload.text)}, everyone=True)
        for source in ("@victim", f"{payload.text} @victim @everyone"):
            html = markup.render(source, marked)
            if problems := markup_audit.problems(html):
                failures.append((payload.text, source, problems))
        named = markup_audit.text_content(markup.render("@victim", marked))
        if named != "@" + payload.text.strip():
            failures.append((payload.text, "name", named))
    assert failures == []


def test_display_names_are_escaped(alice: Any, make_user: Any, public_room: ChatRoom) -> None:
    hostile = make_user("mallory", first_name='<img src=x onerror="alert(1)">')
    message = send(alice, public_room, "@mallory")
    assert "<img" not in message.content_html
    assert f'data-user-id="{hostile.pk}">@&lt;img src=x onerror="alert(1)"&gt;</span>' in (
        message.content_html
    )
    assert markup.mentioned_in(message.content_html) == (frozenset({hostile.pk}), False)


@pytest.mark.django_db(transaction=True)
async def test_mentions_on_the_socket(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    await db(services.do_join_room)(bob, public_room)
    writer = await open_room(bob, public_room.slug)
    try:
        await writer.send_frame(type="message.send", content="@alice hi", client_id="m1", id=1)
        ack = await writer.receive_until(lambda f: f["type"] == "ack")
        assert f'data-user-id="{alice.pk}"' in ack["message"]["content_html"]
        await writer.send_frame(type="message.send", content="@everyone", client_id="m2", id=2)
        error = await writer.receive_until(lambda f: f["type"] == "error")
        assert (error["code"], error["id"]) == ("mention_not_allowed", 2)
    finally:
        await writer.disconnect()
    summary = await db(lambda: logged_in(alice).get(api("unread")).json())()
    assert json.dumps(summary["mentions"]) == "1"
