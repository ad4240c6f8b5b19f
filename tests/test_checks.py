from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.core import checks
from django.test import override_settings

from smartcampus_chat import checks as chat_checks

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
COURSES = {
    "COURSE_MODEL": "courses.Course",
    "COURSE_ROLE_RESOLVER": "courses.chat.course_role",
}


def ids(messages: list[Any]) -> set[str]:
    return {message.id for message in messages}


@pytest.mark.django_db  # A JSONField's check asks SQLite whether it has JSON1.
@override_settings(DEBUG=True)
def test_the_test_settings_pass_every_check() -> None:
    assert checks.run_checks(include_deployment_checks=False) == []


@pytest.mark.parametrize(
    ("chat_settings", "expected"),
    [
        ("not a dict", "smartcampus_chat.E001"),
        ({"PAGE_SIZ": 10}, "smartcampus_chat.E001"),
        ({"PAGE_SIZE": 0}, "smartcampus_chat.E002"),
        ({"PAGE_SIZE": "50"}, "smartcampus_chat.E002"),
        ({"SEND_RATE_PER_SECOND": -1}, "smartcampus_chat.E002"),
        ({"EDIT_WINDOW": "soon"}, "smartcampus_chat.E002"),
        ({"PRESENCE_HEARTBEAT": 60, "PRESENCE_TIMEOUT": 30}, "smartcampus_chat.E002"),
        ({"RESUME_MAX_EVENTS": 0}, "smartcampus_chat.E002"),
        ({"SEND_QUEUE_MAX_FRAMES": 0}, "smartcampus_chat.E002"),
        ({"MAX_CONNECTIONS_PER_USER": 0}, "smartcampus_chat.E002"),
        ({"RESUME_RATE_BURST": 1.5}, "smartcampus_chat.E002"),
        ({"READ_RATE_PER_SECOND": 0}, "smartcampus_chat.E002"),
        ({"CREATE_RATE_BURST": None}, "smartcampus_chat.E002"),
        ({"MEMBERSHIP_RATE_PER_SECOND": "1"}, "smartcampus_chat.E002"),
        ({"SEND_BATCH_MAX": -1}, "smartcampus_chat.E002"),
        ({"SEND_BATCH_MAX": 2.5}, "smartcampus_chat.E002"),
        ({"PRESENCE_HEARTBEAT": "15"}, "smartcampus_chat.E002"),
        ({"PRESENCE_BATCH_INTERVAL": -0.25}, "smartcampus_chat.E002"),
        ({"PRESENCE_BATCH_INTERVAL": "0.25"}, "smartcampus_chat.E002"),
        ({"PAGE_SIZE": 500, "MAX_PAGE_SIZE": 100}, "smartcampus_chat.E002"),
        ({"POLICY": "nowhere.Policy"}, "smartcampus_chat.E003"),
        (
            {
                "COURSE_MODEL": "nowhere.Course",
                "COURSE_ROLE_RESOLVER": COURSES["COURSE_ROLE_RESOLVER"],
            },
            "smartcampus_chat.E004",
        ),
        ({"COURSE_MODEL": "courses.Course"}, "smartcampus_chat.E004"),
        ({"COURSE_ROLE_RESOLVER": COURSES["COURSE_ROLE_RESOLVER"]}, "smartcampus_chat.E004"),
    ],
)
def test_bad_app_settings_are_reported(chat_settings: Any, expected: str) -> None:
    with override_settings(SMARTCAMPUS_CHAT=chat_settings):
        assert expected in ids(chat_checks.check_settings())


def test_good_app_settings_pass() -> None:
    with override_settings(SMARTCAMPUS_CHAT={**COURSES, "PAGE_SIZE": 20, "EDIT_WINDOW": 300}):
        assert chat_checks.check_settings() == []


def test_missing_channel_layers_is_an_error() -> None:
    with override_settings(CHANNEL_LAYERS={}):
        assert ids(chat_checks.check_channel_layers()) == {"smartcampus_chat.E010"}


