"""System checks run at start-up (``manage.py check``); ids are stable and documented."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from smartcampus_chat.conf import DEFAULTS, SETTINGS, SETTINGS_NAME, Group, app_settings
from smartcampus_chat.domain.validation import parse_int

#: Length settings that bound text stored in a ``CharField``: (model, field) whose
#: ``max_length``, read from the model, is the setting's ceiling (a longer value would be
#: accepted by every door, then refused by the database: a 500).
_COLUMN_LIMITS = {
    "MAX_ROOM_NAME_LENGTH": ("ChatRoom", "name"),
    "MAX_CLIENT_ID_LENGTH": ("ChatMessage", "client_id"),
}
_IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"
_REDIS_LAYER = "channels_redis.core.RedisChannelLayer"


def _setting_error(name: str, problem: str, id_: str) -> Error:
    return Error(f"{SETTINGS_NAME}[{name!r}] {problem}", id=f"smartcampus_chat.{id_}")


def _table_errors(group: Group) -> tuple[list[CheckMessage], set[str]]:
    """Each setting of ``group`` checked by its own check (conf.ChatSettings), and the
    names of the bad ones: checks that relate several settings skip those."""
    errors: list[CheckMessage] = []
    bad: set[str] = set()
    for name, setting in SETTINGS.items():
        if setting.group != group:
            continue
        problems = setting.problems()
        errors.extend(_setting_error(name, problem, setting.error) for problem in problems)
        if problems:
            bad.add(name)
    return errors, bad


@register(Tags.compatibility)
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    raw = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(raw, dict):
        return [Error(f"{SETTINGS_NAME} must be a dict.", id="smartcampus_chat.E001")]
    errors: list[CheckMessage] = [
        Error(
            f"{SETTINGS_NAME} has an unknown key {key!r}.",
            hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
            id="smartcampus_chat.E001",
        )
        for key in raw
        if key not in DEFAULTS
    ]
    table_errors, bad = _table_errors("settings")
    errors.extend(table_errors)
    errors.extend(_check_relations(bad))
    errors.extend(_check_column_limits(bad))
    if not {"COURSE_MODEL", "COURSE_ROLE_RESOLVER"} & bad:
        errors.extend(_check_course_settings())
    return errors


def _check_relations(bad: set[str]) -> list[CheckMessage]:
    """The rules between two settings, once each of them is good on its own."""
    errors: list[CheckMessage] = []
    if not {"PRESENCE_TIMEOUT", "PRESENCE_HEARTBEAT"} & bad and (
        app_settings.PRESENCE_TIMEOUT <= app_settings.PRESENCE_HEARTBEAT
    ):
        errors.append(
            _setting_error("PRESENCE_TIMEOUT", "must be greater than PRESENCE_HEARTBEAT.", "E002")
        )
    if not {"PAGE_SIZE", "MAX_PAGE_SIZE"} & bad and (
        app_settings.PAGE_SIZE > app_settings.MAX_PAGE_SIZE
    ):
        errors.append(_setting_error("PAGE_SIZE", "must not exceed MAX_PAGE_SIZE.", "E002"))
    return errors


def column_max_length(setting: str) -> int:
    """The database column's length that setting ``setting`` must not exceed."""
    model_name, field_name = _COLUMN_LIMITS[setting]
    field = apps.get_model("smartcampus_chat", model_name)._meta.get_field(field_name)
    return int(field.max_length)


