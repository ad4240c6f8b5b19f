"""The app's settings, read from one namespace: ``settings.SMARTCAMPUS_CHAT``.

Every default lives in :data:`DEFAULTS`. Values are read lazily through :data:`app_settings`
and the cache is dropped when Django's ``setting_changed`` signal fires (``override_settings``
in tests). Values are validated by the system checks in :mod:`smartcampus_chat.checks`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

SETTINGS_NAME = "SMARTCAMPUS_CHAT"

DEFAULTS: dict[str, Any] = {
    # Template that every chat page extends; the host can name its own site layout.
    "BASE_TEMPLATE": "smartcampus_chat/base.html",
    # Dotted path of the access policy class (see smartcampus_chat.domain.policies.ChatPolicy).
    "POLICY": "smartcampus_chat.domain.policies.ChatPolicy",
    # "app_label.ModelName" of the host's course model, or None when there are no courses.
    "COURSE_MODEL": None,
    # Dotted path of a callable (user, course) -> "member" | "moderator" | None.
    "COURSE_ROLE_RESOLVER": None,
    # Optional dotted path of a callable (user) -> {course_pk: role}; makes room lists of
    # course rooms cost a fixed number of queries. Without it the resolver is asked per course.
    "COURSE_ROLES_FOR_USER": None,
    # Staff may read (never post in) private conversations when True.
    "PRIVATE_AUDIT_BY_STAFF": False,
    # Seconds after sending during which authors may edit their message; None = unlimited.
    "EDIT_WINDOW": None,
    "MAX_MESSAGE_LENGTH": 4000,
    "MAX_ROOM_NAME_LENGTH": 120,
    "MAX_DESCRIPTION_LENGTH": 2000,
    "MAX_CLIENT_ID_LENGTH": 64,
    "MAX_FRAME_BYTES": 65536,
    "PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 200,
    # Token bucket for sends (messages, edits, deletes) per user: burst size and refill rate.
    "SEND_RATE_BURST": 20,
    "SEND_RATE_PER_SECOND": 2.0,
    "TYPING_RATE_BURST": 5,
    "TYPING_RATE_PER_SECOND": 0.5,
    # Token buckets per user for the actions that cost the server far more than the
    # client (docs/reliability.md, "Amplification and caps"), on every door: replays
    # (``resume`` frames and ``?event_seq=`` reconnects; a token per page of up to
    # MAX_PAGE_SIZE changes sent), read-marker updates (a write and a publish), room
    # creations (private conversations included), and joins and leaves together (each a
    # broadcast to every member).
    "RESUME_RATE_BURST": 20,
    "RESUME_RATE_PER_SECOND": 1.0,
    "READ_RATE_BURST": 20,
    "READ_RATE_PER_SECOND": 1.0,
    "CREATE_RATE_BURST": 5,
    "CREATE_RATE_PER_SECOND": 0.05,
    "MEMBERSHIP_RATE_BURST": 10,
    "MEMBERSHIP_RATE_PER_SECOND": 0.2,
    # Open WebSockets per user, counted over every process (ChatConnection rows); one more
    # is closed with 4029 "too many connections".
    "MAX_CONNECTIONS_PER_USER": 30,
    # Seconds after which a "typing started" without "stopped" expires on clients.
    "TYPING_TIMEOUT": 5,
    # Presence: connections refresh every HEARTBEAT seconds and expire after TIMEOUT.
    "PRESENCE_HEARTBEAT": 15,
    "PRESENCE_TIMEOUT": 45,
    # Lifetime in seconds of the signed WebSocket tickets for non-browser clients.
    "TICKET_MAX_AGE": 60,
    # Open sockets re-check their session (still there, not expired, same password) and
    # their access at least every REVALIDATE_INTERVAL seconds (the bound for what sends no
    # signal: cache-backend sessions, raw SQL; a known session expiry is checked at its
    # moment), and before a state-changing frame when their last check is older than
    # REVALIDATE_FRAME_AGE seconds.
    "REVALIDATE_INTERVAL": 60,
    "REVALIDATE_FRAME_AGE": 1.0,
    # Most changes replayed by one ``resume``; a longer backlog ends with a truncated
    # ``resumed`` frame and the client resumes again from there.
    "RESUME_MAX_EVENTS": 2000,
    # Security headers on the chat pages (smartcampus_chat.web.security): False turns them all
    # off. "{nonce}" in the policy is replaced by the request's nonce (request.csp_nonce).
    # connect-src must allow the page's own WebSocket: 'self' covers same-origin ws: and wss:
    # (CSP Level 3: current Chromium, Firefox and Safari). Bare ws: wss: would allow a
    # socket to any host (exfiltration by an injected script); a WebSocket on another
    # host is added by name (wss://chat.campus.example).
    "SECURITY_HEADERS": True,
    "CONTENT_SECURITY_POLICY": (
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "REFERRER_POLICY": "same-origin",
    "FRAME_OPTIONS": "DENY",
    # Frames a socket may have waiting to be written (fan-out hub); over it the socket is
    # closed with 4008 "too slow; resume" and the client resumes by event_seq.
    "SEND_QUEUE_MAX_FRAMES": 1000,
    # Group commit of WebSocket sends: concurrent message.send frames of a process are
    # stored together in one transaction; at most this many per transaction (0 or 1: off).
    "SEND_BATCH_MAX": 200,
    # Channel layer alias the app publishes on.
    "CHANNEL_LAYER": "default",
    # REST API (``smartcampus_chat.api``). These never read the host's REST_FRAMEWORK setting.
    # Dotted paths of DRF authentication classes; None: token authentication when
    # ``rest_framework.authtoken`` is installed, then session authentication (CSRF enforced).
    "API_AUTHENTICATION_CLASSES": None,
    # Dotted paths of DRF permission classes every endpoint requires (the policy does the rest).
    "API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Dotted paths of DRF throttle classes, and the rates of the app's scopes ("read" for
    # GET requests, "write" for the others): "<number>/<second|minute|hour|day>" or None.
    "API_THROTTLE_CLASSES": [
        "smartcampus_chat.api.throttling.ReadRateThrottle",
        "smartcampus_chat.api.throttling.WriteRateThrottle",
    ],
    "API_THROTTLE_RATES": {"read": "600/minute", "write": "120/minute"},
    # Dotted paths of DRF permission classes of the OpenAPI schema and docs pages.
    "API_SCHEMA_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
}


class ChatSettings:
    """Attribute access to the merged settings; ``app_settings.PAGE_SIZE`` and so on."""

    @cached_property
    def _user(self) -> dict[str, Any]:
        value = getattr(settings, SETTINGS_NAME, {})
        return value if isinstance(value, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"{SETTINGS_NAME} has no setting {name!r}")
        return self._user.get(name, DEFAULTS[name])

    def load(self, name: str) -> Any:
        """Import the dotted path held by setting ``name`` (None stays None)."""
        path = getattr(self, name)
        return None if path is None else import_string(path)

    def reset(self) -> None:
        self.__dict__.pop("_user", None)


app_settings = ChatSettings()


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        app_settings.reset()


setting_changed.connect(_reset)