def test_in_memory_layer_with_several_workers_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        assert ids(chat_checks.check_channel_layers()) == {"smartcampus_chat.E011"}


def test_in_memory_layer_in_production_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with override_settings(CHANNEL_LAYERS=IN_MEMORY, DEBUG=False):
        assert ids(chat_checks.check_channel_layers()) == {"smartcampus_chat.W010"}
    with override_settings(CHANNEL_LAYERS=IN_MEMORY, DEBUG=True):
        assert chat_checks.check_channel_layers() == []


def test_redis_layer_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    host = {"address": "redis://127.0.0.1:6379/0", "socket_timeout": 15}
    config = {"hosts": [host], "capacity": 1500, "expiry": 30}
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": config}}
    with override_settings(CHANNEL_LAYERS=layers):
        assert chat_checks.check_channel_layers() == []


@pytest.mark.parametrize(
    "config",
    [
        None,
        {"hosts": ["redis://127.0.0.1:6379/0"]},
        {"hosts": [{"address": "redis://127.0.0.1:6379/0"}]},
        {"hosts": [{"address": "redis://127.0.0.1:6379/0", "socket_timeout": 5}]},
    ],
)
def test_redis_layer_that_times_out_reading_is_a_warning(config: Any) -> None:
    """The README's old snippet (a bare URL) logs a receive failure every ~5 s."""
    layer: dict[str, Any] = {"BACKEND": "channels_redis.core.RedisChannelLayer"}
    if config is not None:
        layer["CONFIG"] = config
    with override_settings(CHANNEL_LAYERS={"default": layer}):
        assert ids(chat_checks.check_channel_layers()) == {"smartcampus_chat.W012"}


def test_wildcard_allowed_hosts_warns_in_production() -> None:
    with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
        assert ids(chat_checks.check_allowed_hosts()) == {"smartcampus_chat.W020"}
    with override_settings(ALLOWED_HOSTS=["campus.example.edu"], DEBUG=False):
        assert chat_checks.check_allowed_hosts() == []


def test_settings_cache_is_reset_when_settings_change() -> None:
    from smartcampus_chat.conf import app_settings

    with override_settings(SMARTCAMPUS_CHAT={"PAGE_SIZE": 7}):
        assert app_settings.PAGE_SIZE == 7
    assert app_settings.PAGE_SIZE == 50


@pytest.mark.parametrize(
    ("chat_settings", "expected"),
    [
        ({"API_PERMISSION_CLASSES": "rest_framework.permissions.IsAuthenticated"}, "E020"),
        ({"API_THROTTLE_CLASSES": ["nowhere.Throttle"]}, "E020"),
        ({"API_AUTHENTICATION_CLASSES": [42]}, "E020"),
        (
            {"API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"]},
            "E021",
        ),
        ({"API_THROTTLE_RATES": {"read": "fast"}}, "E022"),
        ({"API_THROTTLE_RATES": {"write": "10/fortnight"}}, "E022"),
        ({"API_THROTTLE_RATES": ["10/minute"]}, "E022"),
    ],
)
def test_bad_api_settings_are_reported(chat_settings: Any, expected: str) -> None:
    installed = [app for app in settings.INSTALLED_APPS if app != "rest_framework.authtoken"]
    with override_settings(SMARTCAMPUS_CHAT=chat_settings, INSTALLED_APPS=installed):
        assert f"smartcampus_chat.{expected}" in ids(chat_checks.check_api_settings())


def test_good_api_settings_pass() -> None:
    chat_settings = {
        "API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
        "API_THROTTLE_RATES": {"read": None, "write": "30/min", "burst": "5/s"},
    }
    with override_settings(SMARTCAMPUS_CHAT=chat_settings):
        assert chat_checks.check_api_settings() == []


def test_api_docs_without_their_apps_is_a_warning() -> None:
    installed = [app for app in settings.INSTALLED_APPS if app != "drf_spectacular_sidecar"]
    with override_settings(INSTALLED_APPS=installed):
        messages = chat_checks.check_api_settings()
    assert ids(messages) == {"smartcampus_chat.W030"}
    assert "drf_spectacular_sidecar" in messages[0].msg


