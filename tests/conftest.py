"""Shared fixtures: users, rooms and real-service guards.

Tests marked ``redis`` need Redis: outside CI they skip with the reason when it is absent;
with ``CI`` set, an absent Redis fails the test. Tests marked ``postgres`` run when the
configured database is PostgreSQL (the ``-pg`` tox envs, which CI always runs; a PostgreSQL
that is down there fails the whole run) and skip with the reason on SQLite.
Tests marked ``browser`` need Chromium at ``CHROMIUM_PATH`` (default ``/usr/bin/chromium``):
they skip with the reason when it is absent, and fail in CI.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom, RoomType
from smartcampus_chat.testing import CapturedEvents, capture_events
from tests.browser.live import CHROMIUM_PATH
from tests.servers import RedisServer

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: The Redis channel layer's prefix in this run: parallel runs cannot cross-talk.
SESSION_PREFIX = f"scchat-test-{uuid.uuid4().hex[:10]}"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _service_guards(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("redis"):
        _require(_reachable("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379")
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("runs on PostgreSQL only: the -pg tox envs (DATABASE_URL=postgres://...)")
    if request.node.get_closest_marker("browser"):
        _require(os.path.exists(CHROMIUM_PATH), f"Chromium is not installed at {CHROMIUM_PATH}")


@pytest.fixture(autouse=True)
def _close_database_thread_connections(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close the connection of the thread that runs ``database_sync_to_async`` work.

    Consumers' database work runs in asgiref's one shared thread. A test can end right after
    that thread last used the database (sockets closing as the test ends); its connection was
    then seen to stay open although channels closes old connections after each call (an
    unexplained case, measured on PostgreSQL: a refused socket's ``connection_closed``), and
    PostgreSQL refuses to drop the test database while a session uses it. Closing it here
    runs after whatever that thread still had queued.
    """
    yield
    if "django_db_setup" not in request.fixturenames:
        return
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit buckets live in the cache; user ids repeat between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in French (``LocaleMiddleware``) leaves French active in the test's
    thread; the next test would render names and errors in French."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def channel_layer(request: pytest.FixtureRequest, settings: Any) -> str:
    """Runs the test once on the in-memory layer and once on Redis; the layer's name."""
    if request.param == "redis":
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [REDIS_URL], "prefix": SESSION_PREFIX},
            }
        }
    name: str = request.param
    return name


@pytest.fixture
def no_rate_limits(settings: Any) -> Any:
    """Send and typing buckets no test fills: for tests about something else than the limits."""
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "SEND_RATE_BURST": 1_000_000,
        "TYPING_RATE_BURST": 1_000_000,
    }
    return settings


@pytest.fixture
def make_user(django_user_model: Any) -> Callable[..., Any]:
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, **fields: Any) -> Any:
        name = username or f"user{next(counter)}"
        return django_user_model.objects.create_user(username=name, password="pw", **fields)

    return make


@pytest.fixture
def alice(make_user: Callable[..., Any]) -> Any:
    return make_user("alice", first_name="Alice")


@pytest.fixture
def bob(make_user: Callable[..., Any]) -> Any:
    return make_user("bob", first_name="Bob")


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> Any:
    return make_user("staff", is_staff=True)


@pytest.fixture
def public_room(alice: Any) -> ChatRoom:
    return services.do_create_room(alice, name="General", room_type=RoomType.PUBLIC)


@pytest.fixture
def group() -> Group:
    return Group.objects.create(name="Robotics")


@pytest.fixture
def group_room(staff: Any, group: Group) -> ChatRoom:
    return services.do_create_room(staff, name="Robotics", room_type=RoomType.GROUP, group=group)


@pytest.fixture
def course() -> Course:
    return Course.objects.create(code="CS101", title="Programming")


@pytest.fixture
def enrol() -> Callable[..., Enrolment]:
    def enrol(user: Any, course: Course, role: str = "student") -> Enrolment:
        return Enrolment.objects.create(user=user, course=course, role=role)

    return enrol


@pytest.fixture
def course_room(staff: Any, course: Course) -> ChatRoom:
    return services.do_create_room(staff, name="CS101", room_type=RoomType.COURSE, course=course)


@pytest.fixture
def captured_events() -> Iterator[CapturedEvents]:
    """What the services publish during the test (``smartcampus_chat.testing``)."""
    with capture_events() as captured:
        yield captured


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A throwaway ``redis-server`` of the test's own (the fault tests stop and restart it)."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
