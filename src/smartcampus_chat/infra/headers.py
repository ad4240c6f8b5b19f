"""The chat's security headers (a nonce-based CSP, nosniff, framing, referrer policy), for
every door that renders HTML: the pages (``web.security``) and the API docs pages."""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest

from smartcampus_chat.conf import app_settings


def request_nonce(request: HttpRequest) -> str:
    """The request's CSP nonce: the host's when it has one, else a fresh one."""
    nonce = getattr(request, "csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
    return str(nonce)


def header_values(nonce: str) -> dict[str, str]:
    """The headers the settings ask for (a setting of None leaves its header out)."""
    headers: dict[str, str] = {"X-Content-Type-Options": "nosniff"}
    policy = app_settings.CONTENT_SECURITY_POLICY
    if policy:
        headers["Content-Security-Policy"] = policy.replace("{nonce}", nonce)
    referrer_policy = app_settings.REFERRER_POLICY
    if referrer_policy:
        headers["Referrer-Policy"] = referrer_policy
    frame_options = app_settings.FRAME_OPTIONS
    if frame_options:
        headers["X-Frame-Options"] = frame_options
    return headers


def add_security_headers(response: Any, nonce: str) -> Any:
    """Give ``response`` the headers it does not have yet (a host's own header wins)."""
    for name, value in header_values(nonce).items():
        if name not in response:
            response[name] = value
    return response