def _check_column_limits(bad: set[str]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in _COLUMN_LIMITS.keys() - bad:
        ceiling = column_max_length(name)
        if SETTINGS[name].value() > ceiling:
            model_name, field_name = _COLUMN_LIMITS[name]
            errors.append(
                _setting_error(
                    name,
                    f"must not exceed {ceiling}, the length of the database column "
                    f"{model_name}.{field_name}: longer input would reach the database "
                    "and fail there.",
                    "E005",
                )
            )
    return errors


def _check_course_settings() -> list[CheckMessage]:
    model = app_settings.COURSE_MODEL
    resolver = app_settings.COURSE_ROLE_RESOLVER
    if model is None:
        if resolver is not None:
            return [
                _setting_error("COURSE_MODEL", "must be set when COURSE_ROLE_RESOLVER is.", "E004")
            ]
        return []
    try:
        course_model = apps.get_model(model)
    except (LookupError, ValueError):
        return [_setting_error("COURSE_MODEL", f"names no installed model ({model!r}).", "E004")]
    if resolver is None:
        return [_setting_error("COURSE_ROLE_RESOLVER", "must be set when COURSE_MODEL is.", "E004")]
    return _check_course_end(course_model)


def _check_course_end(course_model: type[models.Model]) -> list[CheckMessage]:
    """COURSE_END, when a field name, names a date or datetime field of the course model."""
    end = app_settings.COURSE_END
    if end is None or not end.isidentifier() or SETTINGS["COURSE_END"].problems():
        return []
    try:
        field = course_model._meta.get_field(end)
    except FieldDoesNotExist:
        field = None
    if not isinstance(field, models.DateField):  # DateTimeField is a DateField
        return [
            _setting_error(
                "COURSE_END",
                f"names no date or datetime field of {course_model._meta.label} ({end!r}).",
                "E004",
            )
        ]
    return []


@register(Tags.compatibility)
def check_channel_layers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    layers = getattr(settings, "CHANNEL_LAYERS", None)
    alias = app_settings.CHANNEL_LAYER
    if SETTINGS["CHANNEL_LAYER"].problems():
        return []  # Reported by check_settings (E002).
    if not isinstance(layers, dict) or alias not in layers:
        return [
            Error(
                f"CHANNEL_LAYERS has no {alias!r} layer; the chat cannot deliver real-time events.",
                hint="Configure channels_redis.core.RedisChannelLayer (or, for a single "
                "development process, channels.layers.InMemoryChannelLayer).",
                id="smartcampus_chat.E010",
            )
        ]
    backend = layers[alias].get("BACKEND", "")
    if backend == _REDIS_LAYER:
        return _check_redis_layer(alias, layers[alias].get("CONFIG") or {})
    if backend != _IN_MEMORY_LAYER:
        return []
    workers = os.environ.get("WEB_CONCURRENCY", "1")
    if (parse_int(workers) or 1) > 1:
        return [
            Error(
                f"The in-memory channel layer cannot connect {workers} worker processes "
                "(WEB_CONCURRENCY); users on different workers would not see each other.",
                hint="Use channels_redis with several workers.",
                id="smartcampus_chat.E011",
            )
        ]
    if not settings.DEBUG:
        return [
            Warning(
                "The in-memory channel layer is for development and tests only.",
                hint="Use channels_redis in production.",
                id="smartcampus_chat.W010",
            )
        ]
    return []


#: channels-redis' blocking receive waits this long; a read timeout must be longer.
_REDIS_BLOCKING_RECEIVE = 5


def _check_redis_layer(alias: str, config: Any) -> list[CheckMessage]:
    """channels-redis hosts given as bare URLs (or with a short ``socket_timeout``): redis-py
    then reads with a 5 s timeout, as long as the layer's blocking receive, so an idle
    receive times out and the app logs "Channel layer receive failed" every ~5 s per
    process (and re-joins every group each time)."""
    hosts = config.get("hosts", ["redis://localhost:6379"]) if isinstance(config, dict) else []
    short = [
        host
        for host in hosts
        if not isinstance(host, dict)
        or not isinstance(host.get("socket_timeout"), (int, float))
        or host["socket_timeout"] <= _REDIS_BLOCKING_RECEIVE
    ]
    if not short:
        return []
    return [
        Warning(
            f"CHANNEL_LAYERS[{alias!r}] has a Redis host without a socket_timeout longer than "
            f"{_REDIS_BLOCKING_RECEIVE} s: the layer's blocking receive times out and the chat "
            "logs a receive failure (and re-joins its groups) every few seconds.",
            hint='Give each host as {"address": REDIS_URL, "socket_timeout": 15}, with '
            '"capacity": 1500 and "expiry": 30 (docs/deployment.md).',
            id="smartcampus_chat.W012",
        )
    ]


@register(Tags.security)
def check_allowed_hosts(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    broad = [host for host in settings.ALLOWED_HOSTS if _matches_too_much(str(host))]
    if broad:
        return [
            Warning(
                f"ALLOWED_HOSTS contains {', '.join(map(repr, broad))}: the WebSocket origin "
                "check (AllowedHostsOriginValidator) then accepts every origin, or every "
                "site under a public suffix, which allows cross-site WebSocket hijacking.",
                hint="List the site's host names in ALLOWED_HOSTS.",
                id="smartcampus_chat.W020",
            )
        ]
    return []


def _matches_too_much(host: str) -> bool:
    """``*``, ``.`` or a bare suffix such as ``.edu``: any origin, or anyone's site."""
    if host == "*" or host.startswith("*"):
        return True
    return host.startswith(".") and "." not in host[1:]


_TOKEN_AUTHENTICATION = "rest_framework.authentication.TokenAuthentication"


@register(Tags.compatibility)
def check_api_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The REST API's classes import, its rates parse and its docs page can find its assets."""
    errors, bad = _table_errors("api")
    authentication = app_settings.API_AUTHENTICATION_CLASSES
    if (
        "API_AUTHENTICATION_CLASSES" not in bad
        and authentication is not None
        and _TOKEN_AUTHENTICATION in authentication
        and not apps.is_installed("rest_framework.authtoken")
    ):
        errors.append(
            _setting_error(
                "API_AUTHENTICATION_CLASSES",
                "names TokenAuthentication but rest_framework.authtoken is not installed.",
                "E021",
            )
        )
    missing = [
        app
        for app in ("drf_spectacular", "drf_spectacular_sidecar")
        if not (apps.is_installed(app))
    ]
    if missing:
        errors.append(
            Warning(
                "The REST API's documentation pages (api/docs/, api/redoc/) need "
                f"{' and '.join(missing)} in INSTALLED_APPS (templates and local assets).",
                hint="Add them to INSTALLED_APPS, or silence this check if you do not "
                "serve the API docs. The schema (api/schema/) works without them.",
                id="smartcampus_chat.W030",
            )
        )
    return errors


@register(Tags.security)
def check_security_headers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The chat pages' header settings have the right types; the CSP lets the client connect."""
    errors, _bad = _table_errors("security")
    policy = app_settings.CONTENT_SECURITY_POLICY
    if errors or not app_settings.SECURITY_HEADERS or not policy:
        return errors
    directives = {
        part.split()[0].lower(): part.split()[1:] for part in policy.split(";") if part.split()
    }
    sources = directives.get("connect-src", directives.get("default-src"))
    if sources is not None and not {"'self'", "ws:", "wss:", "*"} & set(sources):
        errors.append(
            Warning(
                f"{SETTINGS_NAME}['CONTENT_SECURITY_POLICY'] does not let chat pages open "
                "their WebSocket (connect-src needs 'self', or ws: and wss:, or the host).",
                id="smartcampus_chat.W041",
            )
        )
    if "frame-ancestors" not in directives:
        errors.append(
            Warning(
                f"{SETTINGS_NAME}['CONTENT_SECURITY_POLICY'] has no frame-ancestors: chat "
                "pages can be framed by other sites (clickjacking).",
                hint="Add \"frame-ancestors 'none'\" (or 'self').",
                id="smartcampus_chat.W042",
            )
        )
    return errors


_PER_PROCESS_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


@register(Tags.security)
def check_shared_cache(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Several processes (a channel layer other than the in-memory one) need one cache:
    single-use WebSocket tickets and the per-user rate limits are kept in it."""
    layers = getattr(settings, "CHANNEL_LAYERS", None)
    alias = app_settings.CHANNEL_LAYER
    if not isinstance(layers, dict) or not isinstance(layers.get(alias), dict):
        return []
    if layers[alias].get("BACKEND", "") == _IN_MEMORY_LAYER:
        return []
    cache = getattr(settings, "CACHES", {}).get("default", {})
    backend = cache.get("BACKEND", "") if isinstance(cache, dict) else ""
    if backend not in _PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            f"The default cache ({backend.rsplit('.', 1)[-1]}) is per process while the "
            "channel layer connects several: a WebSocket ticket could open one socket per "
            "process, and rate limits hold per process only.",
            hint="Use a shared cache (django.core.cache.backends.redis.RedisCache).",
            id="smartcampus_chat.W050",
        )
    ]


_SENTINEL_POOL = "smartcampus_chat.infra.redis_sentinel.SentinelConnectionPool"


@register(Tags.caches)
def check_sentinel_caches(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """A cache on the chat's Sentinel pool fails only at its first use (a request, a
    socket) when its ``LOCATION`` or ``OPTIONS["sentinels"]`` is wrong: say it at start-up."""
    errors: list[CheckMessage] = []
    caches = getattr(settings, "CACHES", {})
    for alias, config in caches.items() if isinstance(caches, dict) else ():
        options = config.get("OPTIONS") if isinstance(config, dict) else None
        if not isinstance(options, dict) or not _is_sentinel_pool(options.get("pool_class")):
            continue
        problem = _sentinel_cache_problem(config.get("LOCATION", ""), options)
        if problem:
            errors.append(
                Error(
                    f"CACHES[{alias!r}] uses the Sentinel pool but {problem}",
                    hint='LOCATION "redis://<service name>/<db>" and OPTIONS["sentinels"] '
                    '[("host", 26379), ...] (docs/deployment.md, "Redis Sentinel").',
                    id="smartcampus_chat.E051",
                )
            )
    return errors


def _is_sentinel_pool(pool: Any) -> bool:
    """``pool_class`` names the chat's Sentinel pool (its dotted path, or the class)."""
    if isinstance(pool, str):
        return pool == _SENTINEL_POOL
    return f"{getattr(pool, '__module__', '')}.{getattr(pool, '__qualname__', '')}" == (
        _SENTINEL_POOL
    )


def _sentinel_cache_problem(location: Any, options: Mapping[str, Any]) -> str:
    from django.core.exceptions import ImproperlyConfigured

    from smartcampus_chat.infra.redis_sentinel import parse_location

    if not isinstance(location, str):
        return "its LOCATION is not one URL."
    try:
        parse_location(location)
    except ImproperlyConfigured:
        return f"its LOCATION {location!r} is not redis://<service name>/<db>."
    sentinels = options.get("sentinels")
    pairs = isinstance(sentinels, (list, tuple)) and all(
        isinstance(s, (list, tuple))
        and len(s) == 2
        and isinstance(s[0], str)
        and isinstance(s[1], int)
        for s in sentinels
    )
    if not sentinels or not pairs:
        return 'its OPTIONS["sentinels"] is not a list of (host, port) pairs.'
    return ""


_WHITENOISE = "whitenoise.middleware.WhiteNoiseMiddleware"


@register(Tags.compatibility)
def check_static_files(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The chat's JS and CSS are static files: an ASGI server (uvicorn, daphne) does not
    serve them as ``runserver`` does, so a site without a place to collect them to (and
    without WhiteNoise) shows the chat without script or style."""
    if not apps.is_installed("django.contrib.staticfiles"):
        return [
            Warning(
                "django.contrib.staticfiles is not installed: the chat's JavaScript and CSS "
                "(static/smartcampus_chat/) cannot be found or collected.",
                hint="Add it to INSTALLED_APPS (docs/deployment.md, 'Static files').",
                id="smartcampus_chat.W060",
            )
        ]
    if getattr(settings, "STATIC_ROOT", None) or _WHITENOISE in settings.MIDDLEWARE:
        return []
    return [
        Warning(
            "STATIC_ROOT is not set and WhiteNoise is not installed: under an ASGI server "
            "(uvicorn, daphne) the chat's JavaScript and CSS are not served, and its pages "
            "show without script or style.",
            hint="Set STATIC_ROOT, run `manage.py collectstatic` and serve it (WhiteNoise's "
            "middleware, or your proxy's /static/ location); in development, wrap the "
            "http app in Django's ASGIStaticFilesHandler (docs/deployment.md, 'Static "
            "files').",
            id="smartcampus_chat.W061",
        )
    ]


#: Django's PostgreSQL backends (and PostGIS, built on it).
_POSTGRES_ENGINES = frozenset(
    {"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"}
)


def _keeps_connections(database: Mapping[str, Any]) -> bool:
    """``CONN_MAX_AGE`` above 0, or ``None`` (unlimited persistent connections)."""
    max_age = database.get("CONN_MAX_AGE", 0)
    return max_age is None or max_age > 0


@register(Tags.compatibility)
def check_database_connections(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Persistent connections under ASGI: Django runs each HTTP request in a thread of its
    own, and a connection kept open (``CONN_MAX_AGE`` > 0, or ``None``) stays with a thread
    that is gone, so a busy process piles them up until PostgreSQL refuses new clients
    ("too many clients already", the chat's ``503 unavailable``). Django's docs say to
    disable them under ASGI and pool instead."""
    if not (getattr(settings, "ASGI_APPLICATION", None) or apps.is_installed("channels")):
        return []
    persistent = [
        alias
        for alias, database in settings.DATABASES.items()
        if database.get("ENGINE") in _POSTGRES_ENGINES and _keeps_connections(database)
    ]
    return [
        Warning(
            f"DATABASES[{alias!r}] keeps connections open (CONN_MAX_AGE = "
            f"{settings.DATABASES[alias].get('CONN_MAX_AGE')!r}) under ASGI: each request "
            "runs in its own thread, and a busy process opens connections until PostgreSQL "
            "refuses new clients.",
            hint='Set CONN_MAX_AGE = 0 and use psycopg\'s pool: "OPTIONS": {"pool": '
            '{"min_size": 2, "max_size": 10}} (pip install "psycopg[pool]"), or PgBouncer '
            "in transaction mode (docs/deployment.md, 'Database connections').",
            id="smartcampus_chat.W070",
        )
        for alias in persistent
    ]


@register(Tags.compatibility)
def check_notifications(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """What Web Push and e-mail digests need once a site turns them on
    (docs/notifications.md)."""
    messages: list[CheckMessage] = []
    push, email = app_settings.NOTIFY_PUSH, app_settings.NOTIFY_EMAIL
    if push:
        missing = [
            name
            for name in (
                "WEB_PUSH_VAPID_PUBLIC_KEY",
                "WEB_PUSH_VAPID_PRIVATE_KEY",
                "WEB_PUSH_SUBJECT",
            )
            if not getattr(app_settings, name)
        ]
        if missing:
            messages.append(
                Error(
                    f"NOTIFY_PUSH is on but {', '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} not set.",
                    hint="python manage.py chat_vapid_keys makes a key pair; WEB_PUSH_SUBJECT "
                    'is a contact such as "mailto:it@campus.example.edu".',
                    id="smartcampus_chat.E080",
                )
            )
        if importlib.util.find_spec("pywebpush") is None:
            messages.append(
                Error(
                    "NOTIFY_PUSH is on but pywebpush is not installed.",
                    hint='pip install "smartcampus-chat[webpush]"',
                    id="smartcampus_chat.E081",
                )
            )
    if (push or email) and not app_settings.NOTIFY_SITE_URL:
        messages.append(
            Warning(
                "Web Push or e-mail digests are on but NOTIFY_SITE_URL is not set: their "
                "links to the messages would have no host.",
                hint='Set NOTIFY_SITE_URL to the site\'s address, "https://campus.example.edu".',
                id="smartcampus_chat.W080",
            )
        )
    return messages


def _loopback_push_hosts() -> list[str]:
    import ipaddress

    found = []
    for entry in app_settings.WEB_PUSH_ALLOWED_HOSTS:
        try:
            if ipaddress.ip_address(str(entry).strip("[]")).is_loopback:
                found.append(str(entry))
        except ValueError:
            continue
    return found


@register(Tags.security)
def check_web_push(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Web Push's safety (docs/notifications.md, "Web Push"): allowed to post to this
    machine outside development, or a contact the push services refuse. (What push needs
    at all: :func:`check_notifications`.)"""
    if _table_errors("settings")[1] & {"WEB_PUSH_ALLOWED_HOSTS", "WEB_PUSH_SUBJECT"}:
        return []
    messages: list[CheckMessage] = []
    loopback = _loopback_push_hosts()
    if loopback and not settings.DEBUG:
        messages.append(
            Warning(
                f"WEB_PUSH_ALLOWED_HOSTS lists {', '.join(loopback)} with DEBUG = False: "
                "a push subscription may make the server post to this machine over http.",
                hint="Loopback push services are for tests and development; list the push "
                "services' hosts only.",
                id="smartcampus_chat.W090",
            )
        )
    subject = app_settings.WEB_PUSH_SUBJECT
    if subject and not str(subject).startswith(("mailto:", "https://")):
        messages.append(
            Warning(
                f"WEB_PUSH_SUBJECT {subject!r} is not a mailto: or https: URL: push "
                "services refuse the VAPID signature, and no push is sent.",
                hint='For example "mailto:it@campus.example.edu".',
                id="smartcampus_chat.W091",
            )
        )
    return messages