def test_static_files_nobody_serves_are_a_warning() -> None:
    """Under uvicorn nothing serves the chat's JS and CSS without a STATIC_ROOT or WhiteNoise."""
    with override_settings(STATIC_ROOT=None):
        assert ids(chat_checks.check_static_files()) == {"smartcampus_chat.W061"}
    with override_settings(STATIC_ROOT="/srv/static"):
        assert chat_checks.check_static_files() == []
    middleware = [*settings.MIDDLEWARE, "whitenoise.middleware.WhiteNoiseMiddleware"]
    with override_settings(STATIC_ROOT=None, MIDDLEWARE=middleware):
        assert chat_checks.check_static_files() == []


def postgres(**options: Any) -> dict[str, Any]:
    return {"ENGINE": "django.db.backends.postgresql", "NAME": "campus", **options}


@contextmanager
def databases(database: dict[str, Any], **more: Any) -> Iterator[None]:
    """``DATABASES`` replaced for a check that only reads it (no connection is made)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Overriding setting DATABASES", UserWarning)
        with override_settings(DATABASES={"default": database}, **more):
            yield


@pytest.mark.parametrize("max_age", [60, None])
def test_persistent_postgres_connections_under_asgi_are_a_warning(max_age: int | None) -> None:
    """Each ASGI request runs in a thread of its own: kept connections pile up (issue 23)."""
    with databases(postgres(CONN_MAX_AGE=max_age)):
        messages = chat_checks.check_database_connections()
    assert ids(messages) == {"smartcampus_chat.W070"}
    assert "pool" in messages[0].hint


@pytest.mark.parametrize(
    "database",
    [
        postgres(),
        postgres(CONN_MAX_AGE=0, OPTIONS={"pool": {"min_size": 2, "max_size": 10}}),
        {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:", "CONN_MAX_AGE": 60},
    ],
)
def test_pooled_or_closed_connections_pass(database: dict[str, Any]) -> None:
    with databases(database):
        assert chat_checks.check_database_connections() == []


def test_persistent_connections_without_asgi_pass() -> None:
    """A WSGI-only project (no ASGI_APPLICATION, no Channels) keeps one thread per worker."""
    installed = [app for app in settings.INSTALLED_APPS if app not in ("channels", "daphne")]
    with databases(postgres(CONN_MAX_AGE=60), ASGI_APPLICATION=None, INSTALLED_APPS=installed):
        assert chat_checks.check_database_connections() == []


def test_web_push_and_digests_say_what_they_lack(settings: Any) -> None:
    base = settings.SMARTCAMPUS_CHAT
    settings.SMARTCAMPUS_CHAT = {**base, "NOTIFY_EMAIL": True}
    assert ids(chat_checks.check_notifications()) == {"smartcampus_chat.W080"}
    settings.SMARTCAMPUS_CHAT = {
        **base,
        "NOTIFY_PUSH": True,
        "NOTIFY_SITE_URL": "https://c.example",
    }
    (missing,) = [m for m in chat_checks.check_notifications() if m.id == "smartcampus_chat.E080"]
    assert "WEB_PUSH_VAPID_PUBLIC_KEY, WEB_PUSH_VAPID_PRIVATE_KEY, WEB_PUSH_SUBJECT" in missing.msg
    settings.SMARTCAMPUS_CHAT = {
        **base,
        "NOTIFY_PUSH": True,
        "NOTIFY_EMAIL": True,
        "NOTIFY_SITE_URL": "https://campus.example",
        "WEB_PUSH_VAPID_PUBLIC_KEY": "BPublic",
        "WEB_PUSH_VAPID_PRIVATE_KEY": "private",
        "WEB_PUSH_SUBJECT": "mailto:it@campus.example",
    }
    webpush = importlib.util.find_spec("pywebpush") is not None
    assert ids(chat_checks.check_notifications()) == (
        set() if webpush else {"smartcampus_chat.E081"}
    )
