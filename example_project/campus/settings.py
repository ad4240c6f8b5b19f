"""Settings of the example campus site, configured from the environment.

- ``DATABASE_URL``: PostgreSQL when set (``postgres://user@host:5432/name``), SQLite otherwise.
  On PostgreSQL, a connection pool per process (psycopg_pool through Django's
  ``OPTIONS["pool"]``): ``DB_POOL_MIN_SIZE`` (2), ``DB_POOL_MAX_SIZE`` (10),
  ``DB_POOL_TIMEOUT`` (10 s); ``DB_POOL=0`` turns it off (then ``CONN_MAX_AGE``, 0 by
  default, applies: keep it 0 under ASGI).
- ``REDIS_URL``: channels-redis layer when set, the in-memory layer otherwise.
- ``REDIS_SENTINELS`` (``host:port,host:port,...``): Redis through Sentinel instead, the
  master named ``REDIS_MASTER_NAME`` (``mymaster``), database ``REDIS_DB`` (0).
- ``SECRET_KEY``, ``DEBUG`` ("1"/"0"), ``ALLOWED_HOSTS`` (comma-separated).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DEBUG", "1").lower() in ("1", "true", "yes", "on")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("Set SECRET_KEY when DEBUG is off.")
    SECRET_KEY = "insecure-example-only-key-do-not-use-in-production"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    # Token authentication for the chat API (optional: session authentication works alone).
    "rest_framework.authtoken",
    # The API's docs pages (/chat/api/docs/, /chat/api/redoc/), assets served locally.
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Login brute force: lockout after repeated failures (django-axes, see below).
    "axes",
    "smartcampus_chat",
    "campus",
    "courses",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "campus.urls"
ASGI_APPLICATION = "campus.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every HTTP request runs in a thread of its own: persistent connections
    # (CONN_MAX_AGE > 0) then pile up, one per thread, until PostgreSQL refuses clients.
    # Django's pool instead bounds the process to DB_POOL_MAX_SIZE connections, which
    # requests borrow and give back (docs/deployment.md, "Database connections").
    # DB_POOL=0 turns it off (e.g. behind PgBouncer in transaction mode).
    if os.environ.get("DB_POOL", "1").lower() not in ("0", "false", "no", "off"):
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses a pool otherwise.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": int(os.environ.get("DB_POOL_MIN_SIZE", "2")),
            "max_size": int(os.environ.get("DB_POOL_MAX_SIZE", "10")),
            # Seconds a request waits for a free connection, then PoolTimeout (API: 503).
            "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "10")),
        }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several connections write at once under the ASGI server: wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_SENTINELS = [
    (host, int(port))
    for host, _, port in (
        a.strip().rpartition(":") for a in os.environ.get("REDIS_SENTINELS", "").split(",")
    )
    if host
]
REDIS_MASTER_NAME = os.environ.get("REDIS_MASTER_NAME", "mymaster")
REDIS_DB = int(os.environ.get("REDIS_DB", "0"))
# redis-py 8 reads with a 5 s socket timeout, the length of channels-redis' blocking
# receive: an idle socket's receive would then time out (close 1006), so the read gets more
# time than the blocking pop. max_connections bounds the process's Redis connections
# (redis-py raises MaxConnectionsError beyond it): sized for concurrent publishes;
# subscriptions are one per room per process.
REDIS_LAYER_HOST: dict[str, object] = {"socket_timeout": 15, "max_connections": 1000}
if REDIS_SENTINELS:
    # channels-redis asks the sentinels where the master is (docs/deployment.md).
    REDIS_LAYER_HOST.update(master_name=REDIS_MASTER_NAME, sentinels=REDIS_SENTINELS, db=REDIS_DB)
elif REDIS_URL:
    REDIS_LAYER_HOST["address"] = REDIS_URL
if REDIS_URL or REDIS_SENTINELS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_LAYER_HOST], "capacity": 1500, "expiry": 30},
        }
    }
    # One cache for every process: the per-user send limits are shared across workers.
    CACHE: dict[str, object] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
    if REDIS_SENTINELS:
        CACHE["LOCATION"] = f"redis://{REDIS_MASTER_NAME}/{REDIS_DB}"
        CACHE["OPTIONS"] = {
            "pool_class": "smartcampus_chat.infra.redis_sentinel.SentinelConnectionPool",
            "sentinels": REDIS_SENTINELS,
            "socket_timeout": 5,
        }
    CACHES = {"default": CACHE}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files shared in the chat (attachments): served by the chat's own view after an access
# check, never from MEDIA_URL (docs/attachments.md).
MEDIA_ROOT = BASE_DIR / "media"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "smartcampus_chat:room_list"

# Login brute force (docs/integration.md, "Security"): django-axes counts failed logins
# per username *and* client IP together; after AXES_FAILURE_LIMIT of them that pair is
# refused (HTTP 429, even with the right password) for AXES_COOLOFF_TIME. Per pair, so an
# attacker cannot lock a student out from elsewhere; a success resets the count. Behind a
# reverse proxy, REMOTE_ADDR is the proxy's: set AXES_IPWARE_PROXY_COUNT (with
# django-ipware) or AXES_CLIENT_IP_CALLABLE so that each client has its own address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # First: refuses locked-out pairs.
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
LOGOUT_REDIRECT_URL = "home"

# Bytes per WebSocket frame: the chat's limit, and the server's, so that a bigger frame is
# refused by the server before it is read into memory (uvicorn: --ws-max-size, the same
# number; daphne's runserver: the two settings below).
CHAT_MAX_FRAME_BYTES = 65536
SMARTCAMPUS_CHAT = {
    "BASE_TEMPLATE": "campus/base.html",
    "COURSE_MODEL": "courses.Course",
    "COURSE_ROLE_RESOLVER": "courses.chat.course_role",
    "COURSE_ROLES_FOR_USER": "courses.chat.course_roles_for_user",
    # Terms and sections (docs/terms.md): the course's last day, its roster and sections
    # in bulk for `manage.py chat_sync_courses`.
    "COURSE_END": "ends_on",
    "COURSE_ROSTER": "courses.chat.course_roster",
    "COURSE_SECTIONS": "courses.chat.course_sections",
    "MAX_FRAME_BYTES": CHAT_MAX_FRAME_BYTES,
    # Notifications (docs/notifications.md): e-mail digests go to the console backend below
    # in development; Web Push is on when the VAPID keys are in the environment
    # (``python manage.py chat_vapid_keys`` makes a pair).
    "NOTIFY_SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:8000"),
    "NOTIFY_EMAIL": True,
    "NOTIFY_PUSH": bool(os.environ.get("VAPID_PRIVATE_KEY")),
    "WEB_PUSH_VAPID_PUBLIC_KEY": os.environ.get("VAPID_PUBLIC_KEY"),
    "WEB_PUSH_VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY"),
    "WEB_PUSH_SUBJECT": os.environ.get("VAPID_SUBJECT", "mailto:chat@campus.example"),
}
# Development prints e-mails (the digests) on the console; set EMAIL_HOST for a real server
# (without it, production sends through Django's default, an SMTP server on localhost).
if os.environ.get("EMAIL_HOST"):
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "1") == "1"
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
elif DEBUG and django.VERSION >= (6, 1):
    # Django 6.1's MAILERS replaces EMAIL_BACKEND (deprecated there).
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SmartCampus chat <chat@campus.example>")
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = CHAT_MAX_FRAME_BYTES
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = CHAT_MAX_FRAME_BYTES

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"smartcampus_chat": {"handlers": ["console"], "level": "INFO"}},
}
