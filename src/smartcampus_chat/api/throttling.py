"""Request rates per user, set by ``SMARTCAMPUS_CHAT["API_THROTTLE_RATES"]``.

DRF's own throttles read their rates from the host's ``REST_FRAMEWORK`` setting when the
class is defined; these read the app's setting on every request (``override_settings``
works) and each counts only the requests of its kind. While the cache is down they
refuse with 503 like the chat's own limits, or let requests through with
``RATE_LIMIT_FAIL_OPEN`` (:func:`~smartcampus_chat.infra.ratelimit.metered`).
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra.ratelimit import metered

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ChatRateThrottle(UserRateThrottle):
    """Counts per authenticated user (per IP address for anonymous requests)."""

    cache_format = "smartcampus_chat_throttle_%(scope)s_%(ident)s"
    safe: bool

    def get_rate(self) -> str | None:
        return app_settings.API_THROTTLE_RATES.get(self.scope or "")

    def allow_request(self, request: Request, view: APIView) -> bool:
        if (request.method in SAFE_METHODS) != self.safe:
            return True
        allowed = super().allow_request
        return metered(f"api.{self.scope}", lambda: allowed(request, view), lambda: True)


class ReadRateThrottle(ChatRateThrottle):
    scope = "read"
    safe = True


class WriteRateThrottle(ChatRateThrottle):
    scope = "write"
    safe = False
