"""The REST API: endpoints, error shape, authentication, throttling and query counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from courses.models import Course
from smartcampus_chat import services
from smartcampus_chat.api.serializers import MessageSerializer
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, RoomType
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import tickets

pytestmark = pytest.mark.django_db

Api = Callable[..., Any]


class JSONClient(Client):
    """A test client that sends JSON bodies."""

    def send(self, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        body = json.dumps(data) if data is not None else ""
        return self.generic(method, path, body, content_type="application/json", **extra)


def api_client(user: Any | None = None) -> JSONClient:
    client = JSONClient()
    if user is not None:
        client.force_login(user)
    return client


def url(name: str, **kwargs: Any) -> str:
    return reverse(f"smartcampus_chat:{name}", kwargs=kwargs or None)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    # retry_after: only on errors that waiting cures (rate_limited, unavailable).
    assert set(body["error"]) - {"retry_after"} == {"code", "message", "fields"}
    assert ("retry_after" in body["error"]) == (code in ("rate_limited", "unavailable"))
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return dict(body["error"])


def send(user: Any, room: ChatRoom, text: str, **kwargs: Any) -> ChatMessage:
    return services.do_send_message(user, room, text, **kwargs).message


# --- routes -----------------------------------------------------------------------------


def test_routes_live_in_the_app_namespace_under_chat_api() -> None:
    assert url("api-room-list") == "/chat/api/rooms/"
    assert url("api-room-detail", slug="x") == "/chat/api/rooms/x/"
    assert url("api-message-list", room_slug="x") == "/chat/api/rooms/x/messages/"
    assert url("api-member-detail", room_slug="x", user_id=3) == "/chat/api/rooms/x/members/3/"
    assert url("api-ws-ticket") == "/chat/api/ws-ticket/"
    assert url("api-schema") == "/chat/api/schema/"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/chat/api/nowhere/"),
        ("GET", "/chat/api/rooms/general/messages/abc/"),
        ("GET", "/chat/api/rooms/general/messages/99999999999999999999999/"),
        ("DELETE", "/chat/api/rooms/general/members/1%2C2/"),
        ("GET", "/chat/api/rooms/n%C3%B6pe/"),
    ],
)
def test_every_url_under_the_api_answers_json(
    alice: Any, public_room: ChatRoom, method: str, path: str
) -> None:
    assert_error(api_client(alice).send(method, path), 404, "not_found")


# --- rooms --------------------------------------------------------------------------------


def test_my_rooms_have_unread_counts_and_last_message(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    send(alice, public_room, "one")
    last = send(alice, public_room, "two")
    body = api_client(bob).get(url("api-room-list")).json()
    assert body["count"] == 1
    (room,) = body["results"]
    assert room["slug"] == public_room.slug
    assert room["unread"] == 2
    assert room["last_read_seq"] == 0
    assert room["last_message"]["id"] == last.pk
    assert room["last_message"]["content"] == "two"


def test_joinable_scope_type_filter_and_search(
    alice: Any, bob: Any, public_room: ChatRoom, staff: Any
) -> None:
    services.do_create_room(alice, name="Chess club", room_type=RoomType.PUBLIC)
    client = api_client(bob)
    joinable = client.get(url("api-room-list"), {"scope": "joinable"}).json()
    assert {r["name"] for r in joinable["results"]} == {"General", "Chess club"}
    assert all(r["unread"] is None for r in joinable["results"])
    found = client.get(url("api-room-list"), {"scope": "joinable", "search": "chess"}).json()
    assert [r["name"] for r in found["results"]] == ["Chess club"]
    typed = client.get(url("api-room-list"), {"scope": "joinable", "type": "group"}).json()
    assert typed["results"] == []
    assert client.get(url("api-room-list")).json()["results"] == []


def test_unknown_room_type_filter_is_a_field_error(bob: Any) -> None:
    response = api_client(bob).get(url("api-room-list"), {"type": "secret"})
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["type"]


def test_hidden_room_answers_exactly_like_a_missing_one(bob: Any, group_room: ChatRoom) -> None:
    client = api_client(bob)
    hidden = client.get(url("api-room-detail", slug=group_room.slug))
    missing = client.get(url("api-room-detail", slug="no-such-room"))
    assert_error(hidden, 404, "not_found")
    assert hidden.json() == missing.json()
    hidden_messages = client.get(url("api-message-list", room_slug=group_room.slug))
    assert hidden_messages.json() == missing.json()


def test_retrieve_tells_my_access(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    owner = api_client(alice).get(url("api-room-detail", slug=public_room.slug)).json()
    assert owner["access"]["role"] == "owner"
    assert owner["access"]["is_member"] is True
    visitor = api_client(bob).get(url("api-room-detail", slug=public_room.slug)).json()
    assert visitor["access"]["is_member"] is False
    assert visitor["access"]["can_join"] is True
    assert visitor["unread"] is None


def test_create_public_room(bob: Any) -> None:
    response = api_client(bob).send(
        "POST", url("api-room-list"), {"name": "  Study group ", "description": "Weekly"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Study group"
    assert body["room_type"] == "public"
    assert body["access"]["role"] == "owner"
    assert ChatRoom.objects.get(slug=body["slug"]).created_by == bob


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"name": ""}, 400, "invalid", "name"),
        ({"name": 5.5, "room_type": "party"}, 400, "invalid", "room_type"),
        ({"name": "DM", "room_type": "private"}, 400, "invalid", "room_type"),
        # A type bob may not create is refused as such (tests/test_create_offers.py has
        # staff get "needs a group").
        ({"name": "Club", "room_type": "group"}, 403, "forbidden", "room_type"),
        ({"name": "Course", "room_type": "course"}, 403, "forbidden", "room_type"),
        ({"name": "Course", "room_type": "course", "course": "999"}, 400, "invalid", "course"),
        ({"name": "x", "description": ["not", "text"]}, 400, "invalid", "description"),
    ],
)
def test_create_room_validates_input_per_field(
    bob: Any, payload: dict[str, Any], status: int, code: str, field: str
) -> None:
    response = api_client(bob).send("POST", url("api-room-list"), payload)
    error = assert_error(response, status, code)
    assert field in error["fields"]


def test_name_length_follows_the_setting(bob: Any) -> None:
    with override_settings(SMARTCAMPUS_CHAT={"MAX_ROOM_NAME_LENGTH": 5}):
        response = api_client(bob).send("POST", url("api-room-list"), {"name": "Too long"})
    error = assert_error(response, 400, "invalid")
    assert "5" in error["fields"]["name"][0]


def test_group_room_needs_a_staff_member(bob: Any, staff: Any, group: Group) -> None:
    payload = {"name": "Robots", "room_type": "group", "group": group.pk}
    denied = api_client(bob).send("POST", url("api-room-list"), payload)
    assert_error(denied, 403, "forbidden")
    created = api_client(staff).send("POST", url("api-room-list"), payload)
    assert created.status_code == 201


def test_course_moderator_creates_a_course_room(
    bob: Any, course: Course, enrol: Callable[..., Any]
) -> None:
    enrol(bob, course, role="teacher")
    payload = {"name": "CS", "room_type": "course", "course": course.pk}
    response = api_client(bob).send("POST", url("api-room-list"), payload)
    assert response.status_code == 201, response.content


def test_moderators_update_and_archive_a_room(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    services.do_join_room(bob, public_room)
    detail = url("api-room-detail", slug=public_room.slug)
    denied = api_client(bob).send("PATCH", detail, {"name": "Mine"})
    assert_error(denied, 403, "forbidden")
    response = api_client(alice).send("PATCH", detail, {"name": "Lobby", "is_archived": True})
    assert response.status_code == 200
    assert response.json()["name"] == "Lobby"
    assert response.json()["is_archived"] is True
    archived = api_client(bob).send(
        "POST", url("api-message-list", room_slug=public_room.slug), {"content": "hi"}
    )
    assert_error(archived, 409, "room_archived")


def test_join_members_and_remove(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    joined = api_client(bob).send("POST", url("api-room-join", slug=public_room.slug))
    assert joined.status_code == 200
    assert joined.json()["access"]["is_member"] is True
    members = api_client(bob).get(url("api-member-list", room_slug=public_room.slug)).json()
    roles = {m["user"]["name"]: m["role"] for m in members["results"]}
    assert roles == {"Alice": "owner", "Bob": "member"}
    assert all(m["is_online"] is False for m in members["results"])
    member = url("api-member-detail", room_slug=public_room.slug, user_id=alice.pk)
    assert_error(api_client(bob).send("DELETE", member), 403, "forbidden")
    bob_member = url("api-member-detail", room_slug=public_room.slug, user_id=bob.pk)
    assert api_client(alice).send("DELETE", bob_member).status_code == 204
    gone = api_client(bob).get(url("api-room-detail", slug=public_room.slug))
    assert_error(gone, 404, "not_found")


# --- messages -----------------------------------------------------------------------------


def test_send_is_idempotent_on_client_id(alice: Any, public_room: ChatRoom) -> None:
    messages = url("api-message-list", room_slug=public_room.slug)
    client = api_client(alice)
    first = client.send("POST", messages, {"content": "hello", "client_id": "c-1"})
    again = client.send("POST", messages, {"content": "hello", "client_id": "c-1"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert ChatMessage.objects.filter(room=public_room).count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "x" * 4001}, "content"),
        ({"content": "hi", "client_id": "é"}, "client_id"),
        ({"content": "hi", "client_id": "x" * 65}, "client_id"),
        ({"content": "hi", "reply_to": 123456}, "reply_to"),
        ({"content": "hi", "reply_to": "first"}, "reply_to"),
        ({}, "content"),
    ],
)
def test_send_validates_input(
    alice: Any, public_room: ChatRoom, payload: dict[str, Any], field: str
) -> None:
    messages = url("api-message-list", room_slug=public_room.slug)
    error = assert_error(api_client(alice).send("POST", messages, payload), 400, "invalid")
    assert field in error["fields"]


def test_history_pages_by_sequence_both_ways(alice: Any, public_room: ChatRoom) -> None:
    for n in range(1, 8):
        send(alice, public_room, f"m{n}")
    client = api_client(alice)
    messages = url("api-message-list", room_slug=public_room.slug)
    latest = client.get(messages, {"limit": 3}).json()
    assert [m["seq"] for m in latest["results"]] == [5, 6, 7]
    assert (latest["has_before"], latest["has_after"]) == (True, False)
    assert (latest["first_seq"], latest["last_seq"]) == (5, 7)
    assert latest["next"] is None
    older = client.get(latest["previous"]).json()
    assert [m["seq"] for m in older["results"]] == [2, 3, 4]
    oldest = client.get(older["previous"]).json()
    assert [m["seq"] for m in oldest["results"]] == [1]
    assert oldest["previous"] is None
    newer = client.get(messages, {"after": 2, "limit": 2}).json()
    assert [m["seq"] for m in newer["results"]] == [3, 4]
    assert newer["has_after"] is True
    rest = client.get(newer["next"]).json()
    assert [m["seq"] for m in rest["results"]] == [5, 6]


def test_page_size_is_capped_by_the_setting(alice: Any, public_room: ChatRoom) -> None:
    for n in range(5):
        send(alice, public_room, f"m{n}")
    messages = url("api-message-list", room_slug=public_room.slug)
    with override_settings(SMARTCAMPUS_CHAT={"PAGE_SIZE": 2, "MAX_PAGE_SIZE": 3}):
        client = api_client(alice)
        assert len(client.get(messages).json()["results"]) == 2
        assert len(client.get(messages, {"limit": 100}).json()["results"]) == 3


@pytest.mark.parametrize("query", [{"before": 3, "after": 1}, {"before": -1}, {"limit": "many"}])
def test_history_rejects_bad_cursors(alice: Any, public_room: ChatRoom, query: Any) -> None:
    messages = url("api-message-list", room_slug=public_room.slug)
    assert_error(api_client(alice).get(messages, query), 400, "invalid")


def test_edit_and_delete(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    services.do_join_room(bob, public_room)
    message = send(bob, public_room, "typo")
    detail = url("api-message-detail", room_slug=public_room.slug, pk=message.pk)
    assert_error(api_client(alice).send("PATCH", detail, {"content": "hack"}), 403, "forbidden")
    edited = api_client(bob).send("PATCH", detail, {"content": "fixed"})
    assert edited.status_code == 200
    assert edited.json()["content"] == "fixed"
    assert edited.json()["is_edited"] is True
    deleted = api_client(bob).send("DELETE", detail)
    assert deleted.status_code == 200
    assert deleted.json()["is_deleted"] is True
    assert deleted.json()["content"] is None
    # The owner (a moderator) reads deleted content; members do not.
    history = url("api-message-list", room_slug=public_room.slug)
    assert api_client(alice).get(history).json()["results"][0]["content"] == "fixed"
    assert api_client(bob).get(history).json()["results"][0]["content"] is None
    assert api_client(bob).get(detail).json()["content"] is None


def test_a_message_is_only_found_through_its_room(
    alice: Any, public_room: ChatRoom, staff: Any
) -> None:
    other = services.do_create_room(alice, name="Other", room_type=RoomType.PUBLIC)
    message = send(alice, other, "elsewhere")
    wrong = url("api-message-detail", room_slug=public_room.slug, pk=message.pk)
    assert_error(api_client(alice).get(wrong), 404, "not_found")


def test_message_serializer_matches_the_protocol_payload(alice: Any, public_room: ChatRoom) -> None:
    message = send(alice, public_room, "hello", client_id="abc")
    expected = json.loads(message_data(message).model_dump_json())
    assert MessageSerializer(message).data == expected
    services.do_delete_message(alice, message)
    message.refresh_from_db()
    expected = json.loads(message_data(message).model_dump_json())
    assert MessageSerializer(message).data == expected


# --- reads, private rooms, users, tickets -------------------------------------------------


def test_mark_read_and_unread_summary(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    services.do_join_room(bob, public_room)
    for n in range(3):
        send(alice, public_room, f"m{n}")
    client = api_client(bob)
    summary = client.get(url("api-unread")).json()
    assert summary == {
        "total": 3,
        "mentions": 0,
        "rooms": [{"room": public_room.slug, "unread": 3, "mentions": 0, "last_read_seq": 0}],
    }
    read = client.send("POST", url("api-room-read", slug=public_room.slug), {"seq": 2})
    assert read.json() == {
        "room": public_room.slug,
        "last_read_seq": 2,
        "unread": 1,
        "mentions": 0,
    }
    back = client.send("POST", url("api-room-read", slug=public_room.slug), {"seq": 1})
    assert back.json()["last_read_seq"] == 2
    bad = client.send("POST", url("api-room-read", slug=public_room.slug), {"seq": "x"})
    assert "seq" in assert_error(bad, 400, "invalid")["fields"]


def test_open_private_conversation(alice: Any, bob: Any, make_user: Any) -> None:
    client = api_client(alice)
    created = client.send("POST", url("api-private"), {"user": bob.pk})
    assert created.status_code == 201
    assert created.json()["room_type"] == "private"
    again = client.send("POST", url("api-private"), {"user": bob.pk})
    assert again.status_code == 200
    assert again.json()["slug"] == created.json()["slug"]
    assert_error(client.send("POST", url("api-private"), {"user": alice.pk}), 400, "invalid")
    inactive = make_user("gone", is_active=False)
    assert_error(client.send("POST", url("api-private"), {"user": inactive.pk}), 404, "not_found")
    eve = make_user("eve")
    peek = api_client(eve).get(url("api-room-detail", slug=created.json()["slug"]))
    assert_error(peek, 404, "not_found")


def test_user_lookup(alice: Any, bob: Any, make_user: Any, public_room: ChatRoom) -> None:
    bobby = make_user("bobby", first_name="Robert", is_active=False)
    for person in (bob, bobby):
        services.do_join_room(person, public_room)
    body = api_client(alice).get(url("api-user-list"), {"search": "bob"}).json()
    assert body["results"] == [{"id": bob.pk, "username": None, "name": "Bob"}]


def test_ws_ticket_names_the_user(alice: Any) -> None:
    response = api_client(alice).send("POST", url("api-ws-ticket"))
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] == 60
    assert tickets.user_for_ticket(body["ticket"]) == alice
    assert body["ws_url"] == f"ws://testserver/ws/chat/{{room}}/?ticket={body['ticket']}"


# --- authentication, errors, throttling ---------------------------------------------------


def test_anonymous_requests_get_401_with_the_error_shape() -> None:
    response = api_client().get(url("api-room-list"))
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_token_authentication(alice: Any) -> None:
    token = Token.objects.create(user=alice)
    client = JSONClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(url("api-room-list")).status_code == 200
    bad = JSONClient(HTTP_AUTHORIZATION="Token nope")
    assert_error(bad.get(url("api-room-list")), 401, "authentication_failed")


def test_session_writes_need_the_csrf_token(alice: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    payload = json.dumps({"name": "No CSRF"})
    refused = client.post(url("api-room-list"), payload, content_type="application/json")
    assert "CSRF" in assert_error(refused, 403, "forbidden")["message"]
    client.get(url("api-room-list"))  # reads do not need it
    client.cookies["csrftoken"] = "a" * 32
    accepted = client.post(
        url("api-room-list"),
        payload,
        content_type="application/json",
        HTTP_X_CSRFTOKEN="a" * 32,
    )
    assert accepted.status_code == 201


def test_session_only_configuration(alice: Any) -> None:
    session_only = {
        "API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"]
    }
    token = Token.objects.create(user=alice)
    with override_settings(SMARTCAMPUS_CHAT=session_only):
        assert_error(api_client().get(url("api-room-list")), 403, "not_authenticated")
        with_token = JSONClient(HTTP_AUTHORIZATION=f"Token {token.key}")
        assert with_token.get(url("api-room-list")).status_code == 403


def test_framework_errors_share_the_shape(alice: Any, public_room: ChatRoom) -> None:
    client = api_client(alice)
    broken = client.generic(
        "POST", url("api-room-list"), "{not json", content_type="application/json"
    )
    assert_error(broken, 400, "parse_error")
    form = client.post(url("api-room-list"), {"name": "form"})
    assert_error(form, 415, "unsupported_media_type")
    assert_error(client.send("PUT", url("api-room-list")), 405, "method_not_allowed")


def test_throttling_uses_the_app_rates(alice: Any, public_room: ChatRoom) -> None:
    cache.clear()
    rates = {"API_THROTTLE_RATES": {"read": "2/minute", "write": "1/minute"}}
    client = api_client(alice)
    with override_settings(SMARTCAMPUS_CHAT=rates):
        assert client.get(url("api-room-list")).status_code == 200
        assert client.get(url("api-room-list")).status_code == 200
        limited = client.get(url("api-room-list"))
        assert_error(limited, 429, "rate_limited")
        assert int(limited["Retry-After"]) > 0
        # Writes have their own budget.
        messages = url("api-message-list", room_slug=public_room.slug)
        assert client.send("POST", messages, {"content": "a"}).status_code == 201
        assert_error(client.send("POST", messages, {"content": "b"}), 429, "rate_limited")
    cache.clear()


# --- fixed query counts -------------------------------------------------------------------


def count_queries(client: Client, path: str, query: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query or {})
    assert response.status_code == 200, response.content
    return len(captured)


def _make_rooms(owner: Any, member: Any, count: int, start: int) -> None:
    for n in range(start, start + count):
        room = services.do_create_room(owner, name=f"Room {n}", room_type=RoomType.PUBLIC)
        services.do_join_room(member, room)
        send(owner, room, "hello")


@pytest.mark.parametrize("scope", ["mine", "joinable"])
def test_room_list_costs_the_same_for_1_or_100_rooms(
    alice: Any, bob: Any, django_assert_num_queries: Any, scope: str
) -> None:
    client = api_client(bob)
    joiner = bob if scope == "mine" else alice
    _make_rooms(alice, joiner, 1, 0)
    one = count_queries(client, url("api-room-list"), {"scope": scope, "limit": 100})
    _make_rooms(alice, joiner, 99, 1)
    with django_assert_num_queries(one):
        response = client.get(url("api-room-list"), {"scope": scope, "limit": 100})
    assert len(response.json()["results"]) == 100


def test_history_members_users_and_unread_cost_a_fixed_number_of_queries(
    alice: Any, make_user: Any, public_room: ChatRoom, django_assert_num_queries: Any
) -> None:
    client = api_client(alice)
    reader = make_user("reader")
    services.do_join_room(reader, public_room)
    send(reader, public_room, "first")
    paths = [
        (url("api-message-list", room_slug=public_room.slug), {"limit": 100}),
        (url("api-member-list", room_slug=public_room.slug), {"limit": 100}),
        (url("api-user-list"), {"limit": 100}),
        (url("api-unread"), {}),
        (url("api-room-detail", slug=public_room.slug), {}),
    ]
    counts = [count_queries(client, path, query) for path, query in paths]
    for n in range(99):
        user = make_user(f"member{n}")
        services.do_join_room(user, public_room)
        send(user, public_room, f"message {n}")
    for (path, query), expected in zip(paths, counts, strict=True):
        with django_assert_num_queries(expected):
            client.get(path, query)
    assert ChatParticipant.objects.filter(room=public_room).count() == 101
