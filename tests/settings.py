"""Minimal settings for the test suite: the app inside the example site's courses/urls.

``DATABASE_URL`` picks the database (PostgreSQL in the ``pg`` tox envs, SQLite otherwise).
"""

from __future__ import annotations

import tempfile

import dj_database_url

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Channels' test communicators send no Host header, so a socket has no "own origin" there:
# the tests' Origin (http://testserver) is trusted as a host's other origins would be.
CSRF_TRUSTED_ORIGINS = ["http://testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "smartcampus_chat",
    "campus",
    "courses",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "campus.urls"
ASGI_APPLICATION = "campus.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ]
        },
    }
]
DATABASES = {"default": dj_database_url.config(default="sqlite:///:memory:")}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"
# Where collectstatic would put the files (the chat checks that a site has a place: W061).
STATIC_ROOT = "/tmp/smartcampus-chat-test-static"
# Attachments (FileSystemStorage): a folder of this process's own, never the checkout.
MEDIA_ROOT = tempfile.mkdtemp(prefix="smartcampus-chat-test-media-")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Django 6.1's mailers (the test runner swaps each for the locmem backend; older Django
# ignores the setting and swaps EMAIL_BACKEND). Without it, sending warns that Django 2028
# will have no default mailer.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
LOGIN_URL = "login"

SMARTCAMPUS_CHAT = {
    "COURSE_MODEL": "courses.Course",
    "COURSE_ROLE_RESOLVER": "courses.chat.course_role",
    "COURSE_ROLES_FOR_USER": "courses.chat.course_roles_for_user",
    # Terms and sections (docs/terms.md): the course's last day, its roster and sections
    # in bulk for `manage.py chat_sync_courses`.
    "COURSE_END": "ends_on",
    "COURSE_ROSTER": "courses.chat.course_roster",
    "COURSE_SECTIONS": "courses.chat.course_sections",
    # Throttling is tested on its own (tests/test_api.py); other tests must not hit it.
    "API_THROTTLE_RATES": {"read": None, "write": None},
    # Deliveries are run by the tests themselves (notifications.deliver_due), not a thread.
    "NOTIFY_WORKER": None,
    # Presence frames one per change, at once: tests that gather them turn it on
    # (tests/test_presence_batch.py); the others wait for frames, not for an interval.
    "PRESENCE_BATCH_INTERVAL": 0,
}
