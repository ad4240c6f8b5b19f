"""Browsers' sockets signed in by their session cookie, with or without Channels'
``AuthMiddlewareStack`` around the chat's routes.

Without it (the example site, docs/integration.md) the set-up batch finds each socket's
user from its session itself (:func:`smartcampus_chat.services.connections.set_up_many`):
the same rules as ``django.contrib.auth.get_user`` (backend listed, user found and allowed
to authenticate, auth hash of the current password), in a number of queries that does not
grow with the batch, and no trip to the database thread per socket before its handshake.
With it, the user it resolved is used, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async as db
from channels.routing import URLRouter
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.routing import TrustedOriginValidator, websocket_urlpatterns
from smartcampus_chat.testing import ChatCommunicator
from smartcampus_chat.testing.communicator import TEST_ORIGIN
from smartcampus_chat.ws.setup import SetUp, SetUpRequest, set_up_many

pytestmark = pytest.mark.django_db(transaction=True)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def session_key_of(user: Any) -> str:
    """A real session of ``user``, as a browser has after logging in."""
    page = Client()
    page.force_login(user)
    return str(page.cookies[django_settings.SESSION_COOKIE_NAME].value)


def log_out(key: str) -> None:
    """What logging out does to the session (``request.session.flush()``)."""
    SessionStore(session_key=key).delete()


def raw_session(data: dict[str, Any]) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    assert store.session_key is not None
    return store.session_key


def cookie(key: str) -> tuple[bytes, bytes]:
    return (b"cookie", f"theme=dark; {django_settings.SESSION_COOKIE_NAME}={key}".encode())


def cookie_request(key: str, slug: str | None = None) -> SetUpRequest:
    """What the consumer asks for a socket whose scope has no user (no auth middleware)."""
    return SetUpRequest(None, None, slug, key)


class LookUpBackend(ModelBackend):
    """A backend with a ``get_user`` of its own: the set-up must call it."""

    calls: list[Any] = []

    def get_user(self, user_id: Any) -> Any:
        LookUpBackend.calls.append(user_id)
        return super().get_user(user_id)


def test_each_cookie_finds_the_user_its_session_signs_in(
    alice: Any, bob: Any, make_user: Callable[..., Any], public_room: ChatRoom
) -> None:
    carol = make_user("carol")
    carol_key = session_key_of(carol)
    carol.is_active = False
    carol.save()
    dave = make_user("dave")
    dave_key = session_key_of(dave)
    dave.set_password("changed elsewhere")  # The session's auth hash no longer matches.
    dave.save()
    logged_out = session_key_of(bob)
    log_out(logged_out)
    requests = [
        cookie_request(session_key_of(alice), public_room.slug),
        cookie_request(session_key_of(bob)),
        cookie_request(carol_key),
        cookie_request(dave_key),
        cookie_request(logged_out),
        cookie_request("no-such-session"),
        cookie_request(
            raw_session({SESSION_KEY: "not a number", BACKEND_SESSION_KEY: MODEL_BACKEND})
        ),
        cookie_request(
            raw_session(
                {
                    SESSION_KEY: str(alice.pk),
                    BACKEND_SESSION_KEY: "somewhere.else.Backend",
                    HASH_SESSION_KEY: alice.get_session_auth_hash(),
                }
            )
        ),
        cookie_request(
            raw_session({SESSION_KEY: str(alice.pk), BACKEND_SESSION_KEY: MODEL_BACKEND})
        ),
        SetUpRequest(None, None, None, None),  # No cookie at all.
    ]
    results = set_up_many(requests)
    first, second, *refused = results
    assert isinstance(first, SetUp)
    assert first.user == alice
    assert [f.room_id for f in first.rooms] == [public_room.pk]
    assert first.expires is not None  # The session's expiry, for the sweeper.
    assert isinstance(second, SetUp)
    assert second.user == bob
    assert refused == [None] * 8


def test_a_batch_of_cookies_costs_the_same_queries_whatever_its_size(
    make_user: Callable[..., Any], public_room: ChatRoom
) -> None:
    keys = [session_key_of(make_user()) for _ in range(12)]

    def cost(count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            results = set_up_many([cookie_request(key, public_room.slug) for key in keys[:count]])
        assert all(isinstance(result, SetUp) for result in results)
        return len(captured)

    assert cost(2) == cost(12) == 4  # sessions, users, room, participants


def test_a_backend_with_its_own_get_user_is_asked(settings: Any, alice: Any) -> None:
    path = f"{__name__}.LookUpBackend"
    settings.AUTHENTICATION_BACKENDS = [path]
    key = raw_session(
        {
            SESSION_KEY: str(alice.pk),
            BACKEND_SESSION_KEY: path,
            HASH_SESSION_KEY: alice.get_session_auth_hash(),
        }
    )
    LookUpBackend.calls.clear()
    (result,) = set_up_many([cookie_request(key)])
    assert isinstance(result, SetUp)
    assert result.user == alice
    assert LookUpBackend.calls == [str(alice.pk)]


def _with_auth_middleware() -> Any:
    return TrustedOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))


@pytest.mark.parametrize("stack", ["chat routes alone", "inside AuthMiddlewareStack"])
async def test_a_signed_in_browser_chats_and_a_logged_out_one_is_refused(
    alice: Any, public_room: ChatRoom, stack: str
) -> None:
    application = _with_auth_middleware() if stack == "inside AuthMiddlewareStack" else None
    key = await db(session_key_of)(alice)
    headers = [(b"origin", TEST_ORIGIN.encode()), cookie(key)]
    client = ChatCommunicator(
        f"/ws/chat/{public_room.slug}/", application=application, headers=headers
    )
    await client.open()
    try:
        message = await client.send_message(None, "hello from a cookie")
        assert message["sender"]["id"] == alice.pk
        stored = await db(lambda: list(public_room.messages.values_list("content", "sender_id")))()
        assert stored == [("hello from a cookie", alice.pk)]
    finally:
        await client.disconnect()

    await db(log_out)(key)
    refused = ChatCommunicator(
        f"/ws/chat/{public_room.slug}/", application=application, headers=headers
    )
    await refused.open(ready=False)
    assert await refused.wait_closed() == 4001


async def test_the_example_sites_stack_resolves_no_user_before_the_handshake(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No trip to the database thread per socket before it is accepted: the user is found
    by the set-up batch, after the handshake (issue #23 part 5)."""
    import channels.auth

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the handshake waited for channels.auth.get_user")

    monkeypatch.setattr(channels.auth, "get_user", fail)
    await db(services.do_join_room)(alice, public_room)
    key = await db(session_key_of)(alice)
    client = ChatCommunicator(headers=[(b"origin", TEST_ORIGIN.encode()), cookie(key)])
    await client.open()
    try:
        await client.send_message(public_room.slug, "through the list socket")
    finally:
        await client.disconnect()
